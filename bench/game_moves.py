"""The arena game under load: from a move's submission to its appearance in another client.

Several bot players (`--players`, default 8) each send a move on a fixed timetable
(`--rate` per player, default 10 a second) for `--duration` seconds, each over a WebSocket of
its own; one more client, the observer, follows the moves through a `logs` subscription as
any other player's screen does. A move's latency is from the start of its
`eth_sendRawTransaction` to the moment its log reaches the observer.

The same load runs against the Duet node (the arena contract, bots choosing their steps with
game/bots.py from the board the observer's feed builds) and against anvil, the chain a game
developer would otherwise use (MoveBench, a stand-in for a move that never fails, with the
same senders and the same observer). Progress goes to stderr, one JSON object to stdout;
method and meaning of every figure: bench/README.md.

    .venv/bin/python bench/game_moves.py [--duration 20] [--players 8] [--rate 10]
                                   [--targets duet,anvil] [--json-only]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import platform
import random
import signal
import sys
import tempfile
import time
from collections.abc import Callable, Collection, Coroutine, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any, Protocol, TypeVar

from _targets import ROOT, Node, anvil_node, get_group_cpu_s
from eth_abi import encode as abi_encode
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_typing import ChecksumAddress, HexStr
from eth_utils import to_checksum_address
from fast_chain import Fees, compute_percentile, load_artifact, sign_tx, to_ms

from chain.client.zk import ZkClient
from chain.fast.genesis import dev_keys
from chain.jsonrpc import RpcError
from chain.testing.node_process import NodeProcess
from game.arena import MAX_FEE_WEI, MOVE_GAS, MOVE_SELECTOR, Arena, Seat  # MoveBench's too
from game.board import ArenaEvent, Moved
from game.bots import choose_move
from game.devsetup import ensure_arena, ensure_pass
from game.feed import BoardFollower, follow_arena
from game.session import Endpoints
from game.socket import ChainSocket

DEFAULT_DURATION_S = 20.0  # of sending
DEFAULT_PLAYERS = 8
DEFAULT_RATE_PER_S = 10.0  # moves per second, per player
DEFAULT_ARTIFACT = ROOT / "build" / "contracts" / "MoveBench.json"
TARGET_NAMES = ("duet", "anvil")

FIRST_PLAYER_ACCOUNT = 1  # dev account 0 mints the passes (Duet) and deploys MoveBench (anvil)
MAX_PLAYERS = 8  # dev accounts 1..8; 9 is the Duet node's own prover and agent
ROUND_S = 3600  # the arena's round: never over during a run
SKILL = 0.5  # game.bots.choose_move: the chance a step heads for the nearest item
SEED = 7  # of the players' random choices, so runs are comparable
START_DELAY_S = 0.2  # from scheduling the senders to the first move due
DRAIN_S = 3.0  # after the last send, how long a move may still show up
DRAIN_POLL_S = 0.05
SEATS_TIMEOUT_S = 30.0  # for the observer's board to show every seat
WARMUP_ROUND_S = 2.0  # a warm-up move not seen by then is sent again
WARMUP_TIMEOUT_S = 20.0
QUIET_WINDOW_S = 1.0  # the node's CPU use is measured over windows this long ...
QUIET_CPU_PCT = 30.0  # ... until a window is under this (100 = one core busy) ...
QUIET_TIMEOUT_S = 60.0  # ... or this much time has passed
RECEIPT_POLL_S = 0.01
RECEIPT_TIMEOUT_S = 30.0
TIP_WEI = 10**9  # anvil moves: priority fee
FEE_CAP_FACTOR = 3  # anvil moves: max fee = this × the price at start + tip
GAS_HEADROOM = 1.5  # anvil: gas limit = estimate × this
DIRECTIONS = range(4)

T = TypeVar("T")


class BenchError(RuntimeError):
    """A target could not be set up, or its observer lost the subscription."""


@dataclass(frozen=True)
class Settings:
    players: int
    rate_per_s: float
    duration_s: float
    targets: tuple[str, ...]
    artifact: Path
    json_only: bool

    @property
    def moves_per_player(self) -> int:
        return max(1, round(self.duration_s * self.rate_per_s))

    def progress(self, line: str) -> None:
        if not self.json_only:
            print(line, file=sys.stderr, flush=True)


def tx_key(value: Any) -> str:
    """A transaction hash as the lower-case 0x string both the sends and the logs give."""
    text = value if isinstance(value, str) else "0x" + bytes(value).hex()
    return text.lower()


# --- players ----------------------------------------------------------------------------------


class Mover(Protocol):
    """One player's next move, signed with a nonce counted locally."""

    def sign_next(self) -> bytes | None:
        """The next move's raw transaction, or None when there is no move to make."""
        ...

    def release(self) -> None:
        """The node refused the last move at the door: its nonce is free again."""
        ...


