"""Polling filters: each change reported once, bounded, and gone when nobody polls them."""

from __future__ import annotations

from typing import Any

import pytest

from chain.rpc import filters as module
from chain.rpc.errors import RpcError
from chain.rpc.filters import FILTER_TIMEOUT_S, MAX_BLOCKS_PER_POLL, FilterApi
from chain.types import ChainId, Height


class Chain:
    """A head that moves, block hashes by height, and eth_getLogs answers it records."""

    def __init__(self) -> None:
        self.head = 10
        self.now = 1000.0
        self.queries: list[dict[str, Any]] = []

    def get_logs(self, params: list[Any]) -> list[Any]:
        self.queries.append(params[0])
        return [{"from": params[0].get("fromBlock"), "to": params[0].get("toBlock")}]

    def api(self) -> FilterApi:
        return FilterApi(
            ChainId(7702),
            lambda: self.head,
            lambda height: Height(height).to_bytes(32, "big"),
            self.get_logs,
            clock=lambda: self.now,
        )


class Tx:
    def __init__(self, n: int) -> None:
        self.hash = n.to_bytes(32, "big")


def test_block_filter_reports_each_new_block_once() -> None:
    chain = Chain()
    api = chain.api()
    filter_id = api.new_block_filter([])
    assert api.get_filter_changes([filter_id]) == []
    chain.head = 12
    assert api.get_filter_changes([filter_id]) == [
        "0x" + h.to_bytes(32, "big").hex() for h in (11, 12)
    ]
    assert api.get_filter_changes([filter_id]) == []


def test_a_long_unpolled_gap_comes_over_several_polls() -> None:
    chain = Chain()
    api = chain.api()
    filter_id = api.new_block_filter([])
    chain.head = 10 + MAX_BLOCKS_PER_POLL + 5
    assert len(api.get_filter_changes([filter_id])) == MAX_BLOCKS_PER_POLL
    assert len(api.get_filter_changes([filter_id])) == 5


def test_log_filter_asks_for_the_new_blocks_only_and_stops_at_to_block() -> None:
    chain = Chain()
    api = chain.api()
    filter_id = api.new_filter([{"address": "0x" + "11" * 20, "toBlock": "0xd"}])
    chain.head = 15
    assert api.get_filter_changes([filter_id]) == [{"from": "0xb", "to": "0xd"}]
    assert chain.queries[-1]["address"] == "0x" + "11" * 20
    assert api.get_filter_changes([filter_id]) == []  # past its toBlock: nothing more
    api.get_filter_logs([filter_id])
    assert chain.queries[-1] == {"address": "0x" + "11" * 20, "toBlock": "0xd"}


def test_pending_filter_hands_each_admitted_hash_once() -> None:
    api = Chain().api()
    filter_id = api.new_pending_filter([])
    api.on_admitted(Tx(1))  # type: ignore[arg-type]
    api.on_admitted(Tx(2))  # type: ignore[arg-type]
    assert api.get_filter_changes([filter_id]) == [
        "0x" + (n).to_bytes(32, "big").hex() for n in (1, 2)
    ]
    assert api.get_filter_changes([filter_id]) == []


def test_pending_filter_keeps_only_the_newest_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    api = Chain().api()
    filter_id = api.new_pending_filter([])
    for n in range(module.MAX_PENDING_HASHES + 3):
        api.on_admitted(Tx(n))  # type: ignore[arg-type]
    changes = api.get_filter_changes([filter_id])
    assert len(changes) == module.MAX_PENDING_HASHES
    assert changes[0] == "0x" + (3).to_bytes(32, "big").hex()


def test_a_filter_nobody_polls_expires() -> None:
    chain = Chain()
    api = chain.api()
    polled = api.new_block_filter([])
    forgotten = api.new_block_filter([])
    chain.now += FILTER_TIMEOUT_S / 2
    api.get_filter_changes([polled])
    chain.now += FILTER_TIMEOUT_S / 2 + 1
    api.get_filter_changes([polled])
    with pytest.raises(RpcError, match="filter not found"):
        api.get_filter_changes([forgotten])


def test_filters_are_limited(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(module, "MAX_FILTERS", 3)
    api = Chain().api()
    ids = [api.new_block_filter([]) for _ in range(3)]
    with pytest.raises(RpcError, match="3 filters exist already"):
        api.new_block_filter([])
    assert api.uninstall_filter([ids[0]])
    api.new_block_filter([])  # room again


def test_malformed_requests_are_refused() -> None:
    api = Chain().api()
    block_filter = api.new_block_filter([])
    with pytest.raises(RpcError, match="not a log filter"):
        api.get_filter_logs([block_filter])
    with pytest.raises(RpcError, match="blockHash"):
        api.new_filter([{"blockHash": "0x" + "00" * 32}])
    with pytest.raises(RpcError, match="hex quantity"):
        api.new_filter([{"fromBlock": "soon"}])
    with pytest.raises(RpcError, match="filter not found"):
        api.get_filter_changes([12345])
    assert api.uninstall_filter([None]) is False
