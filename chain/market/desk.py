"""The node's market desk: proofs come in between blocks, and each ZK block runs the market.

For ZK block `h` the desk builds the market events from the ledger (docs/market.md, "Wiring
it into the node"): the operations of block h − 1 open jobs, its Heartbeat operations renew
provers, the proofs submitted since block h − 1 are the submissions (with the node's
verdict), the next contiguous blocks whose operations are all proven open aggregation jobs,
and the fee pool after block h − 1, less what is owed already, funds the bounties.
`apply_market_block` decides the rest, seeded with block h − 1's hash. Payments are owed
until a block that holds other operations anyway: it starts with the settlements of all
of them. (Settling in every block would make each block's settlement a job whose bounty
needs the next block's settlement: an endless chain of jobs on an idle chain.) The
events are stored with block h, so a restart replays the same market.
"""

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from chain.config import MarketConfig
from chain.ledger.blocks import LedgerBlock
from chain.ledger.store import Store, SubmissionRecord, SubmissionWrite, ZkOpRecord
from chain.market.aggregate import InvalidAggregate, compute_expected_aggregate
from chain.market.book import (
    HeartbeatEvent,
    Job,
    Market,
    MarketBlock,
    MarketEvents,
    NewOpJob,
    Payment,
    Submission,
    apply_market_block,
    compute_job_bounty,
    get_active_provers,
    is_block_proven,
)
from chain.market.events import compute_events_digest, decode_events, encode_events
from chain.market.settlement_wait import SettlementWait, compute_settlement_wait, describe_job
from chain.market.signing import InvalidSubmissionSignature, recover_submitter
from chain.market.work import WitnessCache, format_job
from chain.prover.worker import is_valid_proof
from chain.types import ChainId, Height, JobId, ProverId, Wei
from chain.zk.ops import Heartbeat
from chain.zk.signing import InvalidSignature, read_committed_operation

log = logging.getLogger("duet.market")
HEARTBEAT_TYPE = "Heartbeat"
AGGREGATE_LOOKAHEAD = 64  # non-empty blocks examined per market block for aggregation


def is_bookkeeping(op: ZkOpRecord, prover: ProverId) -> bool:
    """A payment settlement, or a heartbeat of `prover`'s: what `prover` makes by proving."""
    if op.circuit == "market_settle":
        return True
    return op.circuit == "heartbeat" and int(op.body["from"], 16) == prover


def is_job_calling(job: Job, ops: Sequence[ZkOpRecord], prover: ProverId) -> bool:
    """Whether open `job` (about `ops`) needs `prover` active: nobody holds it, so no prover
    was active to take it (and every later block waits for it to be aggregated), or it is
    about others' operations rather than `prover`'s own bookkeeping."""
    return job.assignee is None or not all(is_bookkeeping(op, prover) for op in ops)


class SubmissionRefused(Exception):
    """A submission the market cannot count; nothing was recorded. The message says why."""


@dataclass(frozen=True)
class Verdict:
    job: Job
    prover: ProverId
    valid: bool


@dataclass(frozen=True)
class PreparedBlock:
    """The market block that goes with the next ZK block, before that block is stored."""

    height: Height
    events: MarketEvents
    raw_events: bytes
    digest: bytes
    result: MarketBlock
    owed: tuple[Payment, ...]  # every payment not settled before this block, its own too
    owed_paid: Wei  # the bounties among them: what their settlement takes from the pool