class ArenaMover:
    """A bot seated in the arena, choosing steps from the observer's board."""

    def __init__(self, seat: Seat, view: BoardFollower, rng: random.Random) -> None:
        self.seat = seat
        self.view = view
        self.rng = rng

    def sign_next(self) -> bytes | None:
        direction = choose_move(self.view.board, self.seat.address, SKILL, self.rng)
        return None if direction is None else self.seat.sign_move(direction)

    def release(self) -> None:
        self.seat.nonce -= 1


@dataclass(frozen=True)
class BenchPlan:
    """What every MoveBench move on anvil shares."""

    fees: Fees
    contract: ChecksumAddress
    gas: int


class BenchMover:
    """A dev account moving on anvil's MoveBench in random directions."""

    def __init__(
        self, account: LocalAccount, plan: BenchPlan, nonce: int, rng: random.Random
    ) -> None:
        self.account = account
        self.plan = plan
        self.nonce = nonce
        self.rng = rng

    def sign_next(self) -> bytes:
        data = encode_move(self.rng.choice(DIRECTIONS))
        raw = sign_tx(
            self.account, self.plan.fees, self.nonce, self.plan.gas, data, self.plan.contract
        )
        self.nonce += 1
        return raw

    def release(self) -> None:
        self.nonce -= 1


def encode_move(direction: int) -> HexStr:
    return HexStr("0x" + (MOVE_SELECTOR + abi_encode(["uint8"], [direction])).hex())


# --- the load ---------------------------------------------------------------------------------


@dataclass
class Tally:
    """The measured moves of one target: sends here, arrivals in the observer's dict."""

    sent: dict[str, float] = field(default_factory=dict)  # tx hash → perf_counter() at send
    send_rtts_s: list[float] = field(default_factory=list)  # send call to its answer
    send_lags_s: list[float] = field(default_factory=list)  # send start minus due time
    send_errors: int = 0  # moves the node refused at the door
    skipped: int = 0  # due moves a boxed-in bot had none for
    last_error: str = ""


async def drive(
    chain: ChainSocket, mover: Mover, first_due: float, settings: Settings, tally: Tally
) -> None:
    """Move i is due at first_due + i / rate. A late send is not made up for by waiting
    less after it: the timetable holds, so a slow node does not lower the offered rate."""
    for index in range(settings.moves_per_player):
        due = first_due + index / settings.rate_per_s
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        raw = mover.sign_next()
        if raw is None:
            tally.skipped += 1
            continue
        # Timed after signing, as the game screen times its moves (game/session.py).
        sent_at = time.perf_counter()
        tally.send_lags_s.append(sent_at - due)
        try:
            tx_hash = await chain.send_raw_transaction(raw)
        except RpcError as error:
            mover.release()
            tally.send_errors += 1
            tally.last_error = str(error)
            continue
        tally.send_rtts_s.append(time.perf_counter() - sent_at)
        tally.sent[tx_key(tx_hash)] = sent_at


async def wait_seen(hashes: Collection[str], arrivals: dict[str, float], timeout_s: float) -> None:
    deadline = time.perf_counter() + timeout_s
    while any(h not in arrivals for h in hashes) and time.perf_counter() < deadline:
        await asyncio.sleep(DRAIN_POLL_S)


