"""Dev-mode ordering: one process decides when each chain's next block is made.

The fast chain makes a block as soon as transactions wait, after a short batching window;
the ZK chain makes one every interval, on a fixed schedule that does not drift. A block
that fails to commit (a full disk, say) is not lost work: nothing was written, the pool
still holds its transactions, and production retries after a pause.
"""

import asyncio
import logging
import time

from chain.node import Node

log = logging.getLogger("duet.sequencer")
RETRY_AFTER_ERROR_S = 0.5


class DevSequencer:
    def __init__(self, node: Node, block_window_ms: float, zk_interval_s: float) -> None:
        self.node = node
        self.window_s = block_window_ms / 1000
        self.zk_interval_s = zk_interval_s
        self._wake = asyncio.Event()
        node.submit_listeners.append(self._wake.set)

    async def run(self) -> None:
        await asyncio.gather(self._fast_loop(), self._zk_loop())

    async def _fast_loop(self) -> None:
        self._wake.set()  # transactions reloaded from disk at start-up wait too
        while True:
            await self._wake.wait()
            self._wake.clear()
            await asyncio.sleep(self.window_s)
            while True:
                try:
                    block = self.node.produce_fast_block()
                except Exception:
                    log.exception("fast block production failed; retrying")
                    await asyncio.sleep(RETRY_AFTER_ERROR_S)
                    self._wake.set()
                    break
                if block is None:
                    break
                log.debug("fast block %d: %d txs", block.height, len(block.tx_hashes))
                await asyncio.sleep(0)  # let requests in before the next batch

    async def _zk_loop(self) -> None:
        next_at = time.monotonic() + self.zk_interval_s
        while True:
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))
            next_at += self.zk_interval_s
            if next_at < time.monotonic():  # fell behind (a long block): skip, do not burst
                next_at = time.monotonic() + self.zk_interval_s
            try:
                self.node.produce_zk_block()
            except Exception:
                log.exception("ZK block production failed; retrying next interval")
