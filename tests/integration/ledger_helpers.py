"""Reading the braided ledger over JSON-RPC (`duet_heads`, `duet_getLedger`)."""

from __future__ import annotations

from typing import Any

from tests.integration.support import rpc_result

LEDGER_PAGE = 1000


def heads(url: str) -> dict[str, Any]:
    return dict(rpc_result(url, "duet_heads"))


def ledger_through(url: str, last_seq: int) -> list[dict[str, Any]]:
    """Entries 0..last_seq, paged as the node allows (at most 1000 a call)."""
    entries: list[dict[str, Any]] = []
    while len(entries) <= last_seq:
        page = rpc_result(url, "duet_getLedger", [len(entries), LEDGER_PAGE])
        assert page, f"duet_getLedger({len(entries)}, {LEDGER_PAGE}) returned nothing"
        entries.extend(page)
    return entries[: last_seq + 1]
