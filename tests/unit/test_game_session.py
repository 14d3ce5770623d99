"""The game session's bookkeeping of its own moves (game/session.py), against a socket that
answers in the order a busy node can: the move's `Moved` log before the send's answer."""

from __future__ import annotations

import asyncio
from typing import Any

from eth_account import Account
from eth_utils import keccak

from game import session as session_module
from game.arena import Seat
from game.board import Board, Joined, Moved, RoundStarted, apply_event
from game.session import Endpoints, GameSession

KEY = Account.from_key(b"\x01" * 32)
ARENA = "0x" + "ab" * 20


class FakeArena:
    """What a seat needs of the arena to sign a move: no node behind it."""

    def __init__(self, url: str, address: str) -> None:
        from web3 import Web3

        self.address = Web3.to_checksum_address(address)
        self.chain_id = 7702
        self.contract = Web3().eth.contract(
            address=self.address,
            abi=[
                {
                    "type": "function",
                    "name": "move",
                    "inputs": [{"name": "direction", "type": "uint8"}],
                    "outputs": [],
                    "stateMutability": "nonpayable",
                }
            ],
        )


class LogFirstSocket:
    """A node whose block (and the move's log) is out before its answer to the send."""

    def __init__(self, session: GameSession) -> None:
        self.session = session

    async def send_raw_transaction(self, raw: bytes) -> str:
        tx_hash = "0x" + keccak(raw).hex()
        me = self.session.me or ""
        self.session._on_event(Moved(1, me, 1, 0, 0), {"transactionHash": tx_hash})
        await asyncio.sleep(0)
        return tx_hash


class Latencies:
    def __init__(self) -> None:
        self.samples: list[float] = []

    def on_board(self, board: Board) -> None:
        pass

    def on_ledger(self, entry: dict[str, Any]) -> None:
        pass

    def on_latency(self, ms: float) -> None:
        self.samples.append(ms)

    def on_operation(self, op_id: str, what: str, status: str) -> None:
        pass

    def on_status(self, text: str, busy: bool = False) -> None:
        pass


def test_a_move_whose_log_comes_before_the_sends_answer_is_still_timed(monkeypatch: Any) -> None:
    monkeypatch.setattr(session_module, "Arena", FakeArena)
    monkeypatch.setattr(session_module, "ZkClient", lambda url, key: None)  # no ZK node here
    session = GameSession(
        Endpoints("http://127.0.0.1:1/", "", "http://127.0.0.1:1/"), ARENA, KEY.key, 0
    )
    session.seat = Seat(session.arena, KEY, round=1)  # type: ignore[arg-type]
    session.board = apply_event(
        apply_event(Board(), RoundStarted(1, 0, 1)),
        Joined(1, KEY.address.lower(), KEY.address, 0, 0),
    )
    listener = Latencies()
    session.listener = listener
    session.chain = LogFirstSocket(session)  # type: ignore[assignment]

    asyncio.run(session.move(1))

    assert len(listener.samples) == 1 and listener.samples[0] >= 0
    assert session._sent == {}  # nothing left waiting for a log that came already
