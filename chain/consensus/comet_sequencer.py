"""The decentralized mode's ordering: CometBFT decides every height, this node executes them.

The node serves its ABCI application (`DuetApplication`) at the address its CometBFT home's
config names (`proxy_app`), then starts CometBFT on that home as its child. Transactions
its JSON-RPC admits (`eth_sendRawTransaction`, into the node's own pool and onto disk, as in
dev mode) are forwarded to CometBFT's mempool in batches (`broadcast_tx_sync`, whose answer
is CometBFT's CheckTx by our application), from where any validator may propose them. The
node's pool is its view of what it admitted and the network has not committed yet:

- a committed block removes its transactions, whichever validator proposed it;
- a transaction CometBFT refuses, or one whose nonce another committed transaction used, is
  dropped with its reason (`duet_getTransactionStatus` says "lost" and why);
- at start-up, the pending transactions reloaded from disk are forwarded again (CometBFT's
  mempool does not outlive its process).

If CometBFT exits, the node stops with the tail of CometBFT's log: a validator whose engine
is gone must not keep serving reads as if it were following the chain.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import signal
import tomllib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from chain.consensus.abci.application import OK
from chain.consensus.abci.server import AbciServer
from chain.consensus.duet_app import DuetApplication
from chain.fast.chain import FastBlock
from chain.jsonrpc import AsyncRpcClient, NodeUnreachable, RpcError
from chain.launcher import ChildProcess
from chain.ledger.blocks import LedgerBlock
from chain.node import Node
from chain.types import Hash32

log = logging.getLogger("duet.consensus")

COMETBFT_LOG = "cometbft.log"
COMETBFT_PID_FILE = "cometbft.pid"  # in the node's data directory, while CometBFT runs
# Transactions per broadcast batch (one HTTP round trip): at most what the home's
# rpc.max_request_batch_size allows (CometBFT's default is 10; `duet testnet` raises it).
FORWARD_BATCH = 500
RETRY_S = 0.2  # CometBFT's RPC not up yet, or restarting
WATCH_S = 0.2  # how often the child's liveness is checked
COMETBFT_STOP_TIMEOUT_S = 10.0
TAIL_LINES = 15  # of CometBFT's log, when it exits
ALREADY_IN_MEMPOOL = "tx already exists in cache"  # CometBFT's answer to a repeated tx


class CometBFTExited(Exception):
    """The node's CometBFT process stopped: the node stops too."""


class BadCometHome(Exception):
    """A CometBFT home the node cannot run: missing, or its config unusable."""


@dataclass(frozen=True)
class HomeSettings:
    """What the node reads from a CometBFT home's config.toml."""

    app_address: str  # proxy_app: where our ABCI server must listen
    rpc_url: str  # CometBFT's JSON-RPC, where transactions are broadcast
    batch_size: int  # calls CometBFT's RPC takes in one batch (0: no limit)


def compute_rpc_url(laddr: str) -> str:
    """CometBFT's `rpc.laddr` (tcp://host:port) as a URL this machine can call."""
    if not laddr.startswith("tcp://"):
        raise BadCometHome(f"rpc.laddr {laddr!r}: the node reaches CometBFT's RPC over tcp://")
    host, _, port = laddr.removeprefix("tcp://").rpartition(":")
    if host in ("0.0.0.0", "", "[::]"):
        host = "127.0.0.1"
    return f"http://{host}:{port}"


def parse_home_settings(config_text: str) -> HomeSettings:
    try:
        config = tomllib.loads(config_text)
        rpc = config["rpc"]
        return HomeSettings(
            str(config["proxy_app"]),
            compute_rpc_url(str(rpc["laddr"])),
            int(rpc.get("max_request_batch_size", 0)),
        )
    except (tomllib.TOMLDecodeError, KeyError, TypeError, ValueError) as exc:
        raise BadCometHome(f"config.toml lacks proxy_app or rpc.laddr: {exc}") from None


def read_home_settings(home: Path) -> HomeSettings:
    path = home / "config" / "config.toml"
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise BadCometHome(
            f"{home} is not a CometBFT home (no {path}); `duet testnet` makes one per validator"
        ) from None
    return parse_home_settings(text)


def parse_genesis_time_ms(genesis_text: str) -> int:
    """The network's genesis time (genesis.json's RFC 3339 `genesis_time`) in Unix ms: the
    time of both chains' genesis blocks on every validator."""
    try:
        text = str(json.loads(genesis_text)["genesis_time"])
        moment = datetime.fromisoformat(text)
    except (ValueError, KeyError, TypeError) as exc:
        raise BadCometHome(f"genesis.json has no usable genesis_time: {exc}") from None
    if moment.tzinfo is None:
        raise BadCometHome(f"genesis.json's genesis_time {text!r} names no time zone")
    return int(moment.timestamp() * 1000)


