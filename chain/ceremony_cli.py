"""`duet ceremony`: run a multi-party Groth16 phase 2 for the circuits (chain.prover.phase2).

    duet ceremony new --ptau FILE --out DIR [--circuits a,b]
    duet ceremony contribute DIR --name NAME [--entropy TEXT]   (once per participant)
    duet ceremony verify DIR [--ptau FILE]
    duet ceremony finalize DIR --beacon HEX [--iterations N]

Progress goes to stdout, or to stderr with --json (stdout then holds one JSON document).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from chain.prover.ceremony import KEYS_DIR_ENV, get_default_paths
from chain.prover.errors import ProverError
from chain.prover.phase2 import (
    DEFAULT_BEACON_ITERATIONS_EXP,
    Report,
    contribute,
    finalize,
    new_ceremony,
    read_manifest,
    verify,
)


def add_ceremony_parser(sub: Any) -> None:
    ceremony = sub.add_parser(
        "ceremony", help="run a multi-party Groth16 ceremony: keys that may hold value"
    )
    steps = ceremony.add_subparsers(dest="ceremony_command", required=True, metavar="STEP")
    new = steps.add_parser("new", help="compile the circuits and make their initial zkeys")
    new.add_argument("--ptau", type=Path, required=True, help="a prepared powers of tau file")
    new.add_argument("--out", type=Path, required=True, help="the ceremony's directory (new)")
    new.add_argument(
        "--circuits", metavar="A,B", help="comma-separated circuit names (default: all)"
    )
    contribute_step = steps.add_parser("contribute", help="add your secret contribution")
    contribute_step.add_argument("dir", type=Path, help="the ceremony's directory")
    contribute_step.add_argument("--name", required=True, help="your name, as published")
    contribute_step.add_argument(
        "--entropy",
        metavar="TEXT",
        help="extra entropy (default: 64 bytes from os.urandom; snarkjs adds its own too)",
    )
    verify_step = steps.add_parser("verify", help="check every zkey and the contribution chain")
    verify_step.add_argument("dir", type=Path, help="the ceremony's directory")
    verify_step.add_argument("--ptau", type=Path, help="the ptau (default: the one recorded)")
    final = steps.add_parser(
        "finalize", help="apply a public random beacon and export the verification keys"
    )
    final.add_argument("dir", type=Path, help="the ceremony's directory")
    final.add_argument("--beacon", required=True, metavar="HEX", help="public randomness, hex")
    final.add_argument(
        "--iterations",
        type=int,
        default=DEFAULT_BEACON_ITERATIONS_EXP,
        metavar="N",
        help=f"hash the beacon 2^N times, 10 to 63 (default {DEFAULT_BEACON_ITERATIONS_EXP})",
    )
    for step in (new, contribute_step, verify_step, final):
        step.add_argument("--json", action="store_true", help="print machine-readable JSON")


def cmd_ceremony(args: argparse.Namespace) -> int:
    def report(line: str) -> None:
        print(line, file=sys.stderr if args.json else sys.stdout, flush=True)

    try:
        result = STEPS[args.ceremony_command](args, report)
    except ProverError as error:
        print(f"duet ceremony {args.ceremony_command}: {error}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(result["json"], indent=2))
    return int(result["exit"])


def run_new(args: argparse.Namespace, report: Report) -> dict[str, Any]:
    paths = get_default_paths()
    names = [name.strip() for name in args.circuits.split(",")] if args.circuits else None
    manifest = new_ceremony(paths, args.ptau, args.out, names, report, paths.ptau_file)
    report(f"next: each participant runs `duet ceremony contribute {args.out} --name NAME`")
    return {"exit": 0, "json": manifest}


def run_contribute(args: argparse.Namespace, report: Report) -> dict[str, Any]:
    step = contribute(get_default_paths(), args.dir, args.name, args.entropy, report)
    if not args.json:
        print(f"contribution #{step['index']} by {step['name']}; publish these hashes:")
        for circuit, record in step["zkeys"].items():
            print(f"  {circuit}: {record['contribution_hash']}")
    return {"exit": 0, "json": step}


def run_verify(args: argparse.Namespace, report: Report) -> dict[str, Any]:
    checks = verify(get_default_paths(), args.dir, args.ptau, report)
    failed = [check for check in checks if not check.ok]
    for check in failed:
        print(f"duet ceremony verify: {check.reason}", file=sys.stderr)
    manifest = read_manifest(args.dir)
    if not failed:
        steps = len(manifest["contributions"]) + (1 if manifest.get("beacon") else 0)
        state = "finalized" if manifest.get("beacon") else "not finalized"
        report(f"==> ceremony: {len(checks)} circuit(s) verified, {steps} contribution(s), {state}")
    return {
        "exit": 1 if failed else 0,
        "json": {
            "ok": not failed,
            "finalized": bool(manifest.get("beacon")),
            "circuits": {check.circuit: vars(check) for check in checks},
        },
    }


def run_finalize(args: argparse.Namespace, report: Report) -> dict[str, Any]:
    manifest = finalize(get_default_paths(), args.dir, args.beacon, args.iterations, report)
    report(
        f"next: `duet ceremony verify {args.dir}`, then run the node with "
        f"{KEYS_DIR_ENV}={args.dir.resolve()}"
    )
    return {"exit": 0, "json": manifest}


STEPS = {
    "new": run_new,
    "contribute": run_contribute,
    "verify": run_verify,
    "finalize": run_finalize,
}
