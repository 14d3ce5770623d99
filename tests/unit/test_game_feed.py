"""The feed: a removed soft block's events are taken back, nothing else; a forecast is drawn
until its block's log replaces it, or fades."""

import pytest

from game import feed
from game.board import Board, Joined, Moved, RoundStarted, apply_event
from game.feed import ArenaHistory, BoardFollower

ALICE = "0x" + "aa" * 20
BOB = "0x" + "bb" * 20
EVENTS = [
    (("0x01", 0), RoundStarted(round=1, ends=100, seed=7)),
    (("0x01", 1), Joined(round=1, session_key=ALICE, payout=ALICE, x=0, y=0)),
    (("0x02", 0), Joined(round=1, session_key=BOB, payout=BOB, x=5, y=5)),
    (("0x03", 0), Moved(round=1, session_key=ALICE, x=1, y=0, score=0)),
    (("0x03", 1), Moved(round=1, session_key=BOB, x=5, y=4, score=1)),
    (("0x04", 0), Moved(round=1, session_key=ALICE, x=2, y=0, score=0)),
]


def fold(events: list) -> Board:
    board = Board()
    for _, event in events:
        board = apply_event(board, event)
    return board


def test_history_board_is_the_fold_of_its_events() -> None:
    history = ArenaHistory()
    for key, event in EVENTS:
        history.add(key, event)
    assert history.board() == fold(EVENTS)
    assert all(key in history for key, _ in EVENTS)


def test_removed_block_takes_back_its_events_only() -> None:
    history = ArenaHistory()
    for key, event in EVENTS:
        history.add(key, event)
    assert history.remove_block("0x03")
    kept = [(key, event) for key, event in EVENTS if key[0] != "0x03"]
    assert history.board() == fold(kept)
    assert ("0x03", 0) not in history  # the same log, committed later, is applied again
    assert not history.remove_block("0x03")  # nothing left of it


def test_old_events_fold_into_the_base_and_are_forgotten() -> None:
    history = ArenaHistory(depth=2)
    for key, event in EVENTS:
        history.add(key, event)
    assert len(history.recent) == 2  # memory stays bounded however long the session
    assert history.board() == fold(EVENTS)
    assert ("0x04", 0) in history and ("0x01", 0) not in history
    assert not history.remove_block("0x01")  # beyond the rewind depth
    assert history.board() == fold(EVENTS)


def seated() -> BoardFollower:
    follower = BoardFollower()
    for key, event in EVENTS[:3]:
        follower.on_event(event, {"transactionHash": f"0x{key[0]}{key[1]}"})
    return follower


def test_a_forecast_is_drawn_until_its_blocks_log_replaces_it() -> None:
    follower = seated()
    forecast = Moved(round=1, session_key=ALICE, x=1, y=0, score=0)
    follower.on_pending(forecast, {"transactionHash": "0xmove"})
    assert follower.board.players[ALICE].cell == (1, 0)
    assert follower.confirmed.players[ALICE].cell == (0, 0)

    final = Moved(round=1, session_key=ALICE, x=1, y=0, score=1)  # the block found an item
    follower.on_event(final, {"transactionHash": "0xmove"})
    assert follower.board.players[ALICE].score == 1
    assert follower.board == follower.confirmed  # the forecast is gone


def test_a_forecast_with_no_block_log_fades(monkeypatch: pytest.MonkeyPatch) -> None:
    follower = seated()
    now = [100.0]
    monkeypatch.setattr(feed.time, "monotonic", lambda: now[0])
    follower.on_pending(Moved(1, BOB, 5, 4, 0), {"transactionHash": "0xrefused"})
    assert follower.board.players[BOB].cell == (5, 4)
    now[0] += feed.PENDING_TTL_S + 0.1
    assert follower.board.players[BOB].cell == (5, 5)  # refused in its block: back where it was
