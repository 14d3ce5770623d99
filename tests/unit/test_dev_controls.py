"""The dev node's block and time controls (chain/rpc/dev_controls.py) on their own: each
method mines as many blocks as asked and moves the clock as asked, what is out of range is
refused with why, and a node without a sequencer to ask (a CometBFT node) refuses every
one. Mining and time run against a real dev node and anvil in
tests/integration/test_anvil_parity.py, and with a real L1 in test_dev_time.py."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from chain.ledger.blocks import LedgerBlock
from chain.node.clock import SequencerClock, TimeRefused
from chain.node.snapshots import SnapshotRefused
from chain.rpc.dev_controls import (
    MAX_MINED_AT_ONCE,
    NOT_A_DEV_NODE,
    SNAPSHOT_REFUSED,
    DevControlsApi,
)
from chain.rpc.errors import RpcError

T0 = 1_900_000_000


@dataclass
class Block:
    timestamp: int


@dataclass
class FakeSequencer:
    """Mines blocks at its clock's time, moves it as the dev sequencer does."""

    clock: SequencerClock = field(default_factory=lambda: SequencerClock(pinned_ms=T0 * 1000))
    mined: list[int] = field(default_factory=list)
    l1_moved: int = 0

    def __call__(self) -> LedgerBlock:
        last = self.mined[-1] if self.mined else 0
        self.mined.append(max(self.clock.now_ms() // 1000, last))
        self.clock.on_block()
        self.clock.pinned_ms = (self.mined[-1] + 1) * 1000  # a tick later, in this fake
        return Block(self.mined[-1])  # type: ignore[return-value]

    def increase_time(self, seconds: int) -> int:
        self.l1_moved += seconds
        self.clock.advance(seconds)
        return self.clock.offset_ms // 1000

    def set_next_timestamp(self, timestamp_s: int) -> None:
        if self.mined and timestamp_s < self.mined[-1]:
            raise TimeRefused(f"Timestamp error: {timestamp_s} is lower than previous block's")
        self.clock.pinned_ms = timestamp_s * 1000


def make_api() -> tuple[DevControlsApi, FakeSequencer]:
    sequencer = FakeSequencer()
    return DevControlsApi(sequencer, sequencer), sequencer


@pytest.mark.parametrize(
    ("method", "params", "answer", "mined"),
    [
        ("evm_mine", [], "0x0", 1),
        ("evm_mine", None, "0x0", 1),
        ("evm_mine", [None], "0x0", 1),
        ("evm_mine", [{"blocks": 3}], "0x0", 3),
        ("anvil_mine", [], None, 1),
        ("anvil_mine", ["0x5"], None, 5),
        ("anvil_mine", ["0x2", "0x0"], None, 2),
        ("hardhat_mine", ["0x4"], None, 4),
    ],
)
def test_mines_as_many_blocks_as_asked(method: str, params: Any, answer: Any, mined: int) -> None:
    api, sequencer = make_api()
    assert api.methods[method](params) == answer
    assert len(sequencer.mined) == mined


def test_a_mined_block_takes_the_timestamp_asked_for() -> None:
    api, sequencer = make_api()
    api.methods["evm_mine"]([T0 + 500])
    api.methods["evm_mine"]([{"timestamp": hex(T0 + 900), "blocks": 2}])
    assert sequencer.mined == [T0 + 500, T0 + 900, T0 + 901]


def test_blocks_mined_with_an_interval_are_exactly_that_far_apart() -> None:
    api, sequencer = make_api()
    api.methods["anvil_mine"](["0x3", 60])
    assert sequencer.mined == [T0, T0 + 60, T0 + 120]


def test_time_moves_ahead_and_says_how_far() -> None:
    api, sequencer = make_api()
    assert api.methods["evm_increaseTime"]([3600]) == 3600
    assert api.methods["anvil_increaseTime"](["0x10"]) == 3616
    assert sequencer.l1_moved == 3616
    assert api.methods["evm_setNextBlockTimestamp"]([T0 + 7200]) is None
    api.methods["evm_mine"]([])
    assert sequencer.mined == [T0 + 7200]


@pytest.mark.parametrize(
    ("method", "params", "reason"),
    [
        ("anvil_mine", [hex(MAX_MINED_AT_ONCE + 1)], f"blocks must be 1 to {MAX_MINED_AT_ONCE}"),
        ("anvil_mine", ["0x0"], "blocks must be 1"),
        ("anvil_mine", ["ten"], "0x-prefixed hex quantity"),
        ("evm_mine", [{"blocks": True}], "0x-prefixed hex quantity"),
        ("evm_mine", [None, None], "expected 0 to 1 parameters"),
        ("evm_mine", ["soon"], "0x-prefixed hex quantity"),
        ("evm_increaseTime", [-10], "a number of seconds from 0"),
        ("evm_increaseTime", [2**64], "a number of seconds from 0"),
        ("evm_increaseTime", [], "expected 1 parameters"),
        ("evm_setNextBlockTimestamp", [True], "0x-prefixed hex quantity"),
    ],
)
def test_refuses_what_it_cannot_do(method: str, params: Any, reason: str) -> None:
    api, sequencer = make_api()
    with pytest.raises(RpcError, match=reason):
        api.methods[method](params)
    assert sequencer.mined == [] and sequencer.l1_moved == 0


def test_the_clock_does_not_go_back_past_the_last_block() -> None:
    api, _ = make_api()
    api.methods["evm_mine"]([T0 + 100])
    with pytest.raises(RpcError, match="lower than previous block") as refused:
        api.methods["evm_setNextBlockTimestamp"]([T0 + 99])
    assert refused.value.code == -32602


@pytest.mark.parametrize(
    "method",
    [
        "evm_mine",
        "anvil_mine",
        "hardhat_mine",
        "evm_increaseTime",
        "anvil_increaseTime",
        "evm_setNextBlockTimestamp",
        "anvil_setNextBlockTimestamp",
        "evm_snapshot",
        "anvil_snapshot",
        "evm_revert",
        "anvil_revert",
    ],
)
def test_a_node_without_a_dev_sequencer_refuses(method: str) -> None:
    params = [] if method.endswith(("mine", "snapshot")) else [T0]
    with pytest.raises(RpcError, match=r"only a dev node .* takes it") as refused:
        DevControlsApi().methods[method](params)
    assert refused.value.code == NOT_A_DEV_NODE


@dataclass
class FakeSnapshots:
    """Holds ids as the dev node's snapshots do: a revert uses up that id and later ones."""

    held: list[int] = field(default_factory=list)
    refusal: str | None = None

    def take(self) -> int:
        if self.refusal:
            raise SnapshotRefused(self.refusal)
        self.held.append(self.held[-1] + 1 if self.held else 0)
        return self.held[-1]

    def revert(self, snapshot_id: int) -> bool:
        if snapshot_id not in self.held:
            return False
        self.held = [i for i in self.held if i < snapshot_id]
        return True


def test_snapshot_ids_are_quantities_and_a_revert_answers_whether_it_took_place() -> None:
    snapshots = FakeSnapshots()
    api = DevControlsApi(snapshots=snapshots)
    assert api.methods["evm_snapshot"]([]) == "0x0"
    assert api.methods["anvil_snapshot"]([]) == "0x1"
    assert api.methods["evm_revert"](["0x0"]) is True
    assert api.methods["anvil_revert"](["0x1"]) is False
    with pytest.raises(RpcError, match="0x-prefixed hex quantity"):
        api.methods["evm_revert"]([0])
    with pytest.raises(RpcError, match="expected 0 parameters"):
        api.methods["evm_snapshot"](["0x0"])


def test_a_snapshot_the_node_cannot_take_is_refused_with_why() -> None:
    api = DevControlsApi(snapshots=FakeSnapshots(refusal="an L1 it does not run"))
    with pytest.raises(RpcError, match="evm_snapshot: an L1 it does not run") as refused:
        api.methods["evm_snapshot"]([])
    assert refused.value.code == SNAPSHOT_REFUSED
