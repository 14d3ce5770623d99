"""`duet prover` (prove for the market) and `duet market` (look at it)."""

import argparse
import asyncio
import contextlib
import json
import logging
import sys
import time
from pathlib import Path
from typing import Any

from chain.bridge_cli import load_signer
from chain.jsonrpc import NodeUnreachable, RpcClient, RpcError
from chain.nodefile import read_node_file

log = logging.getLogger("duet.prover")
MARKET_REFRESH_S = 1.0


def add_market_parsers(sub: Any, default_data_dir: Path) -> None:
    prover = sub.add_parser(
        "prover", help="prove for the market: heartbeats, jobs, proofs, earnings (live)"
    )
    who = prover.add_mutually_exclusive_group(required=True)
    who.add_argument("--key", metavar="HEX", help="the prover's private key (its ZK account)")
    who.add_argument("--dev-account", metavar="N", type=int, help="dev account N")
    prover.add_argument(
        "--workers", type=int, default=1, help="proving processes (default 1; a proof is ~1 s)"
    )
    prover.add_argument(
        "--plain",
        action="store_true",
        help="log lines instead of the live view (default off a TTY)",
    )
    market = sub.add_parser("market", help="show the prover market: provers, jobs, bounties")
    market.add_argument("--watch", action="store_true", help="refresh every second until Ctrl+C")
    market.add_argument("--json", action="store_true", help="print duet_getProverMarket's JSON")
    for parser in (prover, market):
        parser.add_argument(
            "--node-url", metavar="URL", help="the node's ZK endpoint (default: from --data-dir)"
        )
        parser.add_argument(
            "--data-dir",
            type=Path,
            default=default_data_dir,
            help=f"the running node's data directory (default {default_data_dir})",
        )


def resolve_endpoint(args: argparse.Namespace) -> tuple[str, str]:
    """The ZK endpoint's HTTP and WebSocket URLs; ValueError if there is none."""
    if args.node_url:
        url = args.node_url
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"--node-url must be an http(s) URL, got {url!r}")
        return url, "ws" + url[4:]
    info = read_node_file(args.data_dir)
    return info.zk.http, info.zk.ws


def read_market(url: str) -> Any:
    return RpcClient(url).call("duet_getProverMarket")


def cmd_prover(args: argparse.Namespace) -> int:
    from rich.console import Console

    try:
        http, ws = resolve_endpoint(args)
        signer = load_signer(args)
        if args.workers < 1:
            raise ValueError("--workers must be at least 1")
        market = read_market(http)
    except (ValueError, NodeUnreachable, RpcError) as exc:
        Console(stderr=True).print(f"[red]duet prover:[/] {exc}")
        return 2
    live = not args.plain and sys.stdout.isatty()
    if not live:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run_prover(http, ws, bytes(signer.key), market["config"], args.workers, live))
    return 0


async def run_prover(
    http: str, ws: str, key: bytes, config: dict[str, int], workers: int, live: bool
) -> None:
    from rich.live import Live

    from chain.client.prover.loop import ProverLoop, ProverStats
    from chain.client.prover.rpc_link import RpcLink
    from chain.client.prover.view import render_prover
    from chain.config import MarketConfig

    cfg = MarketConfig(**config)  # type: ignore[arg-type]  # the node's, as JSON numbers
    async with RpcLink(http, ws, key) as link:
        if not live:
            loop = ProverLoop(link, key, cfg, workers, on_change=log_change)
            log.info("proving for %s as %s with %d worker(s)", http, link.address, workers)
            await loop.run()
            return
        with Live(refresh_per_second=4, transient=False) as screen:

            def show(stats: ProverStats) -> None:
                screen.update(render_prover(stats, link.address, http))

            await ProverLoop(link, key, cfg, workers, on_change=show).run()


_last_logged: dict[str, Any] = {}


def log_change(stats: Any) -> None:
    """Plain mode: a line when a job finishes or the balance changes."""
    snap = stats.snapshot
    latest = stats.history[0] if stats.history else None
    key = {
        "balance": None if snap is None else snap.balance,
        "job": None if latest is None else (latest.job_id, latest.state),
    }
    if key == _last_logged:
        return
    _last_logged.update(key)
    if latest is not None:
        log.info(
            "job %s (%s): %s %s", latest.job_id[:12], latest.label, latest.state, latest.detail
        )
    if snap is not None:
        log.info(
            "height %d: balance %d wei, %d proven, %d missed, %d invalid, active through %d",
            snap.height,
            snap.balance,
            snap.proven,
            snap.missed,
            snap.invalid,
            snap.active_until,
        )


def cmd_market(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.live import Live

    from chain.client.prover.view import render_market

    console = Console()
    try:
        http, _ = resolve_endpoint(args)
        market = read_market(http)
    except (ValueError, NodeUnreachable, RpcError) as exc:
        Console(stderr=True).print(f"[red]duet market:[/] {exc}")
        return 2
    if args.json:
        print(json.dumps(market, indent=2))
        return 0
    if not args.watch:
        console.print(render_market(market))
        return 0
    with (
        contextlib.suppress(KeyboardInterrupt),
        Live(render_market(market), console=console) as screen,
    ):
        while True:
            time.sleep(MARKET_REFRESH_S)
            try:
                screen.update(render_market(read_market(http)))
            except (NodeUnreachable, RpcError) as exc:
                console.print(f"[red]node unreachable:[/] {exc}")
    return 0
