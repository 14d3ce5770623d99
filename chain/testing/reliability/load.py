"""A steady load on one node, as a game makes it: moves on the fast chain (MoveBench, a
stand-in for an arena move that never fails) and ZKPoW transfers on the ZK chain, each
sender waiting for its last one to be confirmed, as a player's client does. What the node
acknowledged (a receipt, a `committed` status) and the highest heads it showed are
recorded, so a scenario can ask whether they are still there after whatever it did."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from coincurve import PrivateKey
from eth_account import Account
from eth_utils import keccak

from chain.client.zk import OperationFailed, ZkClient
from chain.config import FAST_CHAIN_ID, MIN_BASE_FEE_WEI
from chain.fast.genesis import dev_keys
from chain.fast.tx_signing import DynamicFeeTx, sign_dynamic_fee_tx
from chain.types import Address

REPO = Path(__file__).resolve().parents[3]
MOVE_BENCH = REPO / "build" / "contracts" / "MoveBench.json"
MOVE_SELECTOR = keccak(text="move(uint8)")[:4]
MOVE_GAS = 100_000
DEPLOY_GAS = 1_000_000
MAX_FEE_WEI = 10 * MIN_BASE_FEE_WEI
REQUEST_TIMEOUT_S = 10.0
POLL_S = 0.005  # between two reads of a receipt or an operation's status
HEADS_POLL_S = 0.02
ZK_PAUSE_S = 0.05  # between two ZK transfers of one sender: operations are proven, not free
MOVE_SENDERS = (1, 2, 3, 4)  # dev accounts that send moves
ZK_SENDERS = (5, 6)  # dev accounts that send ZK transfers (to each other)
ZK_TRANSFER_WEI = 1_000
REFUSED_PAUSE_S = 0.2  # before a refused transaction or operation is sent again
CONFIRMED_STATUSES = ("committed", "proven", "aggregated", "settled")


class LoadError(RuntimeError):
    """The node answered the load in a way no scenario expects."""


class Refused(LoadError):
    """The node refused a transaction or an operation (a JSON-RPC error answer)."""


class Rpc:
    """JSON-RPC over one kept-alive HTTP session; raises `LoadError` on an error answer."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.session = requests.Session()
        self.ids = 0

    def call(self, method: str, *params: Any) -> Any:
        self.ids += 1
        body: dict[str, Any] = {
            "jsonrpc": "2.0",
            "id": self.ids,
            "method": method,
            "params": list(params),
        }
        answer = self.session.post(self.url, json=body, timeout=REQUEST_TIMEOUT_S).json()
        if "error" in answer:
            raise Refused(f"{method}: {answer['error']}")
        return answer["result"]


@dataclass
class Heads:
    """The highest heads the node has shown (fast height, ZK height, ledger sequence)."""

    fast: int = -1
    zk: int = -1
    ledger: int = -1

    def raise_to(self, answer: dict[str, Any]) -> None:
        self.fast = max(self.fast, int(answer["fast"]["height"]))
        self.zk = max(self.zk, int(answer["zk"]["height"]))
        self.ledger = max(self.ledger, int(answer["ledger"]["seq"]))

    def went_back_from(self, before: Heads) -> list[str]:
        """Which heads are below `before`'s."""
        pairs = {"fast": (self.fast, before.fast), "zk": (self.zk, before.zk)}
        pairs["ledger"] = (self.ledger, before.ledger)
        return [f"{name} {now} < {then}" for name, (now, then) in pairs.items() if now < then]


@dataclass
class Acknowledged:
    """What the node confirmed: fast transaction hash → its receipt's block hash; ZK
    operation id → the status it was seen with."""

    fast: dict[str, str] = field(default_factory=dict)
    zk: dict[str, str] = field(default_factory=dict)
    sent_fast: int = 0
    sent_zk: int = 0
    refusals: list[str] = field(default_factory=list)  # why, one entry per refusal

    def count(self) -> int:
        return len(self.fast) + len(self.zk)


def deploy_move_bench(url: str) -> str:
    """MoveBench deployed by dev account 0; its address."""
    artifact = json.loads(MOVE_BENCH.read_text())
    code = artifact["bytecode"]
    code = code["object"] if isinstance(code, dict) else code
    rpc = Rpc(url)
    key = dev_keys()[0]
    sender = Account.from_key(key).address
    nonce = int(rpc.call("eth_getTransactionCount", sender, "pending"), 16)
    tx = DynamicFeeTx(
        FAST_CHAIN_ID, nonce, 1, MAX_FEE_WEI, DEPLOY_GAS, None, 0, bytes.fromhex(code[2:])
    )
    tx_hash = rpc.call(
        "eth_sendRawTransaction", "0x" + sign_dynamic_fee_tx(tx, PrivateKey(key)).hex()
    )
    receipt = wait_for(lambda: rpc.call("eth_getTransactionReceipt", tx_hash), 30.0, "deploy")
    if int(receipt["status"], 16) != 1 or not receipt["contractAddress"]:
        raise LoadError(f"MoveBench deployment failed: {receipt}")
    return str(receipt["contractAddress"])


def wait_for(read: Any, timeout_s: float, what: str) -> Any:
    deadline = time.monotonic() + timeout_s
    while (value := read()) is None:
        if time.monotonic() > deadline:
            raise LoadError(f"{what}: nothing after {timeout_s} s")
        time.sleep(POLL_S * 10)
    return value


