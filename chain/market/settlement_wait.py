"""Why the next ZK block is not settled on L1 yet: what an operator asks when settlement
seems stuck, answered from the market and the stored operations alone.

L1 settles ZK blocks with operations in order. The next one waits for one of, in order:
its operations' proofs (each an open job, held by a prover until a deadline, or held by
nobody because no prover is active), its aggregation job (the same), or, once aggregated,
a submission agent to post it. `compute_settlement_wait` names which, with the jobs, so
`duet status`, the node's log and the agents can say it (docs/market.md, "When settlement
waits").
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from chain.ledger.store import ZkOpRecord
from chain.market.book import Job, compute_aggregate_job_id
from chain.types import Height, JobId

WaitingFor = Literal["nothing", "proofs", "aggregation", "agent"]
MAX_NAMED_JOBS = 3  # jobs spelled out in the one-line detail; the rest are counted


@dataclass(frozen=True)
class SettlementWait:
    settled: Height  # L1's settled ZK height, as the node last read it
    next_height: Height | None  # the next ZK block with operations above it
    waiting_for: WaitingFor
    detail: str  # one line for a person
    jobs: tuple[Job, ...] = ()  # the open jobs it waits for
    unassigned: int = 0  # of which no prover holds (none was active to take them)


def compute_settlement_wait(
    settled: Height,
    next_height: Height | None,
    ops: Sequence[ZkOpRecord],
    aggregated: bool,
    jobs: Mapping[JobId, Job],
    submitted: frozenset[JobId] = frozenset(),
) -> SettlementWait:
    """What ZK block `next_height` (holding `ops`, with its aggregate stored or not) waits
    for, given the market's open `jobs` and the results `submitted` for the next block."""
    if next_height is None or not ops:
        return SettlementWait(settled, None, "nothing", "every block with operations is settled")
    if aggregated:
        detail = f"ZK block {next_height} is aggregated: waiting for a submission agent to post it"
        return SettlementWait(settled, next_height, "agent", detail)
    unproven = [op for op in ops if op.proof is None]
    if unproven:
        waiting = [jobs[JobId(op.op_id)] for op in unproven if JobId(op.op_id) in jobs]
        head = f"ZK block {next_height}: {len(unproven)} of {len(ops)} operations unproven"
        return _waiting_on(settled, next_height, "proofs", head, waiting, submitted)
    job = jobs.get(compute_aggregate_job_id(next_height))
    if job is None:
        detail = (
            f"ZK block {next_height}: every operation proven; its aggregation job opens "
            "within two blocks"
        )
        return SettlementWait(settled, next_height, "aggregation", detail)
    head = f"ZK block {next_height}: every operation proven, not aggregated"
    return _waiting_on(settled, next_height, "aggregation", head, [job], submitted)


def _waiting_on(
    settled: Height,
    height: Height,
    waiting_for: WaitingFor,
    head: str,
    waiting: list[Job],
    submitted: frozenset[JobId],
) -> SettlementWait:
    waiting.sort(key=lambda job: job.job_id)
    described = [describe_job(job, job.job_id in submitted) for job in waiting]
    if len(described) > MAX_NAMED_JOBS:
        described = [*described[:MAX_NAMED_JOBS], f"{len(described) - MAX_NAMED_JOBS} more"]
    detail = head + ("" if not described else ": " + "; ".join(described))
    unassigned = sum(1 for job in waiting if job.assignee is None)
    return SettlementWait(settled, height, waiting_for, detail, tuple(waiting), unassigned)


def describe_job(job: Job, submitted: bool = False) -> str:
    """`job 0x1234…abcd (op) held by 0x…(prover) until block 57, attempt 2`, or why
    nobody holds it."""
    name = f"job 0x{job.job_id[:2].hex()}…{job.job_id[-2:].hex()} ({job.kind})"
    if job.assignee is None:
        return f"{name} held by nobody: no active prover to take it"
    held = f"{name} held by {job.assignee:#042x} until block {job.deadline}"
    if submitted:
        return f"{held}, its result in, counted next block"
    return f"{held}, attempt {job.attempt}"


def format_settlement_wait(wait: SettlementWait) -> dict[str, Any]:
    """The JSON of `duet_getSettlementStatus`."""
    return {
        "settledHeight": wait.settled,
        "nextHeight": wait.next_height,
        "waitingFor": wait.waiting_for,
        "detail": wait.detail,
        "unassigned": wait.unassigned,
        "jobs": [
            {
                "jobId": "0x" + job.job_id.hex(),
                "kind": job.kind,
                "height": job.height,
                "assignee": None if job.assignee is None else f"{job.assignee:#042x}",
                "deadline": job.deadline,
                "attempt": job.attempt,
            }
            for job in wait.jobs
        ],
    }
