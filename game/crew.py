"""Bots that play round after round beside a person (`duet play --bots N`).

Each bot is a dev account with its own pass: it joins every round, plays it with
`run_bot`, and once the time is up closes it (whoever is first; the others are told the
round is over already, which is fine). One WebSocket and one board serve the whole crew.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from dataclasses import dataclass

from eth_account import Account

from chain.client.zk import ZkClient
from game.arena import BUDGET_WEI, Arena, Refused
from game.bots import Difficulty, run_bot
from game.feed import BoardFollower, follow_arena
from game.session import Endpoints
from game.socket import ChainSocket

log = logging.getLogger("duet.game.bots")
IDLE_S = 0.5
RETRY_S = 2.0
TOP_UP_SEATS = 4  # a budget for fewer seats than this is refilled


@dataclass(frozen=True)
class Bot:
    key: bytes
    pass_token: int
    seed: int


async def run_crew(
    endpoints: Endpoints, arena_address: str, bots: list[Bot], difficulty: Difficulty
) -> None:
    """Play with every bot until cancelled."""
    arena = Arena(endpoints.fast_http, arena_address)
    follower = BoardFollower()
    async with ChainSocket(endpoints.fast_ws) as chain:
        feed = asyncio.create_task(
            follow_arena(chain, arena, follower.on_event, follower.on_rewind, follower.on_pending)
        )
        try:
            await asyncio.gather(
                *(play_rounds(endpoints, chain, arena, follower, bot, difficulty) for bot in bots)
            )
        finally:
            feed.cancel()


async def play_rounds(
    endpoints: Endpoints,
    chain: ChainSocket,
    arena: Arena,
    follower: BoardFollower,
    bot: Bot,
    difficulty: Difficulty,
) -> None:
    rng = random.Random(bot.seed)
    zk = ZkClient(endpoints.zk_http, bot.key)
    while True:
        board = follower.board
        if is_over(board.ends):
            await close_round(arena, bot.key, rng)
            continue
        if board.round == 0:  # the feed has not caught up yet
            await asyncio.sleep(IDLE_S)
            continue
        try:
            seat = await asyncio.to_thread(arena.join, bot.key, zk, bot.pass_token)
        except Refused as refused:  # e.g. the round ended while it proved: try the next
            log.info("bot %s did not join: %s", zk.address, refused)
            if refused.name == "BudgetTooLow":  # each seat's gas money came out of it
                await top_up(arena, bot.key, rng)
            await asyncio.sleep(RETRY_S)
            continue
        await run_bot(chain, seat, follower, difficulty, rng)
        while follower.board.round == seat.round and not is_over(follower.board.ends):
            await asyncio.sleep(IDLE_S)


async def top_up(arena: Arena, key: bytes, rng: random.Random) -> None:
    """Refill the arena's budget from the bot's own dev account, as the game's operator
    would: every seat takes a session allowance out of it and pays back only the entry fee,
    so without this the bots stop joining after a few rounds. One bot of those refused
    refills it; the others find it full when they try again."""
    await asyncio.sleep(rng.uniform(0, RETRY_S))
    allowance = await asyncio.to_thread(lambda: arena.contract.functions.sessionAllowance().call())
    balance = await asyncio.to_thread(arena.w3.eth.get_balance, arena.address)
    if balance >= allowance * TOP_UP_SEATS:
        return
    await asyncio.to_thread(arena.send_value, key, arena.address, BUDGET_WEI)
    log.info("bot %s refilled the arena's budget", Account.from_key(key).address)


def is_over(ends: int) -> bool:
    return ends != 0 and time.time() >= ends


async def close_round(arena: Arena, key: bytes, rng: random.Random) -> None:
    await asyncio.sleep(rng.uniform(0, 1.0))  # not every bot at once
    try:
        await asyncio.to_thread(arena.end_round, key)
    except Refused as refused:
        log.debug("round not closed by this bot: %s", refused)
    await asyncio.sleep(IDLE_S)  # until the feed shows the next round
