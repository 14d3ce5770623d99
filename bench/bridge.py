"""Time from locking ZKPoW on the ZK chain to the credit on the fast chain, end to end.

Starts a dev node on loopback (free ports, scratch data directory), then `--count` times:
sign a `ToFast` operation with `ZkClient`, send it, and poll the recipient's fast-chain
balance (`eth_getBalance`, every millisecond) until the credit shows. Each send starts at a
random point of the ZK block interval, as a user's would. The target is under
1.5 ZK block intervals: the operation waits for the next ZK block (half an interval on
average), then the credit rides the next fast block.

    .venv/bin/python bench/bridge.py [--count 20] [--zk-interval 1.0] [--json-only]

Prints one JSON object on stdout: {"zk_interval_s", "count", "p50_s", "p99_s", "max_s",
"p50_intervals", "max_intervals"}.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from _targets import get_duet_bin
from eth_account import Account

from chain.client.zk import ZkClient
from chain.fast.genesis import dev_keys

READY_TIMEOUT_S = 60.0
CREDIT_TIMEOUT_S = 30.0
ETHER = 10**18


def rpc(url: str, method: str, params: list[Any]) -> Any:
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).encode()
    request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())["result"]


def wait_for_node(data_dir: Path) -> dict[str, Any]:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        try:
            info: dict[str, Any] = json.loads((data_dir / "node.json").read_text())
            return info
        except (FileNotFoundError, json.JSONDecodeError):
            time.sleep(0.1)
    raise RuntimeError(f"the node did not start within {READY_TIMEOUT_S} s")


def measure(zk_url: str, fast_url: str, count: int, interval: float, quiet: bool) -> list[float]:
    client = ZkClient(zk_url, dev_keys()[1])
    phases = random.Random(1)
    times = []
    for i in range(count):
        recipient = Account.create().address
        # Users do not wait for a ZK block to send: start at a random point of the interval.
        time.sleep(phases.uniform(0, interval))
        start = time.monotonic()
        client.to_fast(recipient, ETHER)
        while int(rpc(fast_url, "eth_getBalance", [recipient, "latest"]), 16) != ETHER:
            if time.monotonic() - start > CREDIT_TIMEOUT_S:
                raise RuntimeError("a credit did not arrive within the timeout")
            time.sleep(0.001)
        times.append(time.monotonic() - start)
        if not quiet:
            print(f"  {i + 1}/{count}: {times[-1]:.3f} s", file=sys.stderr, flush=True)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=20, help="transfers to time")
    parser.add_argument("--zk-interval", type=float, default=1.0, help="seconds per ZK block")
    parser.add_argument("--json-only", action="store_true", help="no progress on stderr")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="duet-bench-bridge-") as tmp:
        data_dir = Path(tmp) / "data"
        command = [get_duet_bin(), "node", "--dev", "--data-dir", str(data_dir)]
        command += ["--fast-port", "0", "--zk-port", "0", "--zk-interval", str(args.zk_interval)]
        command += ["--no-prover"]  # proving is not on this path; keep its CPU out of the figure
        log = open(Path(tmp) / "node.log", "wb")  # noqa: SIM115 (closed below)
        proc = subprocess.Popen(command, stdout=log, stderr=log, start_new_session=True)
        try:
            info = wait_for_node(data_dir)
            zk, fast = info["zk"]["http"], info["fast"]["http"]
            times = measure(zk, fast, args.count, args.zk_interval, args.json_only)
        finally:
            os.killpg(proc.pid, signal.SIGINT)
            proc.wait(15)
            log.close()
    ordered = sorted(times)
    p50 = statistics.median(ordered)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    result = {
        "zk_interval_s": args.zk_interval,
        "count": len(times),
        "p50_s": round(p50, 3),
        "p99_s": round(p99, 3),
        "max_s": round(ordered[-1], 3),
        "p50_intervals": round(p50 / args.zk_interval, 2),
        "max_intervals": round(ordered[-1] / args.zk_interval, 2),
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
