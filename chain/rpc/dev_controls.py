"""A dev node's block and time controls, as anvil and Hardhat serve them: `evm_mine` makes a
fast block now (with what the pool holds, or empty), `anvil_mine` / `hardhat_mine` make
several; `evm_increaseTime` moves the sequencer's clock ahead and `evm_setNextBlockTimestamp`
gives the next block an exact time (chain/node/clock.py); `evm_snapshot` and `evm_revert`
take everything back to a moment (chain/node/snapshots.py: both chains and the node's own
L1 together). Tests that wait for a block, need the chain to move without a transaction,
need time to pass (a round's end, an unbonding period) or start each case from one state
use them.

Only a dev node takes them; a node whose blocks come from CometBFT refuses, saying so. The
clock is both chains' (the braided ledger orders them by it), so moving it moves the ZK
chain's time too, and a dev node moves its managed anvil's with it, so the rollup keeps
taking its blocks (docs/rpc.md, "as anvil / differs").
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from chain.ledger.blocks import LedgerBlock
from chain.node.clock import TimeRefused
from chain.node.snapshots import SnapshotRefused
from chain.rpc.errors import RpcError, invalid_params
from chain.rpc.params import expect_params, parse_number, parse_quantity

Handler = Callable[[list[Any]], Any]
Mine = Callable[[], LedgerBlock]
MAX_MINED_AT_ONCE = 1000  # a caller's count: each block costs a commit
MAX_SECONDS = 2**40  # about 35,000 years: past it, a caller's number is a mistake
NOT_A_DEV_NODE = -32601  # as a method the node does not serve
SNAPSHOT_REFUSED = -32000  # a server error: nothing was taken, nothing taken back


class DevClock(Protocol):
    def increase_time(self, seconds: int) -> int: ...

    def set_next_timestamp(self, timestamp_s: int) -> None: ...


class Snapshots(Protocol):
    def take(self) -> int: ...

    def revert(self, snapshot_id: int) -> bool: ...


class DevControlsApi:
    def __init__(
        self,
        mine: Mine | None = None,
        clock: DevClock | None = None,
        snapshots: Snapshots | None = None,
    ) -> None:
        """`mine` and `clock`: the dev sequencer's, `snapshots` the dev node's (set once it
        runs); None on a node that takes none of them."""
        self.mine = mine
        self.clock = clock
        self.snapshots = snapshots
        self.methods: dict[str, Handler] = {
            "evm_snapshot": self.snapshot,
            "anvil_snapshot": self.snapshot,
            "evm_revert": self.revert,
            "anvil_revert": self.revert,
            "evm_mine": self.evm_mine,
            "anvil_mine": self.anvil_mine,
            "hardhat_mine": self.anvil_mine,
            "evm_increaseTime": self.increase_time,
            "anvil_increaseTime": self.increase_time,
            "evm_setNextBlockTimestamp": self.set_next_timestamp,
            "anvil_setNextBlockTimestamp": self.set_next_timestamp,
        }

    def _refuse(self, method: str) -> RpcError:
        return RpcError(
            NOT_A_DEV_NODE,
            f"{method}: only a dev node (duet node --dev) takes it; this node's blocks and "
            "their time come from its consensus",
        )

    def _mine(self, method: str, count: int, interval_s: int = 0) -> None:
        if self.mine is None:
            raise self._refuse(method)
        for i in range(count):
            block = self.mine()
            if interval_s and i + 1 < count:  # the next one exactly `interval_s` later
                self._set_next(method, block.timestamp + interval_s)

    def _clock(self, method: str) -> DevClock:
        if self.clock is None:
            raise self._refuse(method)
        return self.clock

    def evm_mine(self, params: Any) -> Any:
        """One block; returns "0x0" as anvil does. Params: none, null, a timestamp, or
        {"timestamp": t, "blocks": n}: the first block at t."""
        (options,) = expect_params(params, 0, 1)
        count, timestamp = 1, None
        if isinstance(options, dict):
            blocks = options.get("blocks")
            count = 1 if blocks is None else self._count(blocks)
            timestamp = options.get("timestamp")
        elif options is not None:
            timestamp = options
        if timestamp is not None:
            self._set_next("evm_mine", self._seconds(timestamp, "timestamp"))
        self._mine("evm_mine", count)
        return "0x0"

    def anvil_mine(self, params: Any) -> Any:
        """`count` blocks (default 1), each `interval` seconds after the one before
        (default: the clock's own pace); returns null."""
        count, interval = expect_params(params, 0, 2)
        step = 0 if interval is None else self._seconds(interval, "interval")
        self._mine("anvil_mine", 1 if count is None else self._count(count), step)
        return None

    def _snapshots(self, method: str) -> Snapshots:
        if self.snapshots is None:
            raise self._refuse(method)
        return self.snapshots

    def snapshot(self, params: Any) -> Any:
        """A snapshot of both chains (and the node's own L1) as they are now; returns its
        id as a quantity, as anvil does (chain/node/snapshots.py)."""
        expect_params(params, 0, 0)
        snapshots = self._snapshots("evm_snapshot")
        try:
            return hex(snapshots.take())
        except SnapshotRefused as exc:
            raise RpcError(SNAPSHOT_REFUSED, f"evm_snapshot: {exc}") from None

    def revert(self, params: Any) -> Any:
        """Back to snapshot `id`: true, that snapshot and later ones gone; false for an id
        not held (never given, used up, or taken after one reverted to), as anvil answers."""
        (snapshot_id,) = expect_params(params, 1, 1)
        snapshots = self._snapshots("evm_revert")
        try:
            return snapshots.revert(parse_quantity(snapshot_id, "snapshot id"))
        except SnapshotRefused as exc:
            raise RpcError(SNAPSHOT_REFUSED, f"evm_revert: {exc}") from None

    def increase_time(self, params: Any) -> Any:
        """The clock `seconds` ahead; returns how far ahead of the wall clock it runs, in
        seconds (a number, as anvil answers)."""
        (seconds,) = expect_params(params, 1, 1)
        clock = self._clock("evm_increaseTime")
        try:
            return clock.increase_time(self._seconds(seconds, "seconds"))
        except TimeRefused as exc:
            raise invalid_params(str(exc)) from None

    def set_next_timestamp(self, params: Any) -> Any:
        (timestamp,) = expect_params(params, 1, 1)
        self._set_next("evm_setNextBlockTimestamp", self._seconds(timestamp, "timestamp"))
        return None

    def _set_next(self, method: str, timestamp_s: int) -> None:
        try:
            self._clock(method).set_next_timestamp(timestamp_s)
        except TimeRefused as exc:
            raise invalid_params(str(exc)) from None

    @staticmethod
    def _seconds(value: Any, what: str) -> int:
        """A number of seconds as anvil takes it: a JSON number or a quantity."""
        number = parse_number(value, what)
        if not 0 <= number <= MAX_SECONDS:
            raise invalid_params(f"{what} must be a number of seconds from 0, not {number}")
        return number

    @staticmethod
    def _count(value: Any) -> int:
        count = parse_number(value, "blocks")
        if not 1 <= count <= MAX_MINED_AT_ONCE:
            raise invalid_params(f"blocks must be 1 to {MAX_MINED_AT_ONCE}, not {count}")
        return count
