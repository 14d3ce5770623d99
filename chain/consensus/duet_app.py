"""Duet as CometBFT's ABCI++ application: the decentralized mode's braided ledger.

CometBFT orders three kinds of transaction (chain/consensus/txs.py): fast transactions, ZK
operations and proofs for the prover market. This application turns each decided height
into what the node's checked transitions make of it at the time in the block's header
(never this machine's clock), so every validator executes the same blocks:

1. the height's proofs, checked by the market desk in order (`check_submission`);
2. a ZK block, if the header's time is at least the ZK interval after the ZK head's: the
   height's ZK operations, the fast chain's messages waiting and the market's block, which
   counts the proofs of step 1. ZK operations in a height that makes no ZK block make the
   proposal invalid: the proposer leaves them in the mempool until one does;
3. at most one fast block, on top of that ZK block: its transactions, after delivering the
   ZK chain's messages.

- `CheckTx` admits a transaction to CometBFT's mempool by dev mode's rules
  (`Node.check_for_mempool`, `Node.check_op_for_mempool`, `MarketDesk.check_submission`).
- `PrepareProposal` picks from the mempool: the proofs that check, the ZK operations that
  apply (if the height makes a ZK block), and the fast transactions in dev mode's pool
  order (arrival order, each sender's in nonce order); what then fails to execute is left
  out.
- `ProcessProposal` re-executes a proposal and refuses it if any transaction cannot be
  decoded or executed, or does not fit the block.
- `FinalizeBlock` executes the decided transactions (reusing the checked execution of the
  same transactions at the same time on the same head) and answers the app hash;
  `Commit` stores the height (submissions, blocks and the CometBFT height) in one store
  transaction (`Node.commit_height`).
- `Info` reports the last committed CometBFT height and the app hash, for the handshake.

Stake (chain/consensus/stake.py): every STAKE_EPOCH_HEIGHTS-th FinalizeBlock answers the
validator updates that the bonded stake on the committed ZK state makes; evidence jails its
offender (chain/consensus/evidence.py) and queues a Slash of its stake, which the next ZK
block applies (every validator builds it from the same queue).

Soft confirmation: the fast block of each proposal this node makes or accepts goes to the
`soft_listeners` at once (the `softLogs` subscription, chain/rpc/subscriptions.py), before
the height commits; at Commit, those of the height that did not commit go to them again as
removed. Execution is deterministic, so the soft block's hash is the committed block's.

A height with nothing to execute makes no fast block, as in dev mode, so CometBFT's heights
and the fast chain's differ: the store's meta keeps the last CometBFT height and the fast
height after it (`COMETBFT_HEAD_META`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field, replace
from functools import cached_property, partial
from typing import Any

from eth_utils import keccak
from google.protobuf.timestamp_pb2 import Timestamp

from chain.config import MAX_TXS_PER_BLOCK, ZK_BLOCK_INTERVAL_S, NetworkConfig
from chain.consensus.abci.application import OK, BaseApplication
from chain.consensus.abci.proto.tendermint.abci import types_pb2 as abci
from chain.consensus.abci.proto.tendermint.crypto import keys_pb2
from chain.consensus.abci.proto.tendermint.types import validator_pb2
from chain.consensus.attestations import (
    Attester,
    InvalidAttestation,
    check_attestation,
    decode_extension,
    encode_extension,
    format_attesters,
    gather_attestation,
    parse_app_state,
    parse_attesters,
    recover_signer,
    sign_block,
)
from chain.consensus.evidence import (
    CometValidator,
    Offence,
    compute_jailings,
    format_validators,
    list_offences,
    parse_validators,
    read_genesis_validators,
)
from chain.consensus.registration import (
    InvalidRegistration,
    Registration,
    check_novelty,
    check_signatures,
    format_registrations,
    parse_registrations,
)
from chain.consensus.stake import (
    STAKE_UNIT_WEI,
    compute_power_changes,
    is_power_epoch,
    list_slashed,
)
from chain.consensus.txs import (
    REGISTRATION_TAG,
    AttestationTx,
    L1InboxTx,
    ProofTx,
    UndecodableTx,
    ZkOpTx,
    decode_tagged,
    encode_attestation,
    encode_l1_inbox,
    is_fast_tx,
)
from chain.fast.chain import FastBlock
from chain.fast.pool import TxPool
from chain.fast.txs import FastTx, InvalidTransaction, decode_transaction
from chain.l1.attestation import SettlementBlock
from chain.l1.forced import QueuedWithdrawal
from chain.ledger.log import LedgerHeads, process_append
from chain.ledger.store import SubmissionRecord, SubmissionWrite
from chain.market.desk import SubmissionRefused
from chain.node import Node
from chain.node.ledger import (
    ATTESTATION_META_PREFIX,
    ATTESTED_META,
    EVIDENCE_META,
    JAILED_META,
    POWERS_META,
    SLASH_QUEUE_META,
)
from chain.node.zk_lane import ZkDraft
from chain.types import Hash32, Height
from chain.zk.chain import compute_block_context
from chain.zk.ops import Bond, Deposit, InvalidOp, Slash
from chain.zk.pool import OpPool
from chain.zk.signing import InvalidSignature, SignedOperation, parse_signed_operation
from chain.zk.state import (
    compute_stake_address,
    get_account,
    get_account_index,
    get_stake,
    list_stakes,
)

log = logging.getLogger("duet.consensus")

APP_NAME = "duet"
APP_HASH_DOMAIN = b"duet-app-hash"
# JSON {"height": the last CometBFT height committed, "fast_height": the fast head after it}.
COMETBFT_HEAD_META = "cometbft_head"

# CheckTx and ExecTxResult codes (OK = 0 is the protocol's).
REFUSED = 1  # CheckTx: the transaction breaks an admission rule
UNDECODABLE = 2  # not a fast transaction signed for this chain
NOT_EXECUTED = 3  # decided, but the block could not execute it (never in a checked proposal)
REVERTED = 4  # executed and in the block, but the EVM reverted it

DEFAULT_ZK_INTERVAL_MS = int(ZK_BLOCK_INTERVAL_S * 1000)
MAX_PROOFS_PER_HEIGHT = 64  # each is verified by every validator
MAX_L1_FORCED_PER_BLOCK = 64
ATTESTERS_META = "attesters"  # JSON: the genesis app_state's attesters
VALIDATORS_META = "comet_validators"  # JSON: the genesis validators, by address
# JSON [[ZK height, {attester address hex: bonded wei}], ...]: the attesters' stake after each
# ZK block that moved it, ascending (the last STAKE_HISTORY_KEPT).
ATTESTER_STAKES_META = "attester_stakes"
STAKE_HISTORY_KEPT = 64
# JSON [{"pub_key": hex, "address": attester}, ...]: the validators registered after genesis
# (chain/consensus/registration.py), in the order heights committed them.
REGISTRATIONS_META = "registrations"
MAX_REGISTRATIONS_PER_HEIGHT = 4  # each costs every validator two signature checks
MAX_VALIDATORS_KNOWN = 1000  # genesis and registered: a registry that cannot grow forever
REGISTRATION_MIN_BALANCE = STAKE_UNIT_WEI  # the attester's free ZKPoW: one unit of power
MAX_EVIDENCE_KEPT = 1000
BLOCK_ID_FLAG_COMMIT = validator_pb2.BLOCK_ID_FLAG_COMMIT  # a vote for the block
VERIFY_ACCEPT = abci.ResponseVerifyVoteExtension.ACCEPT
VERIFY_REJECT = abci.ResponseVerifyVoteExtension.REJECT


# A fast block shown soft (removed=False), or one shown soft that did not commit (True).
SoftListener = Callable[[FastBlock, bool], None]


class InconsistentStore(Exception):
    """The store's fast chain is not where its CometBFT height says it is."""


