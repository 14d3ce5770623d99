"""eth_subscribe over WebSocket: newHeads and logs for the endpoint's chain, ledger for both.

Each connection has a bounded queue drained by its own writer; a client that cannot keep
up is disconnected rather than allowed to grow the node's memory.
"""

import asyncio
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from chain.fast.chain import FastBlock, compute_prev_randao
from chain.ledger.blocks import LedgerBlock
from chain.rpc.duet_api import format_ledger_entry
from chain.rpc.errors import invalid_params
from chain.rpc.fast_api import LogFilter
from chain.rpc.format import format_block_header
from chain.rpc.params import expect_params, parse_object
from chain.types import ChainId

CONNECTION_QUEUE_LIMIT = 10_000
MAX_SUBSCRIPTIONS_PER_CONNECTION = 100
KINDS = ("newHeads", "logs", "ledger")


@dataclass
class Subscription:
    kind: str
    log_filter: LogFilter | None = None


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
    def __init__(self, chain_id: ChainId, fast_chain_id: ChainId, dumps: Callable[[Any], str]):
        self.chain_id = chain_id
        self.fast_chain_id = fast_chain_id
        self.connections: set[Connection] = set()
        self._dumps = dumps

    def subscribe(self, conn: Connection, params: Any) -> str:
        kind, options = expect_params(params, 1, 2)
        if kind not in KINDS:
            raise invalid_params(f"unknown subscription {kind!r}; available: {', '.join(KINDS)}")
        if len(conn.subscriptions) >= MAX_SUBSCRIPTIONS_PER_CONNECTION:
            raise invalid_params(f"at most {MAX_SUBSCRIPTIONS_PER_CONNECTION} subscriptions")
        log_filter = None
        if kind == "logs":
            log_filter = LogFilter.parse(parse_object(options or {}, "logs filter"))
        sub_id = "0x" + secrets.token_hex(16)
        conn.subscriptions[sub_id] = Subscription(kind, log_filter)
        return sub_id

    def unsubscribe(self, conn: Connection, params: Any) -> bool:
        (sub_id,) = expect_params(params, 1, 1)
        return (
            conn.subscriptions.pop(sub_id, None) is not None if isinstance(sub_id, str) else False
        )

    def on_block(self, block: LedgerBlock, fast: FastBlock | None) -> None:
        """Called by the node after each block is durably appended."""
        if not self.connections:
            return
        own_chain = block.chain_id == self.chain_id
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
                elif sub.kind == "logs" and fast is not None and sub.log_filter is not None:
                    for _, _, log in fast.logs:
                        if sub.log_filter.matches(log):
                            conn.push(self._dumps(notification(sub_id, log)))
