"""`duet e2e MANIFEST...`: run end-to-end manifests against a fresh local testnet each.

    duet e2e tests/e2e/manifests/kill-and-pause.toml [--dir DIR] [--keep]

Each run makes a new network under DIR (a temporary directory unless given), applies the
manifest's perturbations under load, checks agreement, liveness, safety and settlement
(chain/e2e/runner.py) and prints its report as JSON. Exit 0 if every run passed, 1 if a
check failed, 2 if a manifest is wrong or the decentralized mode is unavailable.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

from rich.console import Console

from chain.consensus.cometbft import CometBFTNotFound, find_cometbft
from chain.e2e.manifest import ManifestError, parse_manifest
from chain.e2e.runner import E2EFailure, run_manifest
from chain.testnet import TestnetError

out = Console()
err = Console(stderr=True)


def add_e2e_parser(sub: Any) -> None:
    e2e = sub.add_parser("e2e", help="run end-to-end manifests against a local testnet")
    e2e.add_argument("manifests", nargs="+", type=Path, metavar="MANIFEST", help="TOML files")
    e2e.add_argument(
        "--dir", type=Path, default=None, help="where the networks are made (default: temporary)"
    )
    e2e.add_argument("--keep", action="store_true", help="keep the networks' directories")


def cmd_e2e(args: argparse.Namespace) -> int:
    try:
        find_cometbft()
        manifests = [parse_manifest(path.read_text(), path.stem) for path in args.manifests]
    except CometBFTNotFound as exc:
        err.print(f"[red]the decentralized mode is unavailable: {exc}[/]")
        return 2
    except (OSError, ManifestError) as exc:
        err.print(f"[red]{exc}[/]")
        return 2
    base = args.dir or Path(tempfile.mkdtemp(prefix="duet-e2e-"))
    failed = 0
    for manifest in manifests:
        root = base / manifest.name
        if root.exists():
            shutil.rmtree(root)
        err.print(f"running {manifest.name}: {manifest.validators} validators in {root} …")
        try:
            report = run_manifest(manifest, root)
        except (E2EFailure, TestnetError) as exc:
            err.print(f"[red]{manifest.name} failed: {exc}[/]")
            failed += 1
            continue
        out.print_json(json.dumps(report))
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    if args.dir is None and not args.keep:
        shutil.rmtree(base, ignore_errors=True)
    return 1 if failed else 0
