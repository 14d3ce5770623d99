"""Following the arena: the board from its past events, then live from a `softLogs`
subscription.

Moves are drawn at soft confirmation: the node sends a fast block's logs as soon as the block
is made (dev mode) or its proposal accepted (the decentralized mode), before it is stored.
The rare block that is not stored after all comes again with `"removed": true`, and the board
is rebuilt without its events (`on_rewind`). The subscription starts first and the past is
read after it, so nothing falls between the two; a log seen in both is applied once (by block
and position).
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from typing import Any

from game.arena import Arena, decode_event
from game.board import ArenaEvent, Board, apply_event
from game.socket import ChainSocket

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
        self.folded: set[LogKey] = set()  # keys folded into base: seen, never taken back

    def __contains__(self, key: LogKey) -> bool:
        return key in self.recent or key in self.folded

    def add(self, key: LogKey, event: ArenaEvent) -> None:
        self.recent[key] = event
        while len(self.recent) > self.depth:
            old_key, old = self.recent.popitem(last=False)
            self.base = apply_event(self.base, old)
            self.folded.add(old_key)

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


async def follow_arena(
    chain: ChainSocket,
    arena: Arena,
    on_event: Callable[[ArenaEvent, dict[str, Any]], None],
    on_rewind: Callable[[Board], None] | None = None,
) -> None:
    """Call `on_event(event, log)` for every arena event, past ones first, and
    `on_rewind(board)` with the board rebuilt when a soft block is removed; runs until
    cancelled or the connection drops."""
    live = chain.subscribe("softLogs", {"address": arena.address})
    first = asyncio.ensure_future(anext(live))  # subscribes now, before the past is read
    await asyncio.sleep(0)
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
    """The board as the events make it, for a screen or a bot to read at any time."""

    def __init__(self) -> None:
        self.board = Board()

    def on_event(self, event: ArenaEvent, log: dict[str, Any]) -> None:
        self.board = apply_event(self.board, event)

    def on_rewind(self, board: Board) -> None:
        self.board = board
