"""The decentralized mode under load: a local network of N validators (`duet testnet`), game
moves sent to one node's JSON-RPC, watched until soft and until final.

For each network size (`--sizes`, default 1,4,7) a fresh network starts in a scratch
directory; MoveBench is deployed through validator 0; then two phases run:

- throughput: ten senders (dev accounts) each keep `WINDOW` moves unconfirmed for
  `--duration` seconds; `moves_per_s` counts the moves whose log reached the `logs`
  subscription (final: the height committed) in that time;
- latency: moves at `--rate` a second; for each, from the start of its
  `eth_sendRawTransaction` to its log on the `pendingLogs` subscription (pending: validator
  0 admitted it and simulated it on its head state, what the game forecasts from), on
  `softLogs` (soft: in a proposal validator 0 made or accepted) and on `logs` (final).

`height_ms_*` are the gaps between consecutive CometBFT header times over both phases.
Moves are signed before a phase starts, so the client's CPU goes to sending and listening.
Progress goes to stderr, one JSON object to stdout; method and meaning: bench/README.md.

    .venv/bin/python bench/testnet.py [--sizes 1,4,7] [--duration 10] [--rate 50] [--json-only]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import platform
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import keccak, to_checksum_address
from fast_chain import compute_percentile, load_artifact, to_ms
from websockets.asyncio.client import connect

from chain.config import MIN_BASE_FEE_WEI
from chain.fast.genesis import dev_keys
from chain.jsonrpc import AsyncRpcClient, RpcClient
from chain.testnet import Testnet

ROOT = Path(__file__).resolve().parent.parent
ARTIFACT = ROOT / "build" / "contracts" / "MoveBench.json"
DEFAULT_SIZES = (1, 4, 7)
DEFAULT_DURATION_S = 10.0
DEFAULT_RATE_PER_S = 50.0
SENDERS = 9  # dev accounts 1..9 (account 0 deploys)
MAX_MOVES_PER_S = 1500  # more than any network here confirms: senders never run dry
WINDOW = 32  # moves a sender keeps unconfirmed in the throughput phase (a busy game)
MOVE_GAS = 150_000  # a first move (two fresh storage slots) uses about 70 000
MAX_FEE_WEI = 10 * MIN_BASE_FEE_WEI
CHAIN_ID = 7702
SETTLE_S = 20.0  # after a phase, how long moves still in flight may take
MOVE_SELECTOR = keccak(text="move(uint8)")[:4]


def say(text: str, quiet: bool) -> None:
    if not quiet:
        print(text, file=sys.stderr, flush=True)


def sign_moves(account: LocalAccount, contract: str, first_nonce: int, count: int) -> list[str]:
    """`count` moves from `account`, nonces from `first_nonce` on, walking a square."""
    moves = []
    for i in range(count):
        data = MOVE_SELECTOR + (i % 4).to_bytes(32, "big")
        tx = {
            "nonce": first_nonce + i,
            "gas": MOVE_GAS,
            "maxFeePerGas": MAX_FEE_WEI,
            "maxPriorityFeePerGas": 1,
            "to": contract,
            "data": "0x" + data.hex(),
            "value": 0,
            "chainId": CHAIN_ID,
        }
        moves.append("0x" + bytes(account.sign_transaction(tx).raw_transaction).hex())
    return moves


def compute_tx_hash(raw: str) -> str:
    return "0x" + keccak(bytes.fromhex(raw[2:])).hex()


@dataclass
class Watch:
    """When each move was sent, and when its log arrived pending, soft and final."""

    sent: dict[str, float] = field(default_factory=dict)
    pending: dict[str, float] = field(default_factory=dict)
    soft: dict[str, float] = field(default_factory=dict)
    final: dict[str, float] = field(default_factory=dict)
    final_event: asyncio.Event = field(default_factory=asyncio.Event)


async def follow(ws_url: str, contract: str, watch: Watch, ready: asyncio.Event) -> None:
    """Record each Moved log's arrival on `pendingLogs`, `softLogs` and `logs`."""
    async with connect(ws_url, max_size=None) as socket:
        kinds = {}
        for request_id, kind in enumerate(("pendingLogs", "softLogs", "logs")):
            params = [kind, {"address": contract}]
            request = {"jsonrpc": "2.0", "id": request_id, "method": "eth_subscribe"}
            await socket.send(json.dumps({**request, "params": params}))
            kinds[json.loads(await socket.recv())["result"]] = kind
        ready.set()
        async for message in socket:
            now = time.perf_counter()
            params = json.loads(message)["params"]
            log = params["result"]
            if log.get("removed"):
                continue
            tx_hash = log["transactionHash"]
            kind = kinds[params["subscription"]]
            if kind == "pendingLogs":
                watch.pending.setdefault(tx_hash, now)
            elif kind == "softLogs":
                watch.soft.setdefault(tx_hash, now)
            else:
                watch.final.setdefault(tx_hash, now)
                watch.final_event.set()


