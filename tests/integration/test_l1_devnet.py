"""The L1 devnet on a real node: `duet node --dev` starts anvil with its state in the data
directory and stops it; a restarted stack, even after a kill -9, finds its L1 as it left it;
`--l1-rpc` uses another endpoint instead, and a dead one is a clear error."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from eth_account import Account
from web3 import Web3

from chain.l1.devnet import ANVIL_BIN
from chain.testing.node_process import NodeProcess, NodeStartError
from tests.conftest import NodeFactory
from tests.integration.support import ETHER, dev_account

ANVIL_CHAIN_ID = 31337
STATE_INTERVAL_S = 1.0


def l1(node: NodeProcess) -> Web3:
    return Web3(Web3.HTTPProvider(node.l1_http, request_kwargs={"timeout": 10}))


def send_l1_transfer(node: NodeProcess, to: str, value: int) -> None:
    w3 = l1(node)
    sender = dev_account(0)
    tx = {
        "to": to,
        "value": value,
        "gas": 21_000,
        "maxFeePerGas": 10 * 10**9,
        "maxPriorityFeePerGas": 10**9,
        "nonce": w3.eth.get_transaction_count(sender.address),
        "chainId": ANVIL_CHAIN_ID,
    }
    tx_hash = w3.eth.send_raw_transaction(sender.sign_transaction(tx).raw_transaction)
    assert w3.eth.wait_for_transaction_receipt(tx_hash, timeout=10)["status"] == 1


def test_dev_node_runs_anvil_with_its_state_in_the_data_dir(node_factory: NodeFactory) -> None:
    node = node_factory("--no-prover")
    assert node.status["l1"]["managed"] is True
    assert l1(node).eth.chain_id == ANVIL_CHAIN_ID
    recipient = Account.create().address
    send_l1_transfer(node, recipient, 3 * ETHER)
    node.stop()
    assert (node.data_dir / "l1" / "state.json").is_file()
    node.restart()
    assert l1(node).eth.get_balance(recipient) == 3 * ETHER, "the L1 lost its state"


def test_l1_state_survives_a_kill_9_of_the_whole_stack(node_factory: NodeFactory) -> None:
    node = node_factory("--no-prover")
    recipient = Account.create().address
    send_l1_transfer(node, recipient, ETHER)
    time.sleep(2 * STATE_INTERVAL_S)  # anvil writes its state every second
    node.kill9()  # the node and anvil, at once
    node.restart()
    assert l1(node).eth.get_balance(recipient) == ETHER


def test_anvil_does_not_outlive_a_killed_node(node_factory: NodeFactory) -> None:
    node = node_factory("--no-prover")
    url = node.l1_http
    assert node.proc is not None
    recipient = Account.create().address
    send_l1_transfer(node, recipient, 2 * ETHER)
    os.kill(node.proc.pid, signal.SIGKILL)  # the node alone; anvil gets SIGTERM from the kernel
    node.proc.wait(10)
    deadline = time.monotonic() + 10
    while l1_answers(url):
        assert time.monotonic() < deadline, "anvil is still running after its node died"
        time.sleep(0.1)
    node.restart()
    assert l1(node).eth.get_balance(recipient) == 2 * ETHER, "anvil did not save on SIGTERM"


def l1_answers(url: str) -> bool:
    try:
        return Web3(Web3.HTTPProvider(url, request_kwargs={"timeout": 1})).eth.chain_id > 0
    except Exception:  # any failure means nobody answers
        return False


def test_l1_rpc_names_another_endpoint(node_factory: NodeFactory, tmp_path: Path) -> None:
    anvil = subprocess.Popen(
        [str(ANVIL_BIN), "--port", "0", "--chain-id", "4242"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        assert anvil.stdout is not None
        url = ""
        while not url:
            line = anvil.stdout.readline().decode()
            assert line, "anvil exited"
            if line.startswith("Listening on "):
                url = "http://" + line.split()[-1] + "/"
        node = node_factory("--no-prover", "--l1-rpc", url)
        assert node.status["l1"] == {"http": url, "chain_id": 4242, "managed": False}
        assert not (node.data_dir / "l1").exists(), "no devnet of its own"
    finally:
        anvil.kill()
        anvil.wait(10)


def test_rejects_an_l1_endpoint_that_does_not_answer(node_factory: NodeFactory) -> None:
    # (the console wraps the message at 80 columns)
    with pytest.raises(NodeStartError, match=r"does not answer\s+eth_chainId"):
        node_factory("--no-prover", "--l1-rpc", "http://127.0.0.1:9/")
