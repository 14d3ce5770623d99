"""Game moves on the fast chain: sustained throughput and submit-to-receipt latency.

Runs the same load, from the same web3.py client, against each target in turn (the Duet
node's fast chain and anvil by default) and prints one JSON object on stdout. Progress goes
to stderr. Method and meaning of every figure: bench/README.md.

    .venv/bin/python bench/fast_chain.py [--duration S] [--rate R] [--targets duet,duet_pyevm,anvil]
                                         [--json-only]
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import math
import os
import platform
import signal
import sys
import tempfile
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

from _rpc import Web3, make_web3
from _targets import ROOT, TARGETS, Node, Target, get_group_cpu_s
from coincurve import PrivateKey
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_typing import ChecksumAddress, HexStr
from rich.console import Console
from web3.types import RPCEndpoint, TxParams

from chain.fast.tx_signing import DynamicFeeTx, sign_dynamic_fee_tx
from chain.types import Address

DEFAULT_DURATION_S = 10.0
DEFAULT_RATE_PER_S = 100.0
DEFAULT_ARTIFACT = ROOT / "build" / "contracts" / "MoveBench.json"

MNEMONIC = "test test test test test test test test test test test junk"
SENDER_COUNT = 10  # one sender per funded dev account
WINDOW = 8  # transactions a sender keeps unconfirmed during the throughput phase
POLL_S = 0.002  # receipt polling interval
RECEIPT_TIMEOUT_S = 60.0  # a move with no receipt after this long counts as failed
TIP_WEI = 10**9
FEE_CAP_FACTOR = 3  # max fee = this × the price seen at start + tip: room for base-fee rises
GAS_HEADROOM = 1.5  # gas limit = estimate of a first move (the dearest one) × this
DIRECTIONS = (0, 1, 2, 3)  # cycled, so a player walks in a small square


class MoveError(RuntimeError):
    """The node refused a move, or a call about it failed."""


@dataclass(frozen=True)
class Fees:
    """Chain ID and EIP-1559 fee fields, fixed for a whole run on one target."""

    chain_id: int
    max_fee_wei: int
    tip_wei: int


@dataclass(frozen=True)
class MovePlan:
    """Everything that is the same in every move a target receives."""

    fees: Fees
    contract: ChecksumAddress
    calldata: tuple[HexStr, ...]  # one per direction
    gas: int


@dataclass
class Tally:
    """Outcome of one phase on one target."""

    sent: int = 0
    confirmed: int = 0
    failed: int = 0
    latencies_s: list[float] = field(default_factory=list)
    started_at: float = 0.0
    ended_at: float = 0.0  # when the phase's last move was settled, confirmed or not
    last_receipt_at: float = 0.0
    max_send_lag_s: float | None = None  # latency phase only: send start minus due time

    def record_receipt(self, status: int | None, sent_at: float, seen_at: float) -> None:
        if status == 1:
            self.confirmed += 1
            self.latencies_s.append(seen_at - sent_at)
        else:
            self.failed += 1
        self.last_receipt_at = max(self.last_receipt_at, seen_at)


@dataclass(frozen=True)
class SentMove:
    tx_hash: HexStr
    sent_at: float  # perf_counter() just before the send call


class Sender:
    """One dev account with its own HTTP session and a locally managed nonce."""

    def __init__(self, account: LocalAccount, w3: Web3, plan: MovePlan, nonce: int) -> None:
        self.account = account
        self.w3 = w3
        self.plan = plan
        self.nonce = nonce
        self.moves = 0
        # Held from signing to the end of the send, so nonces reach the node in order.
        self.lock = asyncio.Lock()

    async def send_move(self) -> SentMove:
        plan = self.plan
        data = plan.calldata[self.moves % len(plan.calldata)]
        raw = sign_tx(self.account, plan.fees, self.nonce, plan.gas, data, plan.contract)
        sent_at = time.perf_counter()
        try:
            tx_hash = await self.w3.eth.send_raw_transaction(raw)
        except Exception as error:
            # Whether the nonce was used is unknown after a failure: ask the node.
            self.nonce = await self.w3.eth.get_transaction_count(self.account.address, "pending")
            raise MoveError(str(error)) from error
        self.nonce += 1
        self.moves += 1
        return SentMove(HexStr(tx_hash.to_0x_hex()), sent_at)


def sign_tx(
    account: LocalAccount,
    fees: Fees,
    nonce: int,
    gas: int,
    data: HexStr,
    to: ChecksumAddress | None = None,
) -> bytes:
    """An EIP-1559 transaction with every field explicit, signed locally: eth-account's bytes
    (chain/fast/tx_signing.py), at a tenth of eth-account's CPU, which the client would
    otherwise take from the target on a two-core machine."""
    tx = DynamicFeeTx(
        chain_id=fees.chain_id,
        nonce=nonce,
        max_priority_fee_per_gas=fees.tip_wei,
        max_fee_per_gas=fees.max_fee_wei,
        gas=gas,
        to=None if to is None else Address(bytes.fromhex(to[2:])),
        value=0,
        data=bytes.fromhex(data[2:]),
    )
    return sign_dynamic_fee_tx(tx, get_signing_key(bytes(account.key)))


@functools.lru_cache(maxsize=64)
def get_signing_key(key: bytes) -> PrivateKey:
    return PrivateKey(key)


async def fetch_receipt_status(w3: Web3, tx_hash: HexStr) -> int | None:
    """The receipt's status, or None while the transaction is not in a block.

    Straight through the provider: this is the hot loop, and web3.py's result formatters and
    not-found exception would add client CPU time that is then charged to the target.
    """
    response = await w3.provider.make_request(RPCEndpoint("eth_getTransactionReceipt"), [tx_hash])
    if "error" in response:
        raise MoveError(f"eth_getTransactionReceipt: {response['error']}")
    receipt = response.get("result")
    if receipt is None:
        return None
    return int(receipt["status"], 16)


async def wait_receipt_status(w3: Web3, tx_hash: HexStr) -> int | None:
    """Poll every POLL_S; None if no receipt within RECEIPT_TIMEOUT_S."""
    deadline = time.perf_counter() + RECEIPT_TIMEOUT_S
    while time.perf_counter() < deadline:
        status = await fetch_receipt_status(w3, tx_hash)
        if status is not None:
            return status
        await asyncio.sleep(POLL_S)
    return None


# --- setup ----------------------------------------------------------------------------------


def get_dev_accounts(count: int) -> list[LocalAccount]:
    Account.enable_unaudited_hdwallet_features()
    return [
        Account.from_mnemonic(MNEMONIC, account_path=f"m/44'/60'/0'/0/{index}")
        for index in range(count)
    ]


def load_artifact(path: Path) -> tuple[list[dict[str, Any]], HexStr]:
    artifact = json.loads(path.read_text())
    bytecode: str = artifact["bytecode"]
    if isinstance(artifact["bytecode"], dict):  # solc standard-JSON shape
        bytecode = artifact["bytecode"]["object"]
    return artifact["abi"], HexStr(bytecode if bytecode.startswith("0x") else "0x" + bytecode)


async def get_fees(w3: Web3) -> Fees:
    latest = await w3.eth.get_block("latest")
    price = max(int(latest.get("baseFeePerGas", 0)), await w3.eth.gas_price)
    return Fees(await w3.eth.chain_id, FEE_CAP_FACTOR * price + TIP_WEI, TIP_WEI)


async def deploy(w3: Web3, deployer: LocalAccount, bytecode: HexStr, fees: Fees) -> ChecksumAddress:
    gas = await w3.eth.estimate_gas({"from": deployer.address, "data": bytecode})
    nonce = await w3.eth.get_transaction_count(deployer.address, "pending")
    raw = sign_tx(deployer, fees, nonce, math.ceil(gas * GAS_HEADROOM), bytecode)
    tx_hash = await w3.eth.send_raw_transaction(raw)
    if await wait_receipt_status(w3, HexStr(tx_hash.to_0x_hex())) != 1:
        raise RuntimeError("MoveBench deployment failed")
    receipt = await w3.eth.get_transaction_receipt(tx_hash)
    address = receipt["contractAddress"]
    if address is None:
        raise RuntimeError("MoveBench deployment receipt has no contract address")
    return address


async def prepare_plan(w3: Web3, accounts: Sequence[LocalAccount], artifact: Path) -> MovePlan:
    abi, bytecode = load_artifact(artifact)
    fees = await get_fees(w3)
    address = await deploy(w3, accounts[0], bytecode, fees)
    contract = w3.eth.contract(address=address, abi=abi)
    calldata = tuple(HexStr(contract.encode_abi("move", args=[d])) for d in DIRECTIONS)
    # accounts[1] has never moved, so this prices the fresh-slot writes of a first move.
    first_move: TxParams = {"from": accounts[1].address, "to": address, "data": calldata[0]}
    gas = math.ceil(await w3.eth.estimate_gas(first_move) * GAS_HEADROOM)
    return MovePlan(fees, address, calldata, gas)


async def open_senders(
    w3: Web3, url: str, accounts: Sequence[LocalAccount], plan: MovePlan
) -> list[Sender]:
    senders = []
    for account in accounts:
        nonce = await w3.eth.get_transaction_count(account.address, "pending")
        senders.append(Sender(account, await make_web3(url), plan, nonce))
    return senders


async def warm_up(senders: Sequence[Sender]) -> None:
    """One confirmed move per sender, unmeasured: opens connections, initialises storage."""

    async def one(sender: Sender) -> None:
        move = await sender.send_move()
        if await wait_receipt_status(sender.w3, move.tx_hash) != 1:
            raise RuntimeError(f"warm-up move from {sender.account.address} failed")

    await asyncio.gather(*(one(sender) for sender in senders))


# --- phases ---------------------------------------------------------------------------------


async def run_throughput(senders: Sequence[Sender], duration_s: float) -> Tally:
    """Every sender keeps WINDOW moves unconfirmed until the deadline, then drains."""
    tally = Tally(started_at=time.perf_counter())
    deadline = tally.started_at + duration_s
    await asyncio.gather(*(pump(sender, deadline, tally) for sender in senders))
    tally.ended_at = time.perf_counter()
    return tally


async def pump(sender: Sender, deadline: float, tally: Tally) -> None:
    outstanding: deque[SentMove] = deque()
    while True:
        if time.perf_counter() < deadline and len(outstanding) < WINDOW:
            tally.sent += 1
            try:
                outstanding.append(await sender.send_move())
            except MoveError:
                tally.failed += 1
                await asyncio.sleep(POLL_S)
            continue
        if not outstanding:
            return
        # Nonce order: no later move can be in a block before the oldest one is.
        oldest = outstanding[0]
        status = await fetch_receipt_status(sender.w3, oldest.tx_hash)
        now = time.perf_counter()
        if status is not None:
            outstanding.popleft()
            tally.record_receipt(status, oldest.sent_at, now)
        elif now - oldest.sent_at > RECEIPT_TIMEOUT_S:
            tally.failed += len(outstanding)
            return
        else:
            await asyncio.sleep(POLL_S)


async def run_latency(senders: Sequence[Sender], rate_per_s: float, duration_s: float) -> Tally:
    """Open loop: move i is due at start + i / rate, from sender i mod K."""
    count = max(1, round(rate_per_s * duration_s))
    tally = Tally(started_at=time.perf_counter())
    moves = []
    for index in range(count):
        due = tally.started_at + index / rate_per_s
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        sender = senders[index % len(senders)]
        moves.append(asyncio.create_task(timed_move(sender, due, tally)))
    await asyncio.gather(*moves)
    tally.ended_at = time.perf_counter()
    return tally


async def timed_move(sender: Sender, due: float, tally: Tally) -> None:
    tally.sent += 1
    try:
        async with sender.lock:
            move = await sender.send_move()
    except MoveError:
        tally.failed += 1
        return
    tally.max_send_lag_s = max(tally.max_send_lag_s or 0.0, move.sent_at - due)
    status = await wait_receipt_status(sender.w3, move.tx_hash)
    tally.record_receipt(status, move.sent_at, time.perf_counter())


# --- figures --------------------------------------------------------------------------------


def compute_percentile(samples: Sequence[float], percent: float) -> float | None:
    """Nearest-rank percentile."""
    if not samples:
        return None
    ordered = sorted(samples)
    rank = max(1, math.ceil(percent / 100 * len(ordered)))
    return ordered[rank - 1]


def to_ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 2)


@dataclass(frozen=True)
class Usage:
    """Counters read before and after a phase."""

    client_cpu_s: float
    node_cpu_s: float | None
    rpc_calls: int


def get_usage(node: Node, senders: Sequence[Sender]) -> Usage:
    calls = sum(sender.w3.provider.calls for sender in senders)
    return Usage(time.process_time(), get_group_cpu_s(node.pgid), calls)


def compute_cpu_pct(used_s: float | None, wall_s: float) -> float | None:
    # 100 % is one core fully busy.
    return None if used_s is None else round(100 * used_s / wall_s, 1)


def summarize_phase(tally: Tally, before: Usage, after: Usage) -> dict[str, Any]:
    wall = max(tally.ended_at - tally.started_at, 1e-9)
    to_last_receipt = (tally.last_receipt_at or tally.ended_at) - tally.started_at
    node_s = None
    if after.node_cpu_s is not None and before.node_cpu_s is not None:
        node_s = after.node_cpu_s - before.node_cpu_s
    return {
        "sent": tally.sent,
        "confirmed": tally.confirmed,
        "failed": tally.failed,
        "elapsed_s": round(to_last_receipt, 3),
        "moves_per_s": round(tally.confirmed / to_last_receipt, 1) if tally.confirmed else 0.0,
        "p50_ms": to_ms(compute_percentile(tally.latencies_s, 50)),
        "p99_ms": to_ms(compute_percentile(tally.latencies_s, 99)),
        "max_send_lag_ms": to_ms(tally.max_send_lag_s),
        "client_cpu_pct": compute_cpu_pct(after.client_cpu_s - before.client_cpu_s, wall),
        "node_cpu_pct": compute_cpu_pct(node_s, wall),
        "rpc_calls_per_move": round((after.rpc_calls - before.rpc_calls) / max(tally.sent, 1), 2),
    }


def summarize_target(throughput: dict[str, Any], latency: dict[str, Any]) -> dict[str, Any]:
    phases = (throughput, latency)
    return {
        "moves_per_s": throughput["moves_per_s"],
        "p50_ms": latency["p50_ms"],
        "p99_ms": latency["p99_ms"],
        "sent": sum(phase["sent"] for phase in phases),
        "confirmed": sum(phase["confirmed"] for phase in phases),
        "failed": sum(phase["failed"] for phase in phases),
        "phases": {"throughput": throughput, "latency": latency},
    }


def compute_ratio(results: dict[str, dict[str, Any]]) -> float | None:
    duet = results.get("duet", {}).get("moves_per_s")
    anvil = results.get("anvil", {}).get("moves_per_s")
    if not duet or not anvil:
        return None
    return round(float(duet) / float(anvil), 3)


# --- driver ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    duration_s: float
    rate_per_s: float
    artifact: Path
    targets: tuple[Target, ...]


async def measure(name: str, node: Node, settings: Settings, console: Console) -> dict[str, Any]:
    accounts = get_dev_accounts(SENDER_COUNT)
    control = await make_web3(node.url)
    senders: list[Sender] = []
    try:
        plan = await prepare_plan(control, accounts, settings.artifact)
        senders = await open_senders(control, node.url, accounts, plan)
        await warm_up(senders)
        console.log(f"{name}: MoveBench at {plan.contract}, gas limit {plan.gas} per move")

        before = get_usage(node, senders)
        tally = await run_throughput(senders, settings.duration_s)
        throughput = summarize_phase(tally, before, get_usage(node, senders))
        console.log(
            f"{name}: throughput {throughput['moves_per_s']} moves/s, "
            f"{throughput['confirmed']}/{throughput['sent']} confirmed in "
            f"{throughput['elapsed_s']} s (CPU: node {throughput['node_cpu_pct']}%, "
            f"client {throughput['client_cpu_pct']}%)"
        )

        before = get_usage(node, senders)
        tally = await run_latency(senders, settings.rate_per_s, settings.duration_s)
        latency = summarize_phase(tally, before, get_usage(node, senders))
        console.log(
            f"{name}: latency at {settings.rate_per_s:g} moves/s: p50 {latency['p50_ms']} ms, "
            f"p99 {latency['p99_ms']} ms, {latency['confirmed']}/{latency['sent']} confirmed"
        )
        return summarize_target(throughput, latency)
    finally:
        for w3 in (control, *(sender.w3 for sender in senders)):
            await w3.provider.disconnect()


def bench_target(target: Target, settings: Settings, console: Console) -> dict[str, Any]:
    with (
        tempfile.TemporaryDirectory(prefix=f"duet-bench-{target.name}-") as scratch,
        target.launch(Path(scratch)) as node,
    ):
        console.log(f"{target.name}: node up at {node.url}")
        return asyncio.run(measure(target.name, node, settings, console))


def parse_args(argv: Sequence[str] | None) -> tuple[Settings, bool]:
    by_name = {target.name: target for target in TARGETS}
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=DEFAULT_DURATION_S, help="s per phase")
    parser.add_argument("--rate", type=float, default=DEFAULT_RATE_PER_S, help="moves/s, latency")
    parser.add_argument("--targets", default=",".join(by_name), help="comma-separated names")
    parser.add_argument("--artifact", type=Path, default=DEFAULT_ARTIFACT, help="MoveBench JSON")
    parser.add_argument("--json-only", action="store_true", help="no progress on stderr")
    args = parser.parse_args(argv)
    names = [name.strip() for name in args.targets.split(",") if name.strip()]
    unknown = [name for name in names if name not in by_name]
    if unknown or not names:
        parser.error(f"--targets: unknown {unknown}; known: {', '.join(by_name)}")
    if args.duration <= 0 or args.rate <= 0:
        parser.error("--duration and --rate must be positive")
    if not args.artifact.exists():
        parser.error(f"{args.artifact} not found: compile the contracts first")
    targets = tuple(by_name[name] for name in names)
    return Settings(args.duration, args.rate, args.artifact, targets), args.json_only


def raise_interrupt(signum: int, frame: object) -> NoReturn:
    # SIGTERM takes the same path as Ctrl+C, so every `finally` stops its node.
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    settings, json_only = parse_args(argv)
    console = Console(stderr=True, quiet=json_only, log_path=False)
    signal.signal(signal.SIGTERM, raise_interrupt)
    results: dict[str, dict[str, Any]] = {}
    for target in settings.targets:
        try:
            results[target.name] = bench_target(target, settings, console)
        except Exception as error:
            console.log(f"[red]{target.name}: {type(error).__name__}: {error}")
            results[target.name] = {"error": f"{type(error).__name__}: {error}"}
    report = {
        **results,
        "ratio_throughput": compute_ratio(results),
        "params": {
            "targets": [target.name for target in settings.targets],
            "duration_s": settings.duration_s,
            "rate_per_s": settings.rate_per_s,
            "senders": SENDER_COUNT,
            "window": WINDOW,
            "poll_ms": POLL_S * 1000,
            "tx_type": "EIP-1559",
            "artifact": str(settings.artifact),
        },
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
    }
    print(json.dumps(report, indent=2))
    return 1 if any("error" in result for result in results.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