async def send(rpc: AsyncRpcClient, raw: str, watch: Watch) -> None:
    watch.sent[compute_tx_hash(raw)] = time.perf_counter()
    await rpc.call("eth_sendRawTransaction", [raw])


async def pump(rpc: AsyncRpcClient, moves: list[str], watch: Watch, deadline: float) -> None:
    """Send `moves` in order, never more than WINDOW of them not final, until `deadline`."""
    in_flight: list[str] = []
    for raw in moves:
        while True:
            in_flight = [h for h in in_flight if h not in watch.final]
            if len(in_flight) < WINDOW or time.perf_counter() >= deadline:
                break
            watch.final_event.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(watch.final_event.wait(), 0.05)
        if time.perf_counter() >= deadline:
            return
        await send(rpc, raw, watch)
        in_flight.append(compute_tx_hash(raw))


async def run_throughput(
    url: str, moves: list[list[str]], watch: Watch, duration_s: float
) -> dict[str, Any]:
    start = time.perf_counter()
    deadline = start + duration_s
    async with AsyncRpcClient(url) as rpc:
        await asyncio.gather(*(pump(rpc, mine, watch, deadline) for mine in moves))
    end = time.perf_counter()
    final = sum(1 for h, t in watch.final.items() if h in watch.sent and start <= t <= end)
    return {"sent": len(watch.sent), "final_in_time": final, "moves_per_s": final / duration_s}


async def run_latency(
    url: str, moves: list[list[str]], watch: Watch, rate_per_s: float, duration_s: float
) -> dict[str, Any]:
    interleaved = [m for group in zip(*moves, strict=False) for m in group]
    count = min(len(interleaved), int(rate_per_s * duration_s))
    start = time.perf_counter()
    async with AsyncRpcClient(url) as rpc:
        tasks = []
        for i, raw in enumerate(interleaved[:count]):
            await asyncio.sleep(max(0.0, start + i / rate_per_s - time.perf_counter()))
            tasks.append(asyncio.create_task(send(rpc, raw, watch)))
        await asyncio.gather(*tasks)
    hashes = [compute_tx_hash(raw) for raw in interleaved[:count]]
    deadline = time.perf_counter() + SETTLE_S
    while any(h not in watch.final for h in hashes) and time.perf_counter() < deadline:
        await asyncio.sleep(0.05)
    pending = [watch.pending[h] - watch.sent[h] for h in hashes if h in watch.pending]
    soft = [watch.soft[h] - watch.sent[h] for h in hashes if h in watch.soft]
    final = [watch.final[h] - watch.sent[h] for h in hashes if h in watch.final]
    return {
        "sent": count,
        "pending_seen": len(pending),
        "pending_ms_p50": to_ms(compute_percentile(pending, 50)),
        "pending_ms_p99": to_ms(compute_percentile(pending, 99)),
        "soft_confirmed": len(soft),
        "final": len(final),
        "soft_confirm_ms_p50": to_ms(compute_percentile(soft, 50)),
        "soft_confirm_ms_p99": to_ms(compute_percentile(soft, 99)),
        "final_ms_p50": to_ms(compute_percentile(final, 50)),
        "final_ms_p99": to_ms(compute_percentile(final, 99)),
    }


def compute_height_gaps_ms(comet_url: str, first: int, last: int) -> list[float]:
    comet = RpcClient(comet_url)
    times = []
    for height in range(first, last + 1):
        header = comet.call("header", {"height": str(height)})["header"]
        times.append(datetime.fromisoformat(header["time"]).timestamp())
    return [(b - a) * 1000 for a, b in itertools.pairwise(times)]


def comet_height(url: str) -> int:
    return int(RpcClient(url).call("status", {})["sync_info"]["latest_block_height"])


def deploy_move_bench(url: str, deployer: LocalAccount) -> str:
    _, bytecode = load_artifact(ARTIFACT)
    rpc = RpcClient(url)
    nonce = int(rpc.call("eth_getTransactionCount", [deployer.address, "pending"]), 16)
    tx = {
        "nonce": nonce,
        "gas": 1_000_000,
        "maxFeePerGas": MAX_FEE_WEI,
        "maxPriorityFeePerGas": 1,
        "data": bytecode,
        "value": 0,
        "chainId": CHAIN_ID,
    }
    tx_hash = rpc.call(
        "eth_sendRawTransaction",
        ["0x" + bytes(deployer.sign_transaction(tx).raw_transaction).hex()],
    )
    deadline = time.monotonic() + SETTLE_S
    while (receipt := rpc.call("eth_getTransactionReceipt", [tx_hash])) is None:
        if time.monotonic() > deadline:
            raise RuntimeError("MoveBench was not deployed")
        time.sleep(0.05)
    return to_checksum_address(receipt["contractAddress"])


