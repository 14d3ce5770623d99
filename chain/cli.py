"""The `duet` command line."""

import argparse
import json
import logging
import os
import signal
import sys
import tempfile
import threading
from collections.abc import Callable
from dataclasses import fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

import uvloop
from rich.console import Console
from rich.logging import RichHandler
from rich.table import Table

from chain.bridge_cli import (
    add_bridge_parsers,
    add_escape_parsers,
    cmd_deposit,
    cmd_exit,
    cmd_withdraw,
)
from chain.ceremony_cli import add_ceremony_parser, cmd_ceremony
from chain.config import (
    DEFAULT_FAST_PORT,
    DEFAULT_ZK_PORT,
    FAST_BLOCK_WINDOW_MS,
    ZK_BLOCK_INTERVAL_S,
    MarketConfig,
)
from chain.consensus.comet_sequencer import (
    BadCometHome,
    CometBFTExited,
    read_genesis_stakes,
    read_genesis_time_ms,
    read_home_settings,
)
from chain.consensus.cometbft import CometBFTNotFound, find_cometbft
from chain.e2e_cli import add_e2e_parser, cmd_e2e
from chain.jsonrpc import NodeUnreachable, RpcClient, RpcError
from chain.l1.config import AGENT_POLL_S, GRACE_BLOCKS, SLOT_BLOCKS, SlotSchedule
from chain.l1.devnet import DevnetError
from chain.l1.errors import L1Error
from chain.ledger.integrity import DamagedDatabase
from chain.ledger.store import SchemaVersionError
from chain.market_cli import add_market_parsers, cmd_market, cmd_prover
from chain.node import DEFAULT_EXECUTOR, EXECUTORS
from chain.nodefile import get_node_file_path, read_node_file
from chain.prover.ceremony import KEYS_DIR_ENV
from chain.service import DataDirBusy, NodeOptions, run_node
from chain.stake_cli import add_stake_parser, cmd_stake
from chain.testnet_cli import add_testnet_parser, cmd_testnet
from game.play import add_play_parser, cmd_play

if TYPE_CHECKING:
    from chain.drill import DrillResult
    from chain.l1.reconstruct import Reconstruction