def read_genesis_time_ms(home: Path) -> int:
    path = home / "config" / "genesis.json"
    try:
        return parse_genesis_time_ms(path.read_text())
    except FileNotFoundError:
        raise BadCometHome(f"{home} has no {path}") from None


def encode_broadcast(raw: bytes) -> tuple[str, dict[str, str]]:
    return "broadcast_tx_sync", {"tx": base64.b64encode(raw).decode()}


def explain_broadcast_refusal(answer: object) -> str | None:
    """Why CometBFT did not take a broadcast transaction into its mempool; None if it did
    (or had it already)."""
    if isinstance(answer, RpcError):
        detail = f"{answer.message} {answer.data or ''}".strip()
        return None if ALREADY_IN_MEMPOOL in detail else f"CometBFT refused it: {detail}"
    if not isinstance(answer, dict):
        return f"CometBFT answered {answer!r:.200}"
    if int(answer.get("code", OK)) != OK:
        return f"refused by the network's mempool: {answer.get('log', '')}"
    return None


class CometSequencer:
    def __init__(self, node: Node, home: Path, binary: Path, pid_dir: Path | None = None) -> None:
        self.node = node
        self.home = home
        self.binary = binary
        self.pid_file = None if pid_dir is None else pid_dir / COMETBFT_PID_FILE
        self.settings = read_home_settings(home)
        limit = self.settings.batch_size
        self.batch_size = min(FORWARD_BATCH, limit) if limit > 0 else FORWARD_BATCH
        self.app = DuetApplication(node)
        self._wake = asyncio.Event()
        self._forwarded: set[Hash32] = set()
        node.submit_listeners.append(self._wake.set)
        node.listeners.append(self._on_block)

    async def run(self) -> None:
        async with AbciServer(self.app, self.settings.app_address):
            child = ChildProcess(
                [str(self.binary), "start", "--home", str(self.home)],
                log=self.home / COMETBFT_LOG,
                stop_signal=signal.SIGTERM,
                stop_timeout_s=COMETBFT_STOP_TIMEOUT_S,
                tied_to_parent=True,
            )
            child.start()
            if self.pid_file is not None:  # for who signals the validator's processes
                self.pid_file.write_text(f"{child.pid}\n")
            log.info("CometBFT started (pid %d, home %s)", child.pid, self.home)
            tasks = [asyncio.create_task(self._forward()), asyncio.create_task(self._watch(child))]
            try:
                done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
                for task in done:
                    task.result()  # raises the first failure (CometBFTExited, say)
            finally:
                for task in tasks:
                    task.cancel()
                # The app keeps answering while CometBFT stops (it may be mid-height).
                await asyncio.to_thread(child.stop)
                if self.pid_file is not None:
                    self.pid_file.unlink(missing_ok=True)

    async def _watch(self, child: ChildProcess) -> None:
        while child.running:
            await asyncio.sleep(WATCH_S)
        assert child.process is not None
        raise CometBFTExited(
            f"CometBFT exited with code {child.process.returncode}; the tail of its log "
            f"({self.home / COMETBFT_LOG}):\n{child.read_tail(TAIL_LINES)}"
        )

    def _on_block(self, block: LedgerBlock, fast: FastBlock | None) -> None:
        """After a committed fast block: drop what it made unincludable (a nonce another
        transaction used), forget what left the pool."""
        if fast is None:
            return
        stale = [
            tx.hash
            for tx in self.node.pool.by_hash.values()
            if tx.nonce < self.node.account(tx.sender).nonce
        ]
        for tx_hash in stale:
            self.node.drop_pending(tx_hash, "its nonce was used by another committed transaction")
        self._forwarded &= self.node.pool.by_hash.keys()

    async def _forward(self) -> None:
        self._wake.set()  # what was pending at start-up goes to the new mempool
        async with AsyncRpcClient(self.settings.rpc_url) as comet:
            while True:
                await self._wake.wait()
                self._wake.clear()
                batch = [
                    tx
                    for tx_hash, tx in self.node.pool.by_hash.items()
                    if tx_hash not in self._forwarded
                ][: self.batch_size]
                if not batch:
                    continue
                try:
                    answers = await comet.call_batch([encode_broadcast(tx.raw) for tx in batch])
                except (NodeUnreachable, RpcError) as exc:
                    log.debug("forwarding waits for CometBFT: %s", exc)
                    await asyncio.sleep(RETRY_S)
                    self._wake.set()
                    continue
                for tx, answer in zip(batch, answers, strict=True):
                    self._forwarded.add(tx.hash)
                    reason = explain_broadcast_refusal(answer)
                    if reason is not None and tx.hash in self.node.pool:
                        log.info("transaction %s dropped: %s", tx.hash.hex(), reason)
                        self.node.drop_pending(tx.hash, reason)
                if len(batch) == self.batch_size:
                    self._wake.set()
