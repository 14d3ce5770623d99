"""The client's board (game/board.py) and the bots' choice (game/bots.py): pure functions of
the arena's events."""

import random
from functools import reduce

from game.board import (
    DOWN,
    LEFT,
    RIGHT,
    UP,
    Board,
    ItemPlaced,
    Joined,
    Moved,
    RoundEnded,
    RoundStarted,
    apply_event,
    compute_path,
    compute_step,
    is_legal_step,
    rank_players,
)
from game.bots import choose_move

A, B = "0x" + "aa" * 20, "0x" + "bb" * 20
PAYOUT = "0x" + "11" * 20


def board_of(*events: object) -> Board:
    return reduce(apply_event, events, Board())  # type: ignore[arg-type]


ROUND_ONE = (
    RoundStarted(1, 1_000, 7),
    Joined(1, A, PAYOUT, 0, 0),
    Joined(1, B, PAYOUT, 2, 0),
    ItemPlaced(1, 0, 5, 5),
)


def test_events_build_the_board() -> None:
    board = board_of(*ROUND_ONE, Moved(1, A, 1, 0, 0), Moved(1, B, 3, 0, 1), ItemPlaced(1, 0, 9, 9))
    assert (board.round, board.ends) == (1, 1_000)
    assert board.players[A].cell == (1, 0) and board.players[B].score == 1
    assert board.items == {0: (9, 9)}
    assert [p.session_key for p in rank_players(board)] == [B, A]


def test_a_new_round_clears_the_board_and_keeps_the_results() -> None:
    ended = RoundEnded(1, (PAYOUT,), (3,))
    board = board_of(*ROUND_ONE, ended, Joined(2, A, PAYOUT, 4, 4))
    assert board.round == 2 and board.ends == 0
    assert set(board.players) == {A} and board.items == {}
    assert board.results == (ended,)


def test_events_of_an_older_round_are_ignored() -> None:
    board = board_of(*ROUND_ONE, Joined(2, A, PAYOUT, 4, 4), Moved(1, B, 3, 0, 5))
    assert set(board.players) == {A}


def test_steps_stay_on_the_board_and_off_other_players() -> None:
    board = board_of(*ROUND_ONE)
    assert compute_step((0, 0), UP) is None and compute_step((0, 0), LEFT) is None
    assert compute_step((23, 11), RIGHT) is None and compute_step((23, 11), DOWN) is None
    assert is_legal_step(board, A, RIGHT)
    board = board_of(*ROUND_ONE, Moved(1, A, 1, 0, 0))
    assert not is_legal_step(board, A, RIGHT)  # B stands at (2, 0)
    assert not is_legal_step(board, "0x" + "cc" * 20, RIGHT)  # not seated


def test_paths_go_around_players() -> None:
    board = board_of(*ROUND_ONE, Moved(1, A, 1, 0, 0))
    path = compute_path(board, A, (3, 0))
    assert path is not None and len(path) == 4  # around B, not through it
    cell = (1, 0)
    for direction in path:
        step = compute_step(cell, direction)
        assert step is not None and step != (2, 0)
        cell = step
    assert cell == (3, 0)
    assert compute_path(board, A, (1, 0)) == []


def test_a_skilled_bot_heads_for_the_nearest_item() -> None:
    board = board_of(*ROUND_ONE)
    rng = random.Random(1)
    path = compute_path(board, A, (5, 5))
    assert path is not None
    moves = {choose_move(board, A, 1.0, rng) for _ in range(20)}
    assert moves == {path[0]}


def test_an_unskilled_bot_wanders_but_only_legally() -> None:
    board = board_of(*ROUND_ONE, Moved(1, A, 1, 0, 0))
    rng = random.Random(2)
    moves = {choose_move(board, A, 0.0, rng) for _ in range(50)}
    assert moves == {LEFT, DOWN}  # not up (off the board), not right (B)


def test_a_boxed_in_bot_does_not_move() -> None:
    board = board_of(
        RoundStarted(1, 1_000, 7),
        Joined(1, A, PAYOUT, 0, 0),
        Joined(1, B, PAYOUT, 1, 0),
        Joined(1, "0x" + "cc" * 20, PAYOUT, 0, 1),
    )
    assert choose_move(board, A, 1.0, random.Random(3)) is None
