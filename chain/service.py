"""Running a node: the servers, the sequencer, the data directory's lock and node.json, and
its L1 side: the devnet, the rollup, the watcher of settled blocks, the embedded agent."""

import asyncio
import contextlib
import dataclasses
import fcntl
import gc
import logging
import os
import signal
from collections.abc import Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiohttp import web
from eth_account import Account

from chain.client.prover.house import make_house_prover
from chain.config import DEV_PROVER_ACCOUNT, MarketConfig, NetworkConfig
from chain.consensus.comet_sequencer import (
    CometSequencer,
    read_attest_key,
    read_genesis_stakes,
    read_genesis_time_ms,
)
from chain.consensus.cometbft import find_cometbft
from chain.consensus.dev import DevSequencer, align_l1_clock, make_l1_clock
from chain.fast.genesis import dev_alloc, dev_keys, dev_sequencer_key
from chain.jsonrpc import AsyncRpcClient, NodeUnreachable, RpcError
from chain.l1.agent import SubmitGate
from chain.l1.attestation import Attestor
from chain.l1.calldata import StateRoot
from chain.l1.config import DEFAULT_SCHEDULE, SlotSchedule
from chain.l1.devnet import Devnet, DevnetError, L1Endpoint
from chain.ledger.integrity import check_database
from chain.ledger.store import DATABASE_FILE
from chain.node import open_node
from chain.node.snapshots import DevSnapshots
from chain.nodefile import Endpoint, L1Info, NodeFile, remove_node_file
from chain.rpc.circuit_files import ROUTE as CIRCUIT_ROUTE
from chain.rpc.duet_api import DuetApi
from chain.rpc.fast_api import FastApi
from chain.rpc.market_api import MarketApi
from chain.rpc.server import Dispatcher, dumps, make_app
from chain.rpc.subscriptions import SubscriptionHub
from chain.rpc.zk_api import ZkApi

if TYPE_CHECKING:
    from chain.l1.link import AgentThread

log = logging.getLogger("duet.node")
LOCK_FILE = "LOCK"


class DataDirBusy(Exception):
    pass


@dataclass(frozen=True)
class NodeOptions:
    data_dir: Path
    host: str
    fast_port: int
    zk_port: int
    block_window_ms: float
    zk_interval_s: float
    executor: str
    prover: bool = True  # run the embedded prover as a market prover
    prover_key: bytes | None = None  # None: dev account DEV_PROVER_ACCOUNT
    l1: bool = True  # False (--no-l1): no L1 at all, the chains alone
    l1_rpc: str | None = None  # None: start anvil, with its state in the data directory
    rollup: str | None = None  # None: deploy one on the managed anvil (none on another L1)
    agent: bool = True  # run an embedded submission agent where there is a rollup
    agent_key: bytes | None = None  # None: the attester key of a validator, else DEV_AGENT_ACCOUNT
    sequencer_key: bytes | None = None  # None: the dev sequencer's (chain/fast/genesis.py)
    schedule: SlotSchedule = DEFAULT_SCHEDULE  # of a rollup the node deploys
    market: MarketConfig = field(default_factory=MarketConfig)
    # None: dev mode (this process orders both chains); a CometBFT home: the decentralized
    # mode, CometBFT (started on that home) orders, the node executes (both chains and the
    # prover market; on L1, only with l1_rpc and rollup given: chain/consensus/)
    cometbft_home: Path | None = None


def lock_data_dir(data_dir: Path) -> int:
    data_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(data_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise DataDirBusy(f"another node is running on {data_dir}") from None
    return fd


async def start_site(app: web.Application, host: str, port: int) -> tuple[web.AppRunner, int]:
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, host, port, backlog=1024)
    await site.start()
    server = site._server
    assert server is not None
    sockets = getattr(server, "sockets", None) or []
    return runner, sockets[0].getsockname()[1]


async def gather_or_fail(*coroutines: Coroutine[Any, Any, None]) -> None:
    """Run background loops (sequencer, prover) as one task: the first failure is raised, and
    the node stops, rather than running on with a dead loop."""
    await asyncio.gather(*coroutines)


async def fetch_chain_id(url: str) -> int:
    try:
        return int(await AsyncRpcClient(url).call("eth_chainId"), 16)
    except (NodeUnreachable, RpcError, TypeError, ValueError) as exc:
        raise DevnetError(f"the L1 endpoint {url} does not answer eth_chainId: {exc}") from None


