"""The dev node's block controls (chain/rpc/dev_controls.py) on their own: each method mines as
many blocks as asked, a count out of range and a timestamp or interval are refused with why,
and a node without a sequencer to ask (a CometBFT node) refuses every one. Mining itself
runs against a real dev node in tests/integration/test_anvil_parity.py."""

from __future__ import annotations

from typing import Any

import pytest

from chain.ledger.blocks import LedgerBlock
from chain.rpc.dev_controls import MAX_MINED_AT_ONCE, NOT_A_DEV_NODE, DevControlsApi
from chain.rpc.errors import RpcError


class Counter:
    def __init__(self) -> None:
        self.mined = 0

    def __call__(self) -> LedgerBlock:
        self.mined += 1
        return None  # type: ignore[return-value]  # the API ignores the block


@pytest.mark.parametrize(
    ("method", "params", "answer", "mined"),
    [
        ("evm_mine", [], "0x0", 1),
        ("evm_mine", None, "0x0", 1),
        ("evm_mine", [None], "0x0", 1),
        ("evm_mine", [{"blocks": 3}], "0x0", 3),
        ("anvil_mine", [], None, 1),
        ("anvil_mine", ["0x5"], None, 5),
        ("anvil_mine", ["0x2", "0x0"], None, 2),
        ("hardhat_mine", ["0x4"], None, 4),
    ],
)
def test_mines_as_many_blocks_as_asked(method: str, params: Any, answer: Any, mined: int) -> None:
    counter = Counter()
    api = DevControlsApi(counter)
    assert api.methods[method](params) == answer
    assert counter.mined == mined


@pytest.mark.parametrize(
    ("method", "params", "reason"),
    [
        ("evm_mine", [1_900_000_000], "takes no timestamp"),
        ("evm_mine", [{"timestamp": 1_900_000_000}], "takes no timestamp"),
        ("anvil_mine", ["0x1", "0x10"], "takes no interval"),
        ("anvil_mine", [hex(MAX_MINED_AT_ONCE + 1)], f"blocks must be 1 to {MAX_MINED_AT_ONCE}"),
        ("anvil_mine", ["0x0"], "blocks must be 1"),
        ("anvil_mine", ["ten"], "0x-prefixed hex quantity"),
        ("evm_mine", [{"blocks": True}], "0x-prefixed hex quantity"),
        ("evm_mine", [None, None], "expected 0 to 1 parameters"),
    ],
)
def test_refuses_what_it_cannot_do(method: str, params: Any, reason: str) -> None:
    counter = Counter()
    with pytest.raises(RpcError, match=reason):
        DevControlsApi(counter).methods[method](params)
    assert counter.mined == 0


@pytest.mark.parametrize("method", ["evm_mine", "anvil_mine", "hardhat_mine"])
def test_a_node_without_a_dev_sequencer_refuses(method: str) -> None:
    with pytest.raises(RpcError, match=r"only a dev node .* mines on request") as refused:
        DevControlsApi().methods[method]([])
    assert refused.value.code == NOT_A_DEV_NODE
