"""`duet testnet`: four validators, each a real `duet node --consensus cometbft` with its own
real CometBFT, on loopback. Transactions sent to any node commit on all of them; every node
has the same fast and ZK blocks (a ZK operation sent to one lands in the same ZK block on
all, and settles on the testnet's L1 with the validators' attestations; an L1 deposit is
credited on all) and CometBFT the same app hash at every height; with one validator
killed (1/4 of the power) the others go on, and the restarted one catches up to the same
chain; so does one paused (SIGSTOP) and resumed. The CLI starts a network, says where it is, and stops it on Ctrl-C.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from eth_utils import to_checksum_address

from chain.client.zk import ZkClient
from chain.consensus.network import read_attest_address
from chain.jsonrpc import RpcClient
from chain.l1.link import make_l1_web3
from chain.l1.rollup import RollupClient
from chain.launcher import duet_command
from chain.testing.accounts import dev_account, sign_transfer
from chain.testnet import Testnet
from chain.zk.chain import compute_deposit_id
from tests.integration.cometbft_net import COMETBFT, MISSING_REASON

pytestmark = [pytest.mark.skipif(COMETBFT is None, reason=MISSING_REASON), pytest.mark.timeout(300)]

BOB = "0x" + "22" * 20
FINAL_TIMEOUT_S = 60.0
SETTLE_TIMEOUT_S = 240.0  # a Groth16 proof and an L1 transaction, on two busy cores
CLI_START_TIMEOUT_S = 90.0


def transfer(nonce: int, sender: int = 0) -> str:
    return "0x" + sign_transfer(nonce, sender=sender, to=BOB).hex()


def wait_until(check: Any, what: str, timeout_s: float = FINAL_TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def fast_head(rpc: RpcClient) -> int:  # or the ZK head, on a ZK endpoint
    return int(rpc.call("eth_blockNumber"), 16)


def fast_hashes(rpc: RpcClient, upto: int) -> list[str]:  # or ZK blocks'
    return [rpc.call("eth_getBlockByNumber", [hex(h), False])["hash"] for h in range(upto + 1)]


def comet_app_hashes(url: str, upto: int) -> list[str]:
    """The app hash in CometBFT's header at each height 1..upto."""
    comet = RpcClient(url)
    return [
        comet.call("header", {"height": str(h)})["header"]["app_hash"] for h in range(1, upto + 1)
    ]


def comet_height(url: str) -> int:
    return int(RpcClient(url).call("status", {})["sync_info"]["latest_block_height"])


def assert_same_chain(testnet: Testnet, indexes: list[int]) -> None:
    """Every node in `indexes`: the same fast and ZK blocks and the same app hash at every
    height."""
    for endpoint in ("fast_http", "zk_http"):
        nodes = [RpcClient(getattr(testnet.validators[i], endpoint)) for i in indexes]
        common_head = min(fast_head(n) for n in nodes)
        first = fast_hashes(nodes[0], common_head)
        for node in nodes[1:]:
            assert fast_hashes(node, common_head) == first
    urls = [testnet.validators[i].comet_rpc for i in indexes]
    common = min(comet_height(u) for u in urls)
    reference = comet_app_hashes(urls[0], common)
    for url in urls[1:]:
        assert comet_app_hashes(url, common) == reference


@pytest.fixture
def testnet(tmp_path: Path) -> Iterator[Testnet]:
    network = Testnet(tmp_path / "tn", 4)
    network.start()
    yield network
    network.stop()


