"""`duet node --dev --no-l1`: the two chains alone, with no anvil, rollup or agent."""

from __future__ import annotations

import subprocess

import pytest
import requests
from eth_account import Account
from web3 import Web3

from chain.fast.genesis import dev_keys
from chain.launcher import duet_command
from chain.nodefile import read_node_file
from tests.conftest import NodeFactory
from tests.integration.support import transfer, wait_until


def test_node_without_l1_runs_both_chains(node_factory: NodeFactory) -> None:
    node = node_factory("--no-l1", "--no-prover")
    endpoints = read_node_file(node.data_dir)
    assert endpoints.l1 is None
    assert not (node.data_dir / "l1").exists()  # no anvil was started for it

    w3 = Web3(Web3.HTTPProvider(endpoints.fast.http))
    sender = Account.from_key(dev_keys()[9])
    receipt = transfer(w3, sender, Account.create().address, 1)
    assert receipt["status"] == 1

    zk = Web3(Web3.HTTPProvider(endpoints.zk.http))
    start = zk.eth.block_number
    wait_until(lambda: zk.eth.block_number >= start + 2, 15, what="two ZK blocks")


def test_no_l1_contradicts_an_l1_endpoint() -> None:
    done = subprocess.run(
        [*duet_command(), "node", "--dev", "--no-l1", "--l1-rpc", "http://127.0.0.1:1/"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "--no-l1 and --l1-rpc / --rollup contradict each other" in " ".join(done.stderr.split())


def test_a_node_serves_on_the_address_it_is_given(node_factory: NodeFactory) -> None:
    """`duet node --host ADDR` (a LAN address, for players on other machines): both chains
    listen there and say so in node.json, and not on 127.0.0.1, the default. 127.0.0.2 stands
    in for a LAN address: it is this machine's, and reaches no other."""
    node = node_factory("--no-l1", "--no-prover", "--host", "127.0.0.2")
    endpoints = read_node_file(node.data_dir)
    for endpoint in (endpoints.fast, endpoints.zk):
        assert endpoint.http.startswith("http://127.0.0.2:"), endpoint
        assert endpoint.ws.startswith("ws://127.0.0.2:"), endpoint
        w3 = Web3(Web3.HTTPProvider(endpoint.http))
        assert w3.eth.chain_id == endpoint.chain_id
        elsewhere = endpoint.http.replace("127.0.0.2", "127.0.0.1")
        with pytest.raises(requests.ConnectionError):
            requests.post(elsewhere, json={"jsonrpc": "2.0", "id": 1, "method": "eth_chainId"})
