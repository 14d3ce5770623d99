"""Time for ZKPoW to cross between the chains, both ways, end to end.

Starts a dev node on loopback (free ports, scratch data directory), then `--count` times in
each direction:
- to_fast: sign a `ToFast` operation with `ZkClient`, send it, and poll the recipient's
  fast-chain balance (`eth_getBalance`, every millisecond) until the credit shows. The
  target is under 1.5 ZK block intervals: the operation waits for the next ZK block (half an
  interval on average), then the credit rides the next fast block.
- to_zk: send a release to the fast chain's outbox (`FastBridge.release`) and poll the
  recipient's ZK balance until the ZK chain has paid it from escrow: the fast block is
  immediate, then the message waits for the next ZK block.
Each send starts at a random point of the ZK block interval, as a user's would.

    .venv/bin/python bench/bridge.py [--count 20] [--zk-interval 1.0] [--json-only]

Prints one JSON object on stdout: {"zk_interval_s", "count", "to_fast": {"p50_s", "p99_s",
"max_s", "p50_intervals", "max_intervals"}, "to_zk": {the same}}.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _targets import duet_node
from eth_account import Account

from chain.client.fast import FastBridge
from chain.client.zk import ZkClient
from chain.fast.genesis import dev_keys
from chain.jsonrpc import RpcClient

CREDIT_TIMEOUT_S = 30.0
ETHER = 10**18
PROGRESS = True  # per-transfer lines on stderr


def rpc(url: str, method: str, params: list[Any]) -> Any:
    return RpcClient(url, timeout_s=10).call(method, params)


def measure_to_fast(zk_url: str, fast_url: str, count: int, interval: float) -> list[float]:
    client = ZkClient(zk_url, dev_keys()[1])

    def send(recipient: str) -> None:
        client.to_fast(recipient, ETHER)

    def arrived(recipient: str) -> bool:
        return int(rpc(fast_url, "eth_getBalance", [recipient, "latest"]), 16) == ETHER

    return measure("to_fast", send, arrived, count, interval)


def measure_to_zk(zk_url: str, fast_url: str, count: int, interval: float) -> list[float]:
    bridge = FastBridge(fast_url, dev_keys()[2])
    client = ZkClient(zk_url, dev_keys()[2])

    def send(recipient: str) -> None:
        bridge.release(recipient, ETHER)

    def arrived(recipient: str) -> bool:
        return client.balance(recipient) == ETHER

    return measure("to_zk", send, arrived, count, interval)


def measure(
    name: str,
    send: Callable[[str], None],
    arrived: Callable[[str], bool],
    count: int,
    interval: float,
) -> list[float]:
    phases = random.Random(1)
    times = []
    for i in range(count):
        recipient = Account.create().address
        # Users do not wait for a ZK block to send: start at a random point of the interval.
        time.sleep(phases.uniform(0, interval))
        start = time.monotonic()
        send(recipient)
        while not arrived(recipient):
            if time.monotonic() - start > CREDIT_TIMEOUT_S:
                raise RuntimeError(f"{name}: a transfer did not arrive within the timeout")
            time.sleep(0.001)
        times.append(time.monotonic() - start)
        if PROGRESS:
            print(f"  {name} {i + 1}/{count}: {times[-1]:.3f} s", file=sys.stderr, flush=True)
    return times


def summarize(times: list[float], interval: float) -> dict[str, float]:
    ordered = sorted(times)
    p50 = statistics.median(ordered)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return {
        "p50_s": round(p50, 3),
        "p99_s": round(p99, 3),
        "max_s": round(ordered[-1], 3),
        "p50_intervals": round(p50 / interval, 2),
        "max_intervals": round(ordered[-1] / interval, 2),
    }


def main() -> int:
    global PROGRESS
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=20, help="transfers to time, each way")
    parser.add_argument("--zk-interval", type=float, default=1.0, help="seconds per ZK block")
    parser.add_argument("--json-only", action="store_true", help="no progress on stderr")
    args = parser.parse_args()
    PROGRESS = not args.json_only
    # Proving is not on this path: keep its CPU out of the figure.
    launch = duet_node("--zk-interval", str(args.zk_interval), "--no-prover")
    with (
        tempfile.TemporaryDirectory(prefix="duet-bench-bridge-") as tmp,
        launch(Path(tmp)) as node,
    ):
        assert node.endpoints is not None, "a duet node says where its ZK chain listens"
        zk, fast = node.endpoints.zk.http, node.url
        to_fast = measure_to_fast(zk, fast, args.count, args.zk_interval)
        to_zk = measure_to_zk(zk, fast, args.count, args.zk_interval)
    result = {
        "zk_interval_s": args.zk_interval,
        "count": args.count,
        "to_fast": summarize(to_fast, args.zk_interval),
        "to_zk": summarize(to_zk, args.zk_interval),
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
