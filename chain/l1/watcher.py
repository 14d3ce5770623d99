"""The node's view of L1: it reads the rollup's settled height and root, so that operation
statuses reach `settled` from what L1 itself says, whoever submitted the block.

Runs on the node's event loop; the L1 reads (web3.py, blocking) go to a thread. The node
marks operations settled only if L1's settled root is its own ZK chain's root at that height
(`Node.record_l1_settlement`), so a rollup of another chain, or an agent's claim, cannot make
an operation look settled.
"""

import asyncio
import logging
from collections.abc import Callable

from web3.exceptions import Web3Exception

from chain.l1.calldata import StateRoot
from chain.l1.config import AGENT_RETRY_S, SETTLED_POLL_S
from chain.l1.errors import L1Error
from chain.l1.rollup import RollupClient
from chain.types import Height

log = logging.getLogger("duet.l1")

RecordSettlement = Callable[[Height, StateRoot], bool]


class SettlementWatcher:
    def __init__(
        self, rollup: RollupClient, record: RecordSettlement, poll_s: float = SETTLED_POLL_S
    ) -> None:
        self.rollup = rollup
        self.record = record
        self.poll_s = poll_s
        self.recorded: tuple[Height, StateRoot] | None = None
        self._complaint = ""

    async def run(self) -> None:
        while True:
            try:
                state = await asyncio.to_thread(self.rollup.get_settled_state)
            except (OSError, Web3Exception, L1Error, ValueError) as exc:
                self.complain(logging.WARNING, f"cannot read the rollup: {exc}")
                await asyncio.sleep(AGENT_RETRY_S)
                continue
            settled = (state.height, state.root)
            if settled != self.recorded:
                if self.record(*settled):
                    self.recorded = settled
                    self._complaint = ""
                else:
                    self.complain(
                        logging.ERROR,
                        f"L1 settled ZK block {state.height} at root {state.root:#x}, which is "
                        "not this chain's root at that height",
                    )
            await asyncio.sleep(self.poll_s)

    def complain(self, level: int, message: str) -> None:
        """Log a trouble when it begins, not at every look."""
        if message != self._complaint:
            self._complaint = message
            log.log(level, "%s", message)
