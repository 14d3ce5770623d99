"""What a client knows of the arena: the board rebuilt from the contract's events.

The rules live in contracts/fast/Arena.sol; this module only follows them, so a screen and a
bot can show and plan from the events they receive. `apply_event(board, event)` is the one
transition: pure, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

WIDTH = 24  # Arena.WIDTH
HEIGHT = 12  # Arena.HEIGHT
ITEMS = 6  # Arena.ITEMS
UP, RIGHT, DOWN, LEFT = 0, 1, 2, 3
DIRECTIONS = {UP: (0, -1), RIGHT: (1, 0), DOWN: (0, 1), LEFT: (-1, 0)}

Cell = tuple[int, int]


@dataclass(frozen=True)
class RoundStarted:
    round: int
    ends: int  # unix seconds
    seed: int


@dataclass(frozen=True)
class Joined:
    round: int
    session_key: str
    payout: str
    x: int
    y: int


@dataclass(frozen=True)
class Moved:
    round: int
    session_key: str
    x: int
    y: int
    score: int


@dataclass(frozen=True)
class ItemPlaced:
    round: int
    index: int
    x: int
    y: int


@dataclass(frozen=True)
class RoundEnded:
    round: int
    winners: tuple[str, ...]
    scores: tuple[int, ...]


ArenaEvent = RoundStarted | Joined | Moved | ItemPlaced | RoundEnded


@dataclass(frozen=True)
class Player:
    session_key: str
    payout: str
    cell: Cell
    score: int = 0


@dataclass(frozen=True)
class Board:
    round: int = 0
    ends: int = 0  # 0: the round has not started
    players: dict[str, Player] = field(default_factory=dict)  # by session key, lower case
    items: dict[int, Cell] = field(default_factory=dict)
    results: tuple[RoundEnded, ...] = ()  # ended rounds, oldest first


def short(address: str) -> str:
    """An address as the screen names it: its first and last characters."""
    return address[:6] + "…" + address[-4:] if len(address) > 12 else address


def apply_event(board: Board, event: ArenaEvent) -> Board:
    """The board after `event`. Events of an older round than the board's are ignored."""
    if event.round < board.round:
        return board
    if event.round > board.round:
        board = Board(round=event.round, results=board.results)
    if isinstance(event, RoundStarted):
        return replace(board, ends=event.ends)
    if isinstance(event, Joined):
        player = Player(event.session_key.lower(), event.payout, (event.x, event.y))
        return replace(board, players={**board.players, player.session_key: player})
    if isinstance(event, Moved):
        key = event.session_key.lower()
        known = board.players.get(key, Player(key, "", (event.x, event.y)))
        moved = replace(known, cell=(event.x, event.y), score=event.score)
        return replace(board, players={**board.players, key: moved})
    if isinstance(event, ItemPlaced):
        return replace(board, items={**board.items, event.index: (event.x, event.y)})
    return replace(board, ends=0, results=(*board.results, event))


def compute_step(cell: Cell, direction: int) -> Cell | None:
    """Where one step from `cell` lands, or None off the board."""
    dx, dy = DIRECTIONS[direction]
    x, y = cell[0] + dx, cell[1] + dy
    return (x, y) if 0 <= x < WIDTH and 0 <= y < HEIGHT else None


def is_legal_step(board: Board, session_key: str, direction: int) -> bool:
    """What the contract would accept from this player now, as far as the board knows."""
    player = board.players.get(session_key.lower())
    if player is None:
        return False
    to = compute_step(player.cell, direction)
    taken = {p.cell for k, p in board.players.items() if k != player.session_key}
    return to is not None and to not in taken


def rank_players(board: Board) -> list[Player]:
    """Best first; the contract breaks ties by join order, which the board keeps."""
    return sorted(board.players.values(), key=lambda p: -p.score)


def compute_path(board: Board, session_key: str, target: Cell) -> list[int] | None:
    """The shortest list of steps from the player's cell to `target` around the other
    players (breadth-first), or None if it is walled off."""
    player = board.players.get(session_key.lower())
    if player is None:
        return None
    taken = {p.cell for k, p in board.players.items() if k != player.session_key}
    came: dict[Cell, tuple[Cell, int] | None] = {player.cell: None}
    frontier = [player.cell]
    while frontier and target not in came:
        following = []
        for cell in frontier:
            for direction in DIRECTIONS:
                to = compute_step(cell, direction)
                if to is None or to in taken or to in came:
                    continue
                came[to] = (cell, direction)
                following.append(to)
        frontier = following
    if target not in came:
        return None
    steps = []
    cell = target
    while (back := came[cell]) is not None:
        cell, direction = back
        steps.append(direction)
    return steps[::-1]
