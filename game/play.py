"""`duet play`: the game against a running node, with bots if asked.

    duet play                          # dev account 2, its pass, the node in ~/.duet/dev
    duet play --dev-account 1 --bots 3 --difficulty hard
    duet play --rpc http://127.0.0.1:PORT/   # any node by its URL: a testnet's validator

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
from chain.jsonrpc import NodeUnreachable, RpcClient, RpcError
from chain.nodefile import read_node_file
from game.bots import DEFAULT_DIFFICULTY, DIFFICULTIES
from game.crew import Bot, run_crew
from game.devsetup import ensure_arena, ensure_pass
from game.session import Endpoints, GameSession

if TYPE_CHECKING:
    from game.app import ArenaApp

GAMES_DIR = Path("~/.duet/games")  # `--rpc`: the arena of each chain, by its genesis hash
DEFAULT_PLAYER_ACCOUNT = 2
BOT_ACCOUNTS = (3, 4, 5, 6, 7)  # dev accounts the bots play with


def add_play_parser(sub: Any, default_data_dir: Path) -> None:
    play = sub.add_parser("play", help="play the arena game on a running node")
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
    play.add_argument(
        "--rpc",
        metavar="URL",
        default=None,
        help="a running node's fast or ZK JSON-RPC URL instead (any validator of a testnet); "
        f"the arena's address is kept in {GAMES_DIR}/<the chain's genesis hash>/",
    )


def read_endpoints(data_dir: Path) -> Endpoints:
    info = read_node_file(data_dir)
    return Endpoints(info.fast.http, info.fast.ws, info.zk.http)


def ask_endpoints(url: str) -> tuple[Endpoints, Path]:
    """The endpoints of the node at `url` (either chain's), and where the game keeps its
    arena for that node's chain: one directory per fast-chain genesis, so every validator
    of a network finds the same arena."""
    try:
        answer = RpcClient(url).call("duet_endpoints")
        fast, zk = answer["fast"], answer["zk"]
        endpoints = Endpoints(fast["http"], fast["ws"], zk["http"])
        genesis = RpcClient(endpoints.fast_http).call("eth_getBlockByNumber", ["0x0", False])
        game_dir = GAMES_DIR.expanduser() / str(genesis["hash"])[2:18]
    except (NodeUnreachable, RpcError) as exc:
        raise ValueError(f"{url} is not a Duet node's JSON-RPC: {exc}") from None
    except (KeyError, TypeError) as exc:
        raise ValueError(f"{url} answered duet_endpoints without both chains: {exc}") from None
    game_dir.mkdir(parents=True, exist_ok=True)
    return endpoints, game_dir


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
        if args.rpc is not None:
            endpoints, game_dir = ask_endpoints(args.rpc)
        else:
            endpoints, game_dir = read_endpoints(args.data_dir), args.data_dir.expanduser()
        print("setting up: the arena, your game pass and the bots' …", flush=True)
        arena = ensure_arena(game_dir.resolve(), endpoints)
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
