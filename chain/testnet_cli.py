"""`duet testnet`: start a local network of validators on loopback and keep it running.

    duet testnet --validators 4 [--joiners N] [--dir DIR] [--reset]

Each validator is a `duet node --consensus cometbft` process with its own CometBFT; the
network lives under DIR and a later start continues it. Ctrl-C stops every validator.
"""

from __future__ import annotations

import argparse
import shutil
import signal
import threading
from pathlib import Path
from typing import Any

from rich.console import Console

from chain.consensus.cometbft import CometBFTNotFound, find_cometbft
from chain.consensus.network import MAX_VALIDATORS, NetworkError, read_attest_address
from chain.testnet import Testnet, TestnetError

WATCH_S = 1.0  # how often the validators' processes are checked

out = Console()
err = Console(stderr=True)


def add_testnet_parser(sub: Any, default_dir: Path) -> None:
    testnet = sub.add_parser(
        "testnet", help="run a local network of validators (the decentralized mode) on loopback"
    )
    testnet.add_argument(
        "--validators",
        type=int,
        default=4,
        help=f"how many validators, 1 to {MAX_VALIDATORS} (default 4)",
    )
    testnet.add_argument(
        "--dir",
        type=Path,
        default=default_dir,
        help=f"where the network lives; a later start continues it (default {default_dir})",
    )
    testnet.add_argument(
        "--reset", action="store_true", help="delete the network in --dir first, then make one"
    )
    testnet.add_argument(
        "--executor", choices=("revm", "pyevm"), default="revm", help="the fast chain's EVM"
    )
    testnet.add_argument(
        "--joiners",
        type=int,
        default=0,
        help="also run N full nodes of validators that join after genesis (with the ones an "
        "earlier start made); each prints how to register and bond it",
    )
    testnet.add_argument(
        "--no-l1",
        action="store_true",
        help="no shared anvil and rollup: the validators settle nowhere",
    )


def print_validators(testnet: Testnet) -> None:
    """One block per validator (URLs whole, whatever the terminal's width), and the L1."""
    validators = testnet.validators
    out.print(f"[bold]Duet testnet: {len(validators)} validators[/]")
    if testnet.l1_url is not None and testnet.deployment is not None:
        out.print(
            f"  L1 (anvil) {testnet.l1_url}  Rollup {testnet.deployment.rollup}", soft_wrap=True
        )
    for v in validators:
        joiner = v.index >= testnet.genesis_validators
        out.print(
            f"  {'joiner' if joiner else 'validator'} {v.index}: fast {v.fast_http}  "
            f"zk {v.zk_http}\n    CometBFT RPC {v.comet_rpc}  data {v.data_dir}  log {v.log}",
            soft_wrap=True,
        )
        if joiner:
            home = v.home.home
            out.print(
                f"    to validate: give {read_attest_address(home)} ZKPoW (stake + 1), then\n"
                f"    duet stake register --cometbft-home {home} --node-url {v.zk_http}\n"
                f"    duet stake bond AMOUNT --cometbft-home {home} --node-url {v.zk_http}",
                soft_wrap=True,
            )


def cmd_testnet(args: argparse.Namespace) -> int:
    if not 1 <= args.validators <= MAX_VALIDATORS:
        err.print(f"[red]--validators must be 1 to {MAX_VALIDATORS}[/]")
        return 2
    if not 0 <= args.joiners <= MAX_VALIDATORS - args.validators:
        err.print(f"[red]--joiners must be 0 to {MAX_VALIDATORS - args.validators}[/]")
        return 2
    try:
        find_cometbft()
    except CometBFTNotFound as exc:
        err.print(f"[red]the decentralized mode is unavailable: {exc}[/]")
        return 2
    root = args.dir.expanduser().resolve()
    if args.reset and root.exists():
        shutil.rmtree(root)
    try:
        testnet = Testnet(
            root,
            args.validators,
            executor=args.executor,
            l1=not args.no_l1,
            joiners=args.joiners,
        )
    except NetworkError as exc:
        err.print(f"[red]{exc}[/] (--reset makes a new network in {root})")
        return 2
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    out.print(f"starting {args.validators} validators in {root} …")
    try:
        testnet.start(lambda v: out.print(f"  validator {v.index} is up: {v.fast_http}"))
        print_validators(testnet)
        out.print("Ctrl-C stops the network; `duet testnet` again continues it.")
        reported: set[int] = set()
        while not stop.wait(WATCH_S):
            for v in testnet.validators:
                if not testnet.is_running(v.index) and v.index not in reported:
                    reported.add(v.index)
                    err.print(f"[yellow]validator {v.index} stopped; its log: {v.log}[/]")
    except TestnetError as exc:
        err.print(f"[red]the testnet did not start: {exc}[/]")
        return 1
    finally:
        out.print("stopping the validators …")
        testnet.stop()
    return 0
