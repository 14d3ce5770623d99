"""`soak`: bots play arena rounds on a dev node (L1, prover and agent included) for a long
while, as `duet play --bots` plays them (game/crew.py's `play_rounds`: join with a pass
proof, move, close the round); each round's rewards go to the ZK chain and settle on L1.

Measured: every move from the start of its `eth_sendRawTransaction` to its log on a `logs`
subscription (what another player's screen shows), and the node process's resident memory
once a second. The first and the last window (5 minutes, or a quarter of a shorter run) are
compared: `rss_growth` and `p99_growth` are last / first - 1. `lost` counts moves the node
acknowledged that have no receipt at the end (a reverted move has one: it is not lost).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eth_utils import keccak

from chain.client.zk import ZkClient
from chain.fast.genesis import dev_keys
from chain.ledger.store import DATABASE_FILE
from chain.testing.node_process import NodeProcess
from game.arena import Arena
from game.board import ArenaEvent, Moved
from game.bots import DIFFICULTIES, run_bot
from game.crew import Bot, play_rounds
from game.devsetup import ensure_arena, ensure_pass
from game.feed import BoardFollower, follow_arena
from game.session import Endpoints
from game.socket import ChainSocket

BOT_ACCOUNTS = (1, 2, 3, 4, 5, 6, 7, 8)  # dev account 0 mints the passes
ROUND_S = 30
DIFFICULTY = "normal"
WINDOW_S = 300.0  # compared at the start and the end; a quarter of a shorter run
SAMPLE_S = 1.0
DRAIN_S = 10.0  # after the bots stop, for the last moves' logs and receipts

Progress = Callable[[str], None]


@dataclass
class Samples:
    sent: dict[str, float] = field(default_factory=dict)  # tx hash → when sending began
    acked: set[str] = field(default_factory=set)  # tx hashes the node answered
    seen: dict[str, float] = field(default_factory=dict)  # tx hash → when its log arrived
    rss: list[tuple[float, int]] = field(default_factory=list)  # (when, bytes)


class TimedSocket(ChainSocket):
    """A chain socket that notes when each transaction's sending began (by its hash, known
    before the answer: a bot stopped while it waits still sent it) and which the node
    acknowledged."""

    def __init__(self, url: str, samples: Samples) -> None:
        super().__init__(url)
        self.samples = samples

    async def send_raw_transaction(self, raw: bytes) -> str:
        self.samples.sent["0x" + keccak(raw).hex()] = time.monotonic()
        tx_hash = await super().send_raw_transaction(raw)
        self.samples.acked.add(tx_hash.lower())
        return tx_hash


def read_rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def compute_p99(values: list[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(0.99 * len(ordered)) - 1)]


def compute_growth(first: float | None, last: float | None) -> float | None:
    if first is None or last is None or first == 0:
        return None
    return round(last / first - 1, 3)


def summarize(samples: Samples, began: float, ended: float) -> dict[str, Any]:
    window = min(WINDOW_S, (ended - began) / 4)
    early, late = began + window, ended - window
    sent = samples.sent
    latencies = [(sent[h], samples.seen[h] - sent[h]) for h in samples.seen if h in sent]
    latencies = [(t, ms) for t, ms in latencies if t >= began]
    p99_first = compute_p99([d * 1000 for t, d in latencies if t < early])
    p99_last = compute_p99([d * 1000 for t, d in latencies if t >= late])
    rss_first = [r for t, r in samples.rss if t < early]
    rss_last = [r for t, r in samples.rss if t >= late]
    mean_first = sum(rss_first) / len(rss_first) if rss_first else None
    mean_last = sum(rss_last) / len(rss_last) if rss_last else None
    return {
        "window_s": round(window, 1),
        "rss_first_mb": None if mean_first is None else round(mean_first / 2**20, 1),
        "rss_last_mb": None if mean_last is None else round(mean_last / 2**20, 1),
        "rss_growth": compute_growth(mean_first, mean_last),
        "p99_first_ms": None if p99_first is None else round(p99_first, 2),
        "p99_last_ms": None if p99_last is None else round(p99_last, 2),
        "p99_growth": compute_growth(p99_first, p99_last),
        "moves": len(samples.acked),
    }


def run_soak(workdir: Path, minutes: float, progress: Progress) -> dict[str, Any]:
    node = NodeProcess(workdir / "soak-node")
    node.start()
    try:
        endpoints = Endpoints(node.fast_http, node.fast_ws, node.zk_http)
        arena = ensure_arena(node.data_dir, endpoints, round_seconds=ROUND_S)
        keys = dev_keys()
        bots = [Bot(keys[a], ensure_pass(endpoints, keys[a]), a) for a in BOT_ACCOUNTS]
        progress(f"soak: {len(bots)} bots with passes; playing {minutes} min")
        assert node.proc is not None
        return asyncio.run(play(node, endpoints, Arena(node.fast_http, arena), bots, minutes))
    finally:
        node.stop()


async def play(
    node: NodeProcess, endpoints: Endpoints, arena: Arena, bots: list[Bot], minutes: float
) -> dict[str, Any]:
    assert node.proc is not None
    samples = Samples()
    follower = BoardFollower()

    def on_event(event: ArenaEvent, log: dict[str, Any]) -> None:
        follower.on_event(event, log)
        if isinstance(event, Moved):
            samples.seen.setdefault(str(log["transactionHash"]).lower(), time.monotonic())

    async with TimedSocket(endpoints.fast_ws, samples) as chain:
        feed = asyncio.create_task(follow_arena(chain, arena, on_event, follower.on_rewind))
        difficulty = DIFFICULTIES[DIFFICULTY]
        first = bots[0]  # opens the first round: the others join once the feed shows it
        seat = await asyncio.to_thread(
            arena.join, first.key, ZkClient(endpoints.zk_http, first.key), first.pass_token
        )

        async def open_then_play() -> None:
            await run_bot(chain, seat, follower, difficulty, random.Random(first.seed))
            await play_rounds(endpoints, chain, arena, follower, first, difficulty)

        crew = [asyncio.create_task(open_then_play())]
        crew += [
            asyncio.create_task(play_rounds(endpoints, chain, arena, follower, bot, difficulty))
            for bot in bots[1:]
        ]
        zk_before = await chain.call("duet_heads", [])
        began = time.monotonic()
        first_round = follower.board.round
        while time.monotonic() - began < minutes * 60:
            samples.rss.append((time.monotonic(), read_rss(node.proc.pid)))
            if feed.done() or any(task.done() for task in crew):
                break  # a bot or the feed died: its error is raised below
            await asyncio.sleep(SAMPLE_S)
        ended = time.monotonic()
        rounds = follower.board.round - first_round
        for task in crew:
            task.cancel()
        results = await asyncio.gather(*crew, return_exceptions=True)
        await asyncio.sleep(DRAIN_S)
        feed.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await feed
        failed = [r for r in results if isinstance(r, Exception)]
        if failed:
            raise RuntimeError(f"a bot failed: {failed[0]!r}") from failed[0]
        lost = [h for h in samples.acked if h not in samples.seen]
        lost = [h for h in lost if await chain.call("eth_getTransactionReceipt", [h]) is None]
        zk_after = await chain.call("duet_heads", [])
    summary = summarize(samples, began, ended)
    settlement = endpoints_settlement(endpoints)
    database = sum(f.stat().st_size for f in node.data_dir.glob(DATABASE_FILE + "*"))
    return {
        **summary,
        # SQLite's page cache (Store: 16 MiB at most) grows with the database it caches: part
        # of the resident memory's growth until the database outgrows it.
        "database_mb": round(database / 2**20, 1),
        "rounds": rounds,
        "lost": len(lost),
        "zk_blocks": zk_after["zk"]["height"] - zk_before["zk"]["height"],
        **settlement,
    }


def endpoints_settlement(endpoints: Endpoints) -> dict[str, Any]:
    from chain.jsonrpc import RpcClient

    zk = RpcClient(endpoints.zk_http)
    status = zk.call("duet_getSettlementStatus", [])
    totals = zk.call("duet_getTotals", [])
    return {
        "settled_height": status["settledHeight"],
        "fast_messages_taken": int(totals["nextFastMessage"], 16),
    }
