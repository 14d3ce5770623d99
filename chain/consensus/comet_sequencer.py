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
import contextlib
import json
import logging
import os
import signal
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

from eth_utils import keccak

from chain.consensus.abci.application import OK
from chain.consensus.abci.server import AbciServer
from chain.consensus.attestations import InvalidAttestation, parse_attesters
from chain.consensus.duet_app import DEFAULT_ZK_INTERVAL_MS, DuetApplication
from chain.consensus.stake import compute_genesis_stakes
from chain.consensus.txs import encode_proof, encode_zk_op
from chain.fast.chain import FastBlock
from chain.jsonrpc import AsyncRpcClient, NodeUnreachable, RpcError
from chain.launcher import ChildProcess
from chain.ledger.blocks import LedgerBlock
from chain.node import Node
from chain.types import JobId
from chain.zk.signing import format_signed_operation

log = logging.getLogger("duet.consensus")

COMETBFT_LOG = "cometbft.log"
ATTEST_KEY_FILE = "duet_attest_key.json"  # in the home's config/, beside CometBFT's keys
COMETBFT_PID_FILE = "cometbft.pid"  # in the node's data directory, while CometBFT runs
# Transactions per broadcast batch (one HTTP round trip): at most what the home's
# rpc.max_request_batch_size allows (CometBFT's default is 10; `duet testnet` raises it).
FORWARD_BATCH = 500
FORWARD_CHUNK = 4  # calls in one of the JSON-RPC batches a forwarding sends at once
RETRY_S = 0.2  # CometBFT's RPC not up yet, or restarting
WATCH_S = 0.2  # how often the child's liveness is checked
COMETBFT_STOP_TIMEOUT_S = 10.0
TAIL_LINES = 15  # of CometBFT's log, when it exits
ALREADY_IN_MEMPOOL = "tx already exists in cache"  # CometBFT's answer to a repeated tx
TOO_LARGE = "Tx too large"  # CometBFT never takes it


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


def read_genesis_stakes(home: Path) -> dict[int, int]:
    """The ZK genesis's validator stakes (address → wei) that the network's genesis names:
    each attester's genesis power in stake (chain/consensus/stake.py)."""
    path = home / "config" / "genesis.json"
    try:
        app_state = json.loads(path.read_text()).get("app_state") or {}
        return compute_genesis_stakes(parse_attesters(app_state))
    except FileNotFoundError:
        raise BadCometHome(f"{home} has no {path}") from None
    except (ValueError, AttributeError, InvalidAttestation) as exc:
        raise BadCometHome(f"{path} names no usable attesters: {exc}") from None


def read_attest_key(home: Path) -> bytes | None:
    """The validator's Ethereum key for attestations (`duet testnet` writes one per home);
    None if the home has none: the validator then attests nothing."""
    path = home / "config" / ATTEST_KEY_FILE
    try:
        return bytes.fromhex(json.loads(path.read_text())["private_key"].removeprefix("0x"))
    except FileNotFoundError:
        return None
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise BadCometHome(f"{path} holds no private_key: {exc}") from None


def encode_broadcast(raw: bytes) -> tuple[str, dict[str, str]]:
    return "broadcast_tx_sync", {"tx": base64.b64encode(raw).decode()}


@dataclass(frozen=True)
class BroadcastAnswer:
    """What became of a broadcast transaction: "taken" (in CometBFT's mempool, or there
    already), "refused" (CheckTx said no, or CometBFT never takes it), or "retry" (CometBFT
    could not check it now: its mempool full, its connection to the app going down)."""

    verdict: str
    reason: str = ""


def classify_broadcast(answer: object) -> BroadcastAnswer:
    if isinstance(answer, RpcError):
        detail = f"{answer.message} {answer.data or ''}".strip()
        if ALREADY_IN_MEMPOOL in detail:
            return BroadcastAnswer("taken")
        if TOO_LARGE in detail:
            return BroadcastAnswer("refused", f"CometBFT refused it: {detail}")
        return BroadcastAnswer("retry", f"CometBFT could not take it now: {detail}")
    if not isinstance(answer, dict):
        return BroadcastAnswer("retry", f"CometBFT answered {answer!r:.200}")
    if int(answer.get("code", OK)) != OK:
        return BroadcastAnswer(
            "refused", f"refused by the network's mempool: {answer.get('log', '')}"
        )
    return BroadcastAnswer("taken")


def find_own_cometbft(pid_file: Path, home: Path) -> int | None:
    """The pid `pid_file` names if it is still a CometBFT running on `home`; None if it is
    gone (or the pid is another process's now)."""
    try:
        pid = int(pid_file.read_text())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except (FileNotFoundError, ValueError, ProcessLookupError):
        return None
    if str(home).encode() not in cmdline or not any(b"cometbft" in part for part in cmdline):
        return None
    return pid


def stop_leftover(pid_file: Path, home: Path) -> None:
    """A CometBFT of this home that outlived its node (the node was killed: its child gets
    SIGTERM and may still be shutting down, holding the home's database) is killed, and
    waited for, before a new one starts."""
    pid = find_own_cometbft(pid_file, home)
    if pid is None:
        return
    log.warning("a CometBFT (pid %d) of %s outlived its node: killing it", pid, home)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + COMETBFT_STOP_TIMEOUT_S
    # Gone, or a zombie (no command line), which holds no lock any more.
    while find_own_cometbft(pid_file, home) is not None and time.monotonic() < deadline:
        time.sleep(WATCH_S / 4)


