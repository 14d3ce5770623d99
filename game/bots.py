"""Bots, so that one person can play alone: each is a player like any other (its own pass,
session key and moves on chain), choosing its steps from the board it sees.

`choose_move` is the whole strategy, pure: with probability `skill` it steps along a
shortest path to the nearest item, otherwise it wanders. `run_bot` plays a seat with it at
the difficulty's pace until the round is over.
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass

from chain.jsonrpc import RpcError
from game.arena import Seat
from game.board import DIRECTIONS, Board, compute_path, is_legal_step
from game.feed import BoardFollower
from game.socket import ChainSocket


@dataclass(frozen=True)
class Difficulty:
    skill: float  # the chance that a step heads for the nearest item
    moves_per_s: float


DIFFICULTIES = {
    "easy": Difficulty(skill=0.4, moves_per_s=2.0),
    "normal": Difficulty(skill=0.75, moves_per_s=4.0),
    "hard": Difficulty(skill=0.95, moves_per_s=7.0),
}
DEFAULT_DIFFICULTY = "normal"


def choose_move(board: Board, session_key: str, skill: float, rng: random.Random) -> int | None:
    """The bot's next step, or None when it is boxed in (or not on the board)."""
    legal = [d for d in DIRECTIONS if is_legal_step(board, session_key, d)]
    if not legal:
        return None
    if rng.random() < skill:
        paths = [compute_path(board, session_key, cell) for cell in board.items.values()]
        reachable = [p for p in paths if p]
        if reachable:
            return min(reachable, key=len)[0]
    return rng.choice(legal)


async def run_bot(
    chain: ChainSocket,
    seat: Seat,
    view: BoardFollower,
    difficulty: Difficulty,
    rng: random.Random,
) -> int:
    """Move until the round ends (by the board's clock); returns the moves sent."""
    sent = 0
    pause = 1.0 / difficulty.moves_per_s
    while True:
        board = view.board
        over = board.ends and time.time() >= board.ends
        if board.round > seat.round or (board.round == seat.round and over):
            return sent
        # Until the feed has shown the seat (board.round < seat.round), it has no legal move.
        direction = choose_move(board, seat.address, difficulty.skill, rng)
        if direction is not None:
            try:
                await chain.send_raw_transaction(seat.sign_move(direction))
                sent += 1
            except RpcError:  # refused at the door (e.g. out of gas money): stop playing
                return sent
        await asyncio.sleep(pause)
