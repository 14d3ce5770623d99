"""What CometBFT orders: fast transactions, ZK operations and proofs for the market.

A fast transaction is an Ethereum transaction as `eth_sendRawTransaction` takes it: a typed
envelope starts with its type (below 0x80), a legacy one with an RLP list's prefix (0xc0 or
above). The bytes between are never a fast transaction's first, so they tag the others:

- `ZK_OP_TAG` + the signed operation in its wire form (`duet_sendOperation`'s JSON, keys
  sorted, no spaces);
- `PROOF_TAG` + job id (32 bytes) + the prover's signature (65) + the proof or aggregate;
- `ATTESTATION_TAG` + ZK height (8 bytes) + the validators' signatures of that ZK block,
  65 bytes each, ascending by signer (chain/consensus/attestations.py), which only a
  proposer makes, from the last commit's vote extensions;
- `L1_INBOX_TAG` + JSON {"deposits": [[index, to, amount]], "forced": [[index, [w1, w2, w3],
  signature]]} (numbers and bytes as 0x-hex): the L1 deposits and queued Withdraws the
  height's ZK block takes, as the proposer read them from the rollup; only a proposer makes
  it, and every validator checks it against its own reading of L1;
- `REGISTRATION_TAG` + a validator's registration of its consensus and attester keys
  (chain/consensus/registration.py), which lets a validator join after genesis.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from chain.consensus.registration import (
    InvalidRegistration,
    Registration,
    decode_registration,
    encode_registration,
)
from chain.l1.forced import QueuedWithdrawal
from chain.market.signing import MAX_RESULT_BYTES
from chain.types import JobId
from chain.zk.ops import Deposit

ZK_OP_TAG = 0x80
PROOF_TAG = 0x81
ATTESTATION_TAG = 0x82
L1_INBOX_TAG = 0x83
REGISTRATION_TAG = 0x84
MAX_L1_INBOX_BYTES = 256 * 1024
MAX_ATTESTATION_SIGNATURES = 1000
MAX_ZK_OP_BYTES = 4096  # an operation's wire form is a few hundred bytes
JOB_ID_BYTES = 32
SIGNATURE_BYTES = 65


class UndecodableTx(Exception):
    """Bytes that are none of the tagged kinds."""


@dataclass(frozen=True)
class ZkOpTx:
    wire: dict[str, Any]  # parse_signed_operation checks it in the node's signing domain


@dataclass(frozen=True)
class AttestationTx:
    height: int
    signatures: bytes


@dataclass(frozen=True)
class L1InboxTx:
    deposits: tuple[Deposit, ...]
    forced: tuple[QueuedWithdrawal, ...]


@dataclass(frozen=True)
class ProofTx:
    job_id: JobId
    signature: bytes
    result: bytes


def is_fast_tx(raw: bytes) -> bool:
    return bool(raw) and not ZK_OP_TAG <= raw[0] < 0xC0


def encode_zk_op(wire: dict[str, Any]) -> bytes:
    return bytes([ZK_OP_TAG]) + json.dumps(wire, sort_keys=True, separators=(",", ":")).encode()


def encode_proof(job_id: bytes, result: bytes, signature: bytes) -> bytes:
    if len(job_id) != JOB_ID_BYTES or len(signature) != SIGNATURE_BYTES:
        raise ValueError("a job id is 32 bytes and a signature 65")
    return bytes([PROOF_TAG]) + job_id + signature + result


def encode_registration_tx(registration: Registration) -> bytes:
    return bytes([REGISTRATION_TAG]) + encode_registration(registration)


def encode_attestation(height: int, signatures: bytes) -> bytes:
    return bytes([ATTESTATION_TAG]) + height.to_bytes(8, "big") + signatures


def encode_l1_inbox(deposits: Sequence[Deposit], forced: Sequence[QueuedWithdrawal]) -> bytes:
    body = {
        "deposits": [[d.index, hex(d.to), hex(d.amount)] for d in deposits],
        "forced": [[f.index, [hex(w) for w in f.words], "0x" + f.signature.hex()] for f in forced],
    }
    return bytes([L1_INBOX_TAG]) + json.dumps(body, separators=(",", ":")).encode()


def parse_deposit(entry: Any) -> Deposit:
    index, to, amount = entry
    return Deposit(int(index), int(to, 16), int(amount, 16))


def parse_queued(entry: Any) -> QueuedWithdrawal:
    index, words, signature = entry
    w1, w2, w3 = (int(word, 16) for word in words)
    return QueuedWithdrawal(int(index), (w1, w2, w3), bytes.fromhex(signature.removeprefix("0x")))


def decode_l1_inbox(body: bytes) -> L1InboxTx:
    if len(body) > MAX_L1_INBOX_BYTES:
        raise UndecodableTx(f"L1 inbox over {MAX_L1_INBOX_BYTES} bytes")
    try:
        obj = json.loads(body)
        deposits = tuple(parse_deposit(entry) for entry in obj["deposits"])
        forced = tuple(parse_queued(entry) for entry in obj["forced"])
    except (UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise UndecodableTx(f"L1 inbox is malformed: {exc!r}") from None
    return L1InboxTx(deposits, forced)


def decode_tagged(raw: bytes) -> ZkOpTx | ProofTx | AttestationTx | L1InboxTx | Registration:
    """A ZK operation, proof, attestation, L1 inbox or registration transaction; raises
    UndecodableTx for anything else."""
    if not raw:
        raise UndecodableTx("empty transaction")
    tag, body = raw[0], raw[1:]
    if tag == ZK_OP_TAG:
        if len(body) > MAX_ZK_OP_BYTES:
            raise UndecodableTx(f"ZK operation over {MAX_ZK_OP_BYTES} bytes")
        try:
            wire = json.loads(body)
        except (UnicodeDecodeError, ValueError) as exc:
            raise UndecodableTx(f"ZK operation is not JSON: {exc}") from None
        if not isinstance(wire, dict):
            raise UndecodableTx("ZK operation is not a JSON object")
        return ZkOpTx(wire)
    if tag == PROOF_TAG:
        head = JOB_ID_BYTES + SIGNATURE_BYTES
        if len(body) <= head:
            raise UndecodableTx("proof transaction too short")
        if len(body) - head > MAX_RESULT_BYTES:
            raise UndecodableTx(f"proof over {MAX_RESULT_BYTES} bytes")
        job_id = JobId(body[:JOB_ID_BYTES])
        return ProofTx(job_id, body[JOB_ID_BYTES:head], body[head:])
    if tag == ATTESTATION_TAG:
        count, extra = divmod(len(body) - 8, SIGNATURE_BYTES)
        if len(body) < 8 + SIGNATURE_BYTES or extra or count > MAX_ATTESTATION_SIGNATURES:
            raise UndecodableTx("an attestation is a height and whole signatures")
        return AttestationTx(int.from_bytes(body[:8], "big"), body[8:])
    if tag == L1_INBOX_TAG:
        return decode_l1_inbox(body)
    if tag == REGISTRATION_TAG:
        try:
            return decode_registration(body)
        except InvalidRegistration as exc:
            raise UndecodableTx(str(exc)) from None
    raise UndecodableTx(f"unknown transaction tag {tag:#04x}")
