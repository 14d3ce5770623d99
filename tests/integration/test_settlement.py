"""Settlement on a real stack: `duet node --dev` deploys the rollup on its anvil and its
embedded agent posts every proven ZK block with operations; operation statuses reach
`settled` from what L1 says; a second agent (`duet agent`, another key) shares the slots, and
neither a killed agent nor a restarted stack (anvil with it) loses or doubles a block.

What every test checks at its end (`assert_l1_settled_the_chain`): L1's BlockSettled events
are the ZK heights that hold operations, each once, in strictly increasing order, and the
settled root is the ZK head's root after the last operation.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from eth_account.signers.local import LocalAccount
from web3 import Web3

from chain.client.zk import ZkClient
from chain.l1.config import DEV_AGENT_ACCOUNT
from chain.l1.rollup import RollupClient
from chain.launcher import ChildProcess
from chain.testing.node_process import REPO, NodeProcess, NodeStartError, duet_command
from tests.conftest import NodeFactory
from tests.integration.support import ETHER, dev_account, rpc_result, wait_until

SETTLED_TIMEOUT_S = 240.0  # proofs at about a second each, on two busy cores
SENDERS = (1, 2, 3)  # dev accounts that send the operations
SECOND_AGENT = 8  # dev account of the second agent (the node's own is 9)


def l1(node: NodeProcess) -> Web3:
    return Web3(Web3.HTTPProvider(node.l1_http, request_kwargs={"timeout": 30}))


def rollup_of(node: NodeProcess, sender: LocalAccount | None = None) -> RollupClient:
    return RollupClient(l1(node), node.status["l1"]["rollup"], sender)


def send_transfers(node: NodeProcess, count: int, pause_s: float = 0.0) -> list[str]:
    """`count` transfers from the SENDERS in turn, `pause_s` apart."""
    clients = [ZkClient(node.zk_http, dev_account(i).key) for i in SENDERS]
    ops = []
    for n in range(count):
        client = clients[n % len(clients)]
        ops.append(client.transfer(dev_account(7).address, ETHER // 100))
        time.sleep(pause_s)
    return ops


def wait_settled(node: NodeProcess, ops: list[str]) -> None:
    client = ZkClient(node.zk_http, dev_account(SENDERS[0]).key)
    deadline = time.monotonic() + SETTLED_TIMEOUT_S
    for op in ops:
        client.wait(op, "settled", timeout_s=max(1.0, deadline - time.monotonic()))


def assert_l1_settled_the_chain(node: NodeProcess) -> list[bytes]:
    """Each ZK block with operations up to L1's settled height settled exactly once, in
    order, and L1's root is the ZK root at that height. (The chain never goes quiet: the
    market's heartbeats and settlements keep adding blocks.) Returns the settling
    transactions' hashes."""
    rollup = rollup_of(node)
    # First, and height with root at one L1 block: the agent may settle more while we read.
    settled_state = rollup.get_settled_state()
    top = settled_state.height
    settlements = [s for s in rollup.list_settlements() if s.height <= top]
    heights = [h for h in rpc_result(node.zk_http, "duet_getSettlementHeights", [0]) if h <= top]
    settled = [s.height for s in settlements]
    assert settled == sorted(set(settled)), f"heights not strictly increasing: {settled}"
    assert settled == heights, "a ZK block with operations is missing or extra on L1"
    block = rpc_result(node.zk_http, "eth_getBlockByNumber", [hex(top), False])
    assert settled_state.root == int(block["stateRoot"], 16)
    return [s.tx_hash for s in settlements]


# -- one node, its own agent ------------------------------------------------------------------


def test_operations_reach_settled_and_l1_holds_the_zk_root(node_factory: NodeFactory) -> None:
    node = node_factory()
    l1_info = node.status["l1"]
    agent = dev_account(DEV_AGENT_ACCOUNT).address
    assert l1_info["agent"] == agent
    deployment = json.loads((node.data_dir / "l1" / "deployment.json").read_text())
    assert deployment["rollup"] == l1_info["rollup"]
    assert rollup_of(node).list_agents() == [agent]

    ops = send_transfers(node, 4)
    wait_settled(node, ops)

    assert_l1_settled_the_chain(node)
    record = rpc_result(node.zk_http, "duet_getOperation", [ops[-1]])
    block = rpc_result(node.zk_http, "duet_getSettlementBlock", [record["blockNumber"]])
    assert block["ready"] and block["unproven"] == []
    assert {op["status"] for op in block["ops"]} == {"settled"}
    (settlement,) = rollup_of(node).list_settlements(height=record["blockNumber"])
    post_root = int(block["ops"][-1]["postRoot"], 16)
    assert post_root == settlement.post_root == int(block["stateRoot"], 16)


