"""Following the arena: the board from its past events, then live from the node's
subscriptions, drawn as early as the node can tell.

- `pendingLogs`: a move's forecast, sent when the node admits it (its simulation on the head
  state). Drawn at once on top of the board, it gives way to the block's own log, or fades
  after `PENDING_TTL_S` if none comes (the move was refused in its block).
- `softLogs`: a fast block's logs as soon as the block is made (dev mode) or its proposal
  accepted (the decentralized mode), before it is stored. The rare block that is not stored
  after all comes again with `"removed": true`, and the board is rebuilt without its events
  (`on_rewind`).

The subscriptions start first and the past is read after them, so nothing falls between;
a log seen in both is applied once (by block and position).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from typing import Any

from chain.jsonrpc import RpcError
from game.arena import Arena, decode_event
from game.board import ArenaEvent, Board, apply_event
from game.socket import ChainSocket

logger = logging.getLogger("duet.game.feed")

PENDING_TTL_S = 2.0  # a forecast with no block log by then was refused: drop it
# Events kept for a rewind; older ones are folded into a base board. A soft block is removed
# within a few blocks of being shown, never thousands of events later.
REWIND_DEPTH = 4096

LogKey = tuple[str, int]


def log_key(log: dict[str, Any]) -> LogKey:
    index = log["logIndex"]
    return str(log["blockHash"]), int(index, 16) if isinstance(index, str) else int(index)


class ArenaHistory:
    """The events applied so far, by log, so that a removed block's can be taken back."""

    def __init__(self, depth: int = REWIND_DEPTH) -> None:
        self.depth = depth
        self.base = Board()  # every event older than the recent ones, folded
        self.recent: OrderedDict[LogKey, ArenaEvent] = OrderedDict()

    def __contains__(self, key: LogKey) -> bool:
        """Whether that log was applied among the recent events. A log comes twice only where
        the past read at start overlaps the live subscription, a few events at most; keys
        folded into the base are forgotten, so a session's memory does not grow with it."""
        return key in self.recent

    def add(self, key: LogKey, event: ArenaEvent) -> None:
        self.recent[key] = event
        while len(self.recent) > self.depth:
            _, old = self.recent.popitem(last=False)
            self.base = apply_event(self.base, old)

    def remove_block(self, block_hash: str) -> bool:
        """Take back every recent event of that block; whether there was one."""
        gone = [key for key in self.recent if key[0] == block_hash]
        for key in gone:
            del self.recent[key]
        return bool(gone)

    def board(self) -> Board:
        board = self.base
        for event in self.recent.values():
            board = apply_event(board, event)
        return board


EventCallback = Callable[[ArenaEvent, dict[str, Any]], None]


async def follow_arena(
    chain: ChainSocket,
    arena: Arena,
    on_event: EventCallback,
    on_rewind: Callable[[Board], None] | None = None,
    on_pending: EventCallback | None = None,
) -> None:
    """Call `on_event(event, log)` for every arena event, past ones first,
    `on_rewind(board)` with the board rebuilt when a soft block is removed, and
    `on_pending(event, log)` for every forecast; runs until cancelled or the connection
    drops."""
    forecasts = None
    if on_pending is not None:
        forecasts = asyncio.ensure_future(_follow_forecasts(chain, arena, on_pending))
    live = chain.subscribe("softLogs", {"address": arena.address})
    first = asyncio.ensure_future(anext(live))  # subscribes now, before the past is read
    await asyncio.sleep(0)
    try:
        await _follow_blocks(chain, arena, first, live, on_event, on_rewind)
    finally:
        if forecasts is not None:
            forecasts.cancel()


async def _follow_forecasts(chain: ChainSocket, arena: Arena, on_pending: EventCallback) -> None:
    try:
        async for log in chain.subscribe("pendingLogs", {"address": arena.address}):
            event = decode_event(log, arena.event_abis)
            if event is not None:
                on_pending(event, log)
    except RpcError as error:  # a node without forecasts: the blocks' logs alone
        logger.info("no move forecasts from this node: %s", error)


async def _follow_blocks(
    chain: ChainSocket,
    arena: Arena,
    first: asyncio.Future[Any],
    live: AsyncIterator[Any],
    on_event: EventCallback,
    on_rewind: Callable[[Board], None] | None,
) -> None:
    history = ArenaHistory()
    logs = await asyncio.to_thread(
        arena.w3.eth.get_logs, {"address": arena.address, "fromBlock": 0}
    )
    for raw in logs:
        log = dict(raw)
        log["blockHash"] = "0x" + bytes(raw["blockHash"]).hex()
        event = decode_event(log, arena.event_abis)
        if event is not None:
            history.add(log_key(log), event)
            on_event(event, log)
    async for log in _chain(first, live):
        key = log_key(log)
        if log.get("removed"):
            if history.remove_block(key[0]) and on_rewind is not None:
                on_rewind(history.board())
            continue
        if key in history:
            continue
        event = decode_event(log, arena.event_abis)
        if event is not None:
            history.add(key, event)
            on_event(event, log)


async def _chain(first: asyncio.Future[Any], rest: AsyncIterator[Any]) -> AsyncIterator[Any]:
    yield await first
    async for item in rest:
        yield item


class BoardFollower:
    """The board as the events make it, forecasts drawn on top, for a screen or a bot to read
    at any time."""

    def __init__(self) -> None:
        self.confirmed = Board()  # from the blocks' logs
        # transaction hash → its forecast events and when they came, oldest first
        self._pending: OrderedDict[str, tuple[list[ArenaEvent], float]] = OrderedDict()

    @property
    def board(self) -> Board:
        cutoff = time.monotonic() - PENDING_TTL_S
        while self._pending and next(iter(self._pending.values()))[1] < cutoff:
            self._pending.popitem(last=False)
        board = self.confirmed
        for events, _ in self._pending.values():
            for event in events:
                board = apply_event(board, event)
        return board

    def on_event(self, event: ArenaEvent, log: dict[str, Any]) -> None:
        self.confirmed = apply_event(self.confirmed, event)
        self._pending.pop(str(log.get("transactionHash")), None)

    def on_rewind(self, board: Board) -> None:
        self.confirmed = board

    def on_pending(self, event: ArenaEvent, log: dict[str, Any]) -> None:
        tx_hash = str(log["transactionHash"])
        events, _ = self._pending.get(tx_hash, ([], 0.0))
        self._pending[tx_hash] = ([*events, event], time.monotonic())
