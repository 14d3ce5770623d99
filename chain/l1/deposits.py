"""The node's reader of L1 deposits: it follows the rollup's deposit queue and hands each
deposit, in order and once deep enough (DEPOSIT_CONFIRMATIONS blocks, seen for at least
DEPOSIT_SEEN_S), to the node, whose next ZK block credits it (`Node.add_l1_deposits`). The
rollup checks at settlement that the ZK chain credited exactly its queue, in order
(docs/l1.md, "Deposits").

Runs on the node's event loop; the L1 reads (web3.py, blocking) go to a thread. Nothing is
stored: after a restart, the node asks again from the first deposit it has not credited.
"""

import asyncio
import logging
import time
from collections.abc import Callable, Sequence

from web3.exceptions import Web3Exception

from chain.l1.config import (
    AGENT_RETRY_S,
    DEPOSIT_CONFIRMATIONS,
    DEPOSIT_POLL_S,
    DEPOSIT_SEEN_S,
    DEPOSITS_PER_READ,
)
from chain.l1.errors import L1Error
from chain.l1.rollup import RollupClient
from chain.zk.ops import Deposit

log = logging.getLogger("duet.l1")


def list_confirmed_deposits(
    rollup: RollupClient, first: int, confirmations: int, limit: int
) -> list[Deposit]:
    """The rollup's deposits from number `first` on, as far as they are `confirmations`
    blocks deep (at most `limit`), all read at one L1 block."""
    block = rollup.w3.eth.block_number
    deposits: list[Deposit] = []
    for record in rollup.list_deposits(first, first + limit, block):
        if record.l1_block + confirmations > block:
            break
        deposits.append(Deposit(record.index, int(record.to, 16), record.amount))
    return deposits


class DepositReader:
    def __init__(
        self,
        rollup: RollupClient,
        next_index: Callable[[], int],
        add: Callable[[Sequence[Deposit]], None],
        confirmations: int = DEPOSIT_CONFIRMATIONS,
        seen_s: float = DEPOSIT_SEEN_S,
        poll_s: float = DEPOSIT_POLL_S,
    ) -> None:
        self.rollup = rollup
        self.next_index = next_index
        self.add = add
        self.confirmations = confirmations
        self.seen_s = seen_s
        self.poll_s = poll_s
        self.first_seen: dict[int, float] = {}  # deposit number → when this reader saw it
        self._complaint = ""

    async def run(self) -> None:
        while True:
            first = self.next_index()
            try:
                deposits = await asyncio.to_thread(
                    list_confirmed_deposits,
                    self.rollup,
                    first,
                    self.confirmations,
                    DEPOSITS_PER_READ,
                )
            except (OSError, Web3Exception, L1Error, ValueError) as exc:
                self.complain(f"cannot read the rollup's deposits: {exc}")
                await asyncio.sleep(AGENT_RETRY_S)
                continue
            self._complaint = ""
            deposits = self.take_seen_long_enough(deposits)
            if deposits:
                log.info("read L1 deposits %d to %d", deposits[0].index, deposits[-1].index)
                self.add(deposits)
            if len(deposits) < DEPOSITS_PER_READ:
                await asyncio.sleep(self.poll_s)

    def take_seen_long_enough(self, deposits: list[Deposit]) -> list[Deposit]:
        """The leading deposits that this reader first saw at least seen_s ago."""
        now = time.monotonic()
        for deposit in deposits:
            self.first_seen.setdefault(deposit.index, now)
        taken: list[Deposit] = []
        for deposit in deposits:
            if now - self.first_seen[deposit.index] < self.seen_s:
                break
            taken.append(deposit)
        for deposit in taken:
            del self.first_seen[deposit.index]
        return taken

    def complain(self, message: str) -> None:
        """Log a trouble when it begins, not at every look."""
        if message != self._complaint:
            self._complaint = message
            log.warning("%s", message)
