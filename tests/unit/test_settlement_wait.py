"""What the next ZK block to settle waits for (chain/market/settlement_wait.py), and which
open jobs keep the embedded prover awake (chain/market/desk.py, `is_job_calling`)."""

from chain.ledger.store import ZkOpRecord
from chain.market.book import Job, compute_aggregate_job_id
from chain.market.desk import is_job_calling
from chain.market.settlement_wait import compute_settlement_wait, format_settlement_wait
from chain.types import Height, JobId, ProverId

PROVER = ProverId(0xAB)
OTHER = ProverId(0xCD)


def record(n: int, height: int = 7, proven: bool = False, circuit: str = "transfer") -> ZkOpRecord:
    body = {"type": "Heartbeat", "from": hex(PROVER)} if circuit == "heartbeat" else {}
    return ZkOpRecord(
        op_id=bytes([n]) * 32,
        height=Height(height),
        index=n,
        body=body,
        circuit=circuit,
        public_inputs=[1, 2],
        witness_source="",
        proof=b"\x01" * 256 if proven else None,
    )


def op_job(op: ZkOpRecord, assignee: ProverId | None, deadline: int | None = None) -> Job:
    return Job(
        job_id=JobId(op.op_id),
        kind="op",
        height=op.height,
        created=Height(op.height + 1),
        attempt=1,
        assignee=assignee,
        deadline=None if deadline is None else Height(deadline),
    )


def test_nothing_waits_when_every_block_with_operations_is_settled() -> None:
    wait = compute_settlement_wait(Height(5), None, [], False, {})
    assert (wait.waiting_for, wait.next_height, wait.jobs) == ("nothing", None, ())


def test_a_block_with_unproven_operations_waits_for_their_jobs_and_names_their_holders() -> None:
    ops = [record(1, proven=True), record(2), record(3)]
    held = op_job(ops[1], OTHER, deadline=19)
    unheld = op_job(ops[2], None)
    wait = compute_settlement_wait(
        Height(5), Height(7), ops, False, {held.job_id: held, unheld.job_id: unheld}
    )
    assert wait.waiting_for == "proofs"
    assert wait.jobs == (held, unheld)
    assert wait.unassigned == 1
    assert "2 of 3 operations unproven" in wait.detail
    assert f"held by {OTHER:#042x} until block 19, attempt 1" in wait.detail
    assert "no active prover to take it" in wait.detail
    shown = format_settlement_wait(wait)
    assert shown["jobs"][0]["assignee"] == f"{OTHER:#042x}" and shown["jobs"][1]["assignee"] is None


def test_a_proven_block_waits_for_its_aggregation_job_then_for_an_agent() -> None:
    ops = [record(1, proven=True)]
    opening = compute_settlement_wait(Height(5), Height(7), ops, False, {})
    assert opening.waiting_for == "aggregation" and "opens within two blocks" in opening.detail

    job = Job(
        job_id=compute_aggregate_job_id(Height(7)),
        kind="aggregate",
        height=Height(7),
        created=Height(9),
        attempt=1,
        assignee=PROVER,
        deadline=Height(19),
    )
    held = compute_settlement_wait(
        Height(5), Height(7), ops, False, {job.job_id: job}, frozenset({job.job_id})
    )
    assert held.waiting_for == "aggregation" and held.jobs == (job,)
    assert "counted next block" in held.detail

    posted = compute_settlement_wait(Height(5), Height(7), ops, True, {job.job_id: job})
    assert posted.waiting_for == "agent" and posted.jobs == ()


def test_only_a_few_jobs_are_spelled_out_in_the_detail() -> None:
    ops = [record(n) for n in range(1, 9)]
    jobs = {JobId(op.op_id): op_job(op, OTHER, 30) for op in ops}
    wait = compute_settlement_wait(Height(5), Height(7), ops, False, jobs)
    assert len(wait.jobs) == 8 and wait.detail.endswith("5 more")


def test_a_prover_is_called_by_others_work_and_by_any_job_nobody_holds() -> None:
    own = [record(1, circuit="heartbeat")]
    users = [record(2)]
    assert not is_job_calling(op_job(own[0], PROVER, 20), own, PROVER)
    # Nobody holds it: no prover was active. Every later block waits for this one, so even
    # the prover's own heartbeat calls it back; ignoring it stalled settlement for good.
    assert is_job_calling(op_job(own[0], None), own, PROVER)
    assert is_job_calling(op_job(users[0], PROVER, 20), users, PROVER)
    assert is_job_calling(op_job(own[0], OTHER, 20), own, OTHER)  # another's heartbeat
