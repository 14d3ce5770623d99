"""The ZK lane: admitting signed ZK operations into the operation pool (in the node's
signing domain), and making ZK blocks from it, with the L1 deposits and forced Withdraws
waiting, the fast chain's messages and the market's block (chain/market/desk.py)."""

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from chain.l1.forced import QueuedWithdrawal
from chain.ledger.blocks import LedgerBlock
from chain.ledger.messages import InvalidMessage, Message, decode_message
from chain.ledger.store import BlockWrite, MessageRecord, SubmissionRecord, ZkOpRecord, ZkWrite
from chain.market.book import compute_net_payments
from chain.market.desk import PreparedBlock, Verdict
from chain.market.settlement_wait import SettlementWait
from chain.node.bridge import Bridge
from chain.node.ledger import (
    DEPOSITS_META,
    FORCED_META,
    INBOX_TAKEN_META,
    SIGNING_DOMAIN_META,
    TAKEN_META,
    AppendStep,
    log,
    now_ms,
)
from chain.prover.escape import explain_refusal
from chain.prover.witness_source import compute_proving_inputs, encode_witness_source
from chain.types import Hash32, Height, JobId, Wei
from chain.zk import chain as zk_chain
from chain.zk.ops import (
    BlockContext,
    Deposit,
    Heartbeat,
    InvalidOp,
    Slash,
    compute_market_settles,
)
from chain.zk.pool import OpPool
from chain.zk.registry import apply_operation
from chain.zk.signing import (
    InvalidSignature,
    SignedOperation,
    SigningDomain,
    format_signed_operation,
    parse_signed_operation,
)
from chain.zk.state import compute_touched_rows, get_account

# How far past its account's nonce a ZK operation may be in CometBFT's mempool.
MAX_NONCE_AHEAD = 64


@dataclass(frozen=True)
class ZkDraft:
    """A ZK block made and not stored: the block as applied, and what it took."""

    zk: zk_chain.ZkBlock
    ops: tuple[SignedOperation, ...]
    inbox: tuple[bytes, ...]
    market: PreparedBlock
    slashes: tuple[Slash, ...] = ()


