"""The prover market's transition, one ZK block at a time: exact payments and penalties.

Each test is pre-state, action, post-state. Assignment is pseudo-random, so the tests read
who got a job from the market and act as that prover (or as someone else).
"""

from dataclasses import replace

import pytest
from eth_utils import keccak

from chain.config import MarketConfig
from chain.market.book import (
    HeartbeatEvent,
    InvalidMarketBlock,
    Job,
    Market,
    MarketBlock,
    MarketEvents,
    NewOpJob,
    Payment,
    ProverState,
    Submission,
    apply_market_block,
    compute_aggregate_job_id,
    compute_job_bounty,
    compute_net_payments,
    get_active_provers,
    is_block_proven,
)
from chain.market.bounty import compute_bounty

CFG = MarketConfig()
ALICE, BOB, CAROL, DAVE = 0xA1, 0xB0B, 0xCA201, 0xDA7E
PROVERS = (ALICE, BOB, CAROL)
OP = keccak(b"op 1")
OP2 = keccak(b"op 2")
OP3 = keccak(b"op 3")
PENALTY = 10**16
PLENTY = 10**18  # a fee pool that never runs out


def beacon(height: int) -> bytes:
    return keccak(b"zk block " + height.to_bytes(8, "big"))


def step(market: Market, height: int, fee_pool: int = PLENTY, **events) -> MarketBlock:
    """Heartbeats are given as provers, each offering as long as the rules allow."""
    events["heartbeats"] = tuple(HeartbeatEvent(p, 2**32 - 1) for p in events.get("heartbeats", ()))
    return apply_market_block(
        market, MarketEvents(fee_pool=fee_pool, **events), height, beacon(height), CFG
    )


def opened(provers=PROVERS, jobs=(OP,)) -> Market:
    """Provers heartbeat at height 1, when the jobs open and are assigned."""
    new_ops = tuple(NewOpJob(job_id, 1) for job_id in jobs)
    return step(Market(), 1, heartbeats=provers, new_ops=new_ops).market


def test_heartbeat_creates_an_active_prover_with_nothing_owed():
    market = step(Market(), 5, heartbeats=(ALICE,)).market
    assert market.provers == {ALICE: ProverState(active_until=35, balance=0)}
    assert get_active_provers(market, 35) == (ALICE,)
    assert get_active_provers(market, 36) == ()


def test_heartbeat_keeps_a_prover_active_through_its_offer_when_shorter():
    events = MarketEvents(heartbeats=(HeartbeatEvent(ALICE, 12),), fee_pool=PLENTY)
    market = apply_market_block(Market(), events, 5, beacon(5), CFG).market
    assert market.provers[ALICE].active_until == 12


def test_heartbeat_never_shortens_an_earlier_offer():
    market = Market({ALICE: ProverState(active_until=30)})
    events = MarketEvents(heartbeats=(HeartbeatEvent(ALICE, 10),), fee_pool=PLENTY)
    assert apply_market_block(market, events, 5, beacon(5), CFG).market.provers[ALICE] == (
        ProverState(active_until=30)
    )


def test_heartbeat_renews_activity_and_keeps_the_record():
    market = Market({ALICE: ProverState(active_until=20, balance=-7, proven=3, missed=1)})
    after = step(market, 18, heartbeats=(ALICE,)).market
    assert after.provers[ALICE] == ProverState(active_until=48, balance=-7, proven=3, missed=1)


def test_new_job_is_assigned_to_an_active_prover_with_a_deadline():
    job = opened().jobs[OP]
    assert job.assignee in PROVERS
    assert (job.kind, job.height, job.created) == ("op", 1, 1)
    assert (job.attempt, job.assigned_at, job.deadline, job.failed) == (1, 1, 11, frozenset())


def test_assignment_is_deterministic():
    events = MarketEvents(
        heartbeats=tuple(HeartbeatEvent(p, 31) for p in PROVERS),
        new_ops=tuple(NewOpJob(keccak(bytes([n])), 1) for n in range(40)),
    )
    first = apply_market_block(Market(), events, 1, beacon(1), CFG)
    again = apply_market_block(Market(), events, 1, beacon(1), CFG)
    assert first == again
    assignees = {job.assignee for job in first.market.jobs.values()}
    assert assignees == set(PROVERS)


