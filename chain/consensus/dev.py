"""Dev-mode ordering: one process decides when each chain's next block is made.

The fast chain makes a block as soon as transactions wait. A block made less than a batching
window after the previous one waits out the rest of that window, so a busy chain batches
(fewer, fuller blocks) while a quiet one answers a lone move at once (Nagle's rule with a
timer: the latency of a move at a game's pace is the block's own cost, not the window's);
the ZK chain makes one every interval, on a fixed schedule that does not drift.

A fast block goes to the `soft_listeners` as soon as it is made, before it is stored: the
soft confirmation of the `softLogs` subscription, as in the decentralized mode (there, once
the proposal holding it is accepted). A block that then fails to commit (a full disk, say)
goes to them again as removed, and is not lost work: nothing was written, the pool still
holds its transactions, and production retries after a pause.
"""

import asyncio
import logging
import math
import time
from collections.abc import Callable, Sequence

from chain.fast.chain import FastBlock
from chain.jsonrpc import RpcClient
from chain.ledger.blocks import LedgerBlock
from chain.ledger.messages import DevWrite
from chain.ledger.store import is_storage_full
from chain.node import Node
from chain.node.clock import TimeRefused
from chain.node.ledger import CLOCK_META

log = logging.getLogger("duet.sequencer")
RETRY_AFTER_ERROR_S = 0.5


def compute_batch_wait(last_block_at: float, now: float, window_s: float) -> float:
    """How long waiting transactions wait for company: the rest of the window that the last
    block opened, nothing once it has passed."""
    return max(0.0, last_block_at + window_s - now)


# Moves the L1's clock `seconds` ahead with the sequencer's: a dev node's managed anvil, so
# that the rollup, which refuses a block from more than a few minutes in its future, keeps
# taking them (contracts/l1/Rollup.sol, MAX_TIMESTAMP_DRIFT_S).
L1Clock = Callable[[int], None]


def make_l1_clock(l1_http: str | None, managed: bool) -> L1Clock:
    """What moving time does to the L1: nothing without one; on this node's own anvil,
    `evm_increaseTime`; on another L1, a refusal (its clock is not this node's to move)."""

    def advance(seconds: int) -> None:
        if l1_http is None or seconds <= 0:
            return
        if not managed:
            raise TimeRefused(
                f"this node settles on {l1_http}, an L1 it does not run: moving its clock "
                "ahead of that L1's would make the rollup refuse its blocks"
            )
        RpcClient(l1_http).call("evm_increaseTime", [seconds])

    return advance


def align_l1_clock(l1_http: str, now_ms: int) -> int:
    """A managed anvil started again runs on the wall clock: if the sequencer's clock was
    moved ahead before the restart, move the anvil's as far (its time now read from a block
    mined for the purpose). Returns the seconds it moved."""
    client = RpcClient(l1_http)
    client.call("evm_mine", [])
    l1_now = int(client.call("eth_getBlockByNumber", ["latest", False])["timestamp"], 16)
    ahead = now_ms // 1000 - l1_now
    if ahead > 0:
        client.call("evm_increaseTime", [ahead])
    return max(ahead, 0)


def log_production_error(chain: str, exc: Exception) -> None:
    """A block that could not be made is tried again; a full disk is said in one line (it
    passes once there is room: nothing was written), anything else with its traceback."""
    if is_storage_full(exc):
        log.warning("the %s block waits: the disk is full (%s)", chain, exc)
    else:
        log.error("%s block production failed; retrying", chain, exc_info=exc)


