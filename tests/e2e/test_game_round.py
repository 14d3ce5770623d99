"""The whole stack through the game: a dev node (both chains, its embedded prover, anvil and
its submission agent), the arena deployed as `duet play` deploys it, two clients and a bot;
then the same on a four-validator `duet testnet`, each client on another validator.

Client 1 is the real screen (game/app.py) driven by key presses; client 2 is a second
session (the same client code without a screen); the bot plays as `duet play --bots` does.
They join with pass proofs, move, see each other's moves, the round ends, client 1's reward
reaches the ZK chain and is settled on L1, client 1 lists it and client 2 buys it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from chain.client.zk import ZkClient
from chain.fast.genesis import dev_keys
from chain.testnet import Testnet
from chain.zk.genesis import REWARD_COLLECTION
from game import play as play_cli
from game.app import ArenaApp
from game.arena import list_tokens
from game.board import DOWN, LEFT, RIGHT, UP, Board, compute_path, is_legal_step
from game.bots import DIFFICULTIES
from game.crew import Bot, run_crew
from game.devsetup import ensure_arena, ensure_pass
from game.play import ask_endpoints
from game.screen import LatencyPanel, LedgerTicker, ProofPanel
from game.session import Endpoints, GameSession
from tests.conftest import NodeFactory
from tests.integration.cometbft_net import COMETBFT, MISSING_REASON

pytestmark = pytest.mark.timeout(600)

ROUND_S = 30
PLAYERS = (1, 2)
BOT = 3
KEY_OF = {UP: "up", RIGHT: "right", DOWN: "down", LEFT: "left"}
SETTLED_TIMEOUT_S = 240.0


class Recorder:
    """What client 2's session reports, for the test to read."""

    def __init__(self) -> None:
        self.board = Board()
        self.operations: dict[str, str] = {}
        self.what: dict[str, str] = {}  # op id → what the session called it
        self.status = ""

    def on_board(self, board: Board) -> None:
        self.board = board

    def on_ledger(self, entry: dict[str, Any]) -> None:
        pass

    def on_latency(self, ms: float) -> None:
        pass

    def on_operation(self, op_id: str, what: str, status: str) -> None:
        self.operations[op_id] = status
        self.what[op_id] = what

    def on_status(self, text: str, busy: bool = False) -> None:
        self.status = text


async def wait_until(predicate: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.1)


def test_two_players_and_a_bot_play_to_an_l1_settled_reward_that_is_then_sold(
    node_factory: NodeFactory,
) -> None:
    node = node_factory()
    endpoints = Endpoints(node.fast_http, node.fast_ws, node.zk_http)
    play_a_round(node.data_dir, endpoints, endpoints, endpoints)