def test_valid_proof_in_time_pays_exactly_the_bounty_and_closes_the_job():
    market = opened()
    prover = market.jobs[OP].assignee
    result = step(market, 5, submissions=(Submission(prover, OP, True),))
    # Waited 4 blocks with 3 of 4 target provers: 10**15 × 14 × 4 // 30.
    assert result.payments == (Payment(prover, 1_866_666_666_666_666, "bounty", OP),)
    assert result.market.provers[prover] == ProverState(31, 1_866_666_666_666_666, proven=1)
    assert result.market.jobs == {}
    assert result.done_jobs == (OP,)
    assert result.paid_from_pool == 1_866_666_666_666_666
    assert result.ignored == ()


def test_proof_at_the_deadline_still_counts():
    market = opened()
    prover = market.jobs[OP].assignee
    result = step(market, 11, submissions=(Submission(prover, OP, True),))
    assert result.payments == (Payment(prover, compute_bounty(10**15, 10, 3, CFG), "bounty", OP),)
    assert result.done_jobs == (OP,)


def test_missed_deadline_penalises_once_and_reassigns_to_another_prover():
    market = opened()
    late = market.jobs[OP].assignee
    assert step(market, 11).payments == ()
    result = step(market, 12)
    assert result.payments == (Payment(late, -PENALTY, "missed_deadline", OP),)
    assert result.market.provers[late] == ProverState(31, -PENALTY, missed=1)
    job = result.market.jobs[OP]
    assert job.assignee in set(PROVERS) - {late}
    assert (job.attempt, job.assigned_at, job.deadline, job.failed) == (2, 12, 22, {late})
    assert step(result.market, 13).payments == ()


def test_late_proof_pays_nothing_and_the_missed_deadline_is_penalised_once():
    market = opened()
    late = market.jobs[OP].assignee
    proof = Submission(late, OP, True)
    result = step(market, 12, submissions=(proof,))
    assert result.payments == (Payment(late, -PENALTY, "missed_deadline", OP),)
    assert result.ignored == ((proof, "past the deadline"),)
    assert result.done_jobs == ()
    again = step(result.market, 13, submissions=(proof,))
    assert again.payments == ()
    assert again.ignored == ((proof, "not the assignee"),)


def test_invalid_proof_penalises_and_reassigns_in_the_same_block():
    market = opened()
    liar = market.jobs[OP].assignee
    result = step(market, 4, submissions=(Submission(liar, OP, False),))
    assert result.payments == (Payment(liar, -PENALTY, "invalid_proof", OP),)
    assert result.market.provers[liar] == ProverState(31, -PENALTY, invalid=1)
    job = result.market.jobs[OP]
    assert job.assignee in set(PROVERS) - {liar}
    assert (job.attempt, job.assigned_at, job.deadline, job.failed) == (2, 4, 14, {liar})
    assert result.paid_from_pool == 0


def test_a_second_proof_in_the_block_after_an_invalid_one_is_ignored():
    market = opened()
    liar = market.jobs[OP].assignee
    second = Submission(liar, OP, True)
    result = step(market, 4, submissions=(Submission(liar, OP, False), second))
    assert result.ignored == ((second, "not the assignee"),)
    assert result.market.provers[liar].balance == -PENALTY


def test_proof_from_someone_other_than_the_assignee_is_ignored():
    market = opened()
    other = next(p for p in PROVERS if p != market.jobs[OP].assignee)
    stray = Submission(other, OP, True)
    result = step(market, 3, submissions=(stray,))
    assert result.payments == ()
    assert result.ignored == ((stray, "not the assignee"),)
    assert result.market == replace(market, height=3)


def test_proof_for_an_unknown_or_closed_job_is_ignored():
    market = opened()
    prover = market.jobs[OP].assignee
    proof = Submission(prover, OP, True)
    closed = step(market, 3, submissions=(proof,)).market
    result = step(closed, 4, submissions=(proof, Submission(prover, OP2, True)))
    assert result.payments == ()
    assert [why for _, why in result.ignored] == ["no open job", "no open job"]