async def warm_up(
    sockets: Sequence[ChainSocket], movers: Sequence[Mover], arrivals: dict[str, float]
) -> None:
    """Until every player has had one move seen by the observer, unmeasured. It proves the
    whole path works before measuring it, and a first move's one-off costs (fresh storage,
    first use of a socket) stay out of the figures. A move refused on chain is retried."""
    waiting = list(range(len(movers)))
    deadline = time.perf_counter() + WARMUP_TIMEOUT_S
    while waiting and time.perf_counter() < deadline:
        latest: dict[int, str] = {}
        for index in waiting:
            raw = movers[index].sign_next()
            if raw is None:
                continue
            try:
                latest[index] = tx_key(await sockets[index].send_raw_transaction(raw))
            except RpcError:
                movers[index].release()
        await wait_seen(latest.values(), arrivals, WARMUP_ROUND_S)
        waiting = [index for index in waiting if latest.get(index) not in arrivals]
    if waiting:
        raise BenchError(
            f"{len(waiting)} player(s) never saw a move of theirs in the subscription "
            f"within {WARMUP_TIMEOUT_S:.0f} s"
        )


@dataclass(frozen=True)
class Usage:
    """CPU seconds so far: this process, and the target's process group."""

    client_s: float
    node_s: float | None

    @staticmethod
    def read(pgid: int) -> Usage:
        return Usage(time.process_time(), get_group_cpu_s(pgid))


def compute_cpu_pct(used_s: float | None, wall_s: float) -> float | None:
    # 100 % is one core fully busy.
    return None if used_s is None else round(100 * max(0.0, used_s) / wall_s, 1)


async def wait_for_quiet(pgid: int, name: str, settings: Settings) -> dict[str, Any]:
    """Wait until the target's CPU use settles. Setup leaves work behind on a Duet node (its
    embedded prover proving the passes' mints and key registrations); measured alongside
    the moves, it would take CPU from them on a small machine."""
    started = time.perf_counter()
    before = get_group_cpu_s(pgid)
    if before is None:
        return {"quiet_after_s": None, "idle_node_cpu_pct": None}
    while True:
        await asyncio.sleep(QUIET_WINDOW_S)
        after = get_group_cpu_s(pgid)
        assert after is not None, "/proc was readable a second ago"
        pct = compute_cpu_pct(after - before, QUIET_WINDOW_S)
        waited = time.perf_counter() - started
        if (pct is not None and pct < QUIET_CPU_PCT) or waited > QUIET_TIMEOUT_S:
            settings.progress(f"{name}: node at {pct}% CPU after {waited:.0f} s; measuring")
            return {"quiet_after_s": round(waited, 1), "idle_node_cpu_pct": pct}
        before = after


@dataclass(frozen=True)
class Target:
    """A running node under test."""

    name: str
    ws_url: str  # where the senders connect
    pgid: int  # its process group, for its CPU use
    launched_at: float  # time.monotonic() when its start began


async def measure(
    target: Target,
    movers: Sequence[Mover],
    arrivals: dict[str, float],
    observer: ChainSocket,
    settings: Settings,
    forecasts: dict[str, float] | None = None,
) -> dict[str, Any]:
    """Warm up, then every mover on its timetable; the figures of the measured moves
    (`arrivals`: each move's block log by the observer; `forecasts`: its forecast)."""
    setup = {"setup_s": round(time.monotonic() - target.launched_at, 1)}
    quiet = await wait_for_quiet(target.pgid, target.name, settings)
    async with AsyncExitStack() as stack:
        sockets = [await stack.enter_async_context(ChainSocket(target.ws_url)) for _ in movers]
        await warm_up(sockets, movers, arrivals)
        settings.progress(
            f"{target.name}: {len(movers)} players × {settings.rate_per_s:g} moves/s "
            f"for {settings.duration_s:g} s"
        )
        before = Usage.read(target.pgid)
        started = time.perf_counter()
        tally = await run_load(sockets, movers, settings)
        # CPU over the sending only: the drain is mostly waiting for refused moves.
        wall = time.perf_counter() - started
        after = Usage.read(target.pgid)
        await wait_seen(list(tally.sent), arrivals, DRAIN_S)
    outcomes = await classify_unseen(observer, tally, arrivals)
    figures = summarize(tally, arrivals, outcomes, forecasts) | usage_figures(before, after, wall)
    return figures | setup | quiet