def compute_app_hash(config: NetworkConfig, heads: LedgerHeads) -> bytes:
    """The hash CometBFT's next header carries: the braided log's head (which chains every
    block of both chains) and, spelled out, both chains' state roots."""
    assert heads.log is not None
    fast = heads.chains[config.fast_chain_id]
    zk = heads.chains[config.zk_chain_id]
    return keccak(APP_HASH_DOMAIN + heads.log.hash + fast.state_root + zk.state_root)


def compute_time_ms(time: Timestamp) -> int:
    return time.seconds * 1000 + time.nanos // 1_000_000


@dataclass(frozen=True)
class HeightKey:
    """What a height's execution depends on: the head it builds on, the header time, the
    ordered transactions, and how much of L1 this validator has read (an L1 inbox refused
    for a deposit not read yet is accepted once it is: the next round may propose the same
    block)."""

    log_head: Hash32
    time_ms: int
    txs: tuple[bytes, ...]
    l1_read: tuple[int, int] = (0, 0)  # deposits and queued Withdraws read, not yet taken


@dataclass
class Execution:
    """One height's transactions executed: the ZK block and the fast block (None where the
    height makes none), the market submissions, one result per transaction in proposal
    order, and why any was left out."""

    zk: ZkDraft | None
    fast: FastBlock | None
    submissions: list[SubmissionWrite]
    results: list[abci.ExecTxResult]
    refusals: list[str] = field(default_factory=list)
    attestation: AttestationTx | None = None  # the validators' signatures of a ZK block
    registrations: list[Registration] = field(default_factory=list)  # validators joining

    @property
    def is_valid_proposal(self) -> bool:
        return not self.refusals


@dataclass(frozen=True)
class CometHead:
    height: int
    fast_height: int


def get_comet_head(node: Node) -> CometHead | None:
    raw = node.store.get_meta(COMETBFT_HEAD_META)
    if raw is None:
        return None
    saved = json.loads(raw)
    return CometHead(int(saved["height"]), int(saved["fast_height"]))


def encode_comet_head(head: CometHead) -> str:
    return json.dumps({"height": head.height, "fast_height": head.fast_height})


def is_zk_due(node: Node, time_ms: int, zk_interval_ms: int) -> bool:
    """Whether a height at header time `time_ms` makes a ZK block."""
    return time_ms >= node.zk_head.timestamp_ms + zk_interval_ms


@dataclass
class Sorted:
    """A proposal's transactions by kind, each with its index in the proposal."""

    fast: list[tuple[int, FastTx]] = field(default_factory=list)
    ops: list[tuple[int, SignedOperation]] = field(default_factory=list)
    proofs: list[tuple[int, ProofTx]] = field(default_factory=list)
    attestations: list[tuple[int, AttestationTx]] = field(default_factory=list)
    inboxes: list[tuple[int, L1InboxTx]] = field(default_factory=list)
    registrations: list[tuple[int, Registration]] = field(default_factory=list)
    undecodable: dict[int, str] = field(default_factory=dict)


def sort_txs(node: Node, raw_txs: tuple[bytes, ...]) -> Sorted:
    out = Sorted()
    for index, raw in enumerate(raw_txs):
        try:
            if is_fast_tx(raw):
                out.fast.append((index, decode_transaction(raw, node.config.fast_chain_id)))
                continue
            tagged = decode_tagged(raw)
            if isinstance(tagged, ProofTx):
                out.proofs.append((index, tagged))
            elif isinstance(tagged, AttestationTx):
                out.attestations.append((index, tagged))
            elif isinstance(tagged, L1InboxTx):
                out.inboxes.append((index, tagged))
            elif isinstance(tagged, Registration):
                out.registrations.append((index, tagged))
            else:
                out.ops.append((index, parse_signed_operation(tagged.wire, node.signing_domain)))
        except (InvalidTransaction, UndecodableTx, InvalidSignature) as exc:
            out.undecodable[index] = str(exc)
    return out