def test_a_prover_in_debt_is_assigned_and_its_bounties_work_the_debt_back():
    # Alone, Alice is reassigned the job she botched: nobody else can take it.
    market = opened(provers=(ALICE,))
    debt = step(market, 2, submissions=(Submission(ALICE, OP, False),))
    assert debt.market.provers[ALICE].balance == -PENALTY
    assert debt.market.jobs[OP].assignee == ALICE
    paid = step(debt.market, 3, submissions=(Submission(ALICE, OP, True),))
    # Waited 2 blocks with 1 active prover: 10**15 × 12 × 4 // 10.
    assert paid.payments == (Payment(ALICE, 4_800_000_000_000_000, "bounty", OP),)
    assert paid.market.provers[ALICE].balance == -PENALTY + 4_800_000_000_000_000
    market = Market(
        {ALICE: ProverState(active_until=50, balance=-3 * 10**15)},
        {OP2: Job(OP2, "op", 9, 10, 1, ALICE, 10, 20)},
    )
    back = step(market, 10, submissions=(Submission(ALICE, OP2, True),))
    assert back.market.provers[ALICE].balance == 10**15  # -3 + 4 (one prover, no wait)


def test_inactive_provers_are_never_assigned():
    market = step(Market(), 1, heartbeats=(ALICE, BOB)).market
    market = step(market, 20, heartbeats=(CAROL, DAVE)).market  # Alice and Bob: until 31
    jobs = tuple(NewOpJob(keccak(bytes([n])), 32) for n in range(60))
    result = step(market, 32, new_ops=jobs)
    assert get_active_provers(result.market, 32) == (DAVE, CAROL)  # by address
    assert {job.assignee for job in result.market.jobs.values()} == {CAROL, DAVE}


def test_the_assignee_is_penalised_even_after_its_heartbeat_lapsed():
    market = step(Market(), 1, heartbeats=(ALICE,)).market  # active through 31
    market = step(market, 25, new_ops=(NewOpJob(OP, 25),)).market
    assert (market.jobs[OP].assignee, market.jobs[OP].deadline) == (ALICE, 35)
    market = step(market, 30, heartbeats=(BOB,)).market
    result = step(market, 36)
    assert get_active_provers(result.market, 36) == (BOB,)
    assert result.payments == (Payment(ALICE, -PENALTY, "missed_deadline", OP),)
    assert result.market.jobs[OP].assignee == BOB


def test_with_no_active_prover_a_job_waits_and_its_bounty_rises():
    market = step(Market(), 1, new_ops=(NewOpJob(OP, 1),)).market
    market = step(market, 5).market
    job = market.jobs[OP]
    assert (job.assignee, job.attempt, job.deadline) == (None, 0, None)
    bounties = [compute_job_bounty(job, h, 0, CFG) for h in (1, 11, 21)]
    assert bounties == [4 * 10**15, 8 * 10**15, 12 * 10**15]
    market = step(market, 21, heartbeats=(ALICE,)).market
    assert market.jobs[OP].assignee == ALICE
    result = step(market, 22, submissions=(Submission(ALICE, OP, True),))
    # Waited 21 blocks with 1 active prover: 10**15 × 31 × 4 // 10.
    assert result.payments == (Payment(ALICE, 12_400_000_000_000_000, "bounty", OP),)


def test_payments_never_exceed_the_fee_pool():
    market = opened(jobs=(OP, OP2, OP3))
    proofs = tuple(Submission(market.jobs[j].assignee, j, True) for j in (OP, OP2, OP3))
    bounty = compute_bounty(10**15, 1, 3, CFG)  # 1_466_666_666_666_666
    pool = bounty + bounty // 2
    result = step(market, 2, fee_pool=pool, submissions=proofs)
    assert [p.delta_wei for p in result.payments] == [bounty, pool - bounty, 0]
    assert result.paid_from_pool == pool
    assert result.done_jobs == (OP, OP2, OP3)  # a proof still closes its job
    assert result.market.jobs == {}


def test_an_empty_fee_pool_pays_nothing():
    market = opened()
    prover = market.jobs[OP].assignee
    result = step(market, 2, fee_pool=0, submissions=(Submission(prover, OP, True),))
    assert result.payments == (Payment(prover, 0, "bounty", OP),)
    assert result.market.provers[prover].proven == 1


