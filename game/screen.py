"""The widgets of the game screen: each renders one piece of what the client knows, from
plain data (game/board.py), so a test can drive them without a chain."""

from __future__ import annotations

import statistics
import time
from collections import deque
from typing import Any

from rich.table import Table
from rich.text import Text
from textual.widgets import RichLog, Static

from game.board import HEIGHT, WIDTH, Board, RoundEnded, rank_players, short

PLAYER_STYLES = ("cyan", "magenta", "blue", "red", "bright_white", "yellow", "bright_blue")
ME_STYLE = "bold bright_green"
ITEM = Text("◆ ", style="bold yellow")
EMPTY = Text("· ", style="grey35")
LATENCY_WINDOW = 200  # moves kept for the latency figures


def compute_label(index: int) -> str:
    return "ABCDEFGHIJKLMNOPQRSTUVWXYZ"[index % 26]


def render_board(board: Board, me: str | None) -> Text:
    labels = {key: compute_label(i) for i, key in enumerate(board.players)}
    styles = {key: PLAYER_STYLES[i % len(PLAYER_STYLES)] for i, key in enumerate(board.players)}
    at = {p.cell: key for key, p in board.players.items()}
    items = set(board.items.values())
    text = Text()
    for y in range(HEIGHT):
        for x in range(WIDTH):
            key = at.get((x, y))
            if key is not None and key == me:
                text.append("@ ", style=ME_STYLE)
            elif key is not None:
                text.append(labels[key] + " ", style=styles[key])
            elif (x, y) in items:
                text.append_text(ITEM)
            else:
                text.append_text(EMPTY)
        if y < HEIGHT - 1:
            text.append("\n")
    return text


def render_scores(board: Board, me: str | None) -> Table:
    labels = {key: compute_label(i) for i, key in enumerate(board.players)}
    table = Table(title="players", expand=True, show_edge=False)
    table.add_column("", width=2)
    table.add_column("session key")
    table.add_column("score", justify="right")
    for player in rank_players(board):
        you = player.session_key == me
        label = "@" if you else labels[player.session_key]
        name = short(player.session_key) + (" (you)" if you else "")
        table.add_row(label, name, str(player.score), style=ME_STYLE if you else None)
    return table


def render_round(board: Board, now: float, me: str | None = None) -> Text:
    """The round as it stands, never more hopeful than the chain: ended (by whom won), over
    but not yet ended (its end is a transaction someone must send), running, or waiting."""
    if board.round == 0:
        return Text("waiting for the arena", style="dim")
    last = board.results[-1] if board.results else None
    if board.ends == 0 and last is not None and last.round == board.round:
        return render_result(board, last, me)
    if board.ends == 0:
        return Text(f"round {board.round}: starts when the first player joins", style="dim")
    left = int(board.ends - now)
    if left <= 0:
        return Text(
            f"round {board.round}: time is up; e ends it and asks for the winners' rewards",
            style="bold red",
        )
    style = "bold red" if left <= 10 else "bold"
    return Text(f"round {board.round}: {left // 60}:{left % 60:02d} left", style=style)


def render_result(board: Board, result: RoundEnded, me: str | None) -> Text:
    """Who won the round (a tie has several winners), by their board label and score."""
    labels = {key: compute_label(i) for i, key in enumerate(board.players)}
    names = []
    for winner, score in zip(result.winners, result.scores, strict=False):
        key = winner.lower()
        name = "@ (you)" if key == me else labels.get(key, short(winner))
        names.append(f"{name} with {score}")
    who = "won by " + ", ".join(names) if names else "no winner"
    text = Text(f"round {result.round} ended, {who}", style="bold green")
    text.append(f" · j starts round {result.round + 1}", style="dim")
    return text


class BoardPanel(Static):
    def show(self, board: Board, me: str | None) -> None:
        self.update(render_board(board, me))


class ScorePanel(Static):
    def show(self, board: Board, me: str | None) -> None:
        self.update(render_scores(board, me))


class RoundClock(Static):
    def show(self, board: Board, me: str | None = None) -> None:
        self.update(render_round(board, time.time(), me))


class LatencyPanel(Static):
    """The player's own moves: from sending to seeing them in the subscription."""

    def on_mount(self) -> None:
        self.samples: deque[float] = deque(maxlen=LATENCY_WINDOW)
        self.show()

    def add(self, ms: float) -> None:
        self.samples.append(ms)
        self.show()

    def show(self) -> None:
        if not self.samples:
            self.update(Text("move latency: no moves yet", style="dim"))
            return
        ordered = sorted(self.samples)
        p50 = statistics.median(ordered)
        p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
        self.update(
            Text(f"move latency: last {self.samples[-1]:.0f} ms · p50 {p50:.0f} · p99 {p99:.0f}")
        )


class ProofPanel(Static):
    """The player's ZK operations and how far each has come (committed → settled on L1)."""

    STYLES = {"pending": "dim", "committed": "yellow", "proven": "cyan", "aggregated": "blue"}

    def on_mount(self) -> None:
        self.ops: dict[str, tuple[str, str]] = {}  # op id → (what, status)
        self.show()

    def track(self, op_id: str, what: str, status: str = "pending") -> None:
        self.ops[op_id] = (what, status)
        self.show()

    def show(self) -> None:
        table = Table(title="your ZK operations", expand=True, show_edge=False)
        table.add_column("operation")
        table.add_column("status", justify="right")
        for what, status in list(self.ops.values())[-6:]:
            style = self.STYLES.get(status, "bold green" if status == "settled" else "red")
            table.add_row(what, Text(status, style=style))
        if not self.ops:
            table.add_row(Text("none yet", style="dim"), "")
        self.update(table)


class LedgerTicker(RichLog):
    """The braided ledger as it grows: both chains' blocks in their one order."""

    def add_entry(self, entry: dict[str, Any]) -> None:
        zk = entry["chain"] == "zk"
        line = Text(f"#{entry['seq']:>7} ", style="grey50")
        line.append(
            f"{'ZK  ' if zk else 'FAST'} {entry['height']:>6}",
            style="bold magenta" if zk else "bold cyan",
        )
        line.append(f"  {entry['txCount']:>3} tx  {str(entry['hash'])[:14]}…", style="grey70")
        self.write(line)
