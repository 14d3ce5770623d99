"""A dev node's account writes (chain/rpc/dev_state.py) on their own: each method hands the
sequencer one write as it was asked for, under both names; what is malformed or out of
range is refused with why and writes nothing; a node without a dev sequencer (a CometBFT
node) refuses every one. The writes run against a real dev node and anvil in
tests/integration/test_anvil_parity.py, and through both executors in the conformance
suite."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from chain.ledger.blocks import LedgerBlock
from chain.ledger.messages import (
    MAX_SET_CODE_BYTES,
    BalanceSet,
    CodeSet,
    DevWrite,
    NonceSet,
    StorageSet,
)
from chain.rpc.dev_controls import NOT_A_DEV_NODE
from chain.rpc.dev_state import DevStateApi
from chain.rpc.errors import RpcError
from chain.types import Address

A = "0x" + "ab" * 20
WORD_5 = "0x" + (5).to_bytes(32).hex()


def make_api() -> tuple[DevStateApi, list[DevWrite]]:
    written: list[DevWrite] = []

    def write(writes: Sequence[DevWrite]) -> LedgerBlock:
        written.extend(writes)
        return None  # type: ignore[return-value]  # the API does not read the block

    return DevStateApi(write), written


@pytest.mark.parametrize("prefix", ["anvil", "hardhat"])
@pytest.mark.parametrize(
    ("name", "params", "answer", "write"),
    [
        (
            "setBalance",
            [A, "0xde0b6b3a7640000"],
            None,
            BalanceSet(Address(bytes.fromhex("ab" * 20)), 10**18),
        ),
        ("setBalance", [A, 7], None, BalanceSet(Address(bytes.fromhex("ab" * 20)), 7)),
        ("setBalance", [A, WORD_5], None, BalanceSet(Address(bytes.fromhex("ab" * 20)), 5)),
        ("setNonce", [A, "0x2a"], None, NonceSet(Address(bytes.fromhex("ab" * 20)), 42)),
        ("setCode", [A, "0x6000"], None, CodeSet(Address(bytes.fromhex("ab" * 20)), b"\x60\x00")),
        ("setCode", [A, "0x"], None, CodeSet(Address(bytes.fromhex("ab" * 20)), b"")),
        (
            "setStorageAt",
            [A, "0x1", WORD_5],
            True,
            StorageSet(Address(bytes.fromhex("ab" * 20)), 1, 5),
        ),
        (
            "setStorageAt",
            [A, WORD_5, WORD_5],
            True,
            StorageSet(Address(bytes.fromhex("ab" * 20)), 5, 5),
        ),
    ],
)
def test_hands_the_sequencer_the_write_asked_for(
    prefix: str, name: str, params: list[Any], answer: Any, write: DevWrite
) -> None:
    api, written = make_api()
    assert api.methods[f"{prefix}_{name}"](params) == answer
    assert written == [write]


@pytest.mark.parametrize(
    ("method", "params", "reason"),
    [
        ("anvil_setBalance", [A], "expected"),
        ("anvil_setBalance", ["0x12", "0x1"], "20 bytes"),
        ("anvil_setBalance", [A, -1], "must not be negative"),
        ("anvil_setBalance", [A, "0x1" + "0" * 64], "must fit 32 bytes"),
        ("anvil_setBalance", [A, "12"], "0x-prefixed"),
        ("anvil_setNonce", [A, hex(2**64)], "below 2\\*\\*64"),
        ("anvil_setCode", [A, "0x600"], "odd number"),
        ("anvil_setCode", [A, "0x" + "00" * (MAX_SET_CODE_BYTES + 1)], "at most"),
        ("anvil_setStorageAt", [A, "0x0", "0x05"], "32 bytes"),
        ("anvil_setStorageAt", [A, "0x0"], "expected"),
    ],
)
def test_refuses_what_is_malformed_and_writes_nothing(
    method: str, params: list[Any], reason: str
) -> None:
    api, written = make_api()
    with pytest.raises(RpcError, match=reason) as refused:
        api.methods[method](params)
    assert refused.value.code == -32602
    assert written == []


@pytest.mark.parametrize("method", sorted(DevStateApi().methods))
def test_a_node_without_a_dev_sequencer_refuses(method: str) -> None:
    params = {"anvil_setStorageAt": [A, "0x0", WORD_5], "hardhat_setStorageAt": [A, "0x0", WORD_5]}
    with pytest.raises(RpcError, match=r"only a dev node .* takes it") as refused:
        DevStateApi().methods[method](params.get(method, [A, "0x01"]))
    assert refused.value.code == NOT_A_DEV_NODE
