"""Cross-chain messages: one kind byte, then fixed-width big-endian fields."""

from __future__ import annotations

import pytest

from chain.ledger.messages import (
    CODE_SET_KIND,
    CREDIT_KIND,
    LAYOUTS,
    MAX_SET_CODE_BYTES,
    RELEASE_KIND,
    REWARD_KIND,
    ROOT_KIND,
    BalanceSet,
    CodeSet,
    CreditMessage,
    InvalidMessage,
    Message,
    NonceSet,
    ReleaseMessage,
    RewardMessage,
    RootMessage,
    StorageSet,
    decode_credit,
    decode_message,
    encode_message,
    is_dev_write,
    is_to_fast,
    is_to_zk,
)
from chain.types import Address

A = Address(bytes.fromhex("aa" * 20))
B = Address(bytes.fromhex("bb" * 20))
MAX_256 = 2**256 - 1

EXAMPLES: list[Message] = [
    CreditMessage(A, MAX_256),
    RootMessage(2**64 - 1, b"\x01" * 32, b"\x02" * 32),
    ReleaseMessage(0, A, B, 10**18),
    RewardMessage(2**64 - 1, A, 2**32 - 1, 7, B, MAX_256),
]


@pytest.mark.parametrize("message", EXAMPLES, ids=lambda m: type(m).__name__)
def test_every_kind_round_trips(message: Message) -> None:
    raw = encode_message(message)
    assert decode_message(raw) == message
    assert len(raw) == 1 + sum(LAYOUTS[raw[0]])


def test_kinds_and_directions() -> None:
    kinds = [encode_message(m)[0] for m in EXAMPLES]
    assert kinds == [CREDIT_KIND, ROOT_KIND, RELEASE_KIND, REWARD_KIND]
    raws = [encode_message(m) for m in EXAMPLES]
    assert [is_to_fast(r) for r in raws] == [True, True, False, False]
    assert [is_to_zk(r) for r in raws] == [False, False, True, True]
    assert not is_to_fast(b"") and not is_to_zk(b"")


def test_credit_layout_is_unchanged() -> None:
    raw = encode_message(CreditMessage(A, 5))
    assert raw == b"\x01" + A + (5).to_bytes(32, "big")
    assert decode_credit(raw) == CreditMessage(A, 5)


@pytest.mark.parametrize("message", EXAMPLES, ids=lambda m: type(m).__name__)
def test_rejects_a_message_of_the_wrong_length(message: Message) -> None:
    raw = encode_message(message)
    for wrong in (raw[:-1], raw + b"\x00"):
        with pytest.raises(InvalidMessage, match=f"kind {raw[0]:#04x} has the wrong length"):
            decode_message(wrong)


@pytest.mark.parametrize("raw", [b"", b"\x00", b"\x03" + b"\x00" * 52, b"\xff"])
def test_rejects_an_unknown_kind(raw: bytes) -> None:
    with pytest.raises(InvalidMessage, match="unknown message kind"):
        decode_message(raw)


@pytest.mark.parametrize(
    "message",
    [
        CreditMessage(A, MAX_256 + 1),
        CreditMessage(A, -1),
        RootMessage(2**64, b"\x01" * 32, b"\x02" * 32),
        ReleaseMessage(2**64, A, B, 1),
        RewardMessage(0, A, 2**32, 0, B, 0),
        RewardMessage(0, A, 0, 2**32, B, 0),
    ],
)
def test_rejects_a_field_that_does_not_fit(message: Message) -> None:
    with pytest.raises(InvalidMessage, match="does not fit"):
        encode_message(message)


@pytest.mark.parametrize(
    "message",
    [
        CreditMessage(Address(b"\xaa" * 19), 1),
        RootMessage(1, b"\x01" * 31, b"\x02" * 32),
        ReleaseMessage(0, A, Address(b"\xbb" * 21), 1),
    ],
)
def test_rejects_a_byte_field_of_the_wrong_size(message: Message) -> None:
    with pytest.raises(InvalidMessage, match="bytes where"):
        encode_message(message)


def test_decode_credit_rejects_another_kind() -> None:
    with pytest.raises(InvalidMessage, match="not a credit message"):
        decode_credit(encode_message(EXAMPLES[1]))


# -- a dev node's account writes ------------------------------------------------------------

DEV_WRITES: list[Message] = [
    BalanceSet(A, MAX_256),
    NonceSet(B, 2**64 - 1),
    StorageSet(A, MAX_256, 1),
    CodeSet(B, b""),
    CodeSet(A, b"\x60\x00" * 1000),
]


@pytest.mark.parametrize("message", DEV_WRITES, ids=lambda m: type(m).__name__)
def test_dev_writes_round_trip_and_go_to_the_fast_chain_only(message: Message) -> None:
    raw = encode_message(message)
    assert decode_message(raw) == message
    assert is_dev_write(raw) and not is_to_fast(raw) and not is_to_zk(raw)


def test_code_runs_to_the_end_of_its_message() -> None:
    raw = encode_message(CodeSet(A, b"\xfe\x00"))
    assert raw == bytes([CODE_SET_KIND]) + A + b"\xfe\x00"
    with pytest.raises(InvalidMessage, match="wrong length"):
        decode_message(raw[:20])  # shorter than the address


def test_rejects_code_past_the_limit() -> None:
    with pytest.raises(InvalidMessage, match=f"at most {MAX_SET_CODE_BYTES}"):
        encode_message(CodeSet(A, b"\x00" * (MAX_SET_CODE_BYTES + 1)))
    too_long = bytes([CODE_SET_KIND]) + A + b"\x00" * (MAX_SET_CODE_BYTES + 1)
    with pytest.raises(InvalidMessage, match="wrong length"):
        decode_message(too_long)


def test_rejects_a_nonce_past_64_bits() -> None:
    with pytest.raises(InvalidMessage, match="does not fit"):
        encode_message(NonceSet(A, 2**64))