def execute_txs(
    node: Node,
    raw_txs: tuple[bytes, ...],
    time_ms: int,
    zk_interval_ms: int,
    attesters: Sequence[Attester] = (),
    decided: bool = False,
    find_target: Callable[[], SettlementBlock | None] | None = None,
    slashes: Sequence[Slash] = (),
    validators: Mapping[bytes, CometValidator] | None = None,
) -> Execution:
    """Execute `raw_txs` in order as the next height at `time_ms`, without storing; the
    refusals say why a proposal of them is not a valid one. `decided`: CometBFT decided
    them (FinalizeBlock), so what depends on this validator's own view (its reading of L1)
    is taken as the deciding power checked it. `find_target`: the ZK block due for
    attestation (default: looked up in the node's store). `slashes`: the queued slashes,
    which a ZK block of this height applies. `validators`: the validators known before this
    height (the genesis's and the registered), which a registration must not repeat; only
    an attester (one of `attesters`, or registered earlier in this height) may Bond."""
    txs = sort_txs(node, raw_txs)
    results: dict[int, abci.ExecTxResult] = {}
    refusals: list[str] = []

    def refuse(index: int, code: int, reason: str) -> None:
        results[index] = abci.ExecTxResult(code=code, log=reason)
        refusals.append(reason)

    for index, reason in txs.undecodable.items():
        refuse(index, UNDECODABLE, f"transaction {index} is undecodable: {reason}")
    # 0. At most one attestation, of the oldest ZK block with operations not attested yet.
    attestation = None
    for index, tx in txs.attestations:
        try:
            if attestation is not None:
                raise InvalidAttestation("a second attestation in one height")
            target = (find_target or partial(find_attestation_target, node))()
            if target is None or target.header.height != tx.height:
                raise InvalidAttestation(f"ZK block {tx.height} is not the one to attest")
            check_attestation(attesters, target.message, tx.signatures)
        except InvalidAttestation as exc:
            refuse(index, NOT_EXECUTED, f"attestation {index} is refused: {exc}")
            continue
        attestation = tx
        results[index] = abci.ExecTxResult(code=OK)
    # 0b. The validators joining: each registration new, and at most a few a height.
    known = dict(validators or {})
    stakers = {int(a.address, 16) for a in attesters}
    registrations: list[Registration] = []
    for index, registration in txs.registrations:
        try:
            if len(registrations) == MAX_REGISTRATIONS_PER_HEIGHT:
                raise InvalidRegistration(f"more than {MAX_REGISTRATIONS_PER_HEIGHT} a height")
            check_registration(node, registration, known, stakers)
        except InvalidRegistration as exc:
            refuse(index, NOT_EXECUTED, f"registration {index} is refused: {exc}")
            continue
        registrations.append(registration)
        known[registration.validator] = registration.to_comet_validator()
        stakers.add(int(registration.address, 16))
        results[index] = abci.ExecTxResult(code=OK)
    # 1. The proofs, each checked after those before it.
    next_zk = Height(node.zk_head.height + 1)
    submissions: list[SubmissionWrite] = []
    for index, proof in txs.proofs:
        try:
            _, write = node.desk.check_submission(
                proof.job_id,
                proof.result,
                proof.signature,
                next_zk,
                also=[s.record for s in submissions],
            )
        except SubmissionRefused as exc:
            refuse(index, NOT_EXECUTED, f"proof {index} is refused: {exc}")
            continue
        submissions.append(write)
        verdict = "valid" if write.record.valid else "invalid: the prover is penalised"
        results[index] = abci.ExecTxResult(code=OK, log=verdict)
    if len(txs.proofs) > MAX_PROOFS_PER_HEIGHT:
        refusals.append(f"{len(txs.proofs)} proofs, more than a height's {MAX_PROOFS_PER_HEIGHT}")
    # 2. The ZK block, when one is due, with at most one L1 inbox: the deposits and queued
    # Withdraws it takes, each as this validator read it from the rollup too.
    due = is_zk_due(node, time_ms, zk_interval_ms)
    inbox = L1InboxTx((), ())
    for index, proposed in txs.inboxes[:1] if due else []:
        try:
            cap = node.config.max_deposits_per_zk_block
            if len(proposed.deposits) > cap:
                raise InvalidL1Inbox(
                    f"{len(proposed.deposits)} deposits, more than a block's {cap}"
                )
            deposits, forced = (None, None) if decided else (node.l1_deposits, node.l1_forced)
            check_l1_view("deposit", node.deposits_credited, deposits, proposed.deposits)
            check_l1_view("queued Withdraw", node.forced_taken, forced, proposed.forced)
        except InvalidL1Inbox as exc:
            refuse(index, NOT_EXECUTED, f"L1 inbox {index} is refused: {exc}")
            continue
        inbox = proposed
        results[index] = abci.ExecTxResult(code=OK)
    for index, _ in txs.inboxes[1:] if due else txs.inboxes:
        refuse(index, NOT_EXECUTED, f"L1 inbox {index}: a second, or a height without ZK block")
    zk = None
    bonds = [(i, s) for i, s in txs.ops if isinstance(s.op.body, Bond)]
    for index, signed in bonds:
        if signed.op.signer not in stakers:
            refuse(index, NOT_EXECUTED, f"operation {signed.op_id.hex()}: {UNREGISTERED_BOND}")
    if due:
        ops = [signed for index, signed in txs.ops if index not in results]
        l1 = (inbox.deposits, inbox.forced)
        zk = node.make_zk_block(ops, time_ms, [s.record for s in submissions], l1, slashes)
        rejected = {signed.op_id: reason for signed, reason in zk.zk.rejected}
        for index, signed in txs.ops:
            if index in results:
                continue  # refused above
            if signed.op_id in rejected:
                reason = f"operation {signed.op_id.hex()} cannot apply: {rejected[signed.op_id]}"
                refuse(index, NOT_EXECUTED, reason)
            else:
                results[index] = abci.ExecTxResult(code=OK)
        if len(ops) > node.config.max_ops_per_zk_block:
            limit = node.config.max_ops_per_zk_block
            refusals.append(f"{len(ops)} ZK operations, more than a block's {limit}")
    else:
        for index, signed in txs.ops:
            if index not in results:
                reason = f"operation {signed.op_id.hex()}: this height makes no ZK block"
                refuse(index, NOT_EXECUTED, reason)
    # 3. The fast block, on top of the ZK block.
    after = None if zk is None else zk.zk.block
    decoded = [tx for _, tx in txs.fast]
    fast = None
    if decoded or node.undelivered or (after is not None and after.messages):
        fast = node.make_fast_block(decoded, time_ms, after)
    fast_results, fast_refusals = compute_fast_results(decoded, fast)
    for (index, _), result in zip(txs.fast, fast_results, strict=True):
        results[index] = result
    refusals.extend(fast_refusals)
    if len(decoded) > MAX_TXS_PER_BLOCK:
        refusals.append(f"{len(decoded)} transactions, more than a block's {MAX_TXS_PER_BLOCK}")
    ordered = [results[index] for index in range(len(raw_txs))]
    return Execution(zk, fast, submissions, ordered, refusals, attestation, registrations)


