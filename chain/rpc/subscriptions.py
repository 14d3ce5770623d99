"""eth_subscribe over WebSocket: newHeads and logs for the endpoint's chain, ledger for both,
and on the ZK endpoint `proverJobs` (a prover's jobs, pushed each ZK block).

`softLogs` (same filter as `logs`) is the fast chain's soft confirmation: the logs of a fast
block before it is stored. In dev mode, as soon as the sequencer has made it; in the
decentralized mode, as soon as this node accepted a proposal that holds it, before the height
commits. If the block is not stored after all (another block commits at that height, or the
disk refused it), its logs come again with `"removed": true`. A block committed without
having been shown soft (a node that saw no proposal, a dev node's fast block made with a ZK
block) is sent at commit. Either way each committed log comes once; the soft block's hash is
the committed block's.

`pendingLogs` (same filter) is earlier still: when a transaction is admitted to the pool,
the logs it emits when simulated on the head state, with null block fields (`PendingLogs`,
from chain/rpc/fast_api.py). It is a forecast, not a confirmation: the transaction may revert
or emit other logs in its block (an earlier transaction changed the state it read), and
nothing is sent for one whose simulation fails. A client draws it and lets the block's own
logs (`logs`, `softLogs`) correct it. A filter that names addresses has only the
transactions sent to them simulated: a log that a watched contract emits when another
contract calls it comes at the block, not before.

Each connection has a bounded queue drained by its own writer; a client that cannot keep
up is disconnected rather than allowed to grow the node's memory.
"""

import asyncio
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from chain.fast.chain import FastBlock, compute_prev_randao
from chain.fast.txs import FastTx
from chain.ledger.blocks import LedgerBlock
from chain.rpc.duet_api import format_ledger_entry
from chain.rpc.errors import invalid_params
from chain.rpc.fast_api import LogFilter
from chain.rpc.format import format_block_header, format_block_logs
from chain.rpc.params import expect_params, parse_address, parse_object
from chain.types import ChainId

log = logging.getLogger("duet.rpc")
CONNECTION_QUEUE_LIMIT = 10_000
MAX_SUBSCRIPTIONS_PER_CONNECTION = 100
KINDS = ("newHeads", "logs", "softLogs", "pendingLogs", "ledger", "proverJobs")
LOG_KINDS = ("logs", "softLogs", "pendingLogs")  # each takes a logs filter
BLOCK_LOG_KINDS = ("logs", "softLogs")  # sent a block's logs (pendingLogs: forecasts only)
SOFT_SHOWN_LIMIT = 64  # soft blocks remembered until their height commits
# proverJobs(address) pushes, per ZK block, the prover's record and the jobs assigned to it
# in that block: (prover address, height) → the notification's result.
ProverJobsFormatter = Callable[[int, int], Any]
# An admitted transaction → its simulated logs, formatted (empty if its simulation failed).
PendingLogs = Callable[[FastTx], list[dict[str, Any]]]


@dataclass
class Subscription:
    kind: str
    log_filter: LogFilter | None = None
    prover: int | None = None


@dataclass(eq=False)  # one per socket, kept in a set by identity
class Connection:
    queue: asyncio.Queue[str | None]
    on_overflow: Callable[[], object]
    subscriptions: dict[str, Subscription] = field(default_factory=dict)

    def push(self, message: str) -> None:
        try:
            self.queue.put_nowait(message)
        except asyncio.QueueFull:
            self.on_overflow()


def notification(sub_id: str, result: Any) -> dict[str, Any]:
    return {
        "jsonrpc": "2.0",
        "method": "eth_subscription",
        "params": {"subscription": sub_id, "result": result},
    }