async def run_load(
    sockets: Sequence[ChainSocket], movers: Sequence[Mover], settings: Settings
) -> Tally:
    tally = Tally()
    first_due = time.perf_counter() + START_DELAY_S
    # Players are not in step: spread their timetables evenly over one period.
    spacing = 1 / (settings.rate_per_s * len(movers))
    await asyncio.gather(
        *(
            drive(chain, mover, first_due + k * spacing, settings, tally)
            for k, (chain, mover) in enumerate(zip(sockets, movers, strict=True))
        )
    )
    return tally


async def classify_unseen(
    observer: ChainSocket, tally: Tally, arrivals: dict[str, float]
) -> dict[str, int]:
    """Sent moves the observer never saw: refused by the contract (receipt status 0, as a
    bot's step into another player is), or missing (no receipt, or a log never pushed)."""
    refused = missing = 0
    for tx_hash in tally.sent:
        if tx_hash in arrivals:
            continue
        receipt = await observer.call("eth_getTransactionReceipt", [tx_hash])
        if receipt is not None and int(receipt["status"], 16) == 0:
            refused += 1
        else:
            missing += 1
    return {"refused": refused, "unseen": missing}


def summarize(
    tally: Tally,
    arrivals: dict[str, float],
    outcomes: dict[str, int],
    forecasts: dict[str, float] | None = None,
) -> dict[str, Any]:
    """Latency to the first sight of each move its block kept: its forecast where there is
    one (`pendingLogs`), else its block's log; with forecasts, the block's figures too."""
    first = arrivals
    extra: dict[str, Any] = {}
    if forecasts is not None:
        first = {h: min(t, forecasts.get(h, t)) for h, t in arrivals.items()}
        blocks = sorted(arrivals[h] - sent for h, sent in tally.sent.items() if h in arrivals)
        extra = {
            "block_p50_ms": to_ms(compute_percentile(blocks, 50)),
            "block_p99_ms": to_ms(compute_percentile(blocks, 99)),
            "forecast": sum(1 for h in tally.sent if h in arrivals and h in forecasts),
            "forecast_refused": sum(1 for h in forecasts if h in tally.sent and h not in arrivals),
        }
    latencies = sorted(first[h] - sent for h, sent in tally.sent.items() if h in first)
    figures: dict[str, Any] = {
        "p50_ms": to_ms(compute_percentile(latencies, 50)),
        "p90_ms": to_ms(compute_percentile(latencies, 90)),
        "p99_ms": to_ms(compute_percentile(latencies, 99)),
        "max_ms": to_ms(latencies[-1] if latencies else None),
        "moves_sent": len(tally.sent),
        "moves_seen": len(latencies),
        **outcomes,
        "send_errors": tally.send_errors,
        "skipped": tally.skipped,
        "send_p50_ms": to_ms(compute_percentile(tally.send_rtts_s, 50)),
        "send_p99_ms": to_ms(compute_percentile(tally.send_rtts_s, 99)),
        "max_send_lag_ms": to_ms(max(tally.send_lags_s, default=None)),
    }
    figures |= extra
    if tally.last_error:
        figures["last_error"] = tally.last_error
    return figures


def usage_figures(before: Usage, after: Usage, wall_s: float) -> dict[str, float | None]:
    node_s = None
    if before.node_s is not None and after.node_s is not None:
        node_s = after.node_s - before.node_s
    return {
        "client_cpu_pct": compute_cpu_pct(after.client_s - before.client_s, wall_s),
        "node_cpu_pct": compute_cpu_pct(node_s, wall_s),
    }