UNREGISTERED_BOND = (
    "a Bond of an account that is no validator's attester: register the validator's keys "
    "first (duet stake register)"
)


def check_registration(
    node: Node,
    registration: Registration,
    validators: Mapping[bytes, CometValidator],
    attesters: AbstractSet[int],
) -> None:
    """A registration the network may take: both keys signed it on these chains, neither
    is a validator's already, the registry has room, and the attester holds at least
    REGISTRATION_MIN_BALANCE of free ZKPoW on the committed ZK state (what makes a flood of
    registrations cost something). Raises InvalidRegistration."""
    config = node.config
    check_signatures(config.zk_chain_id, config.fast_chain_id, registration)
    check_novelty(registration, validators, attesters)
    if len(validators) >= MAX_VALIDATORS_KNOWN:
        raise InvalidRegistration(f"the network knows {MAX_VALIDATORS_KNOWN} validators already")
    balance = get_account(node.zk_state, int(registration.address, 16)).balance
    if balance < REGISTRATION_MIN_BALANCE:
        raise InvalidRegistration(
            f"attester {registration.address} holds {balance} wei of ZKPoW, less than the "
            f"{REGISTRATION_MIN_BALANCE} a registration needs"
        )


class InvalidL1Inbox(Exception):
    """An L1 inbox that does not match L1 as this validator reads it."""


def check_l1_view(
    kind: str,
    first: int,
    seen: Sequence[Deposit | QueuedWithdrawal] | None,
    proposed: Sequence[Deposit | QueuedWithdrawal],
) -> None:
    """`proposed` must be the next of L1's `kind`s by number from `first`, each as this
    validator read it (`seen`, numbered from `first` too): one it has not read yet, or
    read otherwise, refuses the proposal (another round proposes again). `seen` None: a
    decided height, which more than two thirds of the power checked against their reading
    of L1; every validator takes it alike, whatever its own reading says."""
    for offset, item in enumerate(proposed):
        if item.index != first + offset:
            raise InvalidL1Inbox(f"{kind} {item.index} is not the next, {first + offset}")
        if seen is None:
            continue
        if offset >= len(seen):
            raise InvalidL1Inbox(f"{kind} {item.index} is not on L1 as this validator reads it")
        if seen[offset] != item:
            raise InvalidL1Inbox(f"{kind} {item.index} is not as L1 holds it")


def find_attestation_target(node: Node) -> SettlementBlock | None:
    """The oldest committed ZK block with operations that no committed height attested."""
    attested = Height(int(node.store.get_meta(ATTESTED_META) or 0))
    heights = node.store.list_zk_op_heights(attested, 1)
    return None if not heights else node.describe_settlement(heights[0])


def compute_fast_results(
    decoded: list[FastTx], fast: FastBlock | None
) -> tuple[list[abci.ExecTxResult], list[str]]:
    """One result per fast transaction, in proposal order, and why each one left out was."""
    executed: dict[Hash32, list[abci.ExecTxResult]] = {}
    refused: dict[Hash32, list[str]] = {}
    if fast is not None:
        for outcome in fast.result.outcomes:
            code = OK if outcome.success else REVERTED
            result = abci.ExecTxResult(
                code=code, gas_used=outcome.gas_used, gas_wanted=outcome.tx.gas
            )
            executed.setdefault(outcome.tx.hash, []).append(result)
        for tx, reason in fast.result.rejected:
            refused.setdefault(tx.hash, []).append(f"cannot execute: {reason}")
        for tx in fast.result.deferred:
            refused.setdefault(tx.hash, []).append("exceeds the block's gas limit")
    results: list[abci.ExecTxResult] = []
    refusals: list[str] = []
    for tx in decoded:
        if executed.get(tx.hash):  # the same transaction twice executes once
            results.append(executed[tx.hash].pop(0))
            continue
        reason = f"transaction {tx.hash.hex()} {refused[tx.hash].pop(0)}"
        results.append(abci.ExecTxResult(code=NOT_EXECUTED, log=reason))
        refusals.append(reason)
    return results, refusals


def compute_tx_size(raw: bytes) -> int:
    """What a transaction takes of a proposal's max_tx_bytes: itself and its protobuf
    framing (a tag byte and a varint length, at most 5 bytes for CometBFT's sizes)."""
    return len(raw) + 6


def order_for_proposal(node: Node, raw_txs: list[bytes], max_bytes: int) -> list[FastTx]:
    """The decodable fast transactions, as many as fit in `max_bytes`, in dev mode's pool
    order: arrival order, each sender's in nonce order from its account's nonce (one
    transaction per sender and nonce, the first to arrive)."""
    pool = TxPool()
    total = 0
    for raw in raw_txs:
        if not is_fast_tx(raw):
            continue
        try:
            tx = decode_transaction(raw, node.config.fast_chain_id)
        except InvalidTransaction:
            continue
        taken = tx.nonce in pool.by_sender.get(tx.sender, {})  # the first to arrive keeps it
        if taken or total + compute_tx_size(raw) > max_bytes:
            continue
        total += compute_tx_size(raw)
        pool.add(tx)
    nonces = {sender: node.account(sender).nonce for sender in pool.senders()}
    return pool.select(nonces, MAX_TXS_PER_BLOCK)


