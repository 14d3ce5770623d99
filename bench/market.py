"""Prover market throughput: operations proven per minute with 1, 2 and 4 `duet prover` agents.

For each agent count N (`--agents`, default 1,2,4): a fresh `duet node --dev --no-prover`
(ZK interval 1 s, its own anvil and submission agent, no embedded prover) and N
`duet prover --plain` processes (dev accounts 3, 4, 5, 6; one proving worker each, the
default), each in a process group of its own. Once `duet_getProverMarket` counts N active
provers, and 2 × N warm-up transfers are proven (a prover's first proof also starts its
proving worker and loads the keys), transfers are sent at a steady offered rate (`--rate`,
open loop: operation i is due at start + i / rate, whether earlier ones are proven or not)
for `--duration` seconds, alternately from dev accounts 1 and 2. Then the benchmark waits,
at most `--timeout` seconds after the last send, until every operation is proven.

Then the same with no agents and the node's embedded prover (dev account 9, one worker,
`duet node --dev` without `--no-prover`): what a user gets without a market, reported as
`embedded`.

One client thread polls `duet_getProofStatus` of every operation not yet proven, in one
JSON-RPC batch every 100 ms. An operation's commit time is the first poll that sees
`committed` or later; its proven time the first that sees `proven`, `aggregated` or
`settled`. Every second the benchmark also checks that the node and the agents still run
and that the ZK head still moves: a run whose chain makes no block for 15 intervals stops
with an error rather than waiting out `--timeout`.

    .venv/bin/python bench/market.py [--agents 1,2,4] [--duration 60] [--rate 1]
                                     [--timeout 120] [--zk-interval 1]
                                     [--market NAME=VALUE ...] [--no-embedded] [--json-only]

Prints one JSON object on stdout:
{"agents": {"1": {...}, "2": {...}, "4": {...}}, "embedded": {...}, "params": {...}},
each run being {"ops_per_min", "p50_s", "p90_s", "max_s", "ops", "proven", "unproven",
"window_s", ...} (bench/README.md lists every field). A run that fails gets
{"error": "..."}, the others still run, and the exit code is 1.

Each run takes about `duration + 15` seconds (start-up, provers becoming active), plus
however long the last operations wait for their proofs. The machine's cores are shared by
the node, the agents, their proving workers and this client: on 2 cores, 4 agents contend.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import platform
import signal
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

from _targets import get_group_cpu_s
from eth_account import Account

from chain.client.zk import FINAL_FAILURES, STATUS_ORDER, OperationFailed, ZkClient
from chain.fast.genesis import dev_keys
from chain.jsonrpc import RpcClient, RpcError
from chain.testing.node_process import NodeProcess
from chain.testing.prover_process import ProverProcess

DEFAULT_AGENTS = (1, 2, 4)
DEFAULT_DURATION_S = 60.0  # of sending
DEFAULT_RATE_PER_S = 1.0  # transfers offered per second
DEFAULT_TIMEOUT_S = 120.0  # after the last send, for the last operations to be proven
ZK_INTERVAL_S = 1.0  # seconds per ZK block (the node's default)
POLL_S = 0.1  # duet_getProofStatus of every unproven operation, this often
ACTIVE_TIMEOUT_S = 60.0  # for the provers' heartbeats to land
ACTIVE_POLL_S = 0.5
WARMUP_OPS_PER_PROVER = 2  # transfers proven before measuring (worker start, key loading)
WARMUP_TIMEOUT_S = 90.0
PROGRESS_EVERY_S = 10.0
CHECK_EVERY_S = 1.0  # the processes still run and the ZK head still moves
STALL_BLOCKS = 15  # no new ZK block for this many intervals: the node is stuck, give up
STALL_MIN_S = 15.0
LOG_TAIL_LINES = 30  # of a failed process's output, on stderr
RPC_TIMEOUT_S = 10.0
BATCH_SIZE = 500  # statuses per JSON-RPC batch (the node takes up to 1000)
SENDER_ACCOUNTS = (1, 2)
PROVER_ACCOUNTS = (3, 4, 5, 6)  # 9 is the node's own prover and agent
TRANSFER_WEI = 10**15
PROVEN = {"proven", "aggregated", "settled"}


class BenchError(RuntimeError):
    """A process died, the ZK chain stopped, or the provers never became active. The message
    goes into the JSON; `detail` (the end of a process's output) only to stderr."""

    def __init__(self, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.detail = detail


@dataclass
class Settings:
    agents: list[int]
    duration_s: float
    rate_per_s: float
    timeout_s: float
    zk_interval_s: float
    market: list[str]
    embedded: bool
    json_only: bool

    def progress(self, line: str) -> None:
        if not self.json_only:
            print(line, file=sys.stderr, flush=True)


@dataclass
class OpTimes:
    sent: float
    committed: float | None = None
    proven: float | None = None
    status: str = "pending"


@dataclass
class Tracker:
    """The operations sent so far and what the poller has seen of them."""

    url: str
    ops: dict[str, OpTimes] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    stop: threading.Event = field(default_factory=threading.Event)
    poll_errors: int = 0
    last_error: str = ""

    def add(self, op_id: str, sent: float) -> None:
        with self.lock:
            self.ops[op_id] = OpTimes(sent)

    def list_open(self) -> list[str]:
        with self.lock:
            return [
                op_id
                for op_id, times in self.ops.items()
                if times.proven is None and times.status not in FINAL_FAILURES
            ]

    def count(self) -> tuple[int, int, int]:
        """Sent, committed, proven."""
        with self.lock:
            values = list(self.ops.values())
        committed = sum(1 for times in values if times.committed is not None)
        return len(values), committed, sum(1 for times in values if times.proven is not None)

    def run(self) -> None:
        while not self.stop.is_set():
            started = time.monotonic()
            try:
                self.poll_once()
            except (OSError, ValueError, KeyError) as exc:  # a slow or busy node: look again
                self.poll_errors += 1
                self.last_error = f"{type(exc).__name__}: {exc}"
            self.stop.wait(max(0.0, POLL_S - (time.monotonic() - started)))

    def poll_once(self) -> None:
        open_ids = self.list_open()
        for first in range(0, len(open_ids), BATCH_SIZE):
            chunk = open_ids[first : first + BATCH_SIZE]
            answers = call_batch(self.url, "duet_getProofStatus", [[op_id] for op_id in chunk])
            seen = time.monotonic()
            with self.lock:
                for op_id, answer in zip(chunk, answers, strict=True):
                    if answer is None:
                        continue
                    self.record(self.ops[op_id], str(answer["status"]), seen)

    @staticmethod
    def record(times: OpTimes, status: str, seen: float) -> None:
        times.status = status
        if status in STATUS_ORDER and STATUS_ORDER.index(status) >= 1 and times.committed is None:
            times.committed = seen
        if status in PROVEN and times.proven is None:
            times.proven = seen


def call(url: str, method: str, params: list[Any]) -> Any:
    return RpcClient(url, timeout_s=RPC_TIMEOUT_S).call(method, params)


def call_batch(url: str, method: str, params: list[list[Any]]) -> list[Any]:
    """One JSON-RPC batch of `method` calls; each call's result in order (None: an error)."""
    payload = [
        {"jsonrpc": "2.0", "id": i, "method": method, "params": p} for i, p in enumerate(params)
    ]
    request = urllib.request.Request(
        url, json.dumps(payload).encode(), {"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=RPC_TIMEOUT_S) as response:
        answers = json.loads(response.read())
    by_id = {answer["id"]: answer.get("result") for answer in answers}
    return [by_id.get(i) for i in range(len(params))]


def percentile(ordered: list[float], q: float) -> float:
    """Nearest-rank percentile of sorted values."""
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def run_market(agents: int, settings: Settings, workdir: Path) -> dict[str, Any]:
    """`agents` `duet prover` processes on a node without its prover; 0: the embedded one."""
    node_args = ["--zk-interval", str(settings.zk_interval_s)]
    for item in settings.market:
        node_args += ["--market", item]
    if agents:
        node_args.append("--no-prover")
    node = NodeProcess(workdir / "node", *node_args)
    provers: list[ProverProcess] = []
    try:
        node.start()
        keys = dev_keys()
        for i in range(agents):
            log = workdir / f"prover-{i}.log"
            provers.append(ProverProcess(node.zk_http, keys[PROVER_ACCOUNTS[i]], log).start())
        count = max(agents, 1)
        # The embedded prover heartbeats only once there is work: the warm-up wakes it.
        active_after = wait_for_active(node, provers, count) if agents else 0.0
        settings.progress(f"  {count} prover(s) active after {active_after:.1f} s; warming up")
        watch = Watch(node, provers, settings.zk_interval_s)
        warmup = warm_up(node, WARMUP_OPS_PER_PROVER * count, watch)
        settings.progress(
            f"  warm-up: {WARMUP_OPS_PER_PROVER * count} transfers proven in {warmup:.1f} s"
            if warmup is not None
            else f"  warm-up: not all proven after {WARMUP_TIMEOUT_S:.0f} s; measuring anyway"
        )
        result = measure(node, provers, watch, settings)
        return result | {
            "active_after_s": round(active_after, 1),
            "warmup_s": None if warmup is None else round(warmup, 1),
        }
    finally:
        for prover in provers:
            stop_prover(prover)
        node.stop()


def wait_for_active(node: NodeProcess, provers: list[ProverProcess], count: int) -> float:
    started = time.monotonic()
    active = 0
    while time.monotonic() - started < ACTIVE_TIMEOUT_S:
        ensure_alive(node, provers)
        with contextlib.suppress(OSError, ValueError, RpcError):
            active = int(call(node.zk_http, "duet_getProverMarket", [])["activeProvers"])
            if active >= count:
                return time.monotonic() - started
        time.sleep(ACTIVE_POLL_S)
    raise BenchError(
        f"{active} of {count} provers active after {ACTIVE_TIMEOUT_S:.0f} s",
        node.log_tail(LOG_TAIL_LINES),
    )


def ensure_alive(node: NodeProcess, provers: list[ProverProcess]) -> None:
    if not node.running:
        raise BenchError("the node exited", node.log_tail(LOG_TAIL_LINES))
    for prover in provers:
        if not prover.running:
            lines = prover.log.read_text(errors="replace").splitlines()
            raise BenchError("a prover exited", "\n".join(lines[-LOG_TAIL_LINES:]))


def stop_prover(prover: ProverProcess) -> None:
    """SIGKILL to the prover's group: the prover and its proving workers, even those of a
    prover that has itself exited."""
    if prover.child is not None:
        prover.child.kill()


def read_cpu_s(node: NodeProcess, provers: list[ProverProcess]) -> tuple[float, float] | None:
    """CPU seconds used so far by the node's process group and by the provers' groups."""
    assert node.proc is not None
    node_s = get_group_cpu_s(node.proc.pid)
    if node_s is None:
        return None
    agents_s = 0.0
    for prover in provers:
        assert prover.proc is not None
        agents_s += get_group_cpu_s(prover.proc.pid) or 0.0
    return node_s, agents_s


class Watch:
    """Every CHECK_EVERY_S: the node and the provers still run, and the ZK head still moves.

    A chain that stops making blocks commits and proves nothing more: better an error at
    once than a run that waits out `--timeout` and reports every operation unproven.
    """

    def __init__(self, node: NodeProcess, provers: list[ProverProcess], interval_s: float):
        self.node = node
        self.provers = provers
        self.stall_s = max(STALL_MIN_S, STALL_BLOCKS * interval_s)
        self.next_check = time.monotonic()
        self.height = -1
        self.moved = time.monotonic()

    def check(self) -> None:
        now = time.monotonic()
        if now < self.next_check:
            return
        self.next_check = now + CHECK_EVERY_S
        ensure_alive(self.node, self.provers)
        with contextlib.suppress(
            OSError, ValueError, RpcError
        ):  # a busy node: judged by the clock below
            height = int(call(self.node.zk_http, "duet_getProverMarket", [])["height"])
            if height != self.height:
                self.height, self.moved = height, now
        if now - self.moved > self.stall_s:
            raise BenchError(
                f"the ZK chain made no block for {now - self.moved:.0f} s (head {self.height})",
                self.node.log_tail(LOG_TAIL_LINES),
            )


def warm_up(node: NodeProcess, count: int, watch: Watch) -> float | None:
    """Send `count` transfers and wait until they are proven: every prover's first proof
    starts its proving worker and loads the circuit keys, which is not what is measured.
    Seconds taken, or None if they were not all proven in WARMUP_TIMEOUT_S."""
    keys = dev_keys()
    client = ZkClient(node.zk_http, keys[SENDER_ACCOUNTS[0]])
    recipient = Account.from_key(keys[SENDER_ACCOUNTS[1]]).address
    started = time.monotonic()
    ops = [client.transfer(recipient, TRANSFER_WEI) for _ in range(count)]
    while time.monotonic() - started < WARMUP_TIMEOUT_S:
        watch.check()
        with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
            answers = call_batch(node.zk_http, "duet_getProofStatus", [[op] for op in ops])
            if all(answer["status"] in PROVEN for answer in answers):
                return time.monotonic() - started
        time.sleep(POLL_S)
    return None


def measure(
    node: NodeProcess, provers: list[ProverProcess], watch: Watch, settings: Settings
) -> dict[str, Any]:
    keys = dev_keys()
    senders = [ZkClient(node.zk_http, keys[i]) for i in SENDER_ACCOUNTS]
    recipients = [Account.from_key(keys[i]).address for i in reversed(SENDER_ACCOUNTS)]
    tracker = Tracker(node.zk_http)
    poller = threading.Thread(target=tracker.run, name="proof-status", daemon=True)
    total = max(1, round(settings.duration_s * settings.rate_per_s))
    send_failed = 0
    max_lag = 0.0
    last_error = ""
    cpu_before = read_cpu_s(node, provers)
    started = time.monotonic()
    next_progress = started + PROGRESS_EVERY_S

    def wait_until(deadline: float, done: Callable[[], bool] = lambda: False) -> None:
        nonlocal next_progress
        while not done() and (now := time.monotonic()) < deadline:
            time.sleep(min(deadline - now, POLL_S))
            watch.check()
            if time.monotonic() >= next_progress:
                next_progress += PROGRESS_EVERY_S
                show_progress(tracker, started, settings)

    poller.start()
    try:
        for i in range(total):
            due = started + i / settings.rate_per_s
            wait_until(due)
            sent = time.monotonic()
            max_lag = max(max_lag, sent - due)
            try:
                op_id = senders[i % 2].transfer(recipients[i % 2], TRANSFER_WEI)
            except (OperationFailed, RpcError, OSError, ValueError) as exc:
                send_failed += 1
                last_error = f"{type(exc).__name__}: {exc}"
                continue
            tracker.add(op_id, sent)
        last_send = time.monotonic()
        settings.progress(f"  sent {total} in {last_send - started:.1f} s; waiting for proofs")
        wait_until(last_send + settings.timeout_s, lambda: not tracker.list_open())
        finished = time.monotonic()
    finally:
        tracker.stop.set()
        poller.join(RPC_TIMEOUT_S)
    cpu_after = read_cpu_s(node, provers)
    market = call(node.zk_http, "duet_getProverMarket", [])
    result = summarize(tracker)
    result |= {
        "send_failed": send_failed,
        "max_send_lag_ms": round(max_lag * 1000, 1),
        "poll_errors": tracker.poll_errors,
        "market": {
            "jobs_proven": sum(int(p["proven"]) for p in market["provers"]),
            "jobs_missed": sum(int(p["missed"]) for p in market["provers"]),
            "jobs_invalid": sum(int(p["invalid"]) for p in market["provers"]),
            "open_jobs": len(market["jobs"]),
        },
    }
    if cpu_before is not None and cpu_after is not None:
        elapsed = finished - started
        result["node_cpu_pct"] = round(100 * (cpu_after[0] - cpu_before[0]) / elapsed, 1)
        result["agents_cpu_pct"] = round(100 * (cpu_after[1] - cpu_before[1]) / elapsed, 1)
    if last_error or tracker.last_error:
        result["last_error"] = last_error or tracker.last_error
    return result


def show_progress(tracker: Tracker, started: float, settings: Settings) -> None:
    sent, committed, proven = tracker.count()
    elapsed = time.monotonic() - started
    settings.progress(f"  {elapsed:5.0f} s: {sent} sent, {committed} committed, {proven} proven")


def summarize(tracker: Tracker) -> dict[str, Any]:
    with tracker.lock:
        ops = list(tracker.ops.values())
    spans = [
        (t.committed, t.proven) for t in ops if t.committed is not None and t.proven is not None
    ]
    latencies = sorted(proven - committed for committed, proven in spans)
    commits = [t.committed for t in ops if t.committed is not None]
    result: dict[str, Any] = {
        "ops_per_min": None,
        "p50_s": None,
        "p90_s": None,
        "max_s": None,
        "ops": len(ops),
        "proven": len(spans),
        "unproven": len(ops) - len(spans),
        "rejected": sum(1 for t in ops if t.status in FINAL_FAILURES),
        "window_s": None,
    }
    if spans:
        window = max(proven for _, proven in spans) - min(commits)
        result |= {
            "p50_s": round(percentile(latencies, 0.5), 2),
            "p90_s": round(percentile(latencies, 0.9), 2),
            "max_s": round(latencies[-1], 2),
            "window_s": round(window, 1),
            "ops_per_min": round(60 * len(spans) / window, 1) if window > 0 else None,
        }
    return result


def raise_interrupt(signum: int, frame: FrameType | None) -> None:
    # SIGTERM takes the same path as Ctrl+C, so every `finally` stops its processes.
    raise KeyboardInterrupt


def parse_args() -> Settings:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--agents",
        default=",".join(map(str, DEFAULT_AGENTS)),
        help=f"agent counts to run, each on a fresh node (1..{len(PROVER_ACCOUNTS)})",
    )
    parser.add_argument("--duration", type=float, default=DEFAULT_DURATION_S, help="seconds")
    parser.add_argument("--rate", type=float, default=DEFAULT_RATE_PER_S, help="transfers/s")
    parser.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT_S,
        help="seconds after the last send to wait for proofs",
    )
    parser.add_argument("--zk-interval", type=float, default=ZK_INTERVAL_S, help="seconds")
    parser.add_argument(
        "--market",
        metavar="NAME=VALUE",
        action="append",
        default=[],
        help="a market parameter for every node (duet node --market)",
    )
    parser.add_argument("--no-embedded", action="store_true", help="skip the embedded run")
    parser.add_argument("--json-only", action="store_true", help="no progress on stderr")
    args = parser.parse_args()
    agents = [int(n) for n in args.agents.split(",") if n.strip()]
    if any(not 1 <= n <= len(PROVER_ACCOUNTS) for n in agents):
        parser.error(f"--agents: each count must be 1..{len(PROVER_ACCOUNTS)}")
    if args.duration <= 0 or args.rate <= 0 or args.timeout < 0 or args.zk_interval <= 0:
        parser.error("--duration, --rate and --zk-interval must be positive")
    return Settings(
        agents,
        args.duration,
        args.rate,
        args.timeout,
        args.zk_interval,
        args.market,
        not args.no_embedded,
        args.json_only,
    )


def run_all(runs: list[tuple[str, int]], settings: Settings, report: dict[str, Any]) -> bool:
    """Each run on a fresh node, its result into `report`; True if any failed."""
    failed = False
    for name, agents in runs:
        what = "the embedded prover" if agents == 0 else f"{agents} agent(s)"
        settings.progress(f"{what}: {settings.rate_per_s:g} op/s for {settings.duration_s:g} s")
        try:
            with tempfile.TemporaryDirectory(prefix="duet-bench-market-") as tmp:
                result = run_market(agents, settings, Path(tmp))
        except (BenchError, AssertionError, OSError, ValueError, RpcError) as exc:
            settings.progress(f"  failed: {exc}\n{getattr(exc, 'detail', '')}")
            result = {"error": f"{type(exc).__name__}: {exc}"}
            failed = True
        if agents == 0:
            report["embedded"] = result
        else:
            report["agents"][name] = result
        settings.progress(f"  {json.dumps(result)}")
    return failed


def main() -> int:
    settings = parse_args()
    signal.signal(signal.SIGTERM, raise_interrupt)
    runs: list[tuple[str, int]] = [(str(n), n) for n in settings.agents]
    if settings.embedded:
        runs.append(("embedded", 0))
    report: dict[str, Any] = {"agents": {}}
    try:
        failed = run_all(runs, settings, report)
    except KeyboardInterrupt:
        settings.progress("interrupted; every process was stopped")
        return 130
    report["params"] = {
        "duration_s": settings.duration_s,
        "rate_per_s": settings.rate_per_s,
        "timeout_s": settings.timeout_s,
        "zk_interval_s": settings.zk_interval_s,
        "market": settings.market,
        "poll_ms": POLL_S * 1000,
    }
    report["machine"] = {"cpus": os.cpu_count(), "python": platform.python_version()}
    print(json.dumps(report))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