@dataclass(frozen=True)
class Outgoing:
    """A transaction to forward: its key (hash or operation id), its CometBFT bytes, what
    to do if the network's mempool refuses it, and whether it is in one of the node's pools
    (a relayed proof is not: it is forwarded once)."""

    key: bytes
    raw: bytes
    on_refused: Callable[[str], None]
    pooled: bool = True


class CometSequencer:
    def __init__(
        self,
        node: Node,
        home: Path,
        binary: Path,
        pid_dir: Path | None = None,
        zk_interval_ms: int = DEFAULT_ZK_INTERVAL_MS,
    ) -> None:
        self.node = node
        self.home = home
        self.binary = binary
        self.pid_file = None if pid_dir is None else pid_dir / COMETBFT_PID_FILE
        self.settings = read_home_settings(home)
        limit = self.settings.batch_size
        self.batch_size = min(FORWARD_BATCH, limit) if limit > 0 else FORWARD_BATCH
        self.app = DuetApplication(node, zk_interval_ms, read_attest_key(home))
        self._wake = asyncio.Event()
        self._forwarded: set[bytes] = set()
        self._proofs: list[bytes] = []  # relayed submissions not forwarded yet
        node.submit_listeners.append(self._wake.set)
        node.op_listeners.append(self._wake.set)
        node.listeners.append(self._on_block)
        node.proof_relay = self._relay_proof

    async def run(self) -> None:
        if self.pid_file is not None:
            await asyncio.to_thread(stop_leftover, self.pid_file, self.home)
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

    def _relay_proof(self, job_id: JobId, result: bytes, signature: bytes) -> None:
        """A submission the desk checked: to the network, which counts it once committed."""
        self._proofs.append(encode_proof(job_id, result, signature))
        self._wake.set()

    def _on_block(self, block: LedgerBlock, fast: FastBlock | None) -> None:
        """After a committed block: drop the fast transactions it made unincludable (a nonce
        another transaction used), forget what left the pools (the ZK pool drops its own)."""
        node = self.node
        if fast is not None:
            stale = [
                tx.hash
                for tx in node.pool.by_hash.values()
                if tx.nonce < node.account(tx.sender).nonce
            ]
            for tx_hash in stale:
                node.drop_pending(tx_hash, "its nonce was used by another committed transaction")
        self._forwarded &= node.pool.by_hash.keys() | node.zk_pool.ids

    def _list_outgoing(self) -> list[Outgoing]:
        """What is waiting to go to CometBFT's mempool, at most a batch: relayed proofs,
        then ZK operations, then fast transactions."""
        node = self.node
        out = [
            Outgoing(keccak(raw), raw, lambda why: None, pooled=False)
            for raw in self._proofs[: self.batch_size]
        ]
        del self._proofs[: len(out)]
        for signed in node.zk_pool.ops:
            if len(out) == self.batch_size:
                return out
            if signed.op_id not in self._forwarded:
                raw = encode_zk_op(format_signed_operation(signed))
                out.append(Outgoing(signed.op_id, raw, partial(node.drop_zk_op, signed.op_id)))
        for tx_hash, tx in node.pool.by_hash.items():
            if len(out) == self.batch_size:
                return out
            if tx_hash not in self._forwarded:
                out.append(Outgoing(tx_hash, tx.raw, partial(node.drop_pending, tx_hash)))
        return out

    @staticmethod
    async def _broadcast(comet: AsyncRpcClient, batch: list[Outgoing]) -> list[Any]:
        """CometBFT's answers to `batch`, one per transaction in order. Its RPC answers the
        calls of one JSON-RPC batch one after another, each waiting for its CheckTx; split
        into a few batches sent at once, the CheckTx requests queue together on the app's
        mempool connection instead of one round trip at a time."""
        chunks = [batch[i : i + FORWARD_CHUNK] for i in range(0, len(batch), FORWARD_CHUNK)]
        answered = await asyncio.gather(
            *(comet.call_batch([encode_broadcast(o.raw) for o in chunk]) for chunk in chunks)
        )
        return [answer for answers in answered for answer in answers]

    def _is_admitted(self, key: bytes) -> bool:
        return key in self.node.pool or key in self.node.zk_pool

    async def _forward(self) -> None:
        self._wake.set()  # what was pending at start-up goes to the new mempool
        async with AsyncRpcClient(self.settings.rpc_url) as comet:
            while True:
                await self._wake.wait()
                self._wake.clear()
                batch = self._list_outgoing()
                if not batch:
                    continue
                try:
                    answers = await self._broadcast(comet, batch)
                except (NodeUnreachable, RpcError) as exc:
                    log.debug("forwarding waits for CometBFT: %s", exc)
                    self._proofs[:0] = [o.raw for o in batch if not o.pooled]
                    await asyncio.sleep(RETRY_S)
                    self._wake.set()
                    continue
                retry = False
                for outgoing, answer in zip(batch, answers, strict=True):
                    if outgoing.pooled and not self._is_admitted(outgoing.key):
                        continue  # committed or dropped meanwhile
                    result = classify_broadcast(answer)
                    if result.verdict == "retry":
                        log.debug("transaction 0x%s waits: %s", outgoing.key.hex(), result.reason)
                        if not outgoing.pooled:
                            self._proofs.append(outgoing.raw)
                        retry = True
                        continue
                    if outgoing.pooled:
                        self._forwarded.add(outgoing.key)
                    if result.verdict == "refused":
                        log.info("transaction 0x%s dropped: %s", outgoing.key.hex(), result.reason)
                        outgoing.on_refused(result.reason)
                if retry:
                    await asyncio.sleep(RETRY_S)
                    self._wake.set()
                if len(batch) == self.batch_size:
                    self._wake.set()