def select_proofs(node: Node, raw_txs: list[bytes], max_bytes: int) -> list[bytes]:
    """The mempool's proofs that check, each after those before it, within `max_bytes`
    and a height's MAX_PROOFS_PER_HEIGHT (CheckTx verified them once)."""
    chosen: list[bytes] = []
    records: list[SubmissionRecord] = []
    total = 0
    next_zk = Height(node.zk_head.height + 1)
    for raw in raw_txs:
        if len(chosen) == MAX_PROOFS_PER_HEIGHT or is_fast_tx(raw):
            continue
        size = compute_tx_size(raw)
        try:
            proof = decode_tagged(raw)
            if not isinstance(proof, ProofTx) or total + size > max_bytes:
                continue
            _, write = node.desk.check_submission(
                proof.job_id, proof.result, proof.signature, next_zk, records, verify=False
            )
        except (UndecodableTx, SubmissionRefused):
            continue
        chosen.append(raw)
        records.append(write.record)
        total += size
    return chosen


def select_registrations(raw_txs: list[bytes]) -> list[bytes]:
    """The mempool's registrations, the first MAX_REGISTRATIONS_PER_HEIGHT (the execution
    leaves out any that no longer holds, one registered meanwhile say)."""
    chosen = [raw for raw in raw_txs if raw[:1] == bytes([REGISTRATION_TAG])]
    return chosen[:MAX_REGISTRATIONS_PER_HEIGHT]


def select_ops(node: Node, raw_txs: list[bytes], time_ms: int, max_bytes: int) -> list[bytes]:
    """The mempool's ZK operations that apply one after another on the ZK head (each
    signer's in nonce order, whatever order they arrived in), within `max_bytes` and a
    block's operations."""
    candidates: dict[bytes, tuple[bytes, SignedOperation]] = {}
    for raw in raw_txs:
        if is_fast_tx(raw):
            continue
        try:
            tagged = decode_tagged(raw)
            if isinstance(tagged, ZkOpTx):
                signed = parse_signed_operation(tagged.wire, node.signing_domain)
                candidates.setdefault(signed.op_id, (raw, signed))
        except (UndecodableTx, InvalidSignature):
            continue
    cfg = node.config
    ctx = compute_block_context(node.zk_head.height + 1, time_ms, cfg.zk_min_fee)
    pool = OpPool(node.zk_state)
    chosen: list[bytes] = []
    total = 0
    waiting = list(candidates.values())
    progress = True
    while progress and waiting and len(chosen) < cfg.max_ops_per_zk_block:
        progress, later = False, []
        for raw, signed in waiting:
            size = compute_tx_size(raw)
            if len(chosen) == cfg.max_ops_per_zk_block or total + size > max_bytes:
                break
            try:
                pool.admit(signed, ctx)
            except InvalidOp:
                later.append((raw, signed))  # an earlier nonce may come later in the list
                continue
            chosen.append(raw)
            total += size
            progress = True
        waiting = later
    return chosen


@dataclass(frozen=True)
class Decided:
    """A height FinalizeBlock executed, for Commit to store."""

    height: int
    execution: Execution
    offences: list[Offence]
    jailings: list[CometValidator]
    powers: dict[bytes, int]  # every validator's power once the updates apply
    slashed: list[int]  # the attester addresses this height's jailings slash


