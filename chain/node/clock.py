"""The sequencer's clock: every block's timestamp in both chains (the braided ledger orders
them by it). In dev mode it can be moved forward, as anvil's `evm_increaseTime` and
`evm_setNextBlockTimestamp` move anvil's: an offset added to the wall clock, kept in the
store so a restart keeps it, and a pin that gives the next block an exact time. It never
goes back: a block's timestamp is never below its predecessor's either way.
"""

import time
from dataclasses import dataclass


class TimeRefused(Exception):
    """The clock cannot move as asked (back before the last block, or ahead of an L1 the
    node does not run)."""


def wall_ms() -> int:
    return int(time.time() * 1000)


@dataclass
class SequencerClock:
    offset_ms: int = 0  # how far ahead of the wall clock it runs
    pinned_ms: int | None = None  # the next block's time, set by set_next

    def now_ms(self) -> int:
        if self.pinned_ms is not None:
            return self.pinned_ms
        return wall_ms() + self.offset_ms

    def advance(self, seconds: int) -> None:
        if seconds < 0:
            raise ValueError(f"the clock does not go back ({seconds} s)")
        self.offset_ms += seconds * 1000
        if self.pinned_ms is not None:
            self.pinned_ms += seconds * 1000

    def set_next(self, timestamp_ms: int) -> None:
        """The next block's time is `timestamp_ms`, and the clock runs on from there."""
        self.offset_ms = timestamp_ms - wall_ms()
        self.pinned_ms = timestamp_ms

    def on_block(self) -> None:
        """A block took the pinned time: from now on, the wall clock plus the offset."""
        self.pinned_ms = None