async def connect_l1(options: NodeOptions, devnet: Devnet) -> L1Endpoint:
    """The L1 this node settles on: the one named by --l1-rpc, or its own anvil."""
    url = options.l1_rpc or await devnet.start()
    return L1Endpoint(url, await fetch_chain_id(url), managed=options.l1_rpc is None)


def compute_loopback_url(host: str, port: int) -> str:
    """How this process reaches its own endpoint (a wildcard address is not a destination)."""
    return f"http://{'127.0.0.1' if host in ('0.0.0.0', '::', '') else host}:{port}/"


async def run_node(options: NodeOptions, ready: asyncio.Event | None = None) -> None:
    from chain.l1 import link  # web3 loads here, not in `duet status` (chain/l1/link.py)

    lock_fd = lock_data_dir(options.data_dir)
    try:  # before anything starts: a damaged database is never served
        check_database(options.data_dir / DATABASE_FILE)
    except BaseException:
        os.close(lock_fd)
        raise
    devnet = Devnet(options.data_dir, options.host)
    decentralized = options.cometbft_home is not None
    try:
        # The decentralized mode settles on the L1 its network names (--l1-rpc, --rollup),
        # never on an anvil of its own: every validator must read the same rollup.
        l1 = None
        if options.l1 and (not decentralized or options.l1_rpc is not None):
            l1 = await connect_l1(options, devnet)
    except BaseException:
        await devnet.stop()
        os.close(lock_fd)
        raise
    genesis_time_ms = None  # dev mode: now, at the first start
    genesis_stakes: dict[int, int] = {}
    if options.cometbft_home is not None:  # the network's
        genesis_time_ms = read_genesis_time_ms(options.cometbft_home)
        genesis_stakes = read_genesis_stakes(options.cometbft_home)
    network = NetworkConfig(
        market=options.market, genesis_time_ms=genesis_time_ms, genesis_stakes=genesis_stakes
    )
    node = open_node(options.data_dir, network, options.executor)
    cfg = node.config
    if node.lost_on_start:
        log.warning("%d pending transactions could not be re-admitted", len(node.lost_on_start))
    runners: list[web.AppRunner] = []
    agent: AgentThread | None = None
    gate = SubmitGate()  # the embedded agent's and a dev node's evm_revert's
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    sequencer_key = options.sequencer_key or dev_sequencer_key()
    # A validator's agent pays L1 gas with its attester key unless given one of its own.
    agent_key = options.agent_key
    if agent_key is None and options.cometbft_home is not None:
        agent_key = read_attest_key(options.cometbft_home)
    try:
        genesis = node.get_block(cfg.zk_chain_id, 0)
        assert genesis is not None
        settlement = None
        if l1 is not None:
            settlement = await link.connect_rollup(
                options.data_dir,
                l1,
                StateRoot(int.from_bytes(genesis.state_root, "big")),
                options.rollup,
                agent_key,
                options.schedule,
                cfg.dev_alloc or dev_alloc(),
                Account.from_key(sequencer_key).address,
            )
        if settlement is not None:
            node.use_signing_domain(settlement.domain)
            if not decentralized:  # else the validators attest, in their vote extensions
                node.use_attestor(Attestor(settlement.domain, (sequencer_key,)))
        endpoints: dict[str, Endpoint] = {}
        duet = DuetApi(node, endpoints)
        market = MarketApi(node)
        asyncio.get_running_loop().run_in_executor(None, market.circuits.preload)
        # A dev node signs for the dev accounts (eth_sendTransaction), as anvil does.
        fast_api = FastApi(node, None if decentralized else dev_keys())
        hubs: dict[str, SubscriptionHub] = {}
        ports: dict[str, int] = {}
        for name, methods, chain_id, port in (
            ("fast", fast_api.methods, cfg.fast_chain_id, options.fast_port),
            ("zk", ZkApi(node).methods | market.methods, cfg.zk_chain_id, options.zk_port),
        ):
            if name == "zk":
                hub = SubscriptionHub(chain_id, cfg.fast_chain_id, dumps, market.format_prover_jobs)
            else:
                hub = SubscriptionHub(
                    chain_id, cfg.fast_chain_id, dumps, pending_logs=fast_api.format_pending_logs
                )
                node.admit_listeners.append(hub.on_admitted)
                node.admit_listeners.append(fast_api.filters.on_admitted)
            node.listeners.append(hub.on_block)
            hubs[name] = hub
            files = None
            if name == "zk":  # the market's circuits, for provers outside the node
                files = (CIRCUIT_ROUTE, lambda m: market.circuits.find_file(m["name"], m["file"]))
            app = make_app(Dispatcher({**methods, **duet.methods}), hub, files)
            runner, actual_port = await start_site(app, options.host, port)
            runners.append(runner)
            ports[name] = actual_port
            address = f"{options.host}:{actual_port}/"
            endpoints[name] = Endpoint(f"http://{address}", f"ws://{address}", chain_id)
        if options.cometbft_home is not None:
            comet = CometSequencer(
                node,
                options.cometbft_home,
                find_cometbft(),
                options.data_dir,
                round(options.zk_interval_s * 1000),
            )
            comet.app.soft_listeners.append(hubs["fast"].on_soft_block)
            tasks = [comet.run()]
        else:
            l1_clock = make_l1_clock(None if l1 is None else l1.http, l1 is not None and l1.managed)
            if l1 is not None and l1.managed and node.clock.offset_ms > 0:
                moved = align_l1_clock(l1.http, node.clock.now_ms())
                log.info(
                    "dev clock %d s ahead: anvil's moved %d s", node.clock.offset_ms // 1000, moved
                )
            sequencer = DevSequencer(node, options.block_window_ms, options.zk_interval_s, l1_clock)
            sequencer.soft_listeners.append(hubs["fast"].on_soft_block)
            fast_api.dev_controls.mine = sequencer.mine  # evm_mine
            fast_api.dev_controls.clock = sequencer  # evm_increaseTime
            fast_api.dev_state.write = sequencer.write_accounts  # anvil_setBalance
            managed_l1 = l1 is not None and l1.managed
            snapshots = DevSnapshots(node, None if l1 is None else l1.http, managed_l1, gate)
            fast_api.dev_controls.snapshots = snapshots  # evm_snapshot, evm_revert
            tasks = [sequencer.run()]
        if decentralized:
            log.info(
                "decentralized mode: both chains, the prover market, L1 deposits and queued "
                "Withdraws, and attestations for L1, all through CometBFT"
            )
        if options.prover:
            key = options.prover_key or dev_keys()[DEV_PROVER_ACCOUNT]
            tasks.append(make_house_prover(node, key).run())
        l1_info = None if l1 is None else L1Info(l1.http, l1.chain_id, l1.managed)
        if settlement is not None:
            assert l1 is not None and l1_info is not None
            tasks.append(link.watch_settlement(settlement, l1.http, node.record_l1_settlement))
            # Decentralized: each validator's own reading, which a proposal's L1 inbox must
            # match (chain/consensus/duet_app.py).
            tasks.append(link.watch_deposits(settlement, l1.http, node))
            tasks.append(link.watch_forced(settlement, l1.http, node))
            if options.agent:
                zk_url = compute_loopback_url(options.host, ports["zk"])
                agent = link.start_agent(settlement, l1.http, zk_url, gate)
            l1_info = dataclasses.replace(
                l1_info,
                rollup=settlement.rollup,
                zkpow=settlement.zkpow,
                agent=settlement.agent.address if agent else None,
            )
        # Everything loaded so far (modules, circuit keys, the state read at start) lives as
        # long as the process: out of the collector's sight, a full collection scans only
        # what blocks allocate since, a pause of milliseconds instead of a hundred.
        gc.collect()
        gc.freeze()
        seq_task = asyncio.create_task(gather_or_fail(*tasks))
        node_file = NodeFile(
            os.getpid(), options.executor, endpoints["fast"], endpoints["zk"], l1_info
        )
        node_file.write(options.data_dir)
        for name, ep in endpoints.items():
            log.info("%s chain %d: %s  %s", name, ep.chain_id, ep.http, ep.ws)
        if l1 is not None:
            log.info("L1 chain %d: %s", l1.chain_id, l1.http)
        if ready is not None:
            ready.set()
        stop_task = asyncio.create_task(stop.wait())
        done, _ = await asyncio.wait({seq_task, stop_task}, return_when=asyncio.FIRST_COMPLETED)
        if seq_task in done:
            seq_task.result()  # the sequencer died: raise its error
        seq_task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await seq_task
    finally:
        if agent is not None:
            await link.stop_agent(agent)
        remove_node_file(options.data_dir)
        for runner in runners:
            await runner.cleanup()
        node.close()
        await devnet.stop()
        os.close(lock_fd)
        log.info("node stopped")