class Worker(threading.Thread):
    """A sender or watcher that runs until `halt`. A connection that fails ends it (the node
    may have been killed under it: `disconnected`); anything else is kept in `error`."""

    def __init__(self, name: str) -> None:
        super().__init__(name=name, daemon=True)
        self.halt = threading.Event()
        self.error: BaseException | None = None
        self.disconnected: OSError | None = None

    def run(self) -> None:
        try:
            self.work()
        except OSError as exc:  # requests' errors and chain.jsonrpc's NodeUnreachable too
            self.disconnected = exc
        except BaseException as exc:
            self.error = exc

    def work(self) -> None:
        raise NotImplementedError


class MoveSender(Worker):
    """One player: a move, then its receipt, then the next move."""

    def __init__(self, url: str, account: int, game: str, acked: Acknowledged) -> None:
        super().__init__(f"moves-{account}")
        self.rpc, self.key = Rpc(url), PrivateKey(dev_keys()[account])
        self.address = Account.from_key(dev_keys()[account]).address
        self.game, self.acked = Address(bytes.fromhex(game[2:])), acked

    def work(self) -> None:
        nonce = int(self.rpc.call("eth_getTransactionCount", self.address, "pending"), 16)
        while not self.halt.is_set():
            data = MOVE_SELECTOR + (nonce % 4).to_bytes(32, "big")
            tx = DynamicFeeTx(FAST_CHAIN_ID, nonce, 1, MAX_FEE_WEI, MOVE_GAS, self.game, 0, data)
            raw = "0x" + sign_dynamic_fee_tx(tx, self.key).hex()
            try:
                tx_hash = self.rpc.call("eth_sendRawTransaction", raw)
            except Refused as refused:  # the same move again after a pause
                self.acked.refusals.append(str(refused))
                self.halt.wait(REFUSED_PAUSE_S)
                continue
            self.acked.sent_fast += 1
            nonce += 1
            while not self.halt.is_set():
                receipt = self.rpc.call("eth_getTransactionReceipt", tx_hash)
                if receipt is not None:
                    self.acked.fast[tx_hash] = receipt["blockHash"]
                    break
                time.sleep(POLL_S)


class ZkSender(Worker):
    """One ZK account paying another, each transfer followed until it is committed."""

    def __init__(self, url: str, account: int, to: int, acked: Acknowledged) -> None:
        super().__init__(f"zk-{account}")
        self.client = ZkClient(url, dev_keys()[account])
        self.to = Account.from_key(dev_keys()[to]).address
        self.acked = acked

    def work(self) -> None:
        while not self.halt.is_set():
            try:
                op_id = self.client.transfer(self.to, ZK_TRANSFER_WEI)
            except OperationFailed as refused:  # signed again with the nonce then pending
                self.acked.refusals.append(str(refused))
                self.halt.wait(REFUSED_PAUSE_S)
                continue
            self.acked.sent_zk += 1
            while not self.halt.is_set():
                status = str(self.client.status(op_id)["status"])
                if status in CONFIRMED_STATUSES:
                    self.acked.zk[op_id] = status
                    break
                time.sleep(POLL_S * 4)
            self.halt.wait(ZK_PAUSE_S)


class HeadWatcher(Worker):
    def __init__(self, url: str, heads: Heads) -> None:
        super().__init__("heads")
        self.rpc, self.heads = Rpc(url), heads

    def work(self) -> None:
        while not self.halt.is_set():
            self.heads.raise_to(self.rpc.call("duet_heads"))
            time.sleep(HEADS_POLL_S)


@dataclass
class SteadyLoad:
    """Moves, ZK transfers and a head watcher on one node, started and stopped together."""

    fast_url: str
    zk_url: str
    game: str
    acked: Acknowledged = field(default_factory=Acknowledged)
    heads: Heads = field(default_factory=Heads)
    workers: list[Worker] = field(default_factory=list)

    def start(self) -> None:
        self.workers = [MoveSender(self.fast_url, a, self.game, self.acked) for a in MOVE_SENDERS]
        first, second = ZK_SENDERS
        self.workers += [
            ZkSender(self.zk_url, first, second, self.acked),
            ZkSender(self.zk_url, second, first, self.acked),
            HeadWatcher(self.fast_url, self.heads),
        ]
        for worker in self.workers:
            worker.start()

    def stop(self, killed: bool = False) -> None:
        """Halt every worker; raise the first unexpected error one of them met (a lost
        connection is one unless the node was `killed`)."""
        for worker in self.workers:
            worker.halt.set()
        for worker in self.workers:
            worker.join(REQUEST_TIMEOUT_S * 2)
        errors = [w.error for w in self.workers if w.error is not None]
        if not killed:
            errors += [w.disconnected for w in self.workers if w.disconnected is not None]
        if errors:
            raise LoadError(f"the load failed: {errors[0]!r}") from errors[0]


def find_missing(rpc: Rpc, zk_rpc: Rpc, acked: Acknowledged) -> list[str]:
    """Which acknowledged transactions and operations the node no longer has as it had them."""
    missing = []
    for tx_hash, block_hash in acked.fast.items():
        receipt = rpc.call("eth_getTransactionReceipt", tx_hash)
        if receipt is None or receipt["blockHash"] != block_hash:
            missing.append(f"move {tx_hash}: receipt now {receipt and receipt['blockHash']}")
    for op_id in acked.zk:
        status = zk_rpc.call("duet_getProofStatus", op_id)["status"]
        if status not in CONFIRMED_STATUSES:
            missing.append(f"ZK operation {op_id}: now {status}")
    return missing