DEFAULT_DATA_DIR = Path(os.environ.get("DUET_DATA_DIR", Path.home() / ".duet" / "dev"))
err = Console(stderr=True)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="duet", description="Duet: a ZK chain and a fast EVM chain on one braided ledger."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    node = sub.add_parser("node", help="run a node (both chains, JSON-RPC, sequencer)")
    node.add_argument(
        "--dev",
        action="store_true",
        help="embedded dev mode: this process orders all blocks (the default)",
    )
    node.add_argument(
        "--consensus",
        choices=("dev", "cometbft"),
        default="dev",
        help="who orders blocks: this process (dev, the default), or CometBFT, which the node "
        "starts on --cometbft-home (the decentralized mode; fast chain only so far)",
    )
    node.add_argument(
        "--cometbft-home",
        metavar="DIR",
        type=Path,
        default=None,
        help="the validator's CometBFT home, as `duet testnet` makes them (default: "
        "DATA_DIR/cometbft)",
    )
    node.add_argument(
        "--data-dir",
        type=Path,
        default=DEFAULT_DATA_DIR,
        help=f"where the database and node.json live (default {DEFAULT_DATA_DIR})",
    )
    node.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)"
    )
    node.add_argument(
        "--fast-port",
        type=int,
        default=DEFAULT_FAST_PORT,
        help=f"fast chain HTTP+WS port, 0 for any free port (default {DEFAULT_FAST_PORT})",
    )
    node.add_argument(
        "--zk-port",
        type=int,
        default=DEFAULT_ZK_PORT,
        help=f"ZK chain HTTP+WS port, 0 for any free port (default {DEFAULT_ZK_PORT})",
    )
    node.add_argument(
        "--market",
        metavar="NAME=VALUE",
        action="append",
        default=[],
        help="a prover-market parameter (MarketConfig in chain/config.py), e.g. active_blocks=8; "
        "a network rule: give the same ones at every start of a data directory",
    )
    node.add_argument(
        "--block-window-ms",
        type=float,
        default=FAST_BLOCK_WINDOW_MS,
        help="the least time between two fast blocks while transactions keep coming; a "
        f"transaction on a quiet chain is in a block at once (default {FAST_BLOCK_WINDOW_MS} ms)",
    )
    node.add_argument(
        "--zk-interval",
        type=float,
        default=ZK_BLOCK_INTERVAL_S,
        help=f"seconds between ZK blocks (default {ZK_BLOCK_INTERVAL_S})",
    )
    node.add_argument(
        "--executor",
        choices=sorted(EXECUTORS),
        default=DEFAULT_EXECUTOR,
        help=f"EVM implementation of the fast chain (default {DEFAULT_EXECUTOR})",
    )
    node.add_argument(
        "--l1-rpc",
        metavar="URL",
        default=None,
        help="settle on this Ethereum JSON-RPC endpoint (default: start anvil, its state kept "
        "in the data directory)",
    )
    node.add_argument(
        "--no-l1",
        dest="l1",
        action="store_false",
        help="run the two chains without an L1: no anvil, rollup or submission agent (ZK "
        "blocks are proven but settle nowhere)",
    )
    node.add_argument(
        "--no-prover",
        dest="prover",
        action="store_false",
        help="do not run the embedded prover (operations stay committed, unproven)",
    )
    node.add_argument(
        "--rollup",
        metavar="ADDRESS",
        default=None,
        help="settle on the rollup at this L1 address (default: on the managed anvil, the one "
        "the node deploys at first start; on another L1, none)",
    )
    node.add_argument(
        "--no-agent",
        dest="agent",
        action="store_false",
        help="do not run the embedded submission agent (blocks settle only if another agent "
        "posts them)",
    )
    node.add_argument(
        "--agent-key",
        metavar="HEX",
        default=None,
        help="the embedded agent's L1 key (default: dev account 9, the dev rollup's owner and "
        "agent)",
    )
    node.add_argument(
        "--sequencer-key",
        metavar="HEX",
        default=None,
        help="the key this node attests its blocks with for L1 (default: the dev sequencer's, "
        "which a rollup the node deploys gets as its sequencer)",
    )
    node.add_argument(
        "--slot-blocks",
        type=int,
        default=SLOT_BLOCKS,
        help=f"L1 blocks per agent slot, for a rollup deployed now (default {SLOT_BLOCKS})",
    )
    node.add_argument(
        "--grace-blocks",
        type=int,
        default=GRACE_BLOCKS,
        help="L1 blocks after a settlement before anyone may submit, for a rollup deployed "
        f"now (default {GRACE_BLOCKS})",
    )
    node.add_argument(
        "--keys",
        metavar="DIR",
        type=Path,
        default=None,
        help=f"the circuit keys of a finalized `duet ceremony` (sets ${KEYS_DIR_ENV}; default: "
        "the development keys, refused outside dev chains)",
    )
    node.add_argument("-v", "--verbose", action="store_true", help="log every block")

    agent = sub.add_parser("agent", help="run a submission agent: post proven ZK blocks to L1")
    agent.add_argument("--key", metavar="HEX", required=True, help="the agent's L1 private key")
    agent.add_argument(
        "--node-url", metavar="URL", required=True, help="the node's ZK-chain JSON-RPC (HTTP)"
    )
    agent.add_argument("--l1-rpc", metavar="URL", required=True, help="the L1 JSON-RPC endpoint")
    agent.add_argument("--rollup", metavar="ADDRESS", required=True, help="the rollup's address")
    agent.add_argument(
        "--poll",
        type=float,
        default=AGENT_POLL_S,
        help=f"seconds between looks when there is nothing to post (default {AGENT_POLL_S})",
    )
    agent.add_argument("-v", "--verbose", action="store_true", help="log every wait")

    status = sub.add_parser("status", help="show a running node's endpoints and heads")
    status.add_argument(
        "--data-dir",
        type=Path,
        default=DEFAULT_DATA_DIR,
        help=f"the node's data directory (default {DEFAULT_DATA_DIR})",
    )
    status.add_argument("--json", action="store_true", help="print machine-readable JSON")

    reconstruct = sub.add_parser(
        "reconstruct",
        help="rebuild the ZK chain's state from L1 calldata alone and check the settled root",
    )
    reconstruct.add_argument(
        "--l1-rpc", metavar="URL", default=None, help="the L1 JSON-RPC endpoint"
    )
    reconstruct.add_argument(
        "--rollup", metavar="ADDRESS", default=None, help="the rollup's address"
    )
    reconstruct.add_argument(
        "--from-block",
        metavar="N",
        type=int,
        default=None,
        help="the first L1 block to read (default: the rollup's deployment block)",
    )
    reconstruct.add_argument(
        "--data-dir",
        metavar="DIR",
        type=Path,
        default=None,
        help="a running dev node's data directory, for what --l1-rpc / --rollup leave out "
        f"(default {DEFAULT_DATA_DIR})",
    )
    reconstruct.add_argument(
        "--json", action="store_true", help="print machine-readable JSON, the state included"
    )

    drill = sub.add_parser("drill", help="run a failure drill and report the damage")
    drill.add_argument(
        "scenario",
        choices=list(DRILLS),
        help="fast-chain-compromise: the fast chain forges messages to the ZK chain; "
        "malicious-sequencer: the sequencer's and the proving keys try to take assets on L1; "
        "outsider: an account that is neither sequencer nor agent tries to settle or brick; "
        "censorship: the sequencer ignores a user, who forces a Withdraw through L1",
    )
    drill.add_argument(
        "--mode",
        choices=["include", "freeze"],
        default="include",
        help="censorship: the sequencer gives in (include) or keeps refusing (freeze)",
    )
    drill.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="keep the drill's node here (default: a temporary directory, removed after)",
    )
    drill.add_argument("--json", action="store_true", help="print machine-readable JSON")
    add_bridge_parsers(sub, DEFAULT_DATA_DIR)
    add_escape_parsers(sub, DEFAULT_DATA_DIR)
    add_market_parsers(sub, DEFAULT_DATA_DIR)
    add_stake_parser(sub, DEFAULT_DATA_DIR)
    add_play_parser(sub, DEFAULT_DATA_DIR)
    add_ceremony_parser(sub)
    add_testnet_parser(sub, DEFAULT_DATA_DIR.parent / "testnet")
    add_e2e_parser(sub)
    return parser


