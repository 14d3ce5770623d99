"""The reliability suite: what a node under attack or accident keeps, as one JSON object.

    .venv/bin/python bench/reliability.py [--quick] [--only kill9,fuzz,...] [--runs 20]
                                          [--requests 10000] [--soak-min 30] [--seed 1]
                                          [--json-only]

Each scenario starts its own `duet node --dev` (its own anvil, prover and agent, as users
run it) in a scratch directory that is removed afterwards:

- `kill9`: the node under a steady load of game moves and ZK transfers, killed with SIGKILL
  at random moments `--runs` times and restarted (chain/testing/reliability/kill9.py);
- `fuzz`: `--requests` hostile JSON-RPC requests against both chains while blocks are
  timed (chain/testing/reliability/fuzz.py);
- `disk_full`: the data directory on a tmpfs that fills up under load, then has room again
  (chain/testing/reliability/disk_full.py; needs root to mount the tmpfs);
- `corrupt`: a damaged database file and a truncated WAL, each refused at start
  (chain/testing/reliability/corrupt.py);
- `soak`: 8 bots playing arena rounds for `--soak-min` minutes (bench/_soak.py).

`--quick` is `--runs 5 --requests 2000 --soak-min 2` (what `./demo.sh test` runs, a
scenario per test). `ok` says whether every target was met: nothing acknowledged lost, no
head went back, every hostile request answered with a well-formed error, the node alive,
damage detected, resumed after a full disk, and (soak) memory and p99 within 20 % of the
first window's. The exit code is 0 when `ok`, 1 otherwise. Progress goes to stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from _soak import run_soak

from chain.testing.reliability.corrupt import run_corrupt
from chain.testing.reliability.disk_full import run_disk_full
from chain.testing.reliability.fuzz import run_fuzz
from chain.testing.reliability.kill9 import run_kill9

SCENARIOS = ("kill9", "fuzz", "disk_full", "corrupt", "soak")
FULL = {"runs": 20, "requests": 10_000, "soak_min": 30.0}
QUICK = {"runs": 5, "requests": 2_000, "soak_min": 2.0}
MAX_GROWTH = 0.2  # soak: the last window's memory and p99 against the first's

Progress = Callable[[str], None]


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="runs 5, requests 2000, soak 2 min")
    parser.add_argument("--only", default=",".join(SCENARIOS), help="scenarios, comma-separated")
    parser.add_argument("--runs", type=int, help="kill9: kills (default 20)")
    parser.add_argument("--requests", type=int, help="fuzz: requests (default 10000)")
    parser.add_argument("--soak-min", type=float, help="soak: minutes of play (default 30)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json-only", action="store_true", help="no progress on stderr")
    args = parser.parse_args(argv)
    defaults = QUICK if args.quick else FULL
    for name, value in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    unknown = set(args.only.split(",")) - set(SCENARIOS)
    if unknown:
        parser.error(f"no scenario {', '.join(sorted(unknown))}; known: {', '.join(SCENARIOS)}")
    return args


def is_met(name: str, result: dict[str, Any]) -> bool:
    """Whether a scenario's result meets its target (module docstring)."""
    if "error" in result:
        return False
    if name == "kill9":
        return result["lost_acknowledged"] == 0 and result["went_back"] == 0
    if name == "fuzz":
        return result["node_alive"] and result["errors_well_formed"] == result["requests"]
    if name == "disk_full":
        return result["lost_acknowledged"] == 0 and result["resumed"]
    if name == "corrupt":
        return bool(result["detected"])
    growths = (result["rss_growth"], result["p99_growth"])
    return result["lost"] == 0 and all(g is not None and g <= MAX_GROWTH for g in growths)


def run_scenario(name: str, args: argparse.Namespace, scratch: Path, say: Progress) -> Any:
    if name == "kill9":
        return run_kill9(scratch, args.runs, args.seed, say)
    if name == "fuzz":
        return run_fuzz(scratch, args.requests, args.seed, say)
    if name == "disk_full":
        return run_disk_full(scratch, say)
    if name == "corrupt":
        return run_corrupt(scratch, args.seed, say)
    return run_soak(scratch, args.soak_min, say)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)

    def say(line: str) -> None:
        if not args.json_only:
            print(line, file=sys.stderr, flush=True)

    output: dict[str, Any] = {}
    for name in args.only.split(","):
        started = time.monotonic()
        say(f"== {name}")
        with tempfile.TemporaryDirectory(prefix=f"duet-reliability-{name}-") as scratch:
            try:
                result = run_scenario(name, args, Path(scratch), say)
            except Exception as exc:  # the other scenarios still run
                result = {"error": f"{type(exc).__name__}: {exc}"[:2000]}
        result["ok"] = is_met(name, result)
        result["took_s"] = round(time.monotonic() - started, 1)
        output[name] = result
    output["ok"] = all(output[name]["ok"] for name in args.only.split(","))
    output["params"] = {
        "quick": args.quick,
        "runs": args.runs,
        "requests": args.requests,
        "soak_min": args.soak_min,
        "seed": args.seed,
    }
    output["machine"] = {"cpus": os.cpu_count(), "python": platform.python_version()}
    print(json.dumps(output, indent=2))
    return 0 if output["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
