"""EIP-712 operations: a signature is good for one operation, one signer, one chain."""

import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data

from chain.fast.genesis import dev_keys
from chain.zk.ops import Buy, Heartbeat, Mint, Transfer
from chain.zk.signing import (
    InvalidSignature,
    SigningDomain,
    compute_typed_data,
    format_signed_operation,
    parse_signed_operation,
    sign_operation,
)

ZK = SigningDomain(31337, "0x" + "5a" * 20)  # an L1 chain id and a rollup
KEY = dev_keys(1)[0]
SIGNER = int(Account.from_key(KEY).address, 16)
INDEX = 3  # the signer's account index, which the signature names


def wire(body: Transfer | Mint | Buy | Heartbeat | None = None, nonce: int = 0) -> dict[str, str]:
    body = body or Transfer(0xB0B, 5)
    return format_signed_operation(sign_operation(body, 10**15, nonce, ZK, KEY, INDEX))


def test_round_trip_recovers_signer_and_fields() -> None:
    body = Mint(collection=1, to=0xB0B, metadata=2**200, round=9)
    parsed = parse_signed_operation(wire(body, nonce=4), ZK)
    assert parsed.op.signer == SIGNER
    assert parsed.op.body == body
    assert (parsed.op.nonce, parsed.op.fee, parsed.op.from_index) == (4, 10**15, INDEX)


def test_typed_data_is_what_wallets_sign() -> None:
    """A wallet's eth_signTypedData_v4 over the same JSON gives a signature the node accepts."""
    typed = compute_typed_data(Buy(token_key=4096, price=7), 10**15, 2, ZK, INDEX)
    signature = Account.sign_message(encode_typed_data(full_message=typed), KEY).signature
    obj = {"type": "Buy", "tokenKey": "0x1000", "price": "0x7", "fee": hex(10**15)}
    parsed = parse_signed_operation(
        {**obj, "nonce": "0x2", "fromIndex": "0x3", "signature": "0x" + signature.hex()}, ZK
    )
    assert parsed.op.signer == SIGNER


def test_heartbeat_is_typed_with_its_uint32_active_until() -> None:
    typed = compute_typed_data(Heartbeat(active_until=130), 10**15, 3, ZK, INDEX)
    assert typed["primaryType"] == "Heartbeat"
    assert typed["types"]["Heartbeat"] == [
        {"name": "activeUntil", "type": "uint32"},
        {"name": "fee", "type": "uint256"},
        {"name": "nonce", "type": "uint32"},
        {"name": "fromIndex", "type": "uint16"},
    ]
    obj = wire(Heartbeat(active_until=130), nonce=3)
    assert obj["activeUntil"] == "0x82"
    assert parse_signed_operation(obj, ZK).op.body == Heartbeat(130)


def test_rejects_signature_for_another_chain() -> None:
    obj = wire()
    with pytest.raises(InvalidSignature, match="not from the account named in 'from'"):
        parse_signed_operation(obj, SigningDomain(ZK.chain_id + 1, ZK.verifying_contract))


def test_rejects_tampered_field() -> None:
    obj = {**wire(), "amount": "0x6"}
    with pytest.raises(InvalidSignature, match="not from the account"):
        parse_signed_operation(obj, ZK)


def test_operation_id_does_not_depend_on_signature_encoding() -> None:
    obj = wire()
    first = parse_signed_operation(obj, ZK)
    # the same signature with v as 0/1 instead of 27/28 recovers the same signer and id
    sig = bytes.fromhex(obj["signature"][2:])
    low_v = sig[:64] + bytes([sig[64] - 27])
    second = parse_signed_operation({**obj, "signature": "0x" + low_v.hex()}, ZK)
    assert second.op_id == first.op_id


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"type": "Steal"}, "unknown operation type"),
        ({"amount": None}, "must be a number"),
        ({"to": "0x12"}, "20-byte 0x-hex address"),
        ({"extra": 1}, "unknown fields"),
        ({"signature": "0x00"}, "65 bytes"),
        ({"signature": "0x" + "00" * 65}, "bad signature"),
        ({"nonce": "0x" + "f" * 65}, "out of range"),
    ],
)
def test_rejects_malformed_operation(change: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidSignature, match=message):
        parse_signed_operation({**wire(), **change}, ZK)


def test_rejects_missing_field() -> None:
    obj = wire()
    del obj["amount"]
    with pytest.raises(InvalidSignature, match="needs the field amount"):
        parse_signed_operation(obj, ZK)


def test_a_signature_names_one_account_leaf() -> None:
    """Another fromIndex (a second leaf for the same address) is another message: the
    signature recovers to someone else, so it cannot be replayed against that leaf."""
    with pytest.raises(InvalidSignature, match="not from the account named in 'from'"):
        parse_signed_operation({**wire(), "fromIndex": hex(INDEX + 1)}, ZK)
    with pytest.raises(InvalidSignature, match="fit 16 bits"):
        parse_signed_operation({**wire(), "fromIndex": hex(1 << 16)}, ZK)
    obj = wire()
    del obj["fromIndex"]
    with pytest.raises(InvalidSignature, match="needs the field fromIndex"):
        parse_signed_operation(obj, ZK)
