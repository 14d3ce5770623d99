"""A validator joining after genesis: its consensus key registered with its attester key.

The genesis names its validators' two keys (chain/consensus/attestations.py); a validator that
comes later names them in a registration, a transaction CometBFT orders like the others
(tag 0x84, chain/consensus/txs.py):

    ed25519 public key (32) ‖ attester address (20) ‖ ed25519 signature (64)
        ‖ secp256k1 signature (65: r ‖ s ‖ recovery id)

Both keys sign the same digest (`compute_registration_digest`: the two keys and the chains'
ids), so each consents to the other: nobody can claim a consensus key they do not hold (and so
keep its owner from registering it), nor put another account's stake behind their own
consensus key. Once registered, the attester may Bond; its power follows its bonded stake at
the next power epoch (chain/consensus/stake.py), and the rollup counts it from its first
settled Bond (contracts/l1/Rollup.sol, `_followStake`). Pure: no I/O.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import Any

from coincurve import PrivateKey, PublicKey
from Crypto.Signature import eddsa
from eth_typing import ChecksumAddress
from eth_utils import to_checksum_address

from chain.consensus.evidence import CometValidator, compute_address
from chain.encoding import keccak

REGISTRATION_DOMAIN = b"duet-validator-registration"
PUB_KEY_BYTES = 32
ADDRESS_BYTES = 20
ED25519_SIGNATURE_BYTES = 64
SECP256K1_SIGNATURE_BYTES = 65
REGISTRATION_BYTES = (
    PUB_KEY_BYTES + ADDRESS_BYTES + ED25519_SIGNATURE_BYTES + SECP256K1_SIGNATURE_BYTES
)


class InvalidRegistration(Exception):
    """A registration whose bytes, signatures or keys do not hold."""


@dataclass(frozen=True)
class Registration:
    pub_key: bytes  # the validator's ed25519 consensus key
    address: ChecksumAddress  # its attester (Ethereum) key's address
    key_signature: bytes  # the consensus key's, of the digest
    address_signature: bytes  # the attester key's (r ‖ s ‖ recovery id), of the digest

    @property
    def validator(self) -> bytes:
        """CometBFT's address of the consensus key."""
        return compute_address(self.pub_key)

    def to_comet_validator(self) -> CometValidator:
        return CometValidator(self.validator, self.pub_key, 0)


def compute_registration_digest(
    zk_chain_id: int, fast_chain_id: int, pub_key: bytes, address: str
) -> bytes:
    return keccak(
        REGISTRATION_DOMAIN
        + zk_chain_id.to_bytes(32, "big")
        + fast_chain_id.to_bytes(32, "big")
        + pub_key
        + bytes.fromhex(address.removeprefix("0x"))
    )


def read_consensus_seed(priv_validator_key: Mapping[str, Any]) -> bytes:
    """The ed25519 seed of a CometBFT `priv_validator_key.json` (its value is base64 of the
    seed and the public key)."""
    try:
        priv = priv_validator_key["priv_key"]
        if priv["type"] != "tendermint/PrivKeyEd25519":
            raise InvalidRegistration(f"a consensus key of type {priv['type']}, not ed25519")
        raw = base64.b64decode(priv["value"], validate=True)
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidRegistration(f"not a CometBFT validator key file: {exc!r}") from None
    if len(raw) != 64:
        raise InvalidRegistration(f"an ed25519 private key is 64 bytes, not {len(raw)}")
    return raw[:32]


def sign_registration(
    zk_chain_id: int, fast_chain_id: int, consensus_seed: bytes, attest_key: bytes
) -> Registration:
    """The registration of the consensus key with seed `consensus_seed` and the attester
    key `attest_key`, each signing the digest."""
    consensus = eddsa.import_private_key(consensus_seed)
    pub_key = consensus.public_key().export_key(format="raw")
    attester = PrivateKey(attest_key)
    address = to_checksum_address(keccak(attester.public_key.format(compressed=False)[1:])[-20:])
    digest = compute_registration_digest(zk_chain_id, fast_chain_id, pub_key, address)
    return Registration(
        pub_key=pub_key,
        address=address,
        key_signature=eddsa.new(consensus, "rfc8032").sign(digest),
        address_signature=attester.sign_recoverable(digest, hasher=None),
    )


def encode_registration(registration: Registration) -> bytes:
    """The transaction's body (after its tag)."""
    return (
        registration.pub_key
        + bytes.fromhex(registration.address[2:])
        + registration.key_signature
        + registration.address_signature
    )


def decode_registration(body: bytes) -> Registration:
    if len(body) != REGISTRATION_BYTES:
        raise InvalidRegistration(f"a registration is {REGISTRATION_BYTES} bytes, not {len(body)}")
    at = PUB_KEY_BYTES + ADDRESS_BYTES
    return Registration(
        pub_key=body[:PUB_KEY_BYTES],
        address=to_checksum_address(body[PUB_KEY_BYTES:at]),
        key_signature=body[at : at + ED25519_SIGNATURE_BYTES],
        address_signature=body[at + ED25519_SIGNATURE_BYTES :],
    )


def check_signatures(zk_chain_id: int, fast_chain_id: int, registration: Registration) -> None:
    """Both keys signed this registration on these chains; else InvalidRegistration."""
    digest = compute_registration_digest(
        zk_chain_id, fast_chain_id, registration.pub_key, registration.address
    )
    try:
        consensus = eddsa.import_public_key(registration.pub_key)
        eddsa.new(consensus, "rfc8032").verify(digest, registration.key_signature)
    except ValueError:
        raise InvalidRegistration("the consensus key did not sign this registration") from None
    try:
        public = PublicKey.from_signature_and_message(
            registration.address_signature, digest, hasher=None
        )
    except ValueError:
        raise InvalidRegistration("the attester signature is malformed") from None
    signer = to_checksum_address(keccak(public.format(compressed=False)[1:])[-20:])
    if signer != registration.address:
        raise InvalidRegistration(f"signed by {signer}, not by the attester {registration.address}")


def check_novelty(
    registration: Registration,
    validators: Mapping[bytes, CometValidator],
    attesters: AbstractSet[int],
) -> None:
    """Neither key is a validator's already (the genesis's or a registered one);
    `attesters` holds their addresses as numbers."""
    if registration.validator in validators:
        raise InvalidRegistration(
            f"consensus key of validator {registration.validator.hex().upper()} is registered"
        )
    if int(registration.address, 16) in attesters:
        raise InvalidRegistration(f"attester {registration.address} is a validator's already")


def format_registrations(registrations: list[Registration]) -> list[dict[str, str]]:
    """The registrations as the store keeps them (their keys; the signatures were checked)."""
    return [{"pub_key": r.pub_key.hex(), "address": r.address} for r in registrations]


def parse_registrations(saved: list[dict[str, str]]) -> list[Registration]:
    return [
        Registration(
            bytes.fromhex(entry["pub_key"]), to_checksum_address(entry["address"]), b"", b""
        )
        for entry in saved
    ]