class SubscriptionHub:
    def __init__(
        self,
        chain_id: ChainId,
        fast_chain_id: ChainId,
        dumps: Callable[[Any], str],
        prover_jobs: ProverJobsFormatter | None = None,
        pending_logs: PendingLogs | None = None,
    ):
        self.chain_id = chain_id
        self.fast_chain_id = fast_chain_id
        self.prover_jobs = prover_jobs
        self.pending_logs = pending_logs
        self.connections: set[Connection] = set()
        self._dumps = dumps
        self._soft_shown: dict[bytes, None] = {}  # hashes of blocks sent as soft, in order

    def subscribe(self, conn: Connection, params: Any) -> str:
        kind, options = expect_params(params, 1, 2)
        if kind not in KINDS:
            raise invalid_params(f"unknown subscription {kind!r}; available: {', '.join(KINDS)}")
        if len(conn.subscriptions) >= MAX_SUBSCRIPTIONS_PER_CONNECTION:
            raise invalid_params(f"at most {MAX_SUBSCRIPTIONS_PER_CONNECTION} subscriptions")
        log_filter = None
        prover = None
        if kind in LOG_KINDS:
            log_filter = LogFilter.parse(
                parse_object({} if options is None else options, "logs filter")
            )
        if kind == "pendingLogs" and self.pending_logs is None:
            raise invalid_params("pendingLogs is served on the fast chain's endpoint")
        if kind == "proverJobs":
            if self.prover_jobs is None:
                raise invalid_params("proverJobs is served on the ZK chain's endpoint")
            prover = int.from_bytes(parse_address(options, "prover address"), "big")
        sub_id = "0x" + secrets.token_hex(16)
        conn.subscriptions[sub_id] = Subscription(kind, log_filter, prover)
        return sub_id

    def unsubscribe(self, conn: Connection, params: Any) -> bool:
        (sub_id,) = expect_params(params, 1, 1)
        return (
            conn.subscriptions.pop(sub_id, None) is not None if isinstance(sub_id, str) else False
        )

    def on_admitted(self, tx: FastTx) -> None:
        """A fast transaction entered the pool: its simulated logs to `pendingLogs`
        subscribers, if one of them watches its recipient (only then is it simulated)."""
        if self.pending_logs is None:
            return
        watching = [
            (conn, sub_id, sub.log_filter)
            for conn in self.connections
            for sub_id, sub in conn.subscriptions.items()
            if sub.kind == "pendingLogs"
            and sub.log_filter is not None
            and sub.log_filter.may_match(tx.to)
        ]
        if not watching:
            return
        try:
            logs = self.pending_logs(tx)
        except Exception:  # the transaction is admitted whatever its forecast does
            log.exception("simulating %s for pendingLogs failed", tx.hash.hex())
            return
        for conn, sub_id, log_filter in watching:
            for entry in logs:
                if log_filter.matches(entry):
                    conn.push(self._dumps(notification(sub_id, entry)))

    def on_soft_block(self, fast: FastBlock, removed: bool) -> None:
        """A fast block in a proposal this node accepted (`removed`: one that did not commit)."""
        if removed:
            self._soft_shown.pop(fast.block.hash, None)
        else:
            self._soft_shown[fast.block.hash] = None
            while len(self._soft_shown) > SOFT_SHOWN_LIMIT:
                del self._soft_shown[next(iter(self._soft_shown))]
        if self.chain_id != fast.block.chain_id:
            return
        logs = None
        for conn in list(self.connections):
            for sub_id, sub in conn.subscriptions.items():
                if sub.kind != "softLogs" or sub.log_filter is None:
                    continue
                if logs is None:
                    logs = self._format_logs(fast.block, fast)
                    if removed:
                        logs = [{**log, "removed": True} for log in logs]
                for log in logs:
                    if sub.log_filter.matches(log):
                        conn.push(self._dumps(notification(sub_id, log)))

    @staticmethod
    def _format_logs(block: LedgerBlock, fast: FastBlock) -> list[dict[str, Any]]:
        return format_block_logs(block, [o.tx for o in fast.result.outcomes], fast.receipts)

    def on_block(self, block: LedgerBlock, fast: FastBlock | None) -> None:
        """Called by the node after each block is durably appended."""
        was_soft = block.hash in self._soft_shown
        self._soft_shown.pop(block.hash, None)
        if not self.connections:
            return
        own_chain = block.chain_id == self.chain_id
        logs = None
        header = None
        entry = None
        for conn in list(self.connections):
            for sub_id, sub in conn.subscriptions.items():
                if sub.kind == "ledger":
                    entry = entry or format_ledger_entry(block, self.fast_chain_id)
                    conn.push(self._dumps(notification(sub_id, entry)))
                elif not own_chain:
                    continue
                elif sub.kind == "newHeads":
                    if header is None:
                        header = format_block_header(block, compute_prev_randao(block.prev_hash))
                    conn.push(self._dumps(notification(sub_id, header)))
                elif sub.kind == "proverJobs" and self.prover_jobs and sub.prover is not None:
                    result = self.prover_jobs(sub.prover, block.height)
                    conn.push(self._dumps(notification(sub_id, result)))
                elif (
                    sub.kind in BLOCK_LOG_KINDS and fast is not None and sub.log_filter is not None
                ):
                    if sub.kind == "softLogs" and was_soft:
                        continue  # sent when its proposal was accepted
                    logs = logs if logs is not None else self._format_logs(block, fast)
                    for log in logs:
                        if sub.log_filter.matches(log):
                            conn.push(self._dumps(notification(sub_id, log)))
