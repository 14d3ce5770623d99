"""`duet play`: the game against a running dev node, with bots if asked.

    duet play                          # dev account 2, its pass, the node in ~/.duet/dev
    duet play --dev-account 1 --bots 3 --difficulty hard

It deploys the arena on first use (game/devsetup.py), gives the player and each bot a pass,
then opens the screen (game/app.py); the bots play in the same process. Ctrl+C or q stops
the screen and the bots.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chain.fast.genesis import dev_keys
from chain.nodefile import read_node_file
from game.bots import DEFAULT_DIFFICULTY, DIFFICULTIES
from game.crew import Bot, run_crew
from game.devsetup import ensure_arena, ensure_pass
from game.session import Endpoints, GameSession

if TYPE_CHECKING:
    from game.app import ArenaApp

DEFAULT_PLAYER_ACCOUNT = 2
BOT_ACCOUNTS = (3, 4, 5, 6, 7)  # dev accounts the bots play with


def add_play_parser(sub: Any, default_data_dir: Path) -> None:
    play = sub.add_parser("play", help="play the arena game on a running dev node")
    play.add_argument(
        "--dev-account",
        type=int,
        default=DEFAULT_PLAYER_ACCOUNT,
        metavar="N",
        help=f"play as dev account N (default {DEFAULT_PLAYER_ACCOUNT}; ./demo.sh plays as 1)",
    )
    play.add_argument(
        "--bots", type=int, default=0, help=f"bots to play beside you (0..{len(BOT_ACCOUNTS)})"
    )
    play.add_argument(
        "--difficulty", choices=sorted(DIFFICULTIES), default=DEFAULT_DIFFICULTY, help="the bots'"
    )
    play.add_argument(
        "--data-dir",
        type=Path,
        default=default_data_dir,
        help=f"the running node's data directory (default {default_data_dir})",
    )


def read_endpoints(data_dir: Path) -> Endpoints:
    info = read_node_file(data_dir)
    return Endpoints(info.fast.http, info.fast.ws, info.zk.http)


def cmd_play(args: argparse.Namespace) -> int:
    keys = dev_keys()
    if not 0 <= args.dev_account < len(keys):
        print(f"duet play: no dev account {args.dev_account}", file=sys.stderr)
        return 2
    if not 0 <= args.bots <= len(BOT_ACCOUNTS):
        print(f"duet play: --bots must be 0..{len(BOT_ACCOUNTS)}", file=sys.stderr)
        return 2
    bot_accounts = [a for a in BOT_ACCOUNTS if a != args.dev_account][: args.bots]
    try:
        endpoints = read_endpoints(args.data_dir)
        print("setting up: the arena, your game pass and the bots' …", flush=True)
        arena = ensure_arena(args.data_dir.expanduser().resolve(), endpoints)
        token = ensure_pass(endpoints, keys[args.dev_account])
        bots = [Bot(keys[a], ensure_pass(endpoints, keys[a]), a) for a in bot_accounts]
    except (ValueError, OSError) as exc:
        print(f"duet play: {exc}", file=sys.stderr)
        return 1
    from game.app import ArenaApp  # Textual loads only for this command

    logging.getLogger("duet.game").setLevel(logging.WARNING)
    session = GameSession(endpoints, arena, keys[args.dev_account], token)
    app = ArenaApp(session)
    asyncio.run(run(app, endpoints, arena, bots, args.difficulty))
    return 0


async def run(
    app: ArenaApp, endpoints: Endpoints, arena: str, bots: list[Bot], difficulty: str
) -> None:
    crew = asyncio.create_task(run_crew(endpoints, arena, bots, DIFFICULTIES[difficulty]))
    try:
        await app.run_async()
    finally:
        crew.cancel()
        await asyncio.gather(crew, return_exceptions=True)
