"""The game screen (game/app.py) driven with Textual's Pilot and compared with snapshots,
fed the events a session would report. The same screen on a real node: tests/e2e."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from functools import reduce
from typing import Any

from rich.console import Console

from game.app import ArenaApp
from game.board import Board, ItemPlaced, Joined, Moved, RoundEnded, RoundStarted, apply_event
from game.screen import (
    BoardPanel,
    LatencyPanel,
    LedgerTicker,
    ProofPanel,
    ScorePanel,
    render_round,
)

A, B = "0x" + "aa" * 20, "0x" + "bb" * 20
PAYOUT = "0x" + "11" * 20
BOARD = reduce(
    apply_event,
    [
        RoundStarted(3, 0, 1),
        Joined(3, A, PAYOUT, 0, 0),
        Joined(3, B, PAYOUT, 5, 2),
        ItemPlaced(3, 0, 3, 3),
        Moved(3, B, 6, 2, 4),
    ],
    Board(),
)
LEDGER = [
    {"seq": 10, "chain": "fast", "height": 7, "txCount": 3, "hash": "0x" + "ab" * 32},
    {"seq": 11, "chain": "zk", "height": 4, "txCount": 1, "hash": "0x" + "cd" * 32},
]


def plain(widget: Any) -> str:
    """What a panel shows, as text (its content: a rich Text or Table)."""
    console = Console(width=120, record=True)
    console.print(widget.content)
    return console.export_text()


def test_the_board_shows_players_items_and_scores() -> None:
    asyncio.run(_test_the_board_shows_players_items_and_scores())


async def _test_the_board_shows_players_items_and_scores() -> None:
    app = ArenaApp()
    async with app.run_test(size=(120, 40)) as pilot:
        app.on_board(BOARD)
        await pilot.pause()
        board = plain(app.query_one(BoardPanel))
        rows = board.splitlines()
        assert rows[0].startswith("A ·")  # A at (0, 0)
        assert rows[2].split()[6] == "B"  # B moved to (6, 2)
        assert rows[3].split()[3] == "◆"
        scores = plain(app.query_one(ScorePanel))
        assert scores.index("0xbbbb") < scores.index("0xaaaa")  # B leads with 4
        assert "4" in scores


def test_keys_without_a_node_say_so() -> None:
    asyncio.run(_test_keys_without_a_node_say_so())


async def _test_keys_without_a_node_say_so() -> None:
    app = ArenaApp()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("j")
        status = app.query_one("#status-text")
        assert "not connected" in str(status.render())


def test_latency_ledger_and_proof_panels_show_what_they_are_given() -> None:
    asyncio.run(_test_latency_ledger_and_proof_panels_show_what_they_are_given())


async def _test_latency_ledger_and_proof_panels_show_what_they_are_given() -> None:
    app = ArenaApp()
    async with app.run_test(size=(120, 40)) as pilot:
        for ms in (10.0, 20.0, 30.0):
            app.on_latency(ms)
        for entry in LEDGER:
            app.on_ledger(entry)
        app.on_operation("0x01", "list reward #0", "committed")
        app.on_operation("0x01", "list reward #0", "settled")
        await pilot.pause()
        assert "last 30 ms · p50 20" in plain(app.query_one(LatencyPanel))
        lines = [str(line.text) for line in app.query_one(LedgerTicker).lines]
        assert "FAST" in lines[0] and "ZK" in lines[1]
        proofs = plain(app.query_one(ProofPanel))
        assert "list reward #0" in proofs and "settled" in proofs and "committed" not in proofs


def test_the_screen_matches_its_snapshot(snap_compare: Any) -> None:
    async def feed(pilot: Any) -> None:
        app = pilot.app
        app.on_board(BOARD)
        for entry in LEDGER:
            app.on_ledger(entry)
        app.on_latency(12.0)
        app.on_operation("0x01", "1 ZKPoW → fast chain", "proven")
        await pilot.pause()

    assert snap_compare(ArenaApp(), terminal_size=(120, 40), run_before=feed)


class ChattySession:
    """A session that reports a ledger entry, a latency, a board and a status as fast as it
    can, as a busy node's subscriptions do, and keeps on while the screen closes."""

    me = None

    def __init__(self) -> None:
        self.reports = 0

    async def run(self, listener: Any) -> None:
        while True:
            listener.on_ledger(LEDGER[self.reports % 2])
            listener.on_latency(1.0)
            listener.on_board(BOARD)
            listener.on_operation("0x01", "reward of round 1", "proven")
            listener.on_status("still playing")
            self.reports += 1
            await asyncio.sleep(0)


def test_a_session_reporting_while_the_screen_closes_does_not_crash_it() -> None:
    asyncio.run(_test_a_session_reporting_while_the_screen_closes_does_not_crash_it())


async def _test_a_session_reporting_while_the_screen_closes_does_not_crash_it() -> None:
    session = ChattySession()
    app = ArenaApp(session)  # type: ignore[arg-type]
    # run_test re-raises a worker's failure as it leaves: a report that reached a panel no
    # longer mounted was NoMatches here, ending the game for the player.
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert session.reports > 0
        reported = session.reports
        await pilot.press("q")
    assert session.reports >= reported
    app.on_ledger(LEDGER[0])  # a report after the app has gone changes nothing, raises nothing


def test_the_round_line_says_how_the_round_stands_and_never_more() -> None:
    running = replace(BOARD, ends=1_000)
    assert render_round(running, 1_000 - 75).plain == "round 3: 1:15 left"
    assert "time is up; e ends it" in render_round(running, 1_000).plain  # not "0:00 left"
    ended = apply_event(running, RoundEnded(3, (B, A), (4, 4)))
    line = render_round(ended, 2_000, me=A).plain
    assert line == "round 3 ended, won by B with 4, @ (you) with 4 · j starts round 4"
    nobody = apply_event(running, RoundEnded(3, (), ()))
    assert render_round(nobody, 2_000).plain.startswith("round 3 ended, no winner")
    assert "starts when the first player joins" in render_round(Board(round=4), 0).plain
    assert render_round(Board(), 0).plain == "waiting for the arena"
