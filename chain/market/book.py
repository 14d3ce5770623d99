"""The prover market's state and its one transition per ZK block (docs/market.md).

`apply_market_block` is the only way the market changes. For ZK block `h` it takes that
block's market events in ledger order and runs, in this order:

1. `process_heartbeats`: each heartbeat keeps its prover active through the height it
   offered, at most h + active_blocks.
2. `process_new_jobs`: the block's committed operations and due aggregations open jobs.
3. `process_submission`, once per proof in ledger order: only the assignee, by its
   deadline, counts; a valid proof is paid the bounty, an invalid one is penalised.
4. `process_deadlines`: an assignee whose deadline has passed is penalised.
5. `process_assignments`: each unassigned job goes to a pseudo-random active prover.

The result lists the block's payments (bounties positive, penalties negative), which the
block's one settlement operation applies, so the market's money moves inside the proven
chain rather than in a chain of jobs about its own payments.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

from eth_utils import keccak

from chain.config import MarketConfig
from chain.ensure import ensure
from chain.market.assignment import choose_prover, compute_assignment_seed
from chain.market.bounty import compute_base_bounty, compute_bounty
from chain.types import Height, JobId, JobKind, ProverId, Wei

AGGREGATE_JOB_DOMAIN = b"duet/job/aggregate"
HEIGHT_BYTES = 8
NO_FEES = Wei(0)

PaymentReason = Literal["bounty", "invalid_proof", "missed_deadline"]


class InvalidMarketBlock(Exception):
    """Market events that no honest node produces (a caller's bug); the message says which."""


@dataclass(frozen=True)
class ProverState:
    active_until: Height  # active at every height up to and including this one
    balance: int = 0  # wei, signed: penalties may take it below zero, bounties bring it back
    proven: int = 0
    missed: int = 0
    invalid: int = 0


@dataclass(frozen=True)
class Job:
    job_id: JobId
    kind: JobKind
    height: Height  # the ZK block the operation committed in, or the block to aggregate
    created: Height  # the market block that opened the job: its wait counts from here
    attempt: int = 0  # how many times it has been assigned
    assignee: ProverId | None = None
    assigned_at: Height | None = None
    deadline: Height | None = None  # the last height at which the assignee's proof counts
    failed: frozenset[ProverId] = frozenset()  # assignees that missed the deadline or lied


@dataclass(frozen=True)
class Market:
    """Every prover ever seen, and the open jobs. Read-only by convention: the transition
    copies what it changes and returns a new Market."""

    provers: Mapping[ProverId, ProverState] = field(default_factory=dict)
    jobs: Mapping[JobId, Job] = field(default_factory=dict)
    height: int = -1  # the last ZK block applied; -1 before the first


@dataclass(frozen=True)
class Submission:
    """A proof submitted for `job_id`; `valid` is the verifier's verdict, decided outside."""

    prover: ProverId
    job_id: JobId
    valid: bool


@dataclass(frozen=True)
class NewOpJob:
    job_id: JobId  # the operation's op_id
    height: Height  # the ZK block it committed in


@dataclass(frozen=True)
class HeartbeatEvent:
    prover: ProverId
    active_until: Height  # what the prover offered (its Heartbeat operation's activeUntil)


@dataclass(frozen=True)
class MarketEvents:
    """One ZK block's market inputs, each in ledger order."""

    heartbeats: Sequence[HeartbeatEvent] = ()
    submissions: Sequence[Submission] = ()
    new_ops: Sequence[NewOpJob] = ()
    new_aggregates: Sequence[Height] = ()  # blocks whose operations are now all proven
    fee_pool: Wei = NO_FEES  # what the block may pay out: the pool of operation fees
    # Whether this ZK block carries the settlement of every payment not settled yet. The
    # node settles only in blocks that hold other operations, so an idle chain goes quiet
    # instead of proving its own payments forever; the transition ignores it.
    settle: bool = False


@dataclass(frozen=True)
class Payment:
    prover: ProverId
    delta_wei: int  # a bounty (≥ 0) or a penalty (< 0)
    reason: PaymentReason
    job_id: JobId


@dataclass(frozen=True)
class MarketBlock:
    market: Market
    payments: tuple[Payment, ...]
    done_jobs: tuple[JobId, ...]  # closed by a valid proof, in ledger order
    paid_from_pool: Wei
    ignored: tuple[tuple[Submission, str], ...]  # submissions that changed nothing, and why


@dataclass
class BlockDraft:
    """The market while one block is applied: working copies, never seen outside."""

    height: Height
    seed: bytes
    cfg: MarketConfig
    provers: dict[ProverId, ProverState]
    jobs: dict[JobId, Job]
    pool_left: Wei
    active: tuple[ProverId, ...] = ()
    payments: list[Payment] = field(default_factory=list)
    done: list[JobId] = field(default_factory=list)
    ignored: list[tuple[Submission, str]] = field(default_factory=list)


def compute_aggregate_job_id(height: Height) -> JobId:
    """An aggregation job's id; an operation's job id is its op_id (chain/zk/signing.py)."""
    return JobId(keccak(AGGREGATE_JOB_DOMAIN + height.to_bytes(HEIGHT_BYTES, "big")))


def is_active(prover: ProverState, height: Height) -> bool:
    return height <= prover.active_until


def compute_active_provers(
    provers: Mapping[ProverId, ProverState], height: Height
) -> tuple[ProverId, ...]:
    return tuple(sorted(p for p, state in provers.items() if is_active(state, height)))


def get_active_provers(market: Market, height: Height) -> tuple[ProverId, ...]:
    return compute_active_provers(market.provers, height)


def compute_job_bounty(job: Job, height: Height, active_provers: int, cfg: MarketConfig) -> Wei:
    """What a valid proof of `job` submitted at `height` earns (before the fee-pool cap)."""
    base = compute_base_bounty(job.kind, cfg)
    return compute_bounty(base, height - job.created, active_provers, cfg)


def is_block_proven(market: Market, height: Height) -> bool:
    """No job for an operation of block `height` remains open. Meaningful once the block's
    operations have opened their jobs (the market block at `height` does that)."""
    return not any(job.kind == "op" and job.height == height for job in market.jobs.values())


def compute_net_payments(payments: Iterable[Payment]) -> tuple[tuple[ProverId, int], ...]:
    """Each prover's net change in a block, by address, leaving out zeros: what the
    block's settlement operation writes."""
    net: dict[ProverId, int] = {}
    for payment in payments:
        net[payment.prover] = net.get(payment.prover, 0) + payment.delta_wei
    return tuple((prover, delta) for prover, delta in sorted(net.items()) if delta != 0)


def process_heartbeats(draft: BlockDraft, heartbeats: Sequence[HeartbeatEvent]) -> None:
    # A heartbeat never shortens an offer, and never reaches beyond h + active_blocks
    # whatever it asked: the node refuses such operations, and this bounds a sequencer's.
    limit = Height(draft.height + draft.cfg.active_blocks)
    for heartbeat in heartbeats:
        until = min(heartbeat.active_until, limit)
        state = draft.provers.get(heartbeat.prover)
        if state is None:
            draft.provers[heartbeat.prover] = ProverState(active_until=until)
        else:
            until = max(until, state.active_until)
            draft.provers[heartbeat.prover] = replace(state, active_until=until)
    # Bounties in this block see the provers active after its heartbeats.
    draft.active = compute_active_provers(draft.provers, draft.height)


def process_new_jobs(
    draft: BlockDraft, new_ops: Sequence[NewOpJob], new_aggregates: Sequence[Height]
) -> None:
    opened = [Job(new.job_id, "op", new.height, draft.height) for new in new_ops]
    opened += [
        Job(compute_aggregate_job_id(height), "aggregate", height, draft.height)
        for height in new_aggregates
    ]
    for job in opened:
        ensure(job.height <= draft.height, InvalidMarketBlock, f"job for future block {job.height}")
        ensure(
            job.job_id not in draft.jobs,
            InvalidMarketBlock,
            f"job 0x{job.job_id.hex()} is already open",
        )
        draft.jobs[job.job_id] = job


def process_submission(draft: BlockDraft, submission: Submission) -> None:
    job = draft.jobs.get(submission.job_id)
    if job is None:
        draft.ignored.append((submission, "no open job"))
    elif job.assignee != submission.prover:
        draft.ignored.append((submission, "not the assignee"))
    elif job.deadline is None or draft.height > job.deadline:
        draft.ignored.append((submission, "past the deadline"))
    elif submission.valid:
        process_bounty(draft, job)
    else:
        process_penalty(draft, job, "invalid_proof")


def process_bounty(draft: BlockDraft, job: Job) -> None:
    """Pay the assignee of `job` and close it. The fee pool funds the market: a bounty
    beyond what is left in it is paid what is left, possibly nothing, and still closes."""
    assert job.assignee is not None
    bounty = compute_job_bounty(job, draft.height, len(draft.active), draft.cfg)
    paid = min(bounty, draft.pool_left)
    draft.pool_left = Wei(draft.pool_left - paid)
    state = draft.provers[job.assignee]
    draft.provers[job.assignee] = replace(
        state, balance=state.balance + paid, proven=state.proven + 1
    )
    draft.payments.append(Payment(job.assignee, paid, "bounty", job.job_id))
    del draft.jobs[job.job_id]
    draft.done.append(job.job_id)


def process_penalty(draft: BlockDraft, job: Job, reason: PaymentReason) -> None:
    """Charge the assignee of `job` the penalty, even into debt, and free the job for
    someone else."""
    prover = job.assignee
    assert prover is not None
    state = draft.provers[prover]
    missed = state.missed + int(reason == "missed_deadline")
    invalid = state.invalid + int(reason == "invalid_proof")
    balance = state.balance - draft.cfg.penalty_wei
    draft.provers[prover] = replace(state, balance=balance, missed=missed, invalid=invalid)
    draft.payments.append(Payment(prover, -draft.cfg.penalty_wei, reason, job.job_id))
    draft.jobs[job.job_id] = replace(
        job, assignee=None, assigned_at=None, deadline=None, failed=job.failed | {prover}
    )


def process_deadlines(draft: BlockDraft) -> None:
    # The assignee is charged even if its heartbeat has lapsed since: it was active when it
    # took the job, and letting the heartbeat lapse must not be a free way to drop it.
    for job_id in sorted(draft.jobs):
        job = draft.jobs[job_id]
        if job.deadline is not None and job.deadline < draft.height:
            process_penalty(draft, job, "missed_deadline")


def process_assignments(draft: BlockDraft) -> None:
    # A job nobody can take stays open; its bounty keeps rising with its wait.
    deadline = Height(draft.height + draft.cfg.deadline_blocks)
    for job_id in sorted(draft.jobs):
        job = draft.jobs[job_id]
        if job.assignee is not None:
            continue
        prover = choose_prover(draft.seed, job_id, job.attempt, draft.active, job.failed)
        if prover is None:
            continue
        draft.jobs[job_id] = replace(
            job,
            attempt=job.attempt + 1,
            assignee=prover,
            assigned_at=draft.height,
            deadline=deadline,
        )


def apply_market_block(
    market: Market, events: MarketEvents, height: Height, beacon: bytes, cfg: MarketConfig
) -> MarketBlock:
    """The market after ZK block `height`, whose `beacon` is the previous ZK block's hash."""
    ensure(
        height > market.height,
        InvalidMarketBlock,
        f"height {height} does not follow {market.height}",
    )
    ensure(events.fee_pool >= 0, InvalidMarketBlock, f"negative fee pool {events.fee_pool}")
    draft = BlockDraft(
        height=height,
        seed=compute_assignment_seed(beacon),
        cfg=cfg,
        provers=dict(market.provers),
        jobs=dict(market.jobs),
        pool_left=events.fee_pool,
    )
    process_heartbeats(draft, events.heartbeats)
    process_new_jobs(draft, events.new_ops, events.new_aggregates)
    for submission in events.submissions:
        process_submission(draft, submission)
    process_deadlines(draft)
    process_assignments(draft)
    return MarketBlock(
        market=Market(provers=draft.provers, jobs=draft.jobs, height=height),
        payments=tuple(draft.payments),
        done_jobs=tuple(draft.done),
        paid_from_pool=Wei(events.fee_pool - draft.pool_left),
        ignored=tuple(draft.ignored),
    )