class ZkLane(Bridge):
    def _load_signing_domain(self) -> SigningDomain:
        stored = self.store.get_meta(SIGNING_DOMAIN_META)
        if stored is None:
            return SigningDomain.local(self.config.zk_chain_id)
        return SigningDomain.from_json(json.loads(stored))

    def use_signing_domain(self, domain: SigningDomain) -> None:
        """Check operations' signatures in `domain` from now on (the node's rollup's, once it
        is connected): kept across restarts; pending operations signed in another domain are
        dropped (their signatures are not good for this rollup)."""
        if domain == self.signing_domain:
            return
        self.store.set_meta(SIGNING_DOMAIN_META, json.dumps(domain.to_json()))
        self.signing_domain = domain
        self.zk_pool = OpPool(self.zk_state)
        self._reload_zk_pending()

    def _reload_zk_pending(self) -> None:
        ctx = self.next_zk_context()
        lost: list[tuple[bytes, str]] = []
        for op_id, body in self.store.list_zk_pending():
            try:
                self.zk_pool.admit(parse_signed_operation(body, self.signing_domain), ctx)
            except (InvalidOp, InvalidSignature) as exc:
                lost.append((op_id, f"dropped at restart: {exc}"))
        if lost:
            self.store.drop_zk_pending(lost)

    def next_zk_context(self) -> BlockContext:
        head = self.zk_head
        timestamp_ms = max(self.clock.now_ms(), head.timestamp_ms)  # the next block's, near enough
        return zk_chain.compute_block_context(head.height + 1, timestamp_ms, self.config.zk_min_fee)

    def _check_heartbeat_reach(self, signed: SignedOperation, ctx: BlockContext) -> None:
        """The circuit does not see the height: how far ahead a heartbeat may reach is
        ours to limit."""
        body = signed.op.body
        limit = ctx.height + self.config.market.active_blocks
        if isinstance(body, Heartbeat) and body.active_until > limit:
            raise InvalidOp(f"activeUntil {body.active_until} is beyond {limit}")

    def submit_operation(self, obj: Any) -> bytes:
        """Admit a signed ZK operation (wire form); once this returns, it is on disk."""
        signed = parse_signed_operation(obj, self.signing_domain)
        if self.store.get_zk_op(signed.op_id) is not None:
            raise InvalidOp("already committed")
        ctx = self.next_zk_context()
        self._check_heartbeat_reach(signed, ctx)
        self.zk_pool.admit(signed, ctx)
        self.store.add_zk_pending(signed.op_id, now_ms(), format_signed_operation(signed))
        for listener in self.op_listeners:
            listener()
        return signed.op_id

    def check_op_for_mempool(self, wire: Any) -> SignedOperation:
        """The decentralized mode's CheckTx of a ZK operation: its signature in the node's
        domain, not committed, and its nonce the account's or at most MAX_NONCE_AHEAD after
        (the mempool holds each operation alone; one at the account's nonce must apply to
        the head state). Raises InvalidSignature or InvalidOp."""
        signed = parse_signed_operation(wire, self.signing_domain)
        if self.store.get_zk_op(signed.op_id) is not None:
            raise InvalidOp("already committed")
        op = signed.op
        nonce = get_account(self.zk_state, op.signer).nonce
        if op.nonce < nonce:
            raise InvalidOp(f"nonce {op.nonce} is used: the account's nonce is {nonce}")
        if op.nonce > nonce + MAX_NONCE_AHEAD:
            raise InvalidOp(f"nonce {op.nonce} is over {MAX_NONCE_AHEAD} ahead of {nonce}")
        ctx = self.next_zk_context()
        self._check_heartbeat_reach(signed, ctx)
        if op.nonce == nonce:
            apply_operation(self.zk_state, op, ctx)
        return signed

    def drop_zk_op(self, op_id: bytes, reason: str) -> None:
        """An admitted operation that can no longer be included: out of the pool, and its
        status says why."""
        self.zk_pool.reset(self.zk_state, {op_id}, self.next_zk_context())
        self.store.drop_zk_pending([(op_id, reason)])

    def get_zk_chain_state(self) -> zk_chain.ZkChainState:
        cfg = self.config
        return zk_chain.ZkChainState(
            self.zk_state, self.heads, cfg.zk_chain_id, cfg.zk_min_fee, explain_refusal
        )

    def check_zk_block(self, proposal: zk_chain.ZkProposal) -> zk_chain.ZkBlock:
        """Another node's proposed ZK block, applied to this node's state and checked (raises
        a kind of InvalidBlock); nothing is committed."""
        return zk_chain.state_transition(self.get_zk_chain_state(), proposal)

    def produce_zk_block(self, timestamp_ms: int | None = None) -> LedgerBlock:
        """The pool's operations, with what else waits, as the next ZK block, stored."""
        # Never before the head: the rollup settles blocks only in time order.
        timestamp = max(timestamp_ms or self.clock.now_ms(), self.zk_head.timestamp_ms)
        draft = self.make_zk_block(self.zk_pool.take(self.config.max_ops_per_zk_block), timestamp)
        self._append_all([self.zk_step(draft)])
        return draft.zk.block

    def make_zk_block(
        self,
        ops: Sequence[SignedOperation],
        timestamp_ms: int,
        also: Sequence[SubmissionRecord] = (),
        l1: tuple[Sequence[Deposit], Sequence[QueuedWithdrawal]] | None = None,
        slashes: Sequence[Slash] = (),
    ) -> ZkDraft:
        """The next ZK block at `timestamp_ms` from `ops` (those that break a rule left out),
        with the fast chain's messages, L1's deposits and forced Withdraws, the market's
        block (counting the submissions `also` after the desk's) and the validators'
        `slashes` (the decentralized mode's), not stored. `l1`: the deposits and queued
        Withdraws to take (the decentralized mode's, as a height carries them); by default
        all the node has read from the rollup."""
        inbox = tuple(self.inbox[: self.config.max_messages_per_zk_block])  # the rest wait
        taken, queued = (self.l1_deposits, self.l1_forced) if l1 is None else l1
        deposits = tuple(taken[: self.config.max_deposits_per_zk_block])  # the rest wait
        forced = tuple(self._make_forced(withdrawal) for withdrawal in queued)
        # Payments are settled in a block that holds operations anyway (chain/market/desk.py).
        settle = bool(ops or inbox or deposits or forced or slashes)
        market = self.desk.prepare_block(
            Height(self.zk_head.height + 1), Wei(self.zk_state.fee_pool), settle, also
        )
        settles = []
        if settle:
            net = compute_net_payments(market.owed)
            settles = compute_market_settles(self.zk_state, market.owed_paid, net)
        body = zk_chain.ZkBody(
            tuple(ops), inbox, deposits, tuple(settles), market.digest, forced, tuple(slashes)
        )
        zk = zk_chain.produce_block(self.get_zk_chain_state(), body, timestamp_ms)
        return ZkDraft(zk, tuple(ops), inbox, market, tuple(slashes))

    def zk_step(self, draft: ZkDraft) -> AppendStep:
        """What appending `draft` writes, and what it updates in the node once stored."""
        zk, ops, inbox, market = draft.zk, draft.ops, draft.inbox, draft.market
        height = zk.block.height
        records = []
        touched = []
        for index, applied in enumerate(zk.applied):
            # The witness itself is built when a prover is served the job (MarketDesk).
            proving = compute_proving_inputs(applied, zk.ctx)
            records.append(
                ZkOpRecord(
                    op_id=applied.op_id,
                    height=height,
                    index=index,
                    body=zk_chain.format_operation(applied),
                    circuit=proving.circuit,
                    public_inputs=proving.public_inputs,
                    witness_source=encode_witness_source(proving.source),
                )
            )
            touched.extend(applied.trace)
        rejected = [(s.op_id, f"rejected at execution: {reason}") for s, reason in zk.rejected]
        write = ZkWrite(
            ops=records,
            records=compute_touched_rows(touched),
            globals=self._zk_globals(zk.state),
            consumed_pending=[s.op_id for s in ops],
            messages=self._record_messages(height, inbox, zk),
            market_events=market.raw_events,
        )
        lost: list[tuple[Hash32, str]] = [(Hash32(i), r) for i, r in rejected]
        credited = self.deposits_credited + zk.deposits_taken
        forced_taken = self.forced_taken + zk.forced_taken
        meta = {DEPOSITS_META: str(credited), FORCED_META: str(forced_taken)}
        if len(inbox) == len(self.inbox):  # every message of the fast blocks so far
            meta |= {TAKEN_META: str(self.fast_head.height), INBOX_TAKEN_META: "0"}
        else:  # part of them: counted after the same height as before
            taken = int(self.store.get_meta(INBOX_TAKEN_META) or 0) + len(inbox)
            meta[INBOX_TAKEN_META] = str(taken)
        write_all = BlockWrite(zk.block, {}, [], [], [], lost, zk=write, meta=meta)

        def on_stored() -> None:
            self.desk.commit_block(market)
            del self.inbox[: len(inbox)]
            self.deposits_credited = credited
            del self.l1_deposits[: zk.deposits_taken]
            self.forced_taken = forced_taken
            del self.l1_forced[: zk.forced_taken]
            if zk.forced_refused is not None:
                log.error(
                    "cannot take a queued L1 Withdraw, the later ones wait: %s", zk.forced_refused
                )
            if zk.deposit_refused != self.deposit_refused and zk.deposit_refused is not None:
                log.error(
                    "cannot credit an L1 deposit, the later ones wait: %s", zk.deposit_refused
                )
            self.deposit_refused = zk.deposit_refused
            if zk.block.messages:
                self.undelivered.extend(zk.block.messages)
                for listener in self.submit_listeners:  # the fast chain delivers them next
                    listener()
            self.zk_state = zk.state
            done = {s.op_id for s in ops}
            dropped = self.zk_pool.reset(zk.state, done, self.next_zk_context())
            if dropped:
                self.store.drop_zk_pending(dropped)

        return AppendStep(write_all, None, on_stored)

    @staticmethod
    def _record_messages(
        height: Height, inbox: tuple[bytes, ...], zk: zk_chain.ZkBlock
    ) -> list[MessageRecord]:
        """What became of each fast-chain message the block took: applied, or why not."""
        records = []
        for position, raw in enumerate(inbox):
            try:
                seq: int | None = getattr(decode_message(raw), "seq", None)
            except InvalidMessage:
                seq = None
            op_id = zk_chain.compute_message_id(raw)
            records.append(MessageRecord(seq, height, op_id, zk.refused.get(position), raw))
        return records

    def pending_fast_messages(self) -> list[Message]:
        """Fast-chain messages that the next ZK block will take."""
        decoded = []
        for raw in self.inbox:
            try:
                decoded.append(decode_message(raw))
            except InvalidMessage:
                continue
        return decoded

    def submit_proof(self, job_id: JobId, result: bytes, signature: bytes) -> Verdict:
        """A prover's proof (or aggregate) for a market job; raises SubmissionRefused. With
        a `proof_relay` (the decentralized mode), a submission that checks goes to it, and
        counts once the network commits it."""
        next_height = Height(self.zk_head.height + 1)
        if self.proof_relay is None:
            return self.desk.submit(job_id, result, signature, next_height)
        verdict, _ = self.desk.check_submission(job_id, result, signature, next_height)
        self.proof_relay(job_id, result, signature)
        return verdict

    def explain_settlement(self) -> SettlementWait:
        """What the next ZK block to settle on L1 waits for (chain/market/settlement_wait.py)."""
        return self.desk.explain_settlement(self.get_l1_settled_height())
