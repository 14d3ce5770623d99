"""The node's reader of the rollup's forced queue (docs/l1.md, "Forced withdrawals and the
escape hatch"): each Withdraw queued with `forceWithdraw`, in queue order, once its L1 block is
`confirmations` deep, handed to the node, whose next ZK block takes it first (executed, or
recorded as refused with a proof that it is invalid).
"""

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from web3.exceptions import Web3Exception

from chain.l1.config import AGENT_RETRY_S, DEPOSIT_CONFIRMATIONS, DEPOSIT_POLL_S
from chain.l1.errors import L1Error
from chain.l1.rollup import RollupClient

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class QueuedWithdrawal:
    """Queued Withdraw `index`: its three words (the withdraw circuit's) and signature."""

    index: int
    words: tuple[int, int, int]
    signature: bytes


def list_confirmed_forced(
    rollup: RollupClient, first: int, confirmations: int
) -> list[QueuedWithdrawal]:
    """The queued Withdraws from number `first` on whose blocks are `confirmations` deep, in
    order and without a gap."""
    latest = rollup.w3.eth.block_number - confirmations
    if latest < 0 or rollup.get_forced_count(latest) <= first:
        return []  # nothing new queued: no log scan (it reads from the deployment on)
    start = rollup.get_schedule_start()  # the deployment's block: nothing is queued before
    events = rollup.contract.events.WithdrawalForced().get_logs(from_block=start, to_block=latest)
    by_index = {int(e["args"]["index"]): e["args"] for e in events}
    queued = []
    index = first
    while index in by_index:
        args = by_index[index]
        words = (int(args["w1"]), int(args["w2"]), int(args["w3"]))
        queued.append(QueuedWithdrawal(index, words, bytes(args["signature"])))
        index += 1
    return queued


async def read_forced(
    rollup: RollupClient,
    next_index: Callable[[], int],
    add: Callable[[Sequence[QueuedWithdrawal]], None],
    confirmations: int = DEPOSIT_CONFIRMATIONS,
    poll_s: float = DEPOSIT_POLL_S,
) -> None:
    """Hand the queue to the node as it grows (runs until cancelled)."""
    complaint = ""
    while True:
        try:
            queued = await asyncio.to_thread(
                list_confirmed_forced, rollup, next_index(), confirmations
            )
        except (OSError, Web3Exception, L1Error, ValueError) as exc:
            if str(exc) != complaint:
                log.warning("cannot read the rollup's forced queue: %s", exc)
                complaint = str(exc)
            await asyncio.sleep(AGENT_RETRY_S)
            continue
        complaint = ""
        if queued:
            log.info("read queued L1 Withdraws %d to %d", queued[0].index, queued[-1].index)
            add(queued)
        await asyncio.sleep(poll_s)
