"""One player's connection to Duet for the game screen: the I/O behind each key.

The screen (game/app.py) asks; this module talks to the chains through the game SDK
(game/arena.py), the ZK client and the bridge, and reports back through a `Listener`. Slow,
blocking calls (proving a pass, waiting for a receipt) run in threads; moves go out on the
WebSocket without waiting, and their latency is measured when their own `Moved` log comes
back through the subscription, as any other player sees it.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any, Protocol

import aiohttp
from eth_utils import keccak
from web3.logs import DISCARD

from chain.client.fast import FastBridge
from chain.client.zk import STATUS_ORDER, ZkClient
from chain.jsonrpc import RpcError
from chain.zk.genesis import REWARD_COLLECTION
from game.arena import RECEIPT_TIMEOUT_S, Arena, Refused, Seat, list_tokens
from game.board import ArenaEvent, Board, Moved, RoundEnded, short
from game.feed import BoardFollower, follow_arena
from game.socket import ChainSocket

ZKPOW = 10**18
BRIDGE_AMOUNT_WEI = ZKPOW  # what one key press moves between the chains
REWARD_PRICE_WEI = ZKPOW // 2  # what a listed reward asks
STATUS_POLL_S = 1.0
RECEIPT_POLL_S = 0.1  # how often the round end's receipt is asked for until it is stored


@dataclass(frozen=True)
class Endpoints:
    fast_http: str
    fast_ws: str
    zk_http: str


class Listener(Protocol):
    def on_board(self, board: Board) -> None: ...

    def on_ledger(self, entry: dict[str, Any]) -> None: ...

    def on_latency(self, ms: float) -> None: ...

    def on_operation(self, op_id: str, what: str, status: str) -> None: ...

    def on_status(self, text: str, busy: bool = False) -> None: ...


class GameSession:
    def __init__(
        self, endpoints: Endpoints, arena_address: str, key: bytes, pass_token: int
    ) -> None:
        self.endpoints = endpoints
        self.arena = Arena(endpoints.fast_http, arena_address)
        self.key = key
        self.pass_token = pass_token
        self.zk = ZkClient(endpoints.zk_http, key)
        self.bridge = FastBridge(endpoints.fast_http, key)
        self.view = BoardFollower()  # the board, forecasts drawn on top
        self.seat: Seat | None = None
        self.chain: ChainSocket | None = None
        self.listener: Listener | None = None
        self._sent: dict[str, float] = {}  # move tx hash → when it was sent
        self._tracked: dict[str, str] = {}  # ZK op id → what it is
        self._tasks: set[asyncio.Future[None]] = set()
        self._sending = asyncio.Lock()

    @property
    def board(self) -> Board:
        return self.view.board

    @board.setter
    def board(self, board: Board) -> None:
        self.view = BoardFollower()
        self.view.confirmed = board

    @property
    def me(self) -> str | None:
        return None if self.seat is None else self.seat.address.lower()

    # -- running -----------------------------------------------------------------------

    async def run(self, listener: Listener) -> None:
        """Follow the arena, the ledger and the player's operations until cancelled."""
        self.listener = listener
        try:
            async with ChainSocket(self.endpoints.fast_ws) as chain:
                self.chain = chain
                await asyncio.gather(
                    follow_arena(
                        chain, self.arena, self._on_event, self._on_rewind, self._on_pending
                    ),
                    self._follow_ledger(chain),
                    self._poll_operations(),
                )
        except (OSError, aiohttp.ClientError, RpcError, TimeoutError) as exc:  # node gone
            self.chain = None
            self._say(f"lost the node: {exc}; restart the game once it is back")

    def _on_event(self, event: ArenaEvent, log: dict[str, Any]) -> None:
        self.view.on_event(event, log)
        if isinstance(event, RoundEnded) and event.winners:  # every winner's, not only ours
            task = asyncio.ensure_future(
                self._follow_reward(str(log["transactionHash"]), event.round)
            )
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        self._on_seen(event, log)

    def _on_pending(self, event: ArenaEvent, log: dict[str, Any]) -> None:
        """A move's forecast: drawn now, the block's log confirms it or it fades."""
        self.view.on_pending(event, log)
        self._on_seen(event, log)

    def _on_seen(self, event: ArenaEvent, log: dict[str, Any]) -> None:
        if isinstance(event, Moved):  # timed at its first sight, forecast or block
            sent = self._sent.pop(str(log.get("transactionHash")), None)
            if sent is not None and self.listener is not None:
                self.listener.on_latency((time.perf_counter() - sent) * 1000)
        if self.listener is not None:
            self.listener.on_board(self.board)

    def _on_rewind(self, board: Board) -> None:
        """A soft block was not stored after all: the board without its events."""
        self.view.on_rewind(board)
        if self.listener is not None:
            self.listener.on_board(self.board)

    async def _follow_reward(self, end_tx: str, round_: int) -> None:
        """The rewards the round's end asked the ZK chain for, each on to its settlement."""
        try:
            await self._track_reward(end_tx, round_)
        except Exception as exc:  # a node gone or slow: say so, the game goes on
            self._say(f"lost track of the rewards of round {round_}: {exc}")

    async def _track_reward(self, end_tx: str, round_: int) -> None:
        # The round's end is seen at soft confirmation: its block may not be stored yet.
        receipt = await asyncio.to_thread(
            self.arena.w3.eth.wait_for_transaction_receipt,
            end_tx,  # type: ignore[arg-type]
            timeout=RECEIPT_TIMEOUT_S,
            poll_latency=RECEIPT_POLL_S,
        )
        outbox = self.bridge.outbox().events.RewardMint()
        requests = outbox.process_receipt(receipt, errors=DISCARD)  # the arena's own logs too
        for request in requests:
            to = str(request["args"]["to"])
            mine = to.lower() == self.zk.address.lower()
            if mine:
                self._say(f"you won round {round_}: your reward is on its way to the ZK chain")
            message = await asyncio.to_thread(
                self.zk.wait_for_fast_message, int(request["args"]["seq"])
            )
            whose = "you" if mine else short(to)
            self.track(str(message["operationId"]), f"reward of round {round_} → {whose}")

    async def _follow_ledger(self, chain: ChainSocket) -> None:
        async for entry in chain.subscribe("ledger"):
            if self.listener is not None:
                self.listener.on_ledger(entry)

    async def _poll_operations(self) -> None:
        while True:
            for op_id, what in list(self._tracked.items()):
                status = await asyncio.to_thread(self.zk.status, op_id)
                state = str(status["status"])
                if self.listener is not None:
                    self.listener.on_operation(op_id, what, state)
                if state == STATUS_ORDER[-1] or state not in STATUS_ORDER:
                    del self._tracked[op_id]
            await asyncio.sleep(STATUS_POLL_S)

    def track(self, op_id: str, what: str) -> None:
        self._tracked[op_id] = what
        if self.listener is not None:
            self.listener.on_operation(op_id, what, "pending")

    def _say(self, text: str, busy: bool = False) -> None:
        if self.listener is not None:
            self.listener.on_status(text, busy)

    # -- the keys ----------------------------------------------------------------------

    async def join(self) -> None:
        def progress(step: str) -> None:
            self._say(step + " …", busy=True)

        try:
            self.seat = await asyncio.to_thread(
                self.arena.join, self.key, self.zk, self.pass_token, None, progress
            )
        except Refused as refused:
            self._say(f"cannot join: {explain(refused)}")
            return
        self._say(f"seated in round {self.seat.round}: arrows move, every step a transaction")

    async def move(self, direction: int) -> None:
        if self.seat is None or self.chain is None:
            self._say("press j to join the round first")
            return
        async with self._sending:  # nonces reach the node in the order they were signed
            raw = self.seat.sign_move(direction)
            # Timed from before it is sent, under the hash it will have: its `Moved` log can
            # come back on the socket before the node's answer to the send does.
            tx_hash = "0x" + keccak(raw).hex()
            self._sent[tx_hash] = time.perf_counter()
            try:
                await self.chain.send_raw_transaction(raw)
            except RpcError as exc:
                self._sent.pop(tx_hash, None)
                self.seat.nonce -= 1  # the node did not take it: the nonce is free again
                self._say(f"move not sent: {exc}")

    async def end_round(self) -> None:
        try:
            await asyncio.to_thread(self.arena.end_round, self.key)
        except Refused as refused:
            self._say(f"cannot end the round: {explain(refused)}")
            return
        self._say("round closed: rewards go to the ZK chain for the winners")

    async def to_fast(self) -> None:
        op = await asyncio.to_thread(self.zk.to_fast, self.zk.address, BRIDGE_AMOUNT_WEI)
        self.track(op, "1 ZKPoW → fast chain")
        self._say("1 ZKPoW locked on the ZK chain; it arrives on the fast chain next block")

    async def to_zk(self) -> None:
        try:
            seq = await asyncio.to_thread(self.bridge.release, self.zk.address, BRIDGE_AMOUNT_WEI)
        except Exception as exc:  # BridgeError, or no ZKPoW on the fast chain to burn
            self._say(f"cannot send ZKPoW back: {exc}")
            return
        message = await asyncio.to_thread(self.zk.wait_for_fast_message, seq)
        self.track(str(message["operationId"]), "1 ZKPoW → ZK chain")

    async def list_reward(self) -> None:
        rewards = await asyncio.to_thread(list_tokens, self.zk, REWARD_COLLECTION)
        mine = [t for t in rewards if t["owner"].lower() == self.zk.address.lower()]
        unlisted = [t for t in mine if not t["listed"]]
        if not unlisted:
            self._say("no unlisted reward of yours to sell")
            return
        token = unlisted[-1]
        op = await asyncio.to_thread(
            self.zk.list_nft, REWARD_COLLECTION, token["tokenId"], REWARD_PRICE_WEI
        )
        self.track(op, f"list reward #{token['tokenId']}")

    async def buy_reward(self) -> None:
        listings = await asyncio.to_thread(self.zk.listings)
        others = [
            t
            for t in listings
            if t["collection"] == REWARD_COLLECTION
            and t["owner"].lower() != self.zk.address.lower()
        ]
        if not others:
            self._say("no reward of someone else's is for sale")
            return
        token = min(others, key=lambda t: int(t["price"], 16))
        price = int(token["price"], 16)
        op = await asyncio.to_thread(self.zk.buy, REWARD_COLLECTION, token["tokenId"], price)
        self.track(op, f"buy reward #{token['tokenId']}")


def explain(refused: Refused) -> str:
    """The contract's refusal, said for a player."""
    reasons = {
        "NoPassProof": "you hold no game pass (or not this one)",
        "NullifierUsed": "this pass already has a seat in this round",
        "WrongRound": "the round changed while you joined; try again",
        "RoundOver": "the round is over; close it (e) and join the next",
        "AlreadySeated": "this session key is already seated",
        "ArenaFull": "the arena is full",
        "WrongEntryFee": "the entry fee is wrong",
        "BudgetTooLow": "the game's gas budget is empty",
        "UnknownRoot": "the fast chain does not know the ZK root of the proof",
        "InvalidPassProof": "the pass proof does not check",
        "RoundNotOver": "the round is not over yet",
    }
    return reasons.get(refused.name, str(refused))