def test_an_unproven_block_waits_and_says_what_is_missing(node_factory: NodeFactory) -> None:
    node = node_factory("--no-prover")
    (op,) = send_transfers(node, 1)
    client = ZkClient(node.zk_http, dev_account(SENDERS[0]).key)
    client.wait(op, "committed")
    height = rpc_result(node.zk_http, "duet_getOperation", [op])["blockNumber"]
    block = rpc_result(node.zk_http, "duet_getSettlementBlock", [height])
    assert (block["ready"], block["unproven"]) == (False, [op])
    time.sleep(2)
    assert rollup_of(node).get_settled_height() == 0
    assert client.status(op)["status"] == "committed"

    # What it waits for, named: the operation's job, which nobody holds (no prover runs).
    wait = rpc_result(node.zk_http, "duet_getSettlementStatus", [])
    assert (wait["settledHeight"], wait["nextHeight"], wait["waitingFor"]) == (0, height, "proofs")
    assert [job["jobId"] for job in wait["jobs"]] == [op]
    assert wait["jobs"][0]["assignee"] is None and wait["unassigned"] == 1
    assert "no active prover to take it" in wait["detail"]
    shown = subprocess.run(
        [*duet_command(), "status", "--data-dir", str(node.data_dir)],
        capture_output=True,
        text=True,
        timeout=30,
        cwd=REPO,
        env={**os.environ, "COLUMNS": "400"},
    )
    assert shown.returncode == 0, shown.stderr
    expected = f"next to settle: ZK block {height}, waiting for proofs"
    assert "settled on L1 through ZK block 0" in shown.stdout and expected in shown.stdout


# -- two agents -------------------------------------------------------------------------------


class AgentProcess:
    """`duet agent` with its own key, against a node's ZK endpoint and L1."""

    def __init__(self, node: NodeProcess, key: LocalAccount, log: Path) -> None:
        self.node = node
        self.key = key
        self.log = log
        self.child: ChildProcess | None = None

    def start(self) -> None:
        args = [
            *duet_command(),
            "agent",
            "--key",
            self.key.key.hex(),
            "--node-url",
            self.node.zk_http,
            "--l1-rpc",
            self.node.l1_http,
            "--rollup",
            self.node.status["l1"]["rollup"],
            "--poll",
            "0.2",
        ]
        self.child = ChildProcess(args, log=self.log, cwd=REPO).start()

    def kill(self) -> None:
        """SIGKILL: the agent vanishes mid-slot."""
        if self.child is not None and self.child.running:
            self.child.kill()


@pytest.fixture
def slotted_node(node_factory: NodeFactory) -> NodeProcess:
    """A dev node whose rollup has short slots (2 L1 blocks, anvil mining one every 2 s and
    one per transaction) and a grace of 4, with dev account 8 registered as a second agent."""
    node = node_factory("--slot-blocks", "2", "--grace-blocks", "4")
    owner = rollup_of(node, dev_account(DEV_AGENT_ACCOUNT))
    owner.register_agent(dev_account(SECOND_AGENT).address)
    return node


@pytest.fixture
def second_agent(slotted_node: NodeProcess, tmp_path: Path) -> Iterator[AgentProcess]:
    agent = AgentProcess(slotted_node, dev_account(SECOND_AGENT), tmp_path / "agent.log")
    agent.start()
    try:
        yield agent
    finally:
        agent.kill()


def test_two_agents_share_slots_with_nothing_lost_or_doubled(
    slotted_node: NodeProcess, second_agent: AgentProcess
) -> None:
    """A stream of operations over many slots; the second agent is killed mid-stream (its
    slots then wait out the grace, and the node's agent takes over) and restarted."""
    node = slotted_node
    ops = send_transfers(node, 6, pause_s=1.0)
    second_agent.kill()
    ops += send_transfers(node, 3, pause_s=1.0)
    second_agent.start()
    ops += send_transfers(node, 6, pause_s=1.0)
    wait_settled(node, ops)

    tx_hashes = assert_l1_settled_the_chain(node)
    w3 = l1(node)
    senders = {w3.eth.get_transaction(h)["from"] for h in tx_hashes}
    expected = {dev_account(i).address for i in (DEV_AGENT_ACCOUNT, SECOND_AGENT)}
    assert senders == expected, f"not both agents settled blocks: {senders}"
    assert "Traceback" not in second_agent.log.read_text()


# -- restarts ---------------------------------------------------------------------------------


def test_settlement_resumes_after_the_stack_restarts(node_factory: NodeFactory) -> None:
    """Stopped (anvil saves its state), then killed with -9 (anvil may lose its last second,
    a settlement with it: the node's statuses follow L1 back and the agent posts again)."""
    node = node_factory()
    first = send_transfers(node, 3)
    wait_settled(node, first)

    node.restart()
    second = send_transfers(node, 3)
    wait_settled(node, second)
    assert_l1_settled_the_chain(node)

    node.kill9()
    node.start()
    third = send_transfers(node, 3)
    wait_settled(node, first + second + third)
    wait_until(
        lambda: (
            rollup_of(node).get_settled_height()
            == rpc_result(node.zk_http, "duet_getSettlementHeights", [0])[-1]
        ),
        30,
        what="L1 to settle every block again",
    )
    assert_l1_settled_the_chain(node)


def test_rejects_a_rollup_address_without_a_rollup(node_factory: NodeFactory) -> None:
    # (the console wraps the message at 80 columns)
    with pytest.raises(
        NodeStartError, match=r"no contract at\s+0x0000000000000000000000000000000000001234"
    ):
        node_factory("--no-prover", "--rollup", "0x0000000000000000000000000000000000001234")
