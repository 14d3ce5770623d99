"""The prover market's parameters and its bounty function (docs/market.md, "Bounty")."""

import re
from dataclasses import asdict

import pytest

from chain.config import MarketConfig
from chain.market.bounty import compute_base_bounty, compute_bounty

CFG = MarketConfig()
BASE = CFG.base_bounty_wei


def test_config_defaults():
    assert asdict(MarketConfig()) == {
        "active_blocks": 30,
        "deadline_blocks": 10,
        "penalty_wei": 10**16,
        "base_bounty_wei": 10**15,
        "growth_blocks": 10,
        "target_provers": 4,
        "max_bounty_wei": 10**17,
        "aggregation_bounty_wei": 2 * 10**15,
    }


@pytest.mark.parametrize(
    "field", ["active_blocks", "deadline_blocks", "penalty_wei", "growth_blocks", "target_provers"]
)
@pytest.mark.parametrize("value", [0, -1])
def test_rejects_non_positive_parameter(field, value):
    with pytest.raises(
        ValueError, match=re.escape(f"MarketConfig.{field} must be positive, got {value}")
    ):
        MarketConfig(**{field: value})


def test_rejects_non_int_parameter():
    with pytest.raises(
        ValueError, match=re.escape("MarketConfig.growth_blocks must be an int, got 1.5")
    ):
        MarketConfig(growth_blocks=1.5)  # type: ignore[arg-type]


# The table in docs/market.md: (waited blocks, active provers) → bounty in units of 10**12 wei.
@pytest.mark.parametrize(
    ("waited", "active", "milli_base"),
    [
        (0, 4, 1000),
        (0, 9, 1000),
        (5, 4, 1500),
        (10, 4, 2000),
        (60, 4, 7000),
        (0, 3, 1333),
        (0, 2, 2000),
        (0, 1, 4000),
        (0, 0, 4000),
        (10, 2, 4000),
        (10, 1, 8000),
        (30, 1, 16000),
        (240, 1, 100000),  # the cap
        (990, 4, 100000),  # the cap
        (10_000, 0, 100000),
    ],
)
def test_bounty_table(waited, active, milli_base):
    bounty = compute_bounty(BASE, waited, active, CFG)
    assert bounty // 10**12 == milli_base


def test_bounty_is_exact_integer_floor():
    # 10**15 × (10 + 4) × 4 / (10 × 3), rounded down.
    assert compute_bounty(BASE, 4, 3, CFG) == 1_866_666_666_666_666


def test_bounty_never_falls_as_the_wait_grows():
    for active in range(7):
        bounties = [compute_bounty(BASE, waited, active, CFG) for waited in range(1200)]
        assert bounties == sorted(bounties)
        assert bounties[-1] == CFG.max_bounty_wei


def test_bounty_never_falls_as_provers_leave():
    for waited in range(0, 300, 7):
        bounties = [compute_bounty(BASE, waited, active, CFG) for active in range(10, -1, -1)]
        assert bounties == sorted(bounties)


def test_no_active_prover_counts_as_one():
    for waited in range(50):
        assert compute_bounty(BASE, waited, 0, CFG) == compute_bounty(BASE, waited, 1, CFG)


def test_bounty_is_capped():
    cfg = MarketConfig(max_bounty_wei=3 * 10**15)
    assert compute_bounty(BASE, 19, 4, cfg) == 2_900_000_000_000_000
    assert compute_bounty(BASE, 20, 4, cfg) == 3 * 10**15
    assert compute_bounty(BASE, 10**9, 0, cfg) == 3 * 10**15


def test_aggregation_jobs_have_their_own_base():
    assert compute_base_bounty("op", CFG) == 10**15
    assert compute_base_bounty("aggregate", CFG) == 2 * 10**15
    assert compute_bounty(compute_base_bounty("aggregate", CFG), 10, 4, CFG) == 4 * 10**15


@pytest.mark.parametrize(
    ("base", "waited", "active", "message"),
    [
        (-1, 0, 4, "base bounty must not be negative, got -1"),
        (BASE, -1, 4, "waited_blocks must not be negative, got -1"),
        (BASE, 0, -1, "active_provers must not be negative, got -1"),
    ],
)
def test_rejects_negative_inputs(base, waited, active, message):
    with pytest.raises(ValueError, match=message):
        compute_bounty(base, waited, active, CFG)