async def race(feed: asyncio.Task[None], work: Coroutine[Any, Any, T]) -> T:
    """`work`'s result, or an error as soon as the observer's feed stops (a dropped
    connection would otherwise look like every later move being lost)."""
    task = asyncio.ensure_future(work)
    try:
        done, _ = await asyncio.wait({feed, task}, return_when=asyncio.FIRST_COMPLETED)
        if task in done:
            return task.result()
        cause = None if feed.cancelled() else feed.exception()
        raise BenchError(f"the observer's subscription ended: {cause!r}")
    finally:
        if not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


async def stop_task(task: asyncio.Task[None]) -> None:
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


# --- Duet -------------------------------------------------------------------------------------


def seat_players(node: NodeProcess, settings: Settings) -> tuple[Arena, list[Seat]]:
    """The arena as `duet play` sets it up, a pass for each player, and a seat each."""
    endpoints = Endpoints(node.fast_http, node.fast_ws, node.zk_http)
    arena = Arena(node.fast_http, ensure_arena(node.data_dir, endpoints, round_seconds=ROUND_S))
    keys = dev_keys()
    # Enough gas money for every move at the most a move may cost; the arena's own
    # allowance covers a few hundred moves at the usual price, a long run needs more.
    top_up = (settings.moves_per_player + 10) * MOVE_GAS * MAX_FEE_WEI
    seats = []
    for number in range(1, settings.players + 1):
        started = time.monotonic()
        key = keys[FIRST_PLAYER_ACCOUNT + number - 1]
        token = ensure_pass(endpoints, key)
        seat = arena.join(key, ZkClient(node.zk_http, key), token)  # proves the pass here
        arena.send_value(key, seat.address, top_up)
        seats.append(seat)
        took = time.monotonic() - started
        settings.progress(f"duet: player {number}/{settings.players} seated in {took:.1f} s")
    return arena, seats


async def wait_for_seats(view: BoardFollower, seats: Sequence[Seat]) -> None:
    deadline = time.perf_counter() + SEATS_TIMEOUT_S
    wanted = {seat.address.lower() for seat in seats}
    while not wanted <= view.board.players.keys():
        if time.perf_counter() > deadline:
            raise BenchError(f"the observer's board lacks seats after {SEATS_TIMEOUT_S:.0f} s")
        await asyncio.sleep(DRAIN_POLL_S)


async def measure_duet(
    node: NodeProcess,
    arena: Arena,
    seats: Sequence[Seat],
    launched_at: float,
    settings: Settings,
) -> dict[str, Any]:
    view = BoardFollower()
    arrivals: dict[str, float] = {}
    forecasts: dict[str, float] = {}

    def on_event(event: ArenaEvent, log: dict[str, Any]) -> None:
        view.on_event(event, log)
        if isinstance(event, Moved):
            arrivals.setdefault(tx_key(log["transactionHash"]), time.perf_counter())

    def on_pending(event: ArenaEvent, log: dict[str, Any]) -> None:
        view.on_pending(event, log)
        if isinstance(event, Moved):
            forecasts.setdefault(tx_key(log["transactionHash"]), time.perf_counter())

    assert node.proc is not None, "the node runs"
    async with ChainSocket(node.fast_ws) as observer:
        feed = asyncio.create_task(
            follow_arena(observer, arena, on_event, view.on_rewind, on_pending)
        )
        try:
            await race(feed, wait_for_seats(view, seats))
            movers = [
                ArenaMover(seat, view, random.Random(SEED + k)) for k, seat in enumerate(seats)
            ]
            # The node leads a process group of its own.
            target = Target("duet", node.fast_ws, node.proc.pid, launched_at)
            work = measure(target, movers, arrivals, observer, settings, forecasts)
            return await race(feed, work)
        finally:
            await stop_task(feed)


