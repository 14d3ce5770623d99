"""`duet testnet`: a local network of N validators on loopback, each a `duet node` process in
the decentralized mode (its ABCI application, its CometBFT child, the usual fast and ZK
JSON-RPC endpoints).

    root/network.json, root/validator-I/cometbft/   the CometBFT homes (chain/consensus/network.py)
    root/testnet.json                               each validator's JSON-RPC ports
    root/validator-I/node/                          its node's data directory (duet.db, node.json)
    root/l1/                                        the shared anvil (state) and rollup (address)
    root/joiner-N/                                  a validator joining after genesis: its home,
                                                    node/ and testnet.json (its ports)

With L1 (the default), the testnet starts one anvil for all validators and deploys, once, a
rollup whose sequencer set is the validators' attester keys with their powers (the genesis
names them: chain/consensus/attestations.py); every validator settles on it, signs its ZK
blocks in its vote extensions and runs its submission agent in its own L1 slots; validator 0
runs the embedded prover.

A network is made once and reopened by later starts (same keys, same ports, the chain where
it stopped, the joiners it had). A joiner starts as a full node and validates once it has
registered its keys and bonded (`duet stake register`, chain/client/validator.py); it runs no
submission agent (the rollup's agents are fixed at deployment). `Testnet` starts, stops,
kills, pauses and resumes single validators too: the end-to-end runner drives failures
through it.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from eth_account import Account
from eth_utils import to_checksum_address
from web3 import Web3
from web3.types import RPCEndpoint

from chain.consensus.comet_sequencer import COMETBFT_PID_FILE, find_own_cometbft
from chain.consensus.network import (
    JOINER_DIR_PREFIX,
    ValidatorHome,
    get_free_ports,
    open_joiner_home,
    open_or_make_network,
    open_twin_home,
    read_attest_address,
)
from chain.consensus.stake import STAKE_UNIT_WEI
from chain.fast.genesis import dev_alloc, dev_keys
from chain.jsonrpc import NodeUnreachable, RpcClient, RpcError
from chain.l1.anvil import Anvil
from chain.l1.calldata import StateRoot
from chain.l1.config import DEV_AGENT_ACCOUNT, DEV_L1_GRANT_WEI
from chain.l1.deploy import L1Deployment, load_or_deploy
from chain.l1.devnet import L1_DIR, compute_devnet_args
from chain.l1.errors import L1Error
from chain.l1.link import DEPLOYMENT_FILE, make_l1_web3
from chain.launcher import ChildProcess, LaunchError, duet_command
from chain.nodefile import read_node_file
from chain.zk.chain import compute_root_bytes
from chain.zk.genesis import compute_dev_genesis_state
from chain.zk.state import get_total_supply

log = logging.getLogger("duet.testnet")
AGENT_GAS_FUNDS_WEI = 100 * 10**18  # ETH on the testnet's anvil, for each validator's agent

TESTNET_FILE = "testnet.json"
NODE_DIR = "node"
NODE_LOG = "node.log"
START_TIMEOUT_S = 90.0
STOP_TIMEOUT_S = 20.0
READY_POLL_S = 0.1


class TestnetError(Exception):
    """A testnet that cannot start: a validator did not come up (its log's tail says why)."""


@dataclass(frozen=True)
class Validator:
    """One validator: its CometBFT home and its node's data directory and endpoints."""

    home: ValidatorHome
    fast_port: int
    zk_port: int

    @property
    def index(self) -> int:
        return self.home.index

    @property
    def data_dir(self) -> Path:
        return self.home.directory / NODE_DIR

    @property
    def log(self) -> Path:
        return self.home.directory / NODE_LOG

    @property
    def fast_http(self) -> str:
        return f"http://127.0.0.1:{self.fast_port}/"

    @property
    def fast_ws(self) -> str:
        return f"ws://127.0.0.1:{self.fast_port}/"

    @property
    def zk_http(self) -> str:
        return f"http://127.0.0.1:{self.zk_port}/"

    @property
    def comet_rpc(self) -> str:
        return self.home.rpc_url


def read_or_allocate_ports(root: Path, validators: int) -> list[tuple[int, int]]:
    """Each validator's (fast, ZK) JSON-RPC ports: those of an earlier start, or free ones."""
    path = root / TESTNET_FILE
    try:
        saved = json.loads(path.read_text())
        ports = [(int(fast), int(zk)) for fast, zk in saved["ports"]]
        if len(ports) == validators:
            return ports
    except (FileNotFoundError, ValueError, KeyError, TypeError):
        pass  # none yet, or unreadable: new ports, written afresh
    free = get_free_ports(2 * validators)
    ports = [(free[2 * i], free[2 * i + 1]) for i in range(validators)]
    path.write_text(json.dumps({"ports": ports}) + "\n")
    return ports


def read_joiner_ports(directory: Path) -> tuple[int, int]:
    """A joiner's (fast, ZK) JSON-RPC ports: those of an earlier start, or free ones."""
    path = directory / TESTNET_FILE
    try:
        fast, zk = json.loads(path.read_text())["ports"]
        return int(fast), int(zk)
    except (FileNotFoundError, ValueError, KeyError, TypeError):
        fast, zk = get_free_ports(2)
        path.write_text(json.dumps({"ports": [fast, zk]}) + "\n")
        return fast, zk


def open_validators(root: Path, validators: int, powers: Sequence[int] | None) -> list[Validator]:
    """The network under `root` (made now if new; NetworkError if made otherwise)."""
    root.mkdir(parents=True, exist_ok=True)
    # Vote extensions from the first height: the validators' attestations ride in them.
    homes = open_or_make_network(root, validators, powers=powers, vote_extensions_height=1)
    ports = read_or_allocate_ports(root, validators)
    return [Validator(home, fast, zk) for home, (fast, zk) in zip(homes, ports, strict=True)]


def is_answering(url: str) -> bool:
    try:
        RpcClient(url, timeout_s=2).call("eth_chainId")
        return True
    except (NodeUnreachable, RpcError):
        return False


def deploy_rollup(w3: Web3, root: Path, homes: Sequence[ValidatorHome]) -> L1Deployment:
    """The network's rollup on `w3` (deployed at the first start, recorded in root/l1/):
    the dev genesis's ZK root with the validators' genesis stakes (their powers, as the nodes
    read them from the genesis), and the validators' attester keys as its sequencers, weighted
    by their stake as the settled blocks move it, and as its agents, sharing the L1 slots
    (each funded with ETH for gas)."""
    alloc = dev_alloc()
    attesters = [read_attest_address(home.home) for home in homes]
    stakes = {
        int(address, 16): home.power * STAKE_UNIT_WEI
        for address, home in zip(attesters, homes, strict=True)
    }
    genesis = compute_dev_genesis_state(alloc, stakes)
    deployment, new = load_or_deploy(
        w3,
        root / L1_DIR / DEPLOYMENT_FILE,
        Account.from_key(dev_keys()[DEV_AGENT_ACCOUNT]),
        StateRoot(int.from_bytes(compute_root_bytes(genesis), "big")),
        backing=get_total_supply(genesis),
        grants={to_checksum_address(a): DEV_L1_GRANT_WEI for a in alloc},
        sequencers=attesters,
        weights=list(stakes.values()),
        agents=attesters,
        follow_stake=True,
    )
    for address in attesters:  # each validator's agent pays L1 gas with its attester key
        if w3.eth.get_balance(address) < AGENT_GAS_FUNDS_WEI // 2:
            w3.provider.make_request(
                RPCEndpoint("anvil_setBalance"), [address, hex(AGENT_GAS_FUNDS_WEI)]
            )
    if new:
        log.info(
            "deployed Rollup %s for the testnet's %d validators", deployment.rollup, len(homes)
        )
    return deployment


class Testnet:
    __test__ = False  # a product class, not a pytest test class

    def __init__(
        self,
        root: Path,
        validators: int,
        *,
        powers: Sequence[int] | None = None,
        executor: str = "revm",
        l1: bool = True,
        joiners: int = 0,
    ) -> None:
        self.root = root
        self.executor = executor
        self.validators = open_validators(root, validators, powers)
        self.genesis_validators = len(self.validators)  # any after these joined later (join())
        # The joiners of earlier starts (their homes are under root), then new ones up to
        # `joiners`: each starts with the rest, and may hold power by now.
        while (root / f"{JOINER_DIR_PREFIX}{self.joiners}").exists() or self.joiners < joiners:
            self.add_joiner()
        self.processes: dict[int, ChildProcess] = {}
        self.twins: dict[int, ChildProcess] = {}  # double signers, by the validator they copy
        self.with_l1 = l1
        self.anvil: Anvil | None = None
        self.l1_url: str | None = None
        self.deployment: L1Deployment | None = None

    def start_l1(self) -> None:
        """The shared anvil (its state in root/l1/), and the rollup on it."""
        if self.anvil is not None:
            return
        anvil = Anvil(*compute_devnet_args(self.root))
        try:
            self.l1_url = anvil.start()
            self.anvil = anvil
            genesis = self.validators[: self.genesis_validators]  # the joiners join later
            homes = [validator.home for validator in genesis]
            self.deployment = deploy_rollup(make_l1_web3(self.l1_url), self.root, homes)
        except L1Error as exc:
            self.stop_l1()
            raise TestnetError(f"the testnet's L1 did not start: {exc}") from None

    def stop_l1(self) -> None:
        if self.anvil is not None:
            self.anvil.stop()
            self.anvil = None

    def command(self, validator: Validator) -> list[str]:
        return [
            *duet_command(),
            "node",
            "--consensus",
            "cometbft",
            "--cometbft-home",
            str(validator.home.home),
            "--data-dir",
            str(validator.data_dir),
            "--fast-port",
            str(validator.fast_port),
            "--zk-port",
            str(validator.zk_port),
            "--executor",
            self.executor,
            # One embedded prover for the network: the others would prove the same jobs
            # with the same dev key. Every validator runs its agent, in its own L1 slots.
            *([] if validator.index == 0 else ["--no-prover"]),
            # A joiner's key is not among the rollup's submission agents (its slots are
            # the genesis validators'); it attests like the others.
            *(["--no-agent"] if validator.index >= self.genesis_validators else []),
            *self._l1_args(),
        ]

    def _l1_args(self) -> list[str]:
        if self.l1_url is None or self.deployment is None:
            return []
        return ["--l1-rpc", self.l1_url, "--rollup", self.deployment.rollup]

    def start(self, on_ready: Callable[[Validator], None] | None = None) -> None:
        """Every validator, each started before the first is waited for (CometBFT needs
        more than 2/3 of the power up to commit a height)."""
        if self.with_l1:
            self.start_l1()
        for validator in self.validators:
            self._spawn(validator)
        for validator in self.validators:
            self._wait_ready(validator)
            if on_ready is not None:
                on_ready(validator)

    def start_one(self, index: int) -> None:
        validator = self.validators[index]
        self._spawn(validator)
        self._wait_ready(validator)

    def _spawn(self, validator: Validator) -> None:
        assert not self.is_running(validator.index), f"validator {validator.index} runs"
        validator.data_dir.mkdir(parents=True, exist_ok=True)
        process = ChildProcess(
            self.command(validator),
            log=validator.log,
            stop_timeout_s=STOP_TIMEOUT_S,
            tied_to_parent=True,
        )
        self.processes[validator.index] = process.start()

    def _wait_ready(self, validator: Validator) -> None:
        process = self.processes[validator.index]

        def is_ready() -> bool:
            try:
                node_file = read_node_file(validator.data_dir)
            except ValueError:
                return False
            return node_file.pid == process.pid and is_answering(validator.fast_http)

        try:
            process.wait_ready(is_ready, START_TIMEOUT_S, f"validator {validator.index}")
        except LaunchError as exc:
            raise TestnetError(f"{exc}\n(whole log: {validator.log})") from None

    def is_running(self, index: int) -> bool:
        process = self.processes.get(index)
        return process is not None and process.running

    def stop_one(self, index: int) -> int | None:
        """SIGINT: the node stops its CometBFT, then itself. Its exit code."""
        process = self.processes.pop(index, None)
        return None if process is None else process.stop()

    def kill_one(self, index: int) -> None:
        """SIGKILL to the node and its CometBFT at once: a crash mid-height (CometBFT would
        otherwise get SIGTERM as its parent dies, and shut down in its own time)."""
        process = self.processes.pop(index, None)
        if process is not None:
            comet_pid = self._find_comet_pid(self.validators[index])
            process.kill()
            if comet_pid is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(comet_pid, signal.SIGKILL)

    def pause_one(self, index: int) -> None:
        """SIGSTOP to the node and its CometBFT: alive, silent."""
        self._signal_all(index, signal.SIGSTOP)

    def resume_one(self, index: int) -> None:
        self._signal_all(index, signal.SIGCONT)

    def _signal_all(self, index: int, signum: signal.Signals) -> None:
        process = self.processes[index]
        process.signal_group(signum)  # the node's group
        comet_pid = self._find_comet_pid(self.validators[index])
        if comet_pid is not None:  # its CometBFT runs in a session of its own
            os.kill(comet_pid, signum)

    @staticmethod
    def _find_comet_pid(validator: Validator) -> int | None:
        return find_own_cometbft(validator.data_dir / COMETBFT_PID_FILE, validator.home.home)

    def start_twin(self, index: int) -> Validator:
        """A double signer: a second `duet node` and CometBFT behind validator `index`'s
        consensus key (chain/consensus/network.py, open_twin_home), peered with everyone.
        When that key proposes, each instance signs its own block: CometBFT's evidence of a
        duplicate vote follows, and the application jails the validator."""
        home = open_twin_home(self.root, index)
        fast, zk = get_free_ports(2)
        twin = Validator(home, fast, zk)
        twin.data_dir.mkdir(parents=True, exist_ok=True)
        command = self.command(twin)
        command += ["--no-agent"] + ([] if "--no-prover" in command else ["--no-prover"])
        process = ChildProcess(
            command, log=twin.log, stop_timeout_s=STOP_TIMEOUT_S, tied_to_parent=True
        )
        self.twins[index] = process.start()
        try:
            process.wait_ready(lambda: is_answering(twin.fast_http), START_TIMEOUT_S, "twin")
        except LaunchError as exc:
            raise TestnetError(f"{exc}\n(whole log: {twin.log})") from None
        return twin

    @property
    def joiners(self) -> int:
        return len(self.validators) - self.genesis_validators

    def add_joiner(self) -> Validator:
        """A node for a validator joining after genesis (open_joiner_home), not started: it
        becomes one of `validators` (start, kill_one and the others take its index). Its
        CometBFT syncs the chain from the others; it validates once its keys are registered
        and its stake bonded (chain/client/validator.py)."""
        home = open_joiner_home(self.root, self.joiners)
        fast, zk = read_joiner_ports(home.directory)
        joiner = Validator(home, fast, zk)
        self.validators.append(joiner)
        return joiner

    def join(self) -> Validator:
        """A new joiner (add_joiner), started and answering."""
        joiner = self.add_joiner()
        self._spawn(joiner)
        self._wait_ready(joiner)
        return joiner

    def stop_twin(self, index: int) -> None:
        process = self.twins.pop(index, None)
        if process is not None:
            process.stop()

    def stop(self) -> None:
        """Every running validator, all signalled first, then each waited for."""
        for index in list(self.twins):
            self.stop_twin(index)
        for index in list(self.processes):
            process = self.processes[index]
            if process.running:
                assert process.process is not None
                process.process.send_signal(process.stop_signal)
        deadline = time.monotonic() + STOP_TIMEOUT_S
        while any(p.running for p in self.processes.values()) and time.monotonic() < deadline:
            time.sleep(READY_POLL_S)
        for index in list(self.processes):
            self.stop_one(index)
        self.stop_l1()
