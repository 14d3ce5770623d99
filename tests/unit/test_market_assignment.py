"""Who proves a job: the documented formula, determinism, spread and exclusion."""

from collections import Counter

import pytest
from eth_utils import keccak

from chain.market.assignment import choose_prover, compute_assignment_seed

SEED = compute_assignment_seed(keccak(b"block 41"))
OTHER_SEED = compute_assignment_seed(keccak(b"block 42"))
PROVERS = [0xA1, 0xB0B, 0xCA201, 0xD00D, 0xE1]


def job(n: int) -> bytes:
    return keccak(n.to_bytes(8, "big"))


def test_follows_the_documented_formula():
    seed = keccak(b"duet/assign-seed" + keccak(b"block 41"))
    assert seed == SEED
    for n in range(20):
        digest = keccak(b"duet/assign" + seed + job(n) + (3).to_bytes(4, "big"))
        expected = sorted(PROVERS)[int.from_bytes(digest, "big") % len(PROVERS)]
        assert choose_prover(SEED, job(n), 3, PROVERS, frozenset()) == expected


def test_same_inputs_choose_the_same_prover_whatever_the_order():
    for n in range(50):
        first = choose_prover(SEED, job(n), 0, PROVERS)
        assert choose_prover(SEED, job(n), 0, list(reversed(PROVERS))) == first
        assert choose_prover(SEED, job(n), 0, PROVERS + PROVERS) == first  # duplicates


def test_spreads_jobs_across_provers():
    counts = Counter(choose_prover(SEED, job(n), 0, PROVERS) for n in range(2000))
    assert set(counts) == set(PROVERS)
    for prover in PROVERS:
        assert 0.10 < counts[prover] / 2000 < 0.30


def test_spreads_attempts_of_one_job_across_provers():
    counts = Counter(choose_prover(SEED, job(7), attempt, PROVERS) for attempt in range(2000))
    for prover in PROVERS:
        assert 0.10 < counts[prover] / 2000 < 0.30


def test_another_seed_reshuffles():
    moved = sum(
        choose_prover(SEED, job(n), 0, PROVERS) != choose_prover(OTHER_SEED, job(n), 0, PROVERS)
        for n in range(500)
    )
    assert 300 < moved < 500  # about 4/5 move when each draw is independent


def test_never_chooses_an_excluded_prover_while_others_are_active():
    failed = frozenset(PROVERS[:3])
    for n in range(300):
        chosen = choose_prover(SEED, job(n), 1, PROVERS, failed)
        assert chosen in PROVERS[3:]


def test_falls_back_to_every_active_prover_when_all_have_failed():
    failed = frozenset(PROVERS)
    chosen = {choose_prover(SEED, job(n), 2, PROVERS, failed) for n in range(200)}
    assert chosen == set(PROVERS)


def test_excluded_provers_that_are_not_active_do_not_matter():
    for n in range(50):
        assert choose_prover(SEED, job(n), 0, PROVERS, frozenset({0x999})) == choose_prover(
            SEED, job(n), 0, PROVERS
        )


def test_nobody_active_chooses_nobody():
    assert choose_prover(SEED, job(0), 0, []) is None
    assert choose_prover(SEED, job(0), 0, [], frozenset({0xA1})) is None


def test_rejects_a_beacon_that_is_not_a_block_hash():
    with pytest.raises(ValueError, match="the beacon is a 32-byte block hash, got 31"):
        compute_assignment_seed(bytes(31))


def test_rejects_an_attempt_beyond_four_bytes():
    with pytest.raises(ValueError, match="attempt must fit in 4 bytes, got 4294967296"):
        choose_prover(SEED, job(0), 1 << 32, PROVERS)