def bench_duet(settings: Settings) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="duet-bench-game-") as scratch:
        node = NodeProcess(Path(scratch) / "node")
        try:
            launched_at = time.monotonic()
            node.start()
            settings.progress(f"duet: node up at {node.fast_ws}; seating {settings.players}")
            arena, seats = seat_players(node, settings)
            return asyncio.run(measure_duet(node, arena, seats, launched_at, settings))
        except Exception:
            settings.progress(f"duet: the node's output ends with:\n{node.log_tail(20)}")
            raise
        finally:
            node.stop()


# --- anvil ------------------------------------------------------------------------------------


async def call_int(chain: ChainSocket, method: str, params: list[Any]) -> int:
    return int(await chain.call(method, params), 16)


async def wait_receipt(chain: ChainSocket, tx_hash: str) -> dict[str, Any]:
    deadline = time.perf_counter() + RECEIPT_TIMEOUT_S
    while (receipt := await chain.call("eth_getTransactionReceipt", [tx_hash])) is None:
        if time.perf_counter() > deadline:
            raise BenchError(f"no receipt for {tx_hash} after {RECEIPT_TIMEOUT_S:.0f} s")
        await asyncio.sleep(RECEIPT_POLL_S)
    return dict(receipt)


async def get_fees(chain: ChainSocket) -> Fees:
    latest = await chain.call("eth_getBlockByNumber", ["latest", False])
    price = max(
        int(latest.get("baseFeePerGas", "0x0"), 16), await call_int(chain, "eth_gasPrice", [])
    )
    return Fees(await call_int(chain, "eth_chainId", []), FEE_CAP_FACTOR * price + TIP_WEI, TIP_WEI)


async def deploy_move_bench(
    chain: ChainSocket, deployer: LocalAccount, fees: Fees, artifact: Path
) -> ChecksumAddress:
    _, bytecode = load_artifact(artifact)
    gas = await call_int(chain, "eth_estimateGas", [{"from": deployer.address, "data": bytecode}])
    nonce = await call_int(chain, "eth_getTransactionCount", [deployer.address, "pending"])
    raw = sign_tx(deployer, fees, nonce, math.ceil(gas * GAS_HEADROOM), bytecode)
    receipt = await wait_receipt(chain, await chain.send_raw_transaction(raw))
    if int(receipt["status"], 16) != 1 or not receipt.get("contractAddress"):
        raise BenchError("MoveBench deployment failed")
    return to_checksum_address(receipt["contractAddress"])


async def plan_moves(
    chain: ChainSocket, deployer: LocalAccount, first: LocalAccount, artifact: Path
) -> BenchPlan:
    fees = await get_fees(chain)
    contract = await deploy_move_bench(chain, deployer, fees, artifact)
    # `first` has never moved: its first move writes fresh slots, the dearest a move gets.
    probe = {"from": first.address, "to": contract, "data": encode_move(0)}
    gas = await call_int(chain, "eth_estimateGas", [probe])
    return BenchPlan(fees, contract, math.ceil(gas * GAS_HEADROOM))


async def record_logs(chain: ChainSocket, contract: str, arrivals: dict[str, float]) -> None:
    async for log in chain.subscribe("logs", {"address": contract}):
        arrivals.setdefault(tx_key(log["transactionHash"]), time.perf_counter())


async def measure_anvil(node: Node, launched_at: float, settings: Settings) -> dict[str, Any]:
    ws_url = "ws://" + node.url.removeprefix("http://")  # anvil serves both on one port
    accounts = [Account.from_key(key) for key in dev_keys()]
    players = accounts[FIRST_PLAYER_ACCOUNT : FIRST_PLAYER_ACCOUNT + settings.players]
    arrivals: dict[str, float] = {}
    async with ChainSocket(ws_url) as observer:
        plan = await plan_moves(observer, accounts[0], players[0], settings.artifact)
        settings.progress(f"anvil: MoveBench at {plan.contract}, gas limit {plan.gas} per move")
        feed = asyncio.create_task(record_logs(observer, plan.contract, arrivals))
        try:
            movers = []
            for k, account in enumerate(players):
                nonce = await call_int(
                    observer, "eth_getTransactionCount", [account.address, "pending"]
                )
                movers.append(BenchMover(account, plan, nonce, random.Random(SEED + k)))
            target = Target("anvil", ws_url, node.pgid, launched_at)
            work = measure(target, movers, arrivals, observer, settings)
            return await race(feed, work)
        finally:
            await stop_task(feed)


