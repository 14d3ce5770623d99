"""docs/rpc.md's table "Each method against anvil" names every method the fast chain serves,
each with how it compares: a method added without its row fails here."""

from __future__ import annotations

import re
from pathlib import Path

from chain.fast.genesis import dev_keys
from chain.node import open_node
from chain.rpc.fast_api import FastApi

DOC = Path(__file__).resolve().parents[2] / "docs" / "rpc.md"


def test_every_fast_chain_method_has_its_row_against_anvil(tmp_path: Path) -> None:
    node = open_node(tmp_path / "node", executor="pyevm")
    try:
        served = set(FastApi(node, dev_keys()).methods)
    finally:
        node.close()
    text = DOC.read_text()
    table = text[text.index("### Each method against anvil") :]
    table = table[: table.index("\n\n", table.index("| method |"))]
    rows = [line for line in table.splitlines() if line.startswith("| `")]
    named = {name for row in rows for name in re.findall(r"`([a-z0-9]+_[A-Za-z0-9]+)`", row)}
    assert served - named == set(), "served, without a row in docs/rpc.md"
    for row in rows:
        verdict = row.rsplit("|", 2)[-2]
        assert "as anvil" in verdict or "differs" in verdict, row
