"""The validators' attestations of ZK blocks for L1, gathered in CometBFT's vote extensions.

Each validator has an Ethereum key besides its consensus key: the network's genesis names
them (`app_state`: {"attesters": [{"validator": consensus address hex, "address": Ethereum
address, "power": n}]}), and the rollup is deployed with the same addresses and powers as
its sequencer set, settling a block only with signatures of more than two thirds of that
power (contracts/l1/Rollup.sol). At every height, a validator with a key signs, in its vote
extension, the oldest committed ZK block with operations that no height has attested yet
(its EIP-712 settlement message, chain/l1/attestation.py): `height (8 bytes) ‖ signature`.
The next proposer gathers the extensions of the last commit into one transaction (tag 0x82,
chain/consensus/txs.py) with the signatures ascending by signer, as the rollup reads them;
every validator checks it (that block, each signer an attester once, more than two thirds
of the power) and commits it with the height. Pure: no I/O.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from eth_account import Account
from eth_account.messages import SignableMessage
from eth_typing import ChecksumAddress
from eth_utils import to_checksum_address

from chain.l1.attestation import SIGNATURE_BYTES

HEIGHT_BYTES = 8


class InvalidAttestation(Exception):
    """A vote extension or attestation transaction that does not attest what it must."""


@dataclass(frozen=True)
class Attester:
    validator: bytes  # CometBFT's 20-byte validator address
    address: ChecksumAddress  # the Ethereum key's, in the rollup's sequencer set
    power: int


def format_attesters(attesters: Sequence[Attester]) -> dict[str, Any]:
    """The genesis `app_state` naming `attesters`."""
    return {
        "attesters": [
            {"validator": a.validator.hex().upper(), "address": a.address, "power": str(a.power)}
            for a in attesters
        ]
    }


def parse_attesters(app_state: Mapping[str, Any]) -> tuple[Attester, ...]:
    try:
        return tuple(
            Attester(
                bytes.fromhex(entry["validator"]),
                to_checksum_address(entry["address"]),
                int(entry["power"]),
            )
            for entry in app_state.get("attesters", [])
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidAttestation(
            f"the genesis app_state's attesters are malformed: {exc}"
        ) from None


def parse_app_state(raw: bytes) -> tuple[Attester, ...]:
    """The attesters of a genesis `app_state` as InitChain delivers it (empty: none)."""
    if not raw.strip():
        return ()
    try:
        state = json.loads(raw)
    except ValueError as exc:
        raise InvalidAttestation(f"the genesis app_state is not JSON: {exc}") from None
    if not isinstance(state, dict):
        raise InvalidAttestation("the genesis app_state is not a JSON object")
    return parse_attesters(state)


def encode_extension(height: int, signature: bytes) -> bytes:
    return height.to_bytes(HEIGHT_BYTES, "big") + signature


def decode_extension(raw: bytes) -> tuple[int, bytes]:
    if len(raw) != HEIGHT_BYTES + SIGNATURE_BYTES:
        raise InvalidAttestation(f"a vote extension is 73 bytes, not {len(raw)}")
    return int.from_bytes(raw[:HEIGHT_BYTES], "big"), raw[HEIGHT_BYTES:]


def sign_block(message: SignableMessage, key: bytes) -> bytes:
    return bytes(Account.sign_message(message, key).signature)


def recover_signer(message: SignableMessage, signature: bytes) -> ChecksumAddress:
    try:
        return to_checksum_address(Account.recover_message(message, signature=signature))
    except Exception as exc:  # eth_keys raises several kinds for bytes that are no signature
        raise InvalidAttestation(f"not a signature: {exc}") from None


def check_attestation(
    attesters: Sequence[Attester], message: SignableMessage, signatures: bytes
) -> None:
    """Raise InvalidAttestation unless `signatures` (SIGNATURE_BYTES each) are attesters'
    signatures of `message`, ascending by signer (so each counts once), of more than two
    thirds of the attesters' power: what the rollup accepts."""
    if not signatures or len(signatures) % SIGNATURE_BYTES:
        raise InvalidAttestation(f"signatures are {SIGNATURE_BYTES} bytes each")
    power = {a.address: a.power for a in attesters}
    signed, last = 0, -1
    for at in range(0, len(signatures), SIGNATURE_BYTES):
        signer = recover_signer(message, signatures[at : at + SIGNATURE_BYTES])
        if signer not in power:
            raise InvalidAttestation(f"{signer} is not an attester")
        if int(signer, 16) <= last:
            raise InvalidAttestation("signatures are not ascending by signer")
        last = int(signer, 16)
        signed += power[signer]
    total = sum(power.values())
    if signed * 3 <= total * 2:
        raise InvalidAttestation(f"signed by {signed} of {total} power, not more than 2/3")


def gather_attestation(
    attesters: Sequence[Attester],
    message: SignableMessage,
    height: int,
    extensions: Sequence[tuple[bytes, bytes]],
) -> bytes | None:
    """From the last commit's (validator address, vote extension) pairs, the signatures of
    block `height` ascending by signer, if they carry more than two thirds of the power;
    else None. Extensions that attest another block, or that do not recover to their
    validator's key, are left out."""
    by_validator = {a.validator: a for a in attesters}
    good: dict[int, bytes] = {}
    for validator, raw in extensions:
        attester = by_validator.get(validator)
        if attester is None or not raw:
            continue
        try:
            attested, signature = decode_extension(raw)
            if attested == height and recover_signer(message, signature) == attester.address:
                good[int(attester.address, 16)] = signature
        except InvalidAttestation:
            continue
    signatures = b"".join(good[signer] for signer in sorted(good))
    try:
        check_attestation(attesters, message, signatures)
    except InvalidAttestation:
        return None
    return signatures