class MarketDesk:
    def __init__(
        self,
        store: Store,
        chain_id: ChainId,
        cfg: MarketConfig,
        get_block: Callable[[Height], LedgerBlock],
    ) -> None:
        self.store = store
        self.chain_id = chain_id
        self.cfg = cfg
        self.get_block = get_block
        self.market = Market()
        self.next_aggregate = Height(1)  # no block below this one waits for an aggregation job
        self.owed: tuple[Payment, ...] = ()  # payments made, not settled in the state yet
        self.owed_paid = Wei(0)
        self._replay()
        self.pending: list[SubmissionRecord] = store.list_market_pending()
        self._unheld = 0  # jobs nobody held at the last block, as last logged
        self.witnesses = WitnessCache()  # built as jobs are served (chain/market/work.py)

    def _replay(self) -> None:
        for height, raw in self.store.list_market_events():
            events = decode_events(raw)
            beacon = self.get_block(Height(height - 1)).hash
            result = apply_market_block(self.market, events, height, beacon, self.cfg)
            self._adopt(events, result)

    # -- one market block per ZK block ---------------------------------------------------

    def prepare_block(
        self,
        height: Height,
        fee_pool: Wei,
        settle: bool,
        also: Sequence[SubmissionRecord] = (),
    ) -> PreparedBlock:
        """The market block of ZK block `height`; `settle`: that block holds operations
        anyway, so it settles every payment owed (`owed`, `owed_paid`); `also`: submissions
        after `pending`, stored with the block (`check_submission`'s)."""
        parent_ops = self.store.list_zk_ops_at(Height(height - 1))
        events = MarketEvents(
            heartbeats=self._list_heartbeats(parent_ops),
            submissions=tuple(
                Submission(ProverId(s.prover), JobId(s.job_id), s.valid)
                for s in (*self.pending, *also)
            ),
            new_ops=tuple(NewOpJob(JobId(r.op_id), r.height) for r in parent_ops),
            new_aggregates=self._list_new_aggregates(height),
            fee_pool=Wei(fee_pool - self.owed_paid),
            settle=settle,
        )
        beacon = self.get_block(Height(height - 1)).hash
        result = apply_market_block(self.market, events, height, beacon, self.cfg)
        raw = encode_events(events)
        owed = (*self.owed, *result.payments)
        owed_paid = Wei(self.owed_paid + result.paid_from_pool)
        return PreparedBlock(
            height, events, raw, compute_events_digest(raw), result, owed, owed_paid
        )

    def commit_block(self, prepared: PreparedBlock) -> None:
        """The ZK block carrying `prepared` is stored (with its events): adopt its market."""
        self._adopt(prepared.events, prepared.result)
        self.pending = []
        for submission, why in prepared.result.ignored:
            log.info("submission for job 0x%s ignored: %s", submission.job_id.hex(), why)
        self._report(prepared)

    def _report(self, prepared: PreparedBlock) -> None:
        """Log what stalls proving: penalties (the job goes back to be drawn again), and
        jobs that nobody holds because no prover is active (said when it starts and ends)."""
        for payment in prepared.result.payments:
            if payment.reason != "bounty":
                job = prepared.result.market.jobs.get(payment.job_id)
                then = "" if job is None else ", " + describe_job(job)
                log.info(
                    "block %d: prover %#042x penalised for %s of job 0x%s%s",
                    prepared.height,
                    payment.prover,
                    payment.reason.replace("_", " "),
                    payment.job_id.hex(),
                    then,
                )
        jobs = self.market.jobs.values()
        unheld = sorted((job for job in jobs if job.assignee is None), key=lambda j: j.created)
        if len(unheld) != self._unheld:
            if unheld:
                log.info(
                    "block %d: %d jobs wait for a prover, none is active (oldest opened at "
                    "block %d)",
                    prepared.height,
                    len(unheld),
                    unheld[0].created,
                )
            elif self._unheld:
                log.info("block %d: every open job is held by a prover", prepared.height)
            self._unheld = len(unheld)

    def _adopt(self, events: MarketEvents, result: MarketBlock) -> None:
        self.market = result.market
        if events.new_aggregates:
            self.next_aggregate = Height(max(events.new_aggregates) + 1)
        if events.settle:
            self.owed, self.owed_paid = (), Wei(0)
        else:
            self.owed = (*self.owed, *result.payments)
            self.owed_paid = Wei(self.owed_paid + result.paid_from_pool)

    def _list_heartbeats(self, ops: Sequence[ZkOpRecord]) -> tuple[HeartbeatEvent, ...]:
        beats = []
        for record in ops:
            if record.body.get("type") != HEARTBEAT_TYPE:
                continue
            try:
                op = read_committed_operation(record.body)
            except InvalidSignature as exc:  # it was checked at admission: the store is damaged
                raise RuntimeError(f"stored heartbeat does not parse: {exc}") from None
            assert isinstance(op.body, Heartbeat)
            beats.append(HeartbeatEvent(ProverId(op.signer), Height(op.body.active_until)))
        return tuple(beats)

    def _list_new_aggregates(self, height: Height) -> tuple[Height, ...]:
        """The next blocks with operations, in order and without a gap, whose operations
        are all proven: their jobs opened at least one market block ago (block b's open at
        b + 1), so only blocks up to h − 2 qualify."""
        heights = self.store.list_zk_op_heights(
            Height(self.next_aggregate - 1), AGGREGATE_LOOKAHEAD
        )
        due = []
        for block in heights:
            if block > height - 2 or not is_block_proven(self.market, block):
                break
            due.append(block)
        return tuple(due)

    # -- submissions -----------------------------------------------------------------------

    def submit(
        self, job_id: JobId, result: bytes, signature: bytes, next_height: Height
    ) -> Verdict:
        """Check a submission, verify its proof or aggregate, and record it for block
        `next_height`; raises SubmissionRefused if it cannot count (nothing is recorded)."""
        verdict, write = self.check_submission(job_id, result, signature, next_height)
        self.store.add_market_submission(write)
        self.pending.append(write.record)
        return verdict

    def check_submission(
        self,
        job_id: JobId,
        result: bytes,
        signature: bytes,
        next_height: Height,
        also: Sequence[SubmissionRecord] = (),
        verify: bool = True,
    ) -> tuple[Verdict, SubmissionWrite]:
        """What `submit` would record, recording nothing: `also` are submissions counted
        before it that are not in `pending` yet (the same CometBFT height's). With
        `verify=False` the proof is not verified and the verdict says valid (a mempool's
        recheck, which verified it once already)."""
        try:
            prover = recover_submitter(self.chain_id, job_id, result, signature)
        except InvalidSubmissionSignature as exc:
            raise SubmissionRefused(str(exc)) from None
        job = self.market.jobs.get(job_id)
        if job is None:
            raise SubmissionRefused(f"no open job 0x{job_id.hex()}")
        if job.assignee != prover:
            raise SubmissionRefused(f"job 0x{job_id.hex()} is not assigned to {prover:#042x}")
        assert job.deadline is not None
        if next_height > job.deadline:
            raise SubmissionRefused(f"job 0x{job_id.hex()} was due by ZK block {job.deadline}")
        if any(s.job_id == job_id and s.prover == prover for s in (*self.pending, *also)):
            raise SubmissionRefused(f"job 0x{job_id.hex()} is already submitted")
        record = SubmissionRecord(job_id, prover, not verify or self._check(job, result))
        verdict = Verdict(job, prover, record.valid)
        if not record.valid:
            return verdict, SubmissionWrite(record)
        if job.kind == "op":
            return verdict, SubmissionWrite(record, proof=(job_id, result))
        return verdict, SubmissionWrite(record, aggregate=(job.height, result))

    def adopt_submissions(self, records: Sequence[SubmissionRecord]) -> None:
        """Submissions the caller stored (with `Store.commit_all`) wait for the next block."""
        self.pending.extend(records)

    def _check(self, job: Job, result: bytes) -> bool:
        if job.kind == "op":
            op = self.store.get_zk_op(job.job_id)
            assert op is not None, "an open operation job names a stored operation"
            return is_valid_proof(op.circuit, result, op.public_inputs)
        try:
            expected = compute_expected_aggregate(self.store.list_zk_ops_at(job.height))
        except InvalidAggregate:
            return False
        return result == expected

    # -- reads -------------------------------------------------------------------------------

    def list_assignments(self, prover: ProverId) -> list[Job]:
        jobs = (job for job in self.market.jobs.values() if job.assignee == prover)
        return sorted(jobs, key=lambda job: (job.deadline or 0, job.job_id))

    def is_work_waiting(self, prover: ProverId) -> bool:
        """Whether a prover that lets its heartbeat lapse when idle (the embedded one) should
        be active: a job is open that calls for it (`is_job_calling`), or a block holding
        others' operations has them all proven but waits for an earlier block before its
        aggregation job can open. Its own bookkeeping alone does not keep it awake: an idle
        chain would prove its heartbeats forever."""
        for job in self.market.jobs.values():
            if is_job_calling(job, self._list_job_ops(job), prover):
                return True
        waiting = self.store.list_zk_op_heights(
            Height(self.next_aggregate - 1), AGGREGATE_LOOKAHEAD
        )
        return any(
            not all(is_bookkeeping(op, prover) for op in self.store.list_zk_ops_at(height))
            for height in waiting
        )

    def _list_job_ops(self, job: Job) -> list[ZkOpRecord]:
        if job.kind == "aggregate":
            return self.store.list_zk_ops_at(job.height)
        op = self.store.get_zk_op(job.job_id)
        return [] if op is None else [op]

    def explain_settlement(self, settled: Height) -> SettlementWait:
        """What the next ZK block above `settled` (L1's settled height) waits for."""
        heights = self.store.list_zk_op_heights(settled, 1)
        if not heights:
            return compute_settlement_wait(settled, None, [], False, self.market.jobs)
        height = heights[0]
        submitted = frozenset(JobId(s.job_id) for s in self.pending if s.valid)
        return compute_settlement_wait(
            settled,
            height,
            self.store.list_zk_ops_at(height),
            self.store.get_zk_aggregate(height) is not None,
            self.market.jobs,
            submitted,
        )

    def compute_bounty(self, job: Job, height: Height) -> Wei:
        active = len(get_active_provers(self.market, height))
        return compute_job_bounty(job, height, active, self.cfg)

    def format_assignments(self, prover: ProverId, next_height: Height) -> list[dict[str, Any]]:
        """The jobs `prover` holds, as it receives them (chain/market/work.py)."""
        return [self.format_job(job, next_height) for job in self.list_assignments(prover)]

    def format_job(self, job: Job, next_height: Height) -> dict[str, Any]:
        parent = None if job.kind == "op" else self.get_block(Height(job.height - 1)).state_root
        bounty = self.compute_bounty(job, next_height)
        return format_job(job, self.store, bounty, parent, self.witnesses)
