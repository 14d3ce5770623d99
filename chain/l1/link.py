"""A node's side of settlement: the rollup it settles on (named with --rollup, or deployed on
its own anvil at first start), the watcher that turns L1's settled height into operation
statuses, and the embedded submission agent.

chain/service.py imports this module only when a node runs: web3 takes a tenth of a second
to load, which `duet status` (a command that only reads node.json) need not pay.
"""

import asyncio
import logging
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_typing import ChecksumAddress
from eth_utils import to_checksum_address
from web3 import Web3

from chain.fast.genesis import dev_keys
from chain.l1.agent import NodeSource, SubmissionAgent, SubmitGate
from chain.l1.calldata import StateRoot
from chain.l1.config import DEV_AGENT_ACCOUNT, DEV_L1_GRANT_WEI, SlotSchedule
from chain.l1.deploy import check_rollup, load_or_deploy
from chain.l1.deposits import DepositReader
from chain.l1.devnet import L1_DIR, L1Endpoint
from chain.l1.forced import QueuedWithdrawal, read_forced
from chain.l1.rollup import RollupClient
from chain.l1.watcher import RecordSettlement, SettlementWatcher
from chain.types import Address
from chain.zk.genesis import compute_dev_genesis_state
from chain.zk.ops import Deposit
from chain.zk.signing import SigningDomain
from chain.zk.state import get_total_supply

log = logging.getLogger("duet.l1")

DEPLOYMENT_FILE = "deployment.json"  # in the data directory's l1/: the dev rollup's addresses
L1_TIMEOUT_S = 60.0
AGENT_STOP_S = 10.0  # how long a stopping node waits for its agent's submission in flight


@dataclass(frozen=True)
class RollupSetup:
    """The rollup a node settles on, and the key its agent (and deployment) use."""

    rollup: ChecksumAddress
    zkpow: ChecksumAddress | None  # known when the node deployed it
    agent: LocalAccount
    domain: SigningDomain  # what the node's sequencer key signs blocks in


@dataclass(frozen=True)
class AgentThread:
    thread: threading.Thread
    stop: threading.Event


# web3's middleware that Duet's L1 reads and signed transactions need none of: "validation"
# asks L1 for its chain id before every eth_call (a second round trip; 2.3 ms of CPU a call
# against anvil here, 0.8 ms without it), and "ens_name_to_address" resolves names we never
# pass. A node polls the rollup several times a second (deposits, queued Withdraws,
# settlement, its agent), so the saving adds up on every validator.
UNNEEDED_MIDDLEWARE = ("validation", "ens_name_to_address")


def make_l1_web3(url: str) -> Web3:
    w3 = Web3(Web3.HTTPProvider(url, request_kwargs={"timeout": L1_TIMEOUT_S}))
    for name in UNNEEDED_MIDDLEWARE:
        w3.middleware_onion.remove(name)
    return w3


async def connect_rollup(
    data_dir: Path,
    l1: L1Endpoint,
    genesis_root: StateRoot,
    rollup: str | None,
    agent_key: bytes | None,
    schedule: SlotSchedule,
    alloc: Mapping[Address, int],
    sequencer: ChecksumAddress,
) -> RollupSetup | None:
    """The rollup at `rollup` (checked to settle the chain of `genesis_root`), or on the
    managed anvil the one deployed at first start (recorded in DIR/l1/deployment.json) for
    the dev genesis of `alloc`; None on another L1 without a rollup named: nothing to settle
    on."""
    if rollup is None and not l1.managed:
        log.info("no rollup named (--rollup ADDRESS): this node does not settle on L1")
        return None
    w3 = make_l1_web3(l1.http)
    agent = Account.from_key(agent_key or dev_keys()[DEV_AGENT_ACCOUNT])
    if rollup is not None:
        address = to_checksum_address(rollup)
        await asyncio.to_thread(check_rollup, w3, address, genesis_root)
        client = RollupClient(w3, address)
        signers = dict(await asyncio.to_thread(client.list_sequencers))
        if sequencer not in signers:
            log.warning(
                "sequencer key %s is not in rollup %s's set %s: its blocks will not settle",
                sequencer,
                address,
                sorted(signers),
            )
        return RollupSetup(address, None, agent, SigningDomain(l1.chain_id, address))
    path = data_dir / L1_DIR / DEPLOYMENT_FILE
    # The rollup holds L1 ZKPoW backing every ZKPoW of the dev genesis (withdrawals are paid
    # from it), and each dev account gets some L1 ZKPoW to deposit.
    deployment, new = await asyncio.to_thread(
        load_or_deploy,
        w3,
        path,
        agent,
        genesis_root,
        schedule,
        backing=get_total_supply(compute_dev_genesis_state(alloc)),
        grants={to_checksum_address(a): DEV_L1_GRANT_WEI for a in alloc},
        sequencers=[sequencer],
    )
    if new:
        log.info(
            "deployed ZkPow %s and Rollup %s (agent %s) in L1 block %d",
            deployment.zkpow,
            deployment.rollup,
            agent.address,
            deployment.block,
        )
    domain = SigningDomain(l1.chain_id, deployment.rollup)
    return RollupSetup(deployment.rollup, deployment.zkpow, agent, domain)


async def watch_settlement(setup: RollupSetup, l1_url: str, record: RecordSettlement) -> None:
    """Follow L1's settled height for the node's operation statuses (runs until cancelled)."""
    rollup = RollupClient(make_l1_web3(l1_url), setup.rollup)
    await SettlementWatcher(rollup, record).run()


class L1Inbox(Protocol):
    """What the watchers hand L1's deposits and forced Withdraws to (the node): each reader
    asks where to resume and adds what it read, in order."""

    def get_next_deposit_index(self) -> int: ...

    def add_l1_deposits(self, deposits: Sequence[Deposit]) -> None: ...

    def get_next_forced_index(self) -> int: ...

    def add_l1_forced(self, queued: Sequence[QueuedWithdrawal]) -> None: ...


async def watch_deposits(setup: RollupSetup, l1_url: str, node: L1Inbox) -> None:
    """Hand the rollup's deposits to the node, in order (runs until cancelled)."""
    rollup = RollupClient(make_l1_web3(l1_url), setup.rollup)
    await DepositReader(rollup, node.get_next_deposit_index, node.add_l1_deposits).run()


async def watch_forced(setup: RollupSetup, l1_url: str, node: L1Inbox) -> None:
    """Hand the rollup's queued Withdraws to the node, in order (runs until cancelled)."""
    rollup = RollupClient(make_l1_web3(l1_url), setup.rollup)
    await read_forced(rollup, node.get_next_forced_index, node.add_l1_forced)


def start_agent(
    setup: RollupSetup, l1_url: str, zk_url: str, gate: SubmitGate | None = None
) -> AgentThread:
    """The embedded submission agent, in a thread of its own (its L1 calls block), reading
    the node over its own ZK endpoint like any other agent; `gate`: the dev node's, which
    takes its chains back (evm_revert) with no submission crossing it."""
    rollup = RollupClient(make_l1_web3(l1_url), setup.rollup, setup.agent)
    agent = SubmissionAgent(NodeSource(zk_url), rollup, gate=gate)
    stop = threading.Event()
    thread = threading.Thread(target=agent.run, args=(stop,), name="duet-agent", daemon=True)
    thread.start()
    return AgentThread(thread, stop)


async def stop_agent(agent: AgentThread) -> None:
    agent.stop.set()
    await asyncio.to_thread(agent.thread.join, AGENT_STOP_S)