async def measure(testnet: Testnet, settings: Settings, quiet: bool) -> dict[str, Any]:
    node = testnet.validators[0]
    senders = [Account.from_key(key) for key in dev_keys()[1 : 1 + SENDERS]]
    contract = deploy_move_bench(node.fast_http, Account.from_key(dev_keys()[0]))
    rpc = RpcClient(node.fast_http)
    nonces = [int(rpc.call("eth_getTransactionCount", [s.address, "pending"]), 16) for s in senders]
    # More than the network can take in the time (signing takes about 0.3 ms a move).
    per_sender = int(settings.duration_s * MAX_MOVES_PER_S / len(senders)) + WINDOW
    say(f"  signing {per_sender * SENDERS} moves …", quiet)
    throughput_moves = [
        sign_moves(s, contract, n, per_sender) for s, n in zip(senders, nonces, strict=True)
    ]
    latency_count = int(settings.rate_per_s * settings.duration_s / SENDERS) + 1
    watch = Watch()
    ready = asyncio.Event()
    follower = asyncio.create_task(follow(node.fast_ws, contract, watch, ready))
    await ready.wait()
    first_height = comet_height(node.comet_rpc)
    say(f"  throughput: {SENDERS} senders, window {WINDOW}, {settings.duration_s:.0f} s", quiet)
    throughput = await run_throughput(node.fast_http, throughput_moves, watch, settings.duration_s)
    await asyncio.sleep(2.0)  # what was in flight lands
    latency_moves = []
    for sender, mine, first in zip(senders, throughput_moves, nonces, strict=True):
        sent = sum(1 for raw in mine if compute_tx_hash(raw) in watch.sent)
        latency_moves.append(sign_moves(sender, contract, first + sent, latency_count))
    say(f"  latency: {settings.rate_per_s:.0f} moves/s for {settings.duration_s:.0f} s", quiet)
    latency = await run_latency(
        node.fast_http, latency_moves, watch, settings.rate_per_s, settings.duration_s
    )
    follower.cancel()
    gaps = compute_height_gaps_ms(node.comet_rpc, first_height, comet_height(node.comet_rpc))
    return {
        "height_ms_p50": round(compute_percentile(gaps, 50) or 0, 1),
        "height_ms_p99": round(compute_percentile(gaps, 99) or 0, 1),
        "heights": len(gaps) + 1,
        "moves_per_s": round(throughput["moves_per_s"], 1),
        "pending_ms_p50": latency["pending_ms_p50"],
        "soft_confirm_ms_p50": latency["soft_confirm_ms_p50"],
        "final_ms_p50": latency["final_ms_p50"],
        "phases": {"throughput": throughput, "latency": latency},
    }


@dataclass(frozen=True)
class Settings:
    sizes: tuple[int, ...]
    duration_s: float
    rate_per_s: float


def bench_size(validators: int, settings: Settings, quiet: bool) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="duet-bench-testnet-") as scratch:
        testnet = Testnet(Path(scratch) / "tn", validators)
        say(f"{validators} validators: starting …", quiet)
        try:
            testnet.start()
            return asyncio.run(measure(testnet, settings, quiet))
        except Exception as exc:  # one size failing does not lose the others
            return {"error": f"{type(exc).__name__}: {exc}"}
        finally:
            testnet.stop()


def parse_args(argv: Sequence[str] | None) -> tuple[Settings, bool]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default=",".join(map(str, DEFAULT_SIZES)))
    parser.add_argument("--duration", type=float, default=DEFAULT_DURATION_S)
    parser.add_argument("--rate", type=float, default=DEFAULT_RATE_PER_S)
    parser.add_argument("--json-only", action="store_true")
    args = parser.parse_args(argv)
    sizes = tuple(int(s) for s in args.sizes.split(","))
    return Settings(sizes, args.duration, args.rate), args.json_only


def main(argv: Sequence[str] | None = None) -> int:
    settings, quiet = parse_args(argv)
    results = {str(n): bench_size(n, settings, quiet) for n in settings.sizes}
    report = {
        "validators": results,
        "settings": {"duration_s": settings.duration_s, "rate_per_s": settings.rate_per_s},
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
    }
    print(json.dumps(report, indent=2))
    return 1 if any("error" in r for r in results.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
