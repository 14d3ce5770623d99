"""The game screen (Textual): the board, the players and scores, the round clock, the
player's move latency, the ledger ticker and the proof status of the player's ZK operations.

`ArenaApp(session)` plays through a `GameSession` (game/session.py); with no session it only
shows what it is given (`on_board`, `on_ledger`, ...), which is how the screen tests drive it.
"""

from __future__ import annotations

from typing import Any, TypeVar

from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.css.query import NoMatches
from textual.widget import Widget
from textual.widgets import Footer, Header, LoadingIndicator, Static

from game.board import DOWN, LEFT, RIGHT, UP, Board
from game.screen import (
    BoardPanel,
    LatencyPanel,
    LedgerTicker,
    ProofPanel,
    RoundClock,
    ScorePanel,
)
from game.session import GameSession

CLOCK_TICK_S = 0.5
W = TypeVar("W", bound=Widget)


class StatusLine(Horizontal):
    def compose(self) -> ComposeResult:
        yield LoadingIndicator(id="busy")
        yield Static("press j to join the round with your game pass", id="status-text")


class ArenaApp(App[None]):
    TITLE = "Duet arena"
    SUB_TITLE = "moves on the fast chain · assets on the ZK chain · settled on L1"
    CSS = """
    #main { height: auto; }
    #board { width: 52; height: 14; border: round $accent; padding: 0 1; }
    #side { width: 1fr; height: 14; }
    #scores { height: 1fr; }
    #clock { height: 1; }
    #latency { height: 1; }
    #lower { height: 1fr; }
    #ledger { width: 1fr; border: round $secondary; }
    #proofs { width: 1fr; border: round $secondary; }
    StatusLine { height: 1; }
    #busy { width: 4; height: 1; display: none; }
    #busy.visible { display: block; }
    """
    BINDINGS = [
        # Priority: the arrows move the player even when a scrollable panel has focus.
        Binding("up,w", "move(0)", "up", show=False, priority=True),
        Binding("right,d", "move(1)", "right", show=False, priority=True),
        Binding("down,s", "move(2)", "down", show=False, priority=True),
        Binding("left,a", "move(3)", "left", show=False, priority=True),
        Binding("j", "join", "join"),
        Binding("e", "end_round", "end round"),
        Binding("f", "to_fast", "1 ZKPoW → fast"),
        Binding("z", "to_zk", "1 ZKPoW → ZK"),
        Binding("l", "list_reward", "sell reward"),
        Binding("b", "buy_reward", "buy reward"),
        Binding("q", "quit", "quit"),
        Binding("ctrl+c", "quit", "quit", show=False, priority=True),
    ]

    def __init__(self, session: GameSession | None = None) -> None:
        super().__init__()
        self.session = session
        self.board = Board()

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="main"):
            yield BoardPanel(id="board")
            with Vertical(id="side"):
                yield RoundClock(id="clock")
                yield LatencyPanel(id="latency")
                yield ScorePanel(id="scores")
        yield StatusLine()
        with Horizontal(id="lower"):
            yield LedgerTicker(id="ledger", max_lines=200)
            yield ProofPanel(id="proofs")
        yield Footer()

    def on_mount(self) -> None:
        self.on_board(self.board)
        self.set_interval(CLOCK_TICK_S, self._tick)
        if self.session is not None:
            self._run_session()

    @work(exclusive=True, group="session")
    async def _run_session(self) -> None:
        assert self.session is not None
        await self.session.run(self)

    def _tick(self) -> None:
        clock = self._panel(RoundClock)
        if clock is not None:
            clock.show(self.board, self.me)

    def _panel(self, kind: type[W], selector: str | None = None) -> W | None:
        """The screen's widget of `kind`, or None while it is not (or no longer) mounted.

        The session reports from its own task, whenever the chains speak: while the app
        starts, and while it closes (Textual removes the screen before it cancels workers).
        A report with nowhere to go is dropped; raising would end the game for the player."""
        if not self.is_running:
            return None
        try:
            return self.query_one(selector, kind) if selector else self.query_one(kind)
        except NoMatches:
            return None

    @property
    def me(self) -> str | None:
        return None if self.session is None else self.session.me

    # -- what the session reports (also the screen tests' way in) ---------------------

    def on_board(self, board: Board) -> None:
        self.board = board
        for panel in (self._panel(BoardPanel), self._panel(ScorePanel)):
            if panel is not None:
                panel.show(board, self.me)
        clock = self._panel(RoundClock)
        if clock is not None:
            clock.show(board, self.me)

    def on_ledger(self, entry: dict[str, Any]) -> None:
        ticker = self._panel(LedgerTicker)
        if ticker is not None:
            ticker.add_entry(entry)

    def on_latency(self, ms: float) -> None:
        latency = self._panel(LatencyPanel)
        if latency is not None:
            latency.add(ms)

    def on_operation(self, op_id: str, what: str, status: str) -> None:
        proofs = self._panel(ProofPanel)
        if proofs is not None:
            proofs.track(op_id, what, status)

    def on_status(self, text: str, busy: bool = False) -> None:
        status = self._panel(Static, "#status-text")
        if status is not None:
            status.update(text)
        indicator = self._panel(LoadingIndicator, "#busy")
        if indicator is not None:
            indicator.set_class(busy, "visible")

    # -- keys --------------------------------------------------------------------------

    def action_move(self, direction: int) -> None:
        assert direction in (UP, RIGHT, DOWN, LEFT)
        if self.session is not None:
            self.run_worker(self.session.move(direction), group="moves")

    def action_join(self) -> None:
        self._session_call("join")

    def action_end_round(self) -> None:
        self._session_call("end_round")

    def action_to_fast(self) -> None:
        self._session_call("to_fast")

    def action_to_zk(self) -> None:
        self._session_call("to_zk")

    def action_list_reward(self) -> None:
        self._session_call("list_reward")

    def action_buy_reward(self) -> None:
        self._session_call("buy_reward")

    def _session_call(self, name: str) -> None:
        if self.session is None:
            self.on_status("not connected to a node")
            return
        self.run_worker(getattr(self.session, name)(), group="actions", exclusive=True)