def test_aggregation_jobs_are_assigned_and_paid_from_their_own_base():
    four = (ALICE, BOB, CAROL, DAVE)
    market = step(Market(), 3, heartbeats=four, new_aggregates=(2,)).market
    agg = compute_aggregate_job_id(2)
    job = market.jobs[agg]
    assert (job.kind, job.height, job.created, job.deadline) == ("aggregate", 2, 3, 13)
    result = step(market, 4, submissions=(Submission(job.assignee, agg, True),))
    # Waited 1 block with 4 active provers: 2 × 10**15 × 11 × 4 // 40.
    assert result.payments == (Payment(job.assignee, 2_200_000_000_000_000, "bounty", agg),)


def test_a_block_is_proven_when_its_operation_jobs_are_closed():
    market = opened(jobs=(OP, OP2))
    assert not is_block_proven(market, 1)
    proofs = tuple(Submission(market.jobs[j].assignee, j, True) for j in (OP, OP2))
    market = step(market, 2, submissions=proofs[:1]).market
    assert not is_block_proven(market, 1)
    market = step(market, 3, submissions=proofs[1:]).market
    assert is_block_proven(market, 1)


def test_net_payments_per_prover_for_the_settlement():
    payments = [
        Payment(BOB, 5, "bounty", OP),
        Payment(ALICE, -PENALTY, "missed_deadline", OP2),
        Payment(BOB, -5, "invalid_proof", OP3),
        Payment(ALICE, 7, "bounty", OP3),
    ]
    assert compute_net_payments(payments) == ((ALICE, 7 - PENALTY),)


def test_the_input_market_is_left_unchanged():
    market = opened()
    snapshot = (dict(market.provers), dict(market.jobs))
    step(market, 12)
    assert (dict(market.provers), dict(market.jobs)) == snapshot


def test_rejects_a_height_that_does_not_follow():
    market = opened()
    with pytest.raises(InvalidMarketBlock, match="height 1 does not follow 1"):
        step(market, 1)


def test_rejects_a_job_opened_twice():
    with pytest.raises(InvalidMarketBlock, match=f"job 0x{OP.hex()} is already open"):
        step(opened(), 2, new_ops=(NewOpJob(OP, 2),))


def test_rejects_a_job_for_a_future_block():
    with pytest.raises(InvalidMarketBlock, match="job for future block 3"):
        step(Market(), 2, new_aggregates=(3,))


def test_rejects_a_negative_fee_pool():
    with pytest.raises(InvalidMarketBlock, match="negative fee pool -1"):
        step(Market(), 2, fee_pool=-1)


def test_the_worked_example_in_docs_market_md():
    pool = 10**16
    market = step(Market(), 100, pool, heartbeats=PROVERS, new_ops=(NewOpJob(OP, 100),)).market
    first = market.jobs[OP].assignee
    block = step(market, 104, pool, submissions=(Submission(first, OP, False),))
    assert block.payments == (Payment(first, -PENALTY, "invalid_proof", OP),)
    second = block.market.jobs[OP].assignee
    assert (second != first, block.market.jobs[OP].deadline) == (True, 114)
    market = step(block.market, 114, pool).market
    block = step(market, 115, pool)
    assert block.payments == (Payment(second, -PENALTY, "missed_deadline", OP),)
    (third,) = set(PROVERS) - {first, second}
    assert (block.market.jobs[OP].assignee, block.market.jobs[OP].deadline) == (third, 125)
    block = step(block.market, 118, pool, submissions=(Submission(third, OP, True),))
    assert block.payments == (Payment(third, 3_733_333_333_333_333, "bounty", OP),)
    assert is_block_proven(block.market, 100)
    agg = compute_aggregate_job_id(100)
    market = step(block.market, 119, pool, new_aggregates=(100,)).market
    assert market.jobs[agg].deadline == 129
    block = step(market, 121, pool, submissions=(Submission(market.jobs[agg].assignee, agg, True),))
    assert [p.delta_wei for p in block.payments] == [3_200_000_000_000_000]
    assert block.market.provers[first].balance < 0  # still in debt, still working
