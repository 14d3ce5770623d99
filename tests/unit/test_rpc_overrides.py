"""eth_call's state overrides as parsed (chain/rpc/overrides.py): each field as geth takes
it, and what would be ignored or is too large refused with why."""

from __future__ import annotations

import pytest

from chain.fast.executor import AccountOverride
from chain.rpc.errors import RpcError
from chain.rpc.overrides import MAX_ACCOUNTS, MAX_SLOTS, parse_state_overrides
from chain.types import Address

A = "0x" + "aa" * 20


def word(value: int) -> str:
    return "0x" + value.to_bytes(32).hex()


def test_parses_every_field() -> None:
    overrides = {
        A: {"balance": "0x5", "nonce": "0x2", "code": "0x6000", "stateDiff": {word(1): word(9)}},
        "0x" + "bb" * 20: {"state": {}},
    }
    assert parse_state_overrides(overrides, "eth_call") == (
        (Address(b"\xaa" * 20), AccountOverride(5, 2, b"\x60\x00", None, ((1, 9),))),
        (Address(b"\xbb" * 20), AccountOverride(state=())),
    )
    assert parse_state_overrides(None, "eth_call") == ()
    assert parse_state_overrides({}, "eth_call") == ()


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"0x" + f"{i:040x}": {} for i in range(MAX_ACCOUNTS + 1)}, "at most 1024 accounts"),
        (
            {A: {"stateDiff": {word(i): word(1) for i in range(MAX_SLOTS + 1)}}},
            "at most 10000 storage slots",
        ),
        (
            {
                "0x" + f"{i:040x}": {"state": {word(j): word(1) for j in range(MAX_SLOTS // 2)}}
                for i in range(3)
            },
            "at most 10000 storage slots",
        ),
        ([A], "must be an object|JSON object"),
        ({"0x12": {}}, "20 bytes"),
        ({A: {"code": "0x6"}}, "odd number"),
    ],
)
def test_refuses_what_is_too_large_or_malformed(overrides: object, reason: str) -> None:
    with pytest.raises(RpcError, match=reason):
        parse_state_overrides(overrides, "eth_call")
