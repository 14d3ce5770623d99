"""Following the arena: the board from its past events, then live from a `logs` subscription.

The subscription starts first and the past is read after it, so nothing falls between the
two; a log seen in both is applied once (by block and position).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

from game.arena import Arena, decode_event
from game.board import ArenaEvent, Board, apply_event
from game.socket import ChainSocket


def log_key(log: dict[str, Any]) -> tuple[str, int]:
    index = log["logIndex"]
    return str(log["blockHash"]), int(index, 16) if isinstance(index, str) else int(index)


async def follow_arena(
    chain: ChainSocket, arena: Arena, on_event: Callable[[ArenaEvent, dict[str, Any]], None]
) -> None:
    """Call `on_event(event, log)` for every arena event, past ones first; runs until
    cancelled or the connection drops."""
    live = chain.subscribe("logs", {"address": arena.address})
    first = asyncio.ensure_future(anext(live))  # subscribes now, before the past is read
    await asyncio.sleep(0)
    seen: set[tuple[str, int]] = set()
    logs = await asyncio.to_thread(
        arena.w3.eth.get_logs, {"address": arena.address, "fromBlock": 0}
    )
    for raw in logs:
        log = dict(raw)
        log["blockHash"] = "0x" + bytes(raw["blockHash"]).hex()
        event = decode_event(log, arena.event_abis)
        seen.add(log_key(log))
        if event is not None:
            on_event(event, log)
    async for log in _chain(first, live):
        if log.get("removed") or log_key(log) in seen:
            continue
        event = decode_event(log, arena.event_abis)
        if event is not None:
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