@pytest.mark.skipif(COMETBFT is None, reason=MISSING_REASON)
def test_a_round_on_a_four_validator_testnet_settles_its_reward_on_l1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same round on `duet testnet --validators 4`, each client on another validator,
    which it finds from one URL as `duet play --rpc URL` does: the reward is settled on the
    testnet's L1 with the validators' attestations."""
    monkeypatch.setattr(play_cli, "GAMES_DIR", tmp_path / "games")
    testnet = Testnet(tmp_path / "testnet", 4)
    testnet.start()
    try:
        found = [ask_endpoints(v.zk_http) for v in testnet.validators[1:]]
        (one, game_dir), (two, same_dir), (bot, _) = found
        assert same_dir == game_dir  # one chain, one arena, whichever validator is asked
        assert one.fast_http == testnet.validators[1].fast_http
        play_a_round(game_dir, one, two, bot)
    finally:
        testnet.stop()


def play_a_round(game_dir: Path, one_at: Endpoints, two_at: Endpoints, bot_at: Endpoints) -> None:
    arena = ensure_arena(game_dir, one_at, round_seconds=ROUND_S)
    assert ensure_arena(game_dir, one_at) == arena  # deployed once, remembered
    keys = dev_keys()
    tokens = {a: ensure_pass(one_at, keys[a]) for a in (*PLAYERS, BOT)}
    one = GameSession(one_at, arena, keys[1], tokens[1])
    two = GameSession(two_at, arena, keys[2], tokens[2])
    asyncio.run(play(one, two, Bot(keys[BOT], tokens[BOT], BOT), bot_at, arena))

    zk = ZkClient(two_at.zk_http, keys[2])
    owned = [
        t for t in list_tokens(zk, REWARD_COLLECTION) if t["owner"].lower() == zk.address.lower()
    ]
    assert owned, "client 2 bought client 1's reward"


async def play(
    one: GameSession, two: GameSession, bot: Bot, endpoints: Endpoints, arena: str
) -> None:
    recorder = Recorder()
    second = asyncio.create_task(two.run(recorder))
    crew = asyncio.create_task(run_crew(endpoints, arena, [bot], DIFFICULTIES["easy"]))
    app = ArenaApp(one)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.press("j")
            await wait_until(lambda: one.seat is not None, 90, "client 1's seat")
            await two.join()
            assert two.seat is not None, recorder.status
            await collect_an_item(pilot, one)
            await step_somewhere(two)
            # Each client sees the other's moves through its subscription.
            mover = two.me or ""
            await wait_until(
                lambda: cell_of(one, mover) == cell_of(recorder, mover) is not None,
                10,
                "client 2's move on client 1's board",
            )
            assert app.query_one(LatencyPanel).samples, "client 1's moves were timed"
            assert app.query_one(LedgerTicker).lines, "the ledger ticker runs"

            await wait_until(lambda: time.time() > one.board.ends > 0, ROUND_S + 30, "round end")
            await pilot.press("e")  # the bot may close it first: either way it ends
            await wait_until(lambda: bool(one.board.results), 60, "the round's result")
            (result,) = one.board.results
            assert one.me in {w.lower() for w in result.winners}

            proofs = app.query_one(ProofPanel)
            # Every winner's reward is followed; ours is named so.
            reward = lambda: [s for w, s in proofs.ops.values() if w.endswith("→ you")]  # noqa: E731
            await wait_until(lambda: reward() == ["settled"], SETTLED_TIMEOUT_S, "reward settled")

            await pilot.press("l")
            await wait_until(
                lambda: any(
                    w.startswith("list") and s != "pending" for w, s in proofs.ops.values()
                ),
                60,
                "the listing committed",
            )
            # Client 2 reads the listings from its own validator, which may commit the
            # listing's height a moment after client 1's.
            await wait_until(lambda: bool(others_listed(two)), 60, "client 2 sees the listing")
            await two.buy_reward()
            buys = lambda: [  # noqa: E731
                recorder.operations[op] for op, w in recorder.what.items() if w.startswith("buy")
            ]
            await wait_until(
                lambda: any(s in ("committed", "proven", "settled") for s in buys()),
                60,
                "the purchase committed",
            )
    finally:
        for task in (second, crew):
            task.cancel()
        await asyncio.gather(second, crew, return_exceptions=True)


def others_listed(session: GameSession) -> list[dict[str, Any]]:
    """Rewards of others for sale, as `session`'s validator lists them."""
    mine = session.zk.address.lower()
    return [
        t
        for t in session.zk.listings()
        if t["collection"] == REWARD_COLLECTION and t["owner"].lower() != mine
    ]


async def collect_an_item(pilot: Any, session: GameSession) -> None:
    """Walk client 1 to items with the arrow keys until it has scored."""
    me = session.me or ""
    deadline = time.monotonic() + 25
    while session.board.players[me].score == 0:
        assert time.monotonic() < deadline, "client 1 never reached an item"
        board = session.board
        paths = [compute_path(board, me, cell) for cell in board.items.values()]
        path = min((p for p in paths if p), key=len, default=None)
        if path is None:
            await asyncio.sleep(0.2)
            continue
        before = board.players[me].cell
        await pilot.press(KEY_OF[path[0]])
        moved_by = time.monotonic() + 2
        while session.board.players[me].cell == before and time.monotonic() < moved_by:
            await asyncio.sleep(0.02)


async def step_somewhere(session: GameSession) -> None:
    me = session.me or ""
    await wait_until(lambda: me in session.board.players, 10, "client 2 on its board")
    start = session.board.players[me].cell
    direction = next(d for d in KEY_OF if is_legal_step(session.board, me, d))
    await session.move(direction)
    await wait_until(lambda: session.board.players[me].cell != start, 10, "client 2's step")


def cell_of(session: GameSession | Recorder, key: str) -> tuple[int, int] | None:
    player = session.board.players.get(key)
    return None if player is None else player.cell