def setup_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(message)s",
        handlers=[RichHandler(console=err, show_path=False)],
    )
    for noisy in ("aiohttp", "web3", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def parse_key(text: str) -> bytes:
    key = bytes.fromhex(text.removeprefix("0x"))
    if len(key) != 32:
        raise ValueError("a private key is 32 bytes")
    return key


def parse_market_config(pairs: list[str]) -> MarketConfig:
    """`NAME=VALUE` overrides of the market's parameters; ValueError names the bad one."""
    known = {f.name for f in fields(MarketConfig)}
    values: dict[str, int] = {}
    for pair in pairs:
        name, _, value = pair.partition("=")
        if name not in known:
            raise ValueError(
                f"no parameter {name!r}; the parameters are {', '.join(sorted(known))}"
            )
        try:
            values[name] = int(value)
        except ValueError:
            raise ValueError(f"{name} must be a whole number, got {value!r}") from None
    return MarketConfig(**values)  # type: ignore[arg-type]  # its own check: each positive


def cmd_node(args: argparse.Namespace) -> int:
    setup_logging(args.verbose)
    if args.dev and args.consensus != "dev":
        err.print("[red]--dev and --consensus cometbft contradict each other[/]")
        return 2
    data_dir = args.data_dir.expanduser().resolve()
    cometbft_home = None
    if args.consensus == "cometbft":
        cometbft_home = (args.cometbft_home or data_dir / "cometbft").expanduser().resolve()
        try:
            find_cometbft()
            read_home_settings(cometbft_home)
            read_genesis_time_ms(cometbft_home)
            read_genesis_stakes(cometbft_home)
        except (CometBFTNotFound, BadCometHome) as exc:
            err.print(f"[red]cannot run the decentralized mode: {exc}[/]")
            return 2
    if args.block_window_ms < 0 or args.zk_interval <= 0:
        err.print("[red]--block-window-ms must be >= 0 and --zk-interval > 0[/]")
        return 2
    if not args.l1 and (args.l1_rpc is not None or args.rollup is not None):
        err.print("[red]--no-l1 and --l1-rpc / --rollup contradict each other[/]")
        return 2
    if args.slot_blocks < 1 or args.grace_blocks < 0:
        err.print("[red]--slot-blocks must be >= 1 and --grace-blocks >= 0[/]")
        return 2
    try:
        agent_key = None if args.agent_key is None else parse_key(args.agent_key)
        sequencer_key = None if args.sequencer_key is None else parse_key(args.sequencer_key)
    except ValueError as exc:
        err.print(f"[red]--agent-key / --sequencer-key: {exc}[/]")
        return 2
    try:
        market = parse_market_config(args.market)
    except ValueError as exc:
        err.print(f"[red]--market: {exc}[/]")
        return 2
    if args.keys is not None:  # read where the keys load, in this process and its workers
        os.environ[KEYS_DIR_ENV] = str(args.keys.expanduser().resolve())
    options = NodeOptions(
        data_dir=data_dir,
        host=args.host,
        fast_port=args.fast_port,
        zk_port=args.zk_port,
        block_window_ms=args.block_window_ms,
        zk_interval_s=args.zk_interval,
        executor=args.executor,
        prover=args.prover,
        l1=args.l1,
        l1_rpc=args.l1_rpc,
        rollup=args.rollup,
        agent=args.agent,
        agent_key=agent_key,
        sequencer_key=sequencer_key,
        schedule=SlotSchedule(args.slot_blocks, args.grace_blocks),
        market=market,
        cometbft_home=cometbft_home,
    )
    try:
        uvloop.run(run_node(options))
    except DataDirBusy as exc:
        err.print(f"[red]{exc}[/]")
        return 1
    except (DamagedDatabase, SchemaVersionError) as exc:
        err.print(f"[red]the node will not serve this data directory: {exc}[/]")
        return 1
    except (OSError, DevnetError, L1Error) as exc:
        err.print(f"[red]cannot start the node: {exc}[/]")
        return 1
    except CometBFTExited as exc:
        err.print(f"[red]the node stopped: {exc}[/]")
        return 1
    return 0


def cmd_agent(args: argparse.Namespace) -> int:
    from eth_account import Account
    from eth_utils import to_checksum_address
    from web3 import Web3

    from chain.l1.agent import NodeSource, SubmissionAgent
    from chain.l1.rollup import RollupClient

    setup_logging(args.verbose)
    try:
        account = Account.from_key(parse_key(args.key))
        address = to_checksum_address(args.rollup)
    except ValueError as exc:
        err.print(f"[red]{exc}[/]")
        return 2
    w3 = Web3(Web3.HTTPProvider(args.l1_rpc, request_kwargs={"timeout": 60}))
    agent = SubmissionAgent(
        NodeSource(args.node_url), RollupClient(w3, address, account), poll_s=args.poll
    )
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    agent.run(stop)
    err.print(f"agent stopped: {len(agent.submitted)} blocks settled by this run")
    return 0


STATUS_TIMEOUT_S = 5.0


class NodeNotRunning(Exception):
    """No node runs on the data directory, or the one recorded there does not answer."""


def read_status(data_dir: Path) -> dict[str, Any]:
    """The running node's endpoints and heads; NodeNotRunning if none is running."""
    try:
        info = read_node_file(data_dir)
    except ValueError as exc:
        raise NodeNotRunning(str(exc)) from None
    try:
        os.kill(info.pid, 0)
    except ProcessLookupError:
        raise NodeNotRunning(
            f"the node recorded in {get_node_file_path(data_dir)} (pid {info.pid}) is not running"
        ) from None
    try:
        heads = RpcClient(info.fast.http, STATUS_TIMEOUT_S).call("duet_heads")
    except (NodeUnreachable, RpcError) as exc:
        raise NodeNotRunning(str(exc)) from None
    settlement = None
    if info.rollup:
        try:
            settlement = RpcClient(info.zk.http, STATUS_TIMEOUT_S).call("duet_getSettlementStatus")
        except (NodeUnreachable, RpcError) as exc:
            settlement = {"error": str(exc)}
    as_json = info.to_json()
    return {
        "fast": {**as_json["fast"], "head": heads["fast"]["height"]},
        "zk": {**as_json["zk"], "head": heads["zk"]["height"]},
        "ledger": {"seq": heads["ledger"]["seq"]},
        "pid": info.pid,
        "executor": info.executor,
        "l1": as_json["l1"],
        "settlement": settlement,
    }


def cmd_status(args: argparse.Namespace) -> int:
    try:
        status = read_status(args.data_dir.expanduser().resolve())
    except NodeNotRunning as exc:
        err.print(f"[red]{exc}[/]")
        return 1
    if args.json:
        print(json.dumps(status))
        return 0
    table = Table(title=f"Duet node (pid {status['pid']}), ledger seq {status['ledger']['seq']}")
    for column in ("chain", "chain ID", "head", "HTTP", "WebSocket"):
        table.add_column(column)
    for name in ("fast", "zk"):
        s = status[name]
        table.add_row(name, str(s["chain_id"]), str(s["head"]), s["http"], s["ws"])
    if status["l1"]:
        l1 = status["l1"]
        table.add_row(
            "L1" + (" (anvil)" if l1["managed"] else ""), str(l1["chain_id"]), "", l1["http"], ""
        )
    console = Console()
    console.print(table)
    l1 = status["l1"] or {}
    if l1.get("rollup"):
        agent = l1.get("agent") or "none (--no-agent)"
        console.print(f"rollup {l1['rollup']}, token {l1.get('zkpow')}, embedded agent {agent}")
    if status["settlement"] is not None:
        console.print(format_settlement_line(status["settlement"]), highlight=False)
    return 0


def format_settlement_line(settlement: dict[str, Any]) -> str:
    """`settled on L1: ZK block 41; next: 43, waiting for proofs (…)`"""
    if "error" in settlement:
        return f"settlement: cannot read it ({settlement['error']})"
    line = f"settled on L1 through ZK block {settlement['settledHeight']}"
    if settlement["nextHeight"] is None:
        return line + "; nothing waits to settle"
    return (
        f"{line}; next to settle: ZK block {settlement['nextHeight']}, waiting for "
        f"{settlement['waitingFor']} ({settlement['detail']})"
    )


RECONSTRUCT_PHASES = {
    "events": "reading BlockSettled events (L1 blocks)",
    "blocks": "replaying settled ZK blocks",
}


def cmd_reconstruct(args: argparse.Namespace) -> int:
    """Exit 0 if the replay of L1's calldata reaches L1's settled root, 1 if not (or the
    calldata cannot be read as settled blocks), 2 if L1 or the rollup is not there."""
    from eth_utils import is_address
    from rich.progress import Progress

    from chain.l1.reconstruct import L1Unavailable, load_dev_endpoints, reconstruct

    url, rollup, from_block = args.l1_rpc, args.rollup, args.from_block
    if url is None or rollup is None:
        data_dir = (args.data_dir or DEFAULT_DATA_DIR).expanduser().resolve()
        dev_url, dev_rollup, dev_block = load_dev_endpoints(data_dir)
        url, rollup = url or dev_url, rollup or dev_rollup
        if from_block is None and rollup == dev_rollup:
            from_block = dev_block
        if url is None or rollup is None:
            err.print(
                f"[red]no L1 endpoint or rollup: pass --l1-rpc and --rollup, or the --data-dir "
                f"of a running dev node ({data_dir} has none)[/]"
            )
            return 2
    if not is_address(rollup):
        err.print(f"[red]--rollup: {rollup} is not an address[/]")
        return 2
    try:
        with Progress(console=err, transient=True) as bar:
            tasks: dict[str, Any] = {}

            def on_progress(phase: str, done: int, total: int) -> None:
                if phase not in tasks:
                    tasks[phase] = bar.add_task(RECONSTRUCT_PHASES[phase], total=total)
                bar.update(tasks[phase], completed=done, total=total)

            result = reconstruct(url, rollup, from_block, progress=on_progress)
    except L1Unavailable as exc:
        err.print(f"[red]{exc}[/]")
        return 2
    except L1Error as exc:
        err.print(f"[red]cannot rebuild the state: {exc}[/]")
        return 1
    if args.json:
        print(json.dumps(result.to_json()))
    else:
        print_reconstruction(result)
    return 0 if result.matches else 1


def print_reconstruction(result: "Reconstruction") -> None:
    zkpow = 10**18
    summary = result.to_json(with_state=False)
    totals = summary["totals"]
    lines = [
        f"rollup {result.rollup}, read from L1 block {summary['fromBlock']} to "
        f"{summary['l1Block']}: {summary['blocks']} blocks, {summary['operations']} operations",
        f"settled height    {summary['settledHeight']} (L1), {summary['recomputedHeight']} "
        "(recomputed)",
        f"settled root      {summary['settledRoot']}",
        f"recomputed root   {summary['recomputedRoot']}",
        f"accounts {totals['accounts']}, tokens {totals['tokens']} ({totals['listed']} listed), "
        f"escrow {int(totals['escrow'], 16) / zkpow:,.4f}, "
        f"fee pool {int(totals['feePool'], 16) / zkpow:,.4f}, "
        f"total supply {int(totals['totalSupply'], 16) / zkpow:,.4f} ZKPoW, "
        f"next fast message {totals['nextFastMessage']}",
    ]
    if result.mismatch is None:
        lines.append("[green]match[/]: the calldata replays to the settled root")
    else:
        lines.append(f"[red]MISMATCH[/] at {result.mismatch.describe()}")
    console = Console()
    for line in lines:
        console.print(line, soft_wrap=True)  # roots and hashes stay whole, to copy


def cmd_drill(args: argparse.Namespace) -> int:
    report = (lambda line: None) if args.json else (lambda line: err.print(f"[dim]{line}[/]"))
    if args.data_dir is None:
        with tempfile.TemporaryDirectory(prefix="duet-drill-") as tmp:
            return run_drill(args, Path(tmp), report)
    return run_drill(args, args.data_dir.expanduser().resolve(), report)


# Each drill's progress goes to stderr; its result is one JSON object on the last line of
# stdout with --json. The L1 drills run a stack of their own (anvil, rollup, node).
DRILLS = ("fast-chain-compromise", "malicious-sequencer", "outsider", "censorship")


def run_drill(args: argparse.Namespace, data_dir: Path, report: Callable[[str], None]) -> int:
    # Each loads the whole node: imported only when asked.
    if args.scenario == "fast-chain-compromise":
        from chain.drill import run_compromise_drill

        result = run_compromise_drill(data_dir, report)
        if args.json:
            print(json.dumps(result.to_json()))
        else:
            print_drill(result)
        return 0 if result.within_bound else 1
    if args.scenario == "malicious-sequencer":
        from chain.drills.malicious_sequencer import run_malicious_sequencer_drill

        l1_result: Any = run_malicious_sequencer_drill(data_dir, report)
    elif args.scenario == "outsider":
        from chain.drills.outsider import run_outsider_drill

        l1_result = run_outsider_drill(data_dir, report)
    else:
        from chain.drills.censorship import run_censorship_drill

        l1_result = run_censorship_drill(data_dir, args.mode, report)
    outcome = l1_result.to_json()
    if args.json:
        print(json.dumps(outcome))
    else:
        for key, value in outcome.items():
            print(f"{key}: {value}")
        verdict = "[green]held[/]" if l1_result.passed else "[red]BROKEN[/]"
        Console().print(f"L1's rules {verdict}")
    return 0 if l1_result.passed else 1


def print_drill(result: "DrillResult") -> None:
    zkpow = 10**18
    table = Table(title="Per user: at risk on the fast chain, lost on the ZK chain (ZKPoW)")
    table.add_column("user", no_wrap=True)
    for column in ("on the fast chain", "ZK before", "ZK after", "ZK lost"):
        table.add_column(column, justify="right", no_wrap=True)
    for u in result.users:
        table.add_row(
            f"{u.address[:8]}…{u.address[-6:]}",
            *(f"{wei / zkpow:,.3f}" for wei in (u.on_fast, u.zk_before, u.zk_after, u.zk_lost)),
        )
    console = Console()
    console.print(table)
    console.print(
        f"attacker took {result.released_to_attacker / zkpow:,.4f} ZKPoW "
        f"(escrow was {result.escrow_before / zkpow:,.4f}) "
        f"and {result.rewards_to_attacker} tokens "
        f"(the epoch caps allow {result.mint_bound})"
    )
    for reason, count in sorted(result.refusals.items()):
        console.print(f"  refused {count}×: {reason}")
    verdict = "[green]within[/]" if result.within_bound else "[red]BEYOND[/]"
    console.print(f"loss is {verdict} the bound: escrow plus the mint caps")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handlers = {
        "node": cmd_node,
        "agent": cmd_agent,
        "status": cmd_status,
        "reconstruct": cmd_reconstruct,
        "drill": cmd_drill,
        "deposit": cmd_deposit,
        "withdraw": cmd_withdraw,
        "exit": cmd_exit,
        "prover": cmd_prover,
        "play": cmd_play,
        "market": cmd_market,
        "stake": cmd_stake,
        "ceremony": cmd_ceremony,
        "testnet": cmd_testnet,
        "e2e": cmd_e2e,
    }
    handler = handlers[args.command]
    return handler(args)


if __name__ == "__main__":
    sys.exit(main())
