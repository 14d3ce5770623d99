"""The sequencer's clock (chain/node/clock.py): the wall clock plus an offset that only
grows by `advance`, and a pin that gives the next block an exact time."""

from __future__ import annotations

import time

import pytest

from chain.consensus.dev import make_l1_clock
from chain.node.clock import SequencerClock, TimeRefused, wall_ms


def test_it_runs_with_the_wall_clock_plus_its_offset() -> None:
    clock = SequencerClock(offset_ms=5_000)
    before = wall_ms()
    assert before + 5_000 <= clock.now_ms() <= wall_ms() + 5_000


def test_advance_moves_it_and_a_pinned_time_ahead() -> None:
    clock = SequencerClock()
    clock.set_next(wall_ms() + 60_000)
    pinned = clock.now_ms()
    clock.advance(10)
    assert clock.now_ms() == pinned + 10_000
    with pytest.raises(ValueError, match="does not go back"):
        clock.advance(-1)


def test_a_pin_holds_until_a_block_takes_it_then_the_clock_runs_on_from_it() -> None:
    clock = SequencerClock()
    target = wall_ms() + 3_600_000
    clock.set_next(target)
    assert clock.now_ms() == target == clock.now_ms()
    clock.on_block()
    time.sleep(0.02)
    assert target < clock.now_ms() <= target + 1_000  # running again, from the pinned time


def test_time_is_not_moved_ahead_of_an_l1_the_node_does_not_run() -> None:
    """Its rollup would refuse blocks from its future: the node refuses to move, by name."""
    advance = make_l1_clock("http://l1.example:8545/", managed=False)
    with pytest.raises(TimeRefused, match="an L1 it does not run"):
        advance(60)
    advance(0)  # nothing to move: nothing asked of it
    make_l1_clock(None, managed=False)(60)  # no L1 at all: nothing to keep in step