class DevSequencer:
    def __init__(
        self,
        node: Node,
        block_window_ms: float,
        zk_interval_s: float,
        l1_clock: L1Clock | None = None,
    ) -> None:
        """`l1_clock`: what moving time does to the L1 (make_l1_clock); None: no L1."""
        self.node = node
        self.l1_clock = l1_clock or make_l1_clock(None, False)
        self.window_s = block_window_ms / 1000
        self.zk_interval_s = zk_interval_s
        self._wake = asyncio.Event()
        # Each fast block, once made and before it is stored (the `softLogs` subscription,
        # chain/rpc/subscriptions.py), and again as removed if storing it fails.
        self.soft_listeners: list[Callable[[FastBlock, bool], None]] = []
        node.submit_listeners.append(self._wake.set)

    async def run(self) -> None:
        await asyncio.gather(self._fast_loop(), self._zk_loop())

    async def _fast_loop(self) -> None:
        self._wake.set()  # transactions reloaded from disk at start-up wait too
        last_block_at = -math.inf
        while True:
            await self._wake.wait()
            self._wake.clear()
            await asyncio.sleep(compute_batch_wait(last_block_at, time.monotonic(), self.window_s))
            while True:
                try:
                    block = self._produce_fast_block()
                except Exception as exc:
                    log_production_error("fast", exc)
                    await asyncio.sleep(RETRY_AFTER_ERROR_S)
                    self._wake.set()
                    break
                if block is None:
                    break
                last_block_at = time.monotonic()
                log.debug("fast block %d: %d txs", block.height, len(block.tx_hashes))
                await asyncio.sleep(0)  # let requests in before the next batch

    def _produce_fast_block(self) -> LedgerBlock | None:
        """Make the next fast block, show it soft, store it; a block that fails to store is
        shown again as removed."""
        fast = self.node.make_next_fast_block()
        if fast is None:
            return None
        return self._store(fast)

    def _store(self, fast: FastBlock) -> LedgerBlock:
        self._tell_soft(fast, False)
        try:
            self.node.commit_fast_block(fast)
        except BaseException:
            self._tell_soft(fast, True)
            raise
        return fast.block

    def mine(self) -> LedgerBlock:
        """A fast block now, on request (`evm_mine`): what the pool holds, or nothing; it is
        shown soft and stored like every other."""
        node = self.node
        return self._store(
            node.make_next_fast_block() or node.make_fast_block([], node.clock.now_ms())
        )

    def write_accounts(self, writes: Sequence[DevWrite]) -> LedgerBlock:
        """A fast block now carrying `writes` (anvil_setBalance and the like), shown soft and
        stored like every other."""
        return self._store(self.node.make_dev_write_block(writes))

    def increase_time(self, seconds: int) -> int:
        """The clock `seconds` ahead (a managed L1's with it), as anvil's evm_increaseTime;
        returns how far ahead of the wall clock it now runs, in seconds."""
        self.l1_clock(seconds)
        self.node.clock.advance(seconds)
        self._keep_clock()
        return self.node.clock.offset_ms // 1000

    def set_next_timestamp(self, timestamp_s: int) -> None:
        """The next block, of either chain, at `timestamp_s` exactly, the clock running on
        from there, as anvil's evm_setNextBlockTimestamp."""
        last = self.node.query.log_head.timestamp_ms
        if timestamp_s * 1000 < last:
            raise TimeRefused(
                f"Timestamp error: {timestamp_s} is lower than previous block's timestamp"
            )
        ahead_ms = timestamp_s * 1000 - self.node.clock.now_ms()
        self.l1_clock(math.ceil(ahead_ms / 1000))
        self.node.clock.set_next(timestamp_s * 1000)
        self._keep_clock()

    def _keep_clock(self) -> None:
        self.node.store.set_meta(CLOCK_META, str(self.node.clock.offset_ms))

    def _tell_soft(self, fast: FastBlock, removed: bool) -> None:
        for listener in list(self.soft_listeners):
            listener(fast, removed)

    async def _zk_loop(self) -> None:
        next_at = time.monotonic() + self.zk_interval_s
        while True:
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))
            next_at += self.zk_interval_s
            if next_at < time.monotonic():  # fell behind (a long block): skip, do not burst
                next_at = time.monotonic() + self.zk_interval_s
            try:
                self.node.produce_zk_block()
            except Exception as exc:
                log_production_error("ZK", exc)
