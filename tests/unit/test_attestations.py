"""The validators' attestations for L1 (chain/consensus/attestations.py), as pure functions:
a vote extension round-trips; an attestation counts only attesters' signatures of the right
message, each once, ascending, with more than two thirds of the power; gathering from a
commit's extensions leaves out forged and stale ones."""

from __future__ import annotations

import json

import pytest
from eth_account import Account
from eth_account.messages import encode_defunct
from eth_utils import keccak

from chain.consensus.attestations import (
    Attester,
    InvalidAttestation,
    check_attestation,
    decode_extension,
    encode_extension,
    format_attesters,
    gather_attestation,
    parse_app_state,
    sign_block,
)

KEYS = [keccak(f"attester-{i}".encode()) for i in range(4)]
ADDRESSES = [Account.from_key(key).address for key in KEYS]
VALIDATORS = [bytes([i + 1]) * 20 for i in range(4)]
ATTESTERS = [Attester(VALIDATORS[i], ADDRESSES[i], 10) for i in range(4)]
MESSAGE = encode_defunct(b"ZK block 7 as settlement 3")
OTHER = encode_defunct(b"ZK block 8 as settlement 4")


def signed_by(*indexes: int, message: object = MESSAGE) -> bytes:
    """The signatures of `indexes`' keys, ascending by signer."""
    ordered = sorted(indexes, key=lambda i: int(ADDRESSES[i], 16))
    return b"".join(sign_block(message, KEYS[i]) for i in ordered)  # type: ignore[arg-type]


def test_attesters_round_trip_through_the_genesis_app_state() -> None:

    raw = json.dumps(format_attesters(ATTESTERS)).encode()
    assert parse_app_state(raw) == tuple(ATTESTERS)
    assert parse_app_state(b"") == ()


def test_rejects_a_malformed_app_state() -> None:
    with pytest.raises(InvalidAttestation, match="not JSON"):
        parse_app_state(b"{oops")
    with pytest.raises(InvalidAttestation, match="attesters are malformed"):
        parse_app_state(b'{"attesters": [{"validator": "zz"}]}')


def test_a_vote_extension_round_trips_and_a_short_one_is_refused() -> None:
    signature = sign_block(MESSAGE, KEYS[0])
    assert decode_extension(encode_extension(7, signature)) == (7, signature)
    with pytest.raises(InvalidAttestation, match="73 bytes"):
        decode_extension(encode_extension(7, signature)[:-1])


def test_three_of_four_equal_attesters_are_enough() -> None:
    check_attestation(ATTESTERS, MESSAGE, signed_by(0, 1, 3))


def test_rejects_two_thirds_exactly() -> None:
    attesters = ATTESTERS[:3]
    with pytest.raises(InvalidAttestation, match="not more than 2/3"):
        check_attestation(attesters, MESSAGE, signed_by(0, 1))


def test_rejects_a_signature_of_another_message() -> None:
    forged = signed_by(0, 1, message=MESSAGE) + signed_by(2, message=OTHER)
    with pytest.raises(InvalidAttestation):
        check_attestation(ATTESTERS, MESSAGE, forged)


def test_rejects_a_signer_that_is_no_attester() -> None:
    outsider = sign_block(MESSAGE, keccak(b"outsider"))
    with pytest.raises(InvalidAttestation, match="not an attester"):
        check_attestation(ATTESTERS, MESSAGE, signed_by(0, 1) + outsider)


def test_rejects_a_signature_counted_twice() -> None:
    twice = signed_by(0, 1) + signed_by(1)
    with pytest.raises(InvalidAttestation, match="not ascending"):
        check_attestation(ATTESTERS, MESSAGE, twice)


def test_rejects_bytes_that_are_not_whole_signatures() -> None:
    with pytest.raises(InvalidAttestation, match="65 bytes each"):
        check_attestation(ATTESTERS, MESSAGE, signed_by(0, 1, 2)[:-1])


def test_gathers_the_good_extensions_of_a_commit() -> None:
    extensions = [
        (VALIDATORS[0], encode_extension(7, sign_block(MESSAGE, KEYS[0]))),
        (VALIDATORS[1], encode_extension(7, sign_block(MESSAGE, KEYS[2]))),  # not its key
        (VALIDATORS[2], encode_extension(6, sign_block(MESSAGE, KEYS[2]))),  # another block
        (VALIDATORS[3], encode_extension(7, sign_block(MESSAGE, KEYS[3]))),
        (VALIDATORS[1], b""),
    ]
    assert gather_attestation(ATTESTERS, MESSAGE, 7, extensions) is None  # 2 of 4: too weak
    extensions.append((VALIDATORS[2], encode_extension(7, sign_block(MESSAGE, KEYS[2]))))
    assert gather_attestation(ATTESTERS, MESSAGE, 7, extensions) == signed_by(0, 2, 3)
