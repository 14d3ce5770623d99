"""CometBFT's evidence of misbehaviour, and what the application does about it.

A validator that signed two conflicting votes at one height (CometBFT's duplicate-vote
evidence), or took part in a light-client attack, is jailed: the FinalizeBlock that brings
the evidence answers a validator update setting its power to 0 (CometBFT applies it at
H+2), once, and the height records the evidence, so every validator jails it alike and a
restart remembers it. The jailing also slashes the offender's stake on the ZK chain
(chain/consensus/stake.py). A jailing that would leave no validator is not made (CometBFT
refuses an empty set).

Pure: the store keeps the validator set and the jailed (duet_app.py).
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from chain.consensus.abci.proto.tendermint.abci import types_pb2 as abci

MISBEHAVIOUR_NAMES = {
    abci.DUPLICATE_VOTE: "duplicate vote",
    abci.LIGHT_CLIENT_ATTACK: "light-client attack",
}


@dataclass(frozen=True)
class CometValidator:
    address: bytes  # CometBFT's: the first 20 bytes of sha256(ed25519 public key)
    pub_key: bytes  # ed25519
    power: int


@dataclass(frozen=True)
class Offence:
    validator: bytes
    kind: str
    height: int  # where the misbehaviour happened
    reported_at: int  # the height whose block brought the evidence

    def to_json(self) -> dict[str, Any]:
        return {
            "validator": self.validator.hex().upper(),
            "kind": self.kind,
            "height": self.height,
            "reportedAt": self.reported_at,
        }


def compute_address(pub_key: bytes) -> bytes:
    return hashlib.sha256(pub_key).digest()[:20]


def read_genesis_validators(updates: Iterable[abci.ValidatorUpdate]) -> list[CometValidator]:
    """InitChain's validators (ed25519 keys, as `cometbft init` makes them)."""
    return [
        CometValidator(compute_address(u.pub_key.ed25519), u.pub_key.ed25519, u.power)
        for u in updates
        if u.pub_key.WhichOneof("sum") == "ed25519"
    ]


def format_validators(validators: Sequence[CometValidator]) -> dict[str, Any]:
    return {
        v.address.hex().upper(): {"ed25519": base64.b64encode(v.pub_key).decode(), "power": v.power}
        for v in validators
    }


def parse_validators(saved: Mapping[str, Any]) -> dict[bytes, CometValidator]:
    return {
        bytes.fromhex(address): CometValidator(
            bytes.fromhex(address), base64.b64decode(entry["ed25519"]), int(entry["power"])
        )
        for address, entry in saved.items()
    }


def list_offences(misbehaviour: Iterable[abci.Misbehavior], reported_at: int) -> list[Offence]:
    return [
        Offence(
            bytes(m.validator.address),
            MISBEHAVIOUR_NAMES.get(m.type, "misbehaviour"),
            m.height,
            reported_at,
        )
        for m in misbehaviour
    ]


def compute_jailings(
    offences: Sequence[Offence],
    validators: Mapping[bytes, CometValidator],
    jailed: set[bytes],
) -> list[CometValidator]:
    """The validators `offences` newly jail, in order: each once, never one unknown or
    already jailed, and never the last ones standing."""
    out: list[CometValidator] = []
    standing = {address for address in validators if address not in jailed}
    for offence in offences:
        validator = validators.get(offence.validator)
        if validator is None or validator.address not in standing or len(standing) == 1:
            continue
        standing.discard(validator.address)
        out.append(validator)
    return out