def test_four_validators_agree_and_survive_a_killed_and_a_paused_one(testnet: Testnet) -> None:
    nodes = [RpcClient(v.fast_http) for v in testnet.validators]
    # Nonces spread over all four nodes: each forwards its own, the proposer orders them.
    hashes = [nodes[n % 4].call("eth_sendRawTransaction", [transfer(n)]) for n in range(40)]
    for node in nodes:
        wait_until(lambda node=node: node.call("eth_getTransactionReceipt", [hashes[-1]]), "40 txs")
    assert {int(n.call("eth_getBalance", [BOB, "latest"]), 16) for n in nodes} == {40}
    # A ZK operation sent to one node lands in the same ZK block on every node.
    alice = ZkClient(testnet.validators[2].zk_http, dev_account(1).key)
    op_id = alice.transfer(dev_account(2).address, 10**18)
    alice.wait(op_id, timeout_s=FINAL_TIMEOUT_S)
    height = alice.rpc("duet_getOperation", op_id)["blockNumber"]
    for validator in testnet.validators:
        zk = RpcClient(validator.zk_http)
        wait_until(lambda zk=zk: fast_head(zk) >= height, "the ZK block on every node")
        assert zk.call("duet_getOperation", [op_id])["blockNumber"] == height
    assert_same_chain(testnet, [0, 1, 2, 3])
    # It settles on the shared L1: proven by validator 0's prover, attested by the
    # validators in their vote extensions (the rollup's sequencer set is their attester
    # keys), sent by the agent whose slot it is.
    alice.wait(op_id, "settled", timeout_s=SETTLE_TIMEOUT_S)
    assert testnet.l1_url is not None and testnet.deployment is not None
    rollup = RollupClient(make_l1_web3(testnet.l1_url), testnet.deployment.rollup)
    attesters = {read_attest_address(v.home.home) for v in testnet.validators}
    assert {key for key, _ in rollup.list_sequencers()} == attesters
    # Every validator runs an agent (its attester key pays the gas), each in its own slots.
    assert set(rollup.list_agents()) == attesters
    block = alice.rpc("duet_getSettlementBlock", height)
    assert len(bytes.fromhex(block["attestation"]["signatures"][2:])) >= 3 * 65
    # An L1 deposit: every validator reads it from the rollup, a proposer puts it in a
    # height's L1 inbox, each checks it against its own reading, all credit it alike.
    depositor = RollupClient(rollup.w3, rollup.contract.address, dev_account(5))
    carol = to_checksum_address("0x" + "ca" * 20)
    index = depositor.deposit(carol, 7 * 10**18)
    deposit_id = "0x" + compute_deposit_id(index).hex()
    for validator in testnet.validators:
        zk_client = ZkClient(validator.zk_http, dev_account(5).key)
        wait_until(
            lambda c=zk_client: c.status(deposit_id)["status"] not in ("unknown", "pending"),
            f"the deposit on validator {validator.index}",
        )
        assert zk_client.balance(carol) == 7 * 10**18

    testnet.kill_one(3)  # 1/4 of the power: the other three still make 2/3
    more = [nodes[0].call("eth_sendRawTransaction", [transfer(n)]) for n in range(40, 60)]
    wait_until(lambda: nodes[1].call("eth_getTransactionReceipt", [more[-1]]), "txs without 3")
    assert_same_chain(testnet, [0, 1, 2])

    testnet.start_one(3)
    target = fast_head(nodes[0])
    wait_until(lambda: fast_head(nodes[3]) >= target, "validator 3 catching up")
    assert int(nodes[3].call("eth_getBalance", [BOB, "latest"]), 16) == 60
    assert_same_chain(testnet, [0, 1, 2, 3])

    testnet.pause_one(2)  # SIGSTOP: alive but silent, its node and its CometBFT
    last = [nodes[0].call("eth_sendRawTransaction", [transfer(n)]) for n in range(60, 70)]
    wait_until(lambda: nodes[3].call("eth_getTransactionReceipt", [last[-1]]), "txs without 2")
    testnet.resume_one(2)
    target = fast_head(nodes[0])
    wait_until(lambda: fast_head(nodes[2]) >= target, "validator 2 catching up after SIGCONT")
    assert int(nodes[2].call("eth_getBalance", [BOB, "latest"]), 16) == 70
    assert_same_chain(testnet, [0, 1, 2, 3])


def test_cli_starts_a_network_and_stops_it_on_ctrl_c(tmp_path: Path) -> None:
    root = tmp_path / "cli"
    command = [*duet_command(), "testnet", "--validators", "1", "--joiners", "1"]
    command += ["--dir", str(root)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert process.stdout is not None
        lines: list[str] = []
        deadline = time.monotonic() + CLI_START_TIMEOUT_S
        while not any("Ctrl-C stops the network" in line for line in lines):
            assert time.monotonic() < deadline and process.poll() is None, "".join(lines)
            lines.append(process.stdout.readline())
        text = "".join(lines)
        assert "validator 0: fast http://127.0.0.1:" in text
        # A joiner's node runs beside it, with what makes it a validator.
        assert "joiner 1: fast http://127.0.0.1:" in text
        home = root / "joiner-0" / "cometbft"
        assert f"duet stake register --cometbft-home {home}" in text.replace("\n", " ")
        process.send_signal(signal.SIGINT)
        assert process.wait(60) == 0
    finally:
        process.kill()
    assert (root / "network.json").exists() and (root / "testnet.json").exists()
    # A later start finds the joiner again (it may hold power by then).
    assert [v.index for v in Testnet(root, 1).validators] == [0, 1]


def test_cli_refuses_a_validator_count_out_of_range(tmp_path: Path) -> None:
    result = subprocess.run(
        [*duet_command(), "testnet", "--validators", "0", "--dir", str(tmp_path / "x")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "--validators must be 1 to 32" in result.stderr


def test_node_refuses_a_cometbft_home_that_is_not_one(tmp_path: Path) -> None:
    (tmp_path / "half" / "config").mkdir(parents=True)
    (tmp_path / "half" / "config" / "config.toml").write_text(
        'proxy_app = "unix:///tmp/x.sock"\n[rpc]\nladdr = "tcp://127.0.0.1:1"\n'
    )
    for home, reason in (("none", "is not a CometBFT home"), ("half", "genesis.json")):
        result = subprocess.run(
            [
                *duet_command(),
                "node",
                "--consensus",
                "cometbft",
                "--cometbft-home",
                str(tmp_path / home),
                "--data-dir",
                str(tmp_path / "data"),
            ],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "COLUMNS": "1000"},  # one line per message, unwrapped
        )
        assert result.returncode == 2, result.stderr
        assert reason in result.stderr
