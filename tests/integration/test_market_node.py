"""The prover market inside a real node (real store, real proofs), one ZK block at a time.

Blocks are produced by hand so each rule is seen at the block it applies in: the market of
block h opens jobs for block h − 1's operations, counts the proofs submitted since, and its
payments are the MarketSettle operations at the start of block h (docs/market.md).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from eth_account import Account

from chain.client.prover.loop import corrupt
from chain.config import NetworkConfig
from chain.fast.genesis import dev_keys
from chain.market.book import Job
from chain.market.desk import SubmissionRefused
from chain.market.signing import sign_submission
from chain.market.work import perform_job
from chain.node import Node, open_node
from chain.types import Height, JobId, ProverId
from chain.zk.ops import Heartbeat, InvalidOp, Transfer
from chain.zk.signing import format_signed_operation, sign_operation
from chain.zk.state import get_account, get_account_index, get_prover

CFG = NetworkConfig()
CHAIN = CFG.zk_chain_id
MARKET = CFG.market
ALICE_KEY, BOB_KEY, USER_KEY = dev_keys()[4], dev_keys()[5], dev_keys()[1]
ALICE = ProverId(int(Account.from_key(ALICE_KEY).address, 16))
BOB = ProverId(int(Account.from_key(BOB_KEY).address, 16))
KEYS = {ALICE: ALICE_KEY, BOB: BOB_KEY}
FEE = 10**16  # operations pay ten times the minimum, so the pool covers every bounty here
# A job opened at market block 2 and counted at block 3, with 2 of 4 target provers active.
BOUNTY_AT_1 = MARKET.base_bounty_wei * (MARKET.growth_blocks + 1) * 4 // (MARKET.growth_blocks * 2)


@pytest.fixture
def node(tmp_path: Path) -> Iterator[Node]:
    node = open_node(tmp_path / "node")
    try:
        yield node
    finally:
        node.close()


def send(node: Node, key: bytes, body, fee: int = FEE) -> bytes:  # type: ignore[no-untyped-def]
    address = int(Account.from_key(key).address, 16)
    nonce = node.zk_pool.pending_nonce(address, get_account(node.zk_state, address).nonce)
    index = get_account_index(node.zk_state, address) or 0
    signed = sign_operation(body, fee, nonce, node.signing_domain, key, index)
    return node.submit_operation(format_signed_operation(signed))


def submit(node: Node, prover: ProverId, job_id: bytes, result: bytes):  # type: ignore[no-untyped-def]
    signature = sign_submission(KEYS[prover], CHAIN, JobId(job_id), result)
    return node.submit_proof(JobId(job_id), result, signature)


def payload(node: Node, job: Job) -> dict:  # type: ignore[type-arg]
    return node.desk.format_job(job, Height(node.zk_head.height + 1))


def other(prover: ProverId | None) -> ProverId:
    return BOB if prover == ALICE else ALICE


def opened_market(node: Node) -> list[bytes]:
    """Alice and Bob heartbeat and a user sends two transfers in block 1; block 2 opens a
    job for each of the four operations and assigns it to Alice or Bob."""
    send(node, ALICE_KEY, Heartbeat(active_until=31))
    send(node, BOB_KEY, Heartbeat(active_until=31))
    ops = [send(node, USER_KEY, Transfer(0xB0B, 10**18)) for _ in range(2)]
    node.produce_zk_block()
    node.produce_zk_block()
    return ops


def test_a_heartbeat_beyond_the_active_window_is_refused(node: Node) -> None:
    with pytest.raises(InvalidOp, match="activeUntil 32 is beyond 31"):
        send(node, ALICE_KEY, Heartbeat(active_until=32))


def test_jobs_open_one_block_after_their_operations_and_go_to_active_provers(node: Node) -> None:
    ops = opened_market(node)
    block1 = node.store.list_zk_ops_at(Height(1))
    assert len(block1) == 4 and set(ops) <= {r.op_id for r in block1}
    jobs = node.desk.market.jobs
    assert set(jobs) == {r.op_id for r in block1}
    for job in jobs.values():
        assert (job.kind, job.height, job.created) == ("op", 1, 2)
        assert job.assignee in (ALICE, BOB) and job.deadline == 2 + MARKET.deadline_blocks
    stored = node.store.get_market_events(Height(2))
    assert stored is not None and b"newOps" in stored


def test_valid_proofs_are_paid_and_invalid_ones_penalised_in_the_next_block(node: Node) -> None:
    opened_market(node)
    jobs = list(node.desk.market.jobs.values())
    liar_job, honest_jobs = jobs[0], jobs[1:]
    liar = liar_job.assignee
    assert liar is not None
    honest_proof = perform_job(payload(node, liar_job))
    assert not submit(node, liar, liar_job.job_id, corrupt(honest_proof)).valid
    for job in honest_jobs:
        assert job.assignee is not None
        assert submit(node, job.assignee, job.job_id, perform_job(payload(node, job))).valid
        assert node.store.get_zk_op(job.job_id).status == "proven"  # type: ignore[union-attr]
    assert node.store.get_zk_op(liar_job.job_id).status == "committed"  # type: ignore[union-attr]

    send(node, USER_KEY, Transfer(0xB0B, 1))  # payments settle in a block with operations
    node.produce_zk_block()  # block 3: the market pays, and its settlements are the first ops

    expected = {ALICE: 0, BOB: 0}
    expected[liar] -= MARKET.penalty_wei
    for job in honest_jobs:
        expected[job.assignee] += BOUNTY_AT_1  # type: ignore[index]
    for prover, balance in expected.items():
        assert node.desk.market.provers[prover].balance == balance
        assert get_prover(node.zk_state, prover).balance == balance, "proven state agrees"
    block3 = node.store.list_zk_ops_at(Height(3))
    assert [r.circuit for r in block3] == ["market_settle", "transfer"]  # two payees, one op
    reassigned = node.desk.market.jobs[liar_job.job_id]
    assert reassigned.assignee == other(liar) and liar in reassigned.failed
    assert set(node.desk.market.jobs) == {liar_job.job_id}
    node.produce_zk_block()  # block 4 opens jobs for block 3's settlements
    assert set(node.desk.market.jobs) == {liar_job.job_id} | {r.op_id for r in block3}


def test_rejects_submissions_that_cannot_count(node: Node) -> None:
    opened_market(node)
    job = next(iter(node.desk.market.jobs.values()))
    assignee = job.assignee
    assert assignee is not None
    proof = perform_job(payload(node, job))
    with pytest.raises(SubmissionRefused, match="is not assigned to"):
        submit(node, other(assignee), job.job_id, proof)
    with pytest.raises(SubmissionRefused, match="bad signature"):
        node.submit_proof(JobId(job.job_id), proof, bytes(65))  # r = s = 0
    with pytest.raises(SubmissionRefused, match="no open job"):
        submit(node, assignee, b"\x07" * 32, proof)
    signed_for_other_proof = sign_submission(KEYS[assignee], CHAIN, JobId(job.job_id), b"x")
    with pytest.raises(SubmissionRefused, match="is not assigned to"):  # another signer
        node.submit_proof(JobId(job.job_id), proof, signed_for_other_proof)
    assert submit(node, assignee, job.job_id, proof).valid
    with pytest.raises(SubmissionRefused, match="already submitted"):
        submit(node, assignee, job.job_id, proof)  # a replay
    assert node.store.list_market_pending()[0].job_id == job.job_id


def test_payments_wait_for_a_block_with_operations_to_settle(node: Node) -> None:
    opened_market(node)
    prove_all(node)
    node.produce_zk_block()  # 3: paid, but nothing else to put in the block
    assert node.store.list_zk_ops_at(Height(3)) == []
    owed = sum(p.delta_wei for p in node.desk.owed)
    assert owed > 0 and get_prover(node.zk_state, ALICE).balance == 0
    send(node, USER_KEY, Transfer(0xB0B, 1))
    node.produce_zk_block()  # 4: settles what blocks 3 and 4 owe
    assert node.desk.owed == ()
    settled = get_prover(node.zk_state, ALICE).balance + get_prover(node.zk_state, BOB).balance
    assert settled == owed


def test_a_missed_deadline_costs_the_penalty_and_moves_the_job(node: Node) -> None:
    opened_market(node)
    job = next(iter(node.desk.market.jobs.values()))
    assert job.deadline is not None
    while node.zk_head.height < job.deadline:
        node.produce_zk_block()
    proof = perform_job(payload(node, job))
    with pytest.raises(SubmissionRefused, match=f"was due by ZK block {job.deadline}"):
        submit(node, job.assignee, job.job_id, proof)  # type: ignore[arg-type]  # counts at 13
    node.produce_zk_block()  # past the deadline: penalised, reassigned
    late = job.assignee
    assert late is not None
    state = node.desk.market.provers[late]
    assert state.missed >= 1 and state.balance <= -MARKET.penalty_wei
    moved = node.desk.market.jobs[job.job_id]
    assert moved.assignee == other(late) and moved.attempt == 2


def prove_all(node: Node) -> None:
    for job in list(node.desk.market.jobs.values()):
        if job.assignee is not None and job.kind == "op":
            submit(node, job.assignee, job.job_id, perform_job(payload(node, job)))


def test_a_proven_block_becomes_an_aggregation_job_then_aggregated(node: Node) -> None:
    opened_market(node)
    prove_all(node)
    send(node, USER_KEY, Transfer(0xB0B, 1))
    node.produce_zk_block()  # 3: block 1's jobs close; settlements and a transfer
    node.produce_zk_block()  # 4: block 3's operations open jobs
    node.produce_zk_block()  # 5: block 1 is proven and the next with operations: aggregate it
    aggregate_id = next(j for j in node.desk.market.jobs.values() if j.kind == "aggregate")
    assert aggregate_id.height == 1 and aggregate_id.assignee in (ALICE, BOB)
    job = payload(node, aggregate_id)
    result = perform_job(job)
    assert len(job["ops"]) == 4
    broken = result[:-1] + bytes([result[-1] ^ 1])  # one proof's last byte
    assignee = aggregate_id.assignee
    assert assignee is not None
    assert not submit(node, assignee, aggregate_id.job_id, broken).valid
    node.produce_zk_block()  # 6: penalised, reassigned
    moved = node.desk.market.jobs[aggregate_id.job_id]
    assert moved.assignee == other(assignee)
    assert submit(node, other(assignee), aggregate_id.job_id, result).valid
    assert node.store.get_zk_aggregate(Height(1)) == result
    statuses = {r.status for r in node.store.list_zk_ops_at(Height(1))}
    assert statuses == {"aggregated"}


def test_the_market_after_a_restart_equals_the_market_before(tmp_path: Path) -> None:
    node = open_node(tmp_path / "node")
    opened_market(node)
    prove_all(node)
    job = next(j for j in node.desk.market.jobs.values())
    node.produce_zk_block()
    node.produce_zk_block()
    # One submission waits for the next block when the node stops.
    pending = next(j for j in node.desk.market.jobs.values() if j.assignee is not None)
    assert pending.assignee is not None
    submit(node, pending.assignee, pending.job_id, perform_job(payload(node, pending)))
    before, waiting = node.desk.market, node.desk.pending
    node.close()
    again = open_node(tmp_path / "node")
    try:
        assert again.desk.market == before
        assert again.desk.pending == waiting
        assert job.job_id not in again.desk.market.jobs
        again.produce_zk_block()  # the waiting submission counts after the restart
        assert pending.job_id not in again.desk.market.jobs
    finally:
        again.close()


def test_a_restarted_node_serves_the_same_witnesses(tmp_path: Path) -> None:
    """Witnesses are built when a job is served, from what the commit stored: after a
    restart (nothing cached) every open job is served as before, and its proof counts."""
    node = open_node(tmp_path / "node")
    opened_market(node)
    served = {job_id: payload(node, job) for job_id, job in node.desk.market.jobs.items()}
    assert {job["circuit"] for job in served.values()} == {"heartbeat", "transfer"}
    node.close()
    again = open_node(tmp_path / "node")
    try:
        assert not again.desk.witnesses.entries
        jobs = again.desk.market.jobs
        assert {job_id: payload(again, job) for job_id, job in jobs.items()} == served
        job = next(job for job in jobs.values() if served[job.job_id]["circuit"] == "transfer")
        assert job.assignee is not None
        assert submit(again, job.assignee, job.job_id, perform_job(payload(again, job))).valid
    finally:
        again.close()
