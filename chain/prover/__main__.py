"""`python -m chain.prover setup [NAME...]`: run the development ceremony for the circuits."""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from chain.prover.ceremony import (
    CEREMONY_ENV,
    MAX_PARALLEL_CIRCUITS,
    METHODS,
    PTAU_POWER,
    CeremonyPaths,
    get_circuit_names,
    get_default_paths,
    setup_ceremony,
    setup_circuits,
    setup_ptau,
)
from chain.prover.errors import ProverError


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse_args(argv)
    paths = get_default_paths()
    if args.circuits_dir is not None:
        paths = replace(paths, circuits_dir=args.circuits_dir.resolve())
    if args.ceremony is not None:
        os.environ[CEREMONY_ENV] = args.ceremony  # worker processes read it too
    try:
        return _run_setup(paths, args.names, args.jobs)
    except ProverError as error:
        print(f"chain.prover: {error}", file=sys.stderr)
        return 1


def _run_setup(paths: CeremonyPaths, names: list[str], jobs: int) -> int:
    available = get_circuit_names(paths)
    unknown = sorted(set(names) - set(available))
    if unknown:
        raise ProverError(f"no such circuit(s) {unknown} in {paths.circuits_dir}; have {available}")
    start = time.monotonic()
    ceremony = setup_ceremony(paths)  # builds devkeys once, so the tests find it too
    # Even with no circuit yet: every circuit (and the prover tests) will need it.
    if setup_ptau(paths, ceremony=ceremony).status == "cached":
        print(f"==> ptau 2^{PTAU_POWER}: up to date ({paths.ptau_file})", flush=True)
    if not available:
        print(f"==> circuits: none in {paths.circuits_dir}", flush=True)
        return 0
    results = setup_circuits(paths, names or available, jobs, ceremony=ceremony)
    built = [result.name for result in results if result.status == "built"]
    summary = f"{len(results)} ready, {len(built)} built" if built else f"{len(results)} up to date"
    elapsed = time.monotonic() - start
    print(
        f"==> circuits: {summary} ({elapsed:.1f} s) in {paths.cache_dir / 'circuits'}", flush=True
    )
    return 0


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m chain.prover")
    commands = parser.add_subparsers(dest="command", required=True)
    setup = commands.add_parser(
        "setup", help="run the ceremony for the circuits (cached in $DUET_CACHE_DIR)"
    )
    setup.add_argument("names", nargs="*", help="circuits to set up (default: all)")
    setup.add_argument(
        "--jobs", type=int, default=MAX_PARALLEL_CIRCUITS, help="circuits built in parallel"
    )
    setup.add_argument("--circuits-dir", type=Path, help="where the <name>.circom files are")
    setup.add_argument(
        "--ceremony",
        choices=METHODS,
        help=f"how to compute the keys (default: ${CEREMONY_ENV}, else native): natively with "
        "devkeys, in seconds, or with snarkjs, in half an hour; the same bytes either way",
    )
    return parser.parse_args(argv)


if __name__ == "__main__":
    sys.exit(main())