class DuetApplication(BaseApplication):
    """The node's chains behind CometBFT. Every call runs on the server's event loop, one
    at a time (the server serializes them), as the node requires. `zk_interval_ms` is the
    network's ZK block interval: every validator must run with the same."""

    def __init__(
        self,
        node: Node,
        zk_interval_ms: int = DEFAULT_ZK_INTERVAL_MS,
        attest_key: bytes | None = None,
    ) -> None:
        self.node = node
        self.zk_interval_ms = zk_interval_ms
        self.attest_key = attest_key  # this validator's Ethereum key, for its extensions
        self.checked: dict[HeightKey, Execution] = {}  # this height's executions, by input
        self.decided: Decided | None = None  # FinalizeBlock's, until Commit
        self.soft_listeners: list[SoftListener] = []
        self.soft: dict[Hash32, FastBlock] = {}  # shown soft at this height, by hash
        # The ZK block due for attestation, as found on this height's committed state (one
        # lookup serves ExtendVote, every VerifyVoteExtension and the executions).
        self._target: tuple[SettlementBlock | None] | None = None

    def get_app_hash(self) -> bytes:
        return compute_app_hash(self.node.config, self.node.heads)

    @cached_property
    def validators(self) -> dict[bytes, CometValidator]:
        """Every validator the network knows: the genesis set as InitChain stored it, then
        the registered ones (power 0 until their stake gives them some). Read again after a
        height that registers."""
        raw = self.node.store.get_meta(VALIDATORS_META)
        known = {} if raw is None else parse_validators(json.loads(raw))
        for registration in self.registrations:
            known[registration.validator] = registration.to_comet_validator()
        return known

    @cached_property
    def registrations(self) -> list[Registration]:
        """The validators registered after genesis, in the order heights took them."""
        raw = self.node.store.get_meta(REGISTRATIONS_META)
        return [] if raw is None else parse_registrations(json.loads(raw))

    @property
    def jailed(self) -> set[bytes]:
        raw = self.node.store.get_meta(JAILED_META)
        return set() if raw is None else {bytes.fromhex(a) for a in json.loads(raw)}

    @property
    def evidence(self) -> list[dict[str, Any]]:
        """The misbehaviour CometBFT reported, oldest first (the last MAX_EVIDENCE_KEPT)."""
        raw = self.node.store.get_meta(EVIDENCE_META)
        return [] if raw is None else list(json.loads(raw))

    @property
    def powers(self) -> dict[bytes, int]:
        """Each validator's power as the last updates left it (the genesis's, the jailed
        at 0, the registered at 0 before any power epoch)."""
        raw = self.node.store.get_meta(POWERS_META)
        if raw is not None:
            return {bytes.fromhex(a): int(p) for a, p in json.loads(raw).items()}
        jailed = self.jailed
        return {a: 0 if a in jailed else v.power for a, v in self.validators.items()}

    @property
    def slash_queue(self) -> list[int]:
        """The attester addresses to slash in the next ZK block, in jailing order."""
        raw = self.node.store.get_meta(SLASH_QUEUE_META)
        return [] if raw is None else [int(a, 16) for a in json.loads(raw)]

    def _queued_slashes(self) -> list[Slash]:
        """The queue's slashes that can apply: a validator without stake has none to lose."""
        state = self.node.zk_state
        return [
            Slash(v)
            for v in self.slash_queue
            if get_account_index(state, compute_stake_address(v)) is not None
        ]

    @cached_property
    def attesters(self) -> tuple[Attester, ...]:
        """The network's attesters: the genesis's, as InitChain stored them, then the
        registered validators' (weighing nothing until they bond)."""
        raw = self.node.store.get_meta(ATTESTERS_META)
        genesis = () if raw is None else parse_attesters(json.loads(raw))
        joined = tuple(Attester(r.validator, r.address, 0) for r in self.registrations)
        return genesis + joined

    @cached_property
    def stakers(self) -> frozenset[int]:
        """The attesters' addresses as numbers: the accounts that may Bond."""
        return frozenset(int(a.address, 16) for a in self.attesters)

    def _forget_registry(self) -> None:
        """Read the validators and attesters again (after a height registered some)."""
        for name in ("registrations", "validators", "attesters", "stakers"):
            self.__dict__.pop(name, None)

    def _find_target(self) -> SettlementBlock | None:
        if self._target is None:
            self._target = (find_attestation_target(self.node),)
        return self._target[0]

    def _stake_history(self) -> list[tuple[int, dict[int, int]]]:
        raw = self.node.store.get_meta(ATTESTER_STAKES_META)
        saved = [] if raw is None else json.loads(raw)
        return [(int(h), {int(a, 16): int(w) for a, w in ws.items()}) for h, ws in saved]

    def _weighted_attesters(self, zk_height: int) -> tuple[Attester, ...]:
        """The attesters weighted as the rollup weighs them when it settles ZK block
        `zk_height`: by their bonded stake after the blocks before it, when the network's
        genesis has stakes (its rollup follows them, chain/testnet.py); else by their
        genesis power (a rollup with fixed weights)."""
        weights = self.node.config.genesis_stakes
        if not weights:
            return self.attesters
        for height, after in self._stake_history():
            if height < zk_height:
                weights = after
        return tuple(replace(a, power=weights.get(int(a.address, 16), 0)) for a in self.attesters)

    def _target_attesters(self) -> tuple[Attester, ...]:
        target = self._find_target()
        return self.attesters if target is None else self._weighted_attesters(target.header.height)

    def _record_stakes(self, zk: ZkDraft | None, meta: dict[str, str]) -> None:
        """Add the attesters' stake after ZK block `zk` to the history, if it moved."""
        if zk is None or not self.node.config.genesis_stakes:
            return
        history = self._stake_history()
        before = history[-1][1] if history else self.node.config.genesis_stakes
        state = zk.zk.state
        after = {
            int(a.address, 16): get_stake(state, int(a.address, 16)).bonded for a in self.attesters
        }
        if after == {a: before.get(a, 0) for a in after}:
            return
        history.append((zk.zk.block.height, after))
        saved = [[h, {hex(a): str(w) for a, w in ws.items()}] for h, ws in history]
        meta[ATTESTER_STAKES_META] = json.dumps(saved[-STAKE_HISTORY_KEPT:])

    def _key(self, txs: tuple[bytes, ...], time: Timestamp) -> HeightKey:
        node = self.node
        l1_read = (len(node.l1_deposits), len(node.l1_forced))
        return HeightKey(node.log_head.hash, compute_time_ms(time), txs, l1_read)

    def _execute(self, key: HeightKey) -> Execution:
        execution = self.checked.get(key)
        if execution is None:
            execution = self._run(key)
            self.checked[key] = execution
        return execution

    def _run(self, key: HeightKey, decided: bool = False) -> Execution:
        """`execute_txs` of the height `key` names, on this node's state and queues."""
        return execute_txs(
            self.node,
            key.txs,
            key.time_ms,
            self.zk_interval_ms,
            self._target_attesters(),
            decided=decided,
            find_target=self._find_target,
            slashes=self._queued_slashes(),
            validators=self.validators,
        )

    # -- connection "info" ---------------------------------------------------------------

    async def info(self, request: abci.RequestInfo) -> abci.ResponseInfo:
        head = get_comet_head(self.node)
        if head is None:
            return abci.ResponseInfo(data=APP_NAME)  # height 0: CometBFT sends InitChain
        if head.fast_height != self.node.fast_head.height:
            raise InconsistentStore(
                f"the store's fast head is at height {self.node.fast_head.height}, but CometBFT "
                f"height {head.height} left it at {head.fast_height}: another sequencer "
                "(dev mode?) wrote to this data directory"
            )
        return abci.ResponseInfo(
            data=APP_NAME,
            last_block_height=head.height,
            last_block_app_hash=self.get_app_hash(),
        )

    # -- connection "mempool" ------------------------------------------------------------

    async def check_tx(self, request: abci.RequestCheckTx) -> abci.ResponseCheckTx:
        node = self.node
        if is_fast_tx(request.tx):
            try:
                tx = node.check_for_mempool(request.tx)
            except InvalidTransaction as exc:
                return abci.ResponseCheckTx(code=REFUSED, log=str(exc))
            return abci.ResponseCheckTx(code=OK, gas_wanted=tx.gas)
        try:
            tagged = decode_tagged(request.tx)
        except UndecodableTx as exc:
            return abci.ResponseCheckTx(code=UNDECODABLE, log=str(exc))
        if isinstance(tagged, AttestationTx | L1InboxTx):
            return abci.ResponseCheckTx(code=REFUSED, log="only a proposer makes this kind")
        stakers = self.stakers  # kept between heights: CheckTx runs for every transaction
        try:
            if isinstance(tagged, Registration):
                check_registration(node, tagged, self.validators, stakers)
            elif isinstance(tagged, ZkOpTx):
                signed = node.check_op_for_mempool(tagged.wire)
                if isinstance(signed.op.body, Bond) and signed.op.signer not in stakers:
                    raise InvalidOp(UNREGISTERED_BOND)
            else:
                node.desk.check_submission(
                    tagged.job_id,
                    tagged.result,
                    tagged.signature,
                    Height(node.zk_head.height + 1),
                    # A recheck (after each height) verified the proof once already.
                    verify=request.type != abci.RECHECK,
                )
        except (InvalidSignature, InvalidOp, SubmissionRefused, InvalidRegistration) as exc:
            return abci.ResponseCheckTx(code=REFUSED, log=str(exc))
        return abci.ResponseCheckTx(code=OK)

    # -- connection "consensus" ----------------------------------------------------------

    async def init_chain(self, request: abci.RequestInitChain) -> abci.ResponseInitChain:
        head = get_comet_head(self.node)
        if head is not None:
            raise InconsistentStore(
                f"InitChain on a store that CometBFT already drove to height {head.height}"
            )
        genesis = self.node.get_block(self.node.config.fast_chain_id, 0)
        assert genesis is not None
        network_time = compute_time_ms(request.time)
        if genesis.timestamp_ms != network_time:
            raise InconsistentStore(
                f"the store's genesis blocks are from {genesis.timestamp_ms} ms, the network's "
                f"genesis time is {network_time} ms: start the node with its network's "
                "CometBFT home on a new data directory"
            )
        attesters = parse_app_state(request.app_state_bytes)
        self.node.store.set_meta(ATTESTERS_META, json.dumps(format_attesters(attesters)))
        validators = read_genesis_validators(request.validators)
        self.node.store.set_meta(VALIDATORS_META, json.dumps(format_validators(validators)))
        self._forget_registry()  # read again from what was just stored
        return abci.ResponseInitChain(app_hash=self.get_app_hash())

    async def prepare_proposal(
        self, request: abci.RequestPrepareProposal
    ) -> abci.ResponsePrepareProposal:
        node, mempool = self.node, list(request.txs)
        time_ms = compute_time_ms(request.time)
        budget = request.max_tx_bytes
        picked = self._gather_attestation(request.local_last_commit)
        picked += select_registrations(mempool)
        picked += select_proofs(node, mempool, budget - sum(map(compute_tx_size, picked)))
        if is_zk_due(node, time_ms, self.zk_interval_ms):
            if node.l1_deposits or node.l1_forced:
                deposits = node.l1_deposits[: node.config.max_deposits_per_zk_block]
                picked.append(encode_l1_inbox(deposits, node.l1_forced[:MAX_L1_FORCED_PER_BLOCK]))
            budget -= sum(compute_tx_size(raw) for raw in picked)
            picked += select_ops(node, mempool, time_ms, budget)
        budget = request.max_tx_bytes - sum(compute_tx_size(raw) for raw in picked)
        picked += [tx.raw for tx in order_for_proposal(node, mempool, budget)]
        key = self._key(tuple(picked), request.time)
        execution = self._execute(key)
        proposed = tuple(
            raw
            for raw, result in zip(key.txs, execution.results, strict=True)
            if result.code in (OK, REVERTED)
        )
        if proposed != key.txs:
            # What cannot execute changes no state: the rest executes the same without it,
            # and ProcessProposal of this proposal finds it checked.
            execution = self._execute(self._key(proposed, request.time))
        if execution.fast is not None:
            self._show_soft(execution.fast)
        return abci.ResponsePrepareProposal(txs=list(proposed))

    async def process_proposal(
        self, request: abci.RequestProcessProposal
    ) -> abci.ResponseProcessProposal:
        execution = self._execute(self._key(tuple(request.txs), request.time))
        if not execution.is_valid_proposal:
            log.warning(
                "refused the proposal of height %d: %s", request.height, execution.refusals[0]
            )
            return abci.ResponseProcessProposal(status=abci.ResponseProcessProposal.REJECT)
        if execution.fast is not None:
            self._show_soft(execution.fast)
        return abci.ResponseProcessProposal(status=abci.ResponseProcessProposal.ACCEPT)

    def _gather_attestation(self, last_commit: abci.ExtendedCommitInfo) -> list[bytes]:
        """The attestation transaction the last commit's vote extensions make, if they
        attest the block due with enough power."""
        target = self._find_target()
        if target is None:
            return []
        extensions = [
            (vote.validator.address, vote.vote_extension)
            for vote in last_commit.votes
            if vote.block_id_flag == BLOCK_ID_FLAG_COMMIT
        ]
        height = target.header.height
        attesters = self._weighted_attesters(height)
        signatures = gather_attestation(attesters, target.message, height, extensions)
        return [] if signatures is None else [encode_attestation(height, signatures)]

    async def extend_vote(self, request: abci.RequestExtendVote) -> abci.ResponseExtendVote:
        """This validator's signature of the ZK block due for attestation, if it has a key
        and a block is due."""
        target = self._find_target()
        if target is None or self.attest_key is None:
            return abci.ResponseExtendVote()
        signature = sign_block(target.message, self.attest_key)
        return abci.ResponseExtendVote(
            vote_extension=encode_extension(target.header.height, signature)
        )

    async def verify_vote_extension(
        self, request: abci.RequestVerifyVoteExtension
    ) -> abci.ResponseVerifyVoteExtension:
        """An empty extension (a validator without a key, or nothing due) is fine; one that
        signs must sign the block due, with the key the genesis names for its validator."""
        if not request.vote_extension:
            return abci.ResponseVerifyVoteExtension(status=VERIFY_ACCEPT)
        by_validator = {a.validator: a for a in self.attesters}
        attester = by_validator.get(request.validator_address)
        target = self._find_target()
        try:
            height, signature = decode_extension(request.vote_extension)
            if attester is None or target is None or height != target.header.height:
                raise InvalidAttestation(f"ZK block {height} is not due for attestation")
            if recover_signer(target.message, signature) != attester.address:
                raise InvalidAttestation("not signed by the validator's attester key")
        except InvalidAttestation as exc:
            log.warning(
                "refused the vote extension of %s at height %d: %s",
                request.validator_address.hex(),
                request.height,
                exc,
            )
            return abci.ResponseVerifyVoteExtension(status=VERIFY_REJECT)
        return abci.ResponseVerifyVoteExtension(status=VERIFY_ACCEPT)

    def _show_soft(self, fast: FastBlock) -> None:
        if fast.block.hash in self.soft:
            return
        self.soft[fast.block.hash] = fast
        for listener in self.soft_listeners:
            listener(fast, False)

    def _retract_soft(self, committed: Hash32 | None) -> None:
        shown, self.soft = self.soft, {}
        for block_hash, fast in shown.items():
            if block_hash != committed:
                for listener in self.soft_listeners:
                    listener(fast, True)

    async def finalize_block(
        self, request: abci.RequestFinalizeBlock
    ) -> abci.ResponseFinalizeBlock:
        key = self._key(tuple(request.txs), request.time)
        execution = self.checked.get(key)
        if execution is None or not execution.is_valid_proposal:
            # Decided by more than two thirds of the power, whatever this validator's own
            # reading of L1 made of it when it voted.
            execution = self._run(key, decided=True)
        offences = list_offences(request.misbehavior, request.height)
        jailings = compute_jailings(offences, self.validators, self.jailed)
        powers = self.powers
        changes = {v.address: 0 for v in jailings if powers.get(v.address)}
        if is_power_epoch(request.height):
            jailed = self.jailed | {v.address for v in jailings}
            bonded = {v: s.bonded for v, s in list_stakes(self.node.zk_state).items()}
            changes |= compute_power_changes(
                self.validators, self.attesters, bonded, jailed, powers
            )
        for offence in offences:
            log.warning(
                "evidence of a %s by validator %s at height %d%s",
                offence.kind,
                offence.validator.hex().upper(),
                offence.height,
                "" if not jailings else ": jailed and slashed",
            )
        slashed = list_slashed(jailings, self.attesters)
        decided = Decided(request.height, execution, offences, jailings, powers | changes, slashed)
        self.decided = decided
        heads = self.node.heads
        if execution.zk is not None:
            heads = process_append(heads, execution.zk.zk.block)
        if execution.fast is not None:
            heads = process_append(heads, execution.fast.block)
        return abci.ResponseFinalizeBlock(
            tx_results=execution.results,
            app_hash=compute_app_hash(self.node.config, heads),
            validator_updates=self._updates(changes),
        )

    def _updates(self, changes: dict[bytes, int]) -> list[abci.ValidatorUpdate]:
        """CometBFT's validator updates for `changes` (address → power), in address order."""
        out = []
        for address, power in sorted(changes.items()):
            validator: CometValidator = self.validators[address]
            key = keys_pb2.PublicKey(ed25519=validator.pub_key)
            out.append(abci.ValidatorUpdate(pub_key=key, power=power))
        return out

    async def commit(self, request: abci.RequestCommit) -> abci.ResponseCommit:
        assert self.decided is not None, "Commit without FinalizeBlock"
        decided, self.decided = self.decided, None
        height, execution = decided.height, decided.execution
        self.checked.clear()  # built on the head this commit replaces
        self._target = None
        node, fast = self.node, execution.fast
        head = CometHead(height, node.fast_head.height if fast is None else fast.block.height)
        meta = {COMETBFT_HEAD_META: encode_comet_head(head)}
        if execution.attestation is not None:
            attested = execution.attestation.height
            meta[f"{ATTESTATION_META_PREFIX}{attested}"] = execution.attestation.signatures.hex()
            meta[ATTESTED_META] = str(attested)
        if decided.offences:
            evidence = self.evidence + [o.to_json() for o in decided.offences]
            meta[EVIDENCE_META] = json.dumps(evidence[-MAX_EVIDENCE_KEPT:])
        if decided.jailings:
            jailed = sorted(
                a.hex().upper() for a in self.jailed | {v.address for v in decided.jailings}
            )
            meta[JAILED_META] = json.dumps(jailed)
        if decided.powers != self.powers:
            powers = {a.hex().upper(): p for a, p in sorted(decided.powers.items())}
            meta[POWERS_META] = json.dumps(powers)
        queue = self.slash_queue if execution.zk is None else []  # a ZK block takes them all
        if queue or decided.slashed or execution.zk is not None:
            meta[SLASH_QUEUE_META] = json.dumps([hex(v) for v in queue + decided.slashed])
        if execution.registrations:
            registry = self.registrations + execution.registrations
            meta[REGISTRATIONS_META] = json.dumps(format_registrations(registry))
            for registration in execution.registrations:
                log.info(
                    "validator %s registered, attester %s",
                    registration.validator.hex().upper(),
                    registration.address,
                )
        self._record_stakes(execution.zk, meta)
        node.commit_height(execution.zk, fast, execution.submissions, meta)
        if execution.registrations:
            self._forget_registry()
        self._retract_soft(None if fast is None else fast.block.hash)
        return abci.ResponseCommit()