def bench_anvil(settings: Settings) -> dict[str, Any]:
    launched_at = time.monotonic()
    with (
        tempfile.TemporaryDirectory(prefix="duet-bench-game-anvil-") as scratch,
        anvil_node()(Path(scratch)) as node,
    ):
        settings.progress(f"anvil: up at {node.url}")
        return asyncio.run(measure_anvil(node, launched_at, settings))


BENCHES: dict[str, Callable[[Settings], dict[str, Any]]] = {
    "duet": bench_duet,
    "anvil": bench_anvil,
}


# --- driver -----------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> Settings:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=DEFAULT_DURATION_S, help="seconds")
    parser.add_argument("--players", type=int, default=DEFAULT_PLAYERS, help="bot players")
    parser.add_argument("--rate", type=float, default=DEFAULT_RATE_PER_S, help="moves/s each")
    parser.add_argument("--targets", default=",".join(TARGET_NAMES), help="comma-separated")
    parser.add_argument("--artifact", type=Path, default=DEFAULT_ARTIFACT, help="MoveBench JSON")
    parser.add_argument("--json-only", action="store_true", help="no progress on stderr")
    args = parser.parse_args(argv)
    names = tuple(name.strip() for name in args.targets.split(",") if name.strip())
    unknown = [name for name in names if name not in BENCHES]
    if unknown or not names:
        parser.error(f"--targets: unknown {unknown}; known: {', '.join(TARGET_NAMES)}")
    if not 1 <= args.players <= MAX_PLAYERS:
        parser.error(f"--players must be 1..{MAX_PLAYERS} (dev accounts 1..{MAX_PLAYERS})")
    if args.duration <= 0 or args.rate <= 0:
        parser.error("--duration and --rate must be positive")
    if "anvil" in names and not args.artifact.exists():
        parser.error(f"{args.artifact} not found: compile the contracts first")
    return Settings(args.players, args.rate, args.duration, names, args.artifact, args.json_only)


def raise_interrupt(signum: int, frame: FrameType | None) -> None:
    # SIGTERM takes the same path as Ctrl+C, so every `finally` stops its processes.
    raise KeyboardInterrupt


def run_targets(settings: Settings) -> dict[str, dict[str, Any]]:
    results: dict[str, dict[str, Any]] = {}
    for name in settings.targets:
        try:
            results[name] = BENCHES[name](settings)
        except Exception as error:
            settings.progress(f"{name}: failed: {type(error).__name__}: {error}")
            results[name] = {"error": f"{type(error).__name__}: {error}"}
            continue
        figures = results[name]
        settings.progress(
            f"{name}: p50 {figures['p50_ms']} ms, p99 {figures['p99_ms']} ms, "
            f"{figures['moves_seen']}/{figures['moves_sent']} seen, {figures['refused']} refused"
        )
    return results


def main(argv: Sequence[str] | None = None) -> int:
    settings = parse_args(argv)
    signal.signal(signal.SIGTERM, raise_interrupt)
    try:
        results = run_targets(settings)
    except KeyboardInterrupt:
        settings.progress("interrupted; every process was stopped")
        return 130
    duet = results.get("duet", {})
    report = {
        "players": settings.players,
        "rate_per_player": settings.rate_per_s,
        "duration_s": settings.duration_s,
        **results,
        "p50_ms": duet.get("p50_ms"),
        "p99_ms": duet.get("p99_ms"),
        "drain_s": DRAIN_S,
        "skill": SKILL,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
    }
    print(json.dumps(report, indent=2))
    return 1 if any("error" in result for result in results.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
