"""Foundry's `cast` (npm @foundry-rs/cast) against the fast chain: an independent, widely used
client that shares no code with web3.py or with the node."""

from __future__ import annotations

import json
import os
import subprocess

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from hexbytes import HexBytes
from web3 import Web3

from chain.testing.node_process import NodeProcess
from tests.integration.support import FAST_CHAIN_ID, REPO, deploy

CAST = REPO / "node_modules" / ".bin" / "cast"

pytestmark = [
    pytest.mark.timeout(180),
    pytest.mark.skipif(
        not CAST.exists(), reason=f"{CAST} is missing: `npm install` (project setup) provides it"
    ),
]


def cast(*args: str) -> str:
    env = {**os.environ, "FOUNDRY_DISABLE_NIGHTLY_WARNING": "1", "NO_COLOR": "1"}
    result = subprocess.run(
        [str(CAST), *args], capture_output=True, text=True, timeout=60, env=env, cwd=REPO
    )
    assert result.returncode == 0, (
        f"cast {' '.join(args)} exited {result.returncode}\nstdout: {result.stdout}\n"
        f"stderr: {result.stderr}"
    )
    return result.stdout.strip()


def as_int(value: str | int) -> int:
    return value if isinstance(value, int) else int(value, 0)


def test_cast_chain_id_is_7702(node: NodeProcess) -> None:
    assert cast("chain-id", "--rpc-url", node.fast_http) == str(FAST_CHAIN_ID)


def test_cast_block_number_matches_eth_block_number(node: NodeProcess, w3: Web3) -> None:
    # Every ZK block brings a fast block, so the head can move between two reads: bracket it.
    low = w3.eth.block_number
    number = int(cast("block-number", "--rpc-url", node.fast_http))
    assert low <= number <= w3.eth.block_number


def test_cast_balance_matches_eth_get_balance(
    node: NodeProcess, w3: Web3, accounts: list[LocalAccount]
) -> None:
    address = accounts[0].address
    assert int(cast("balance", address, "--rpc-url", node.fast_http)) == w3.eth.get_balance(address)


def test_cast_send_transfers_value_and_cast_receipt_reads_it(
    node: NodeProcess, w3: Web3, accounts: list[LocalAccount]
) -> None:
    sender, recipient = accounts[1], Account.create().address
    sent = json.loads(
        cast(
            "send",
            "--private-key",
            "0x" + bytes(sender.key).hex(),
            "--rpc-url",
            node.fast_http,
            recipient,
            "--value",
            "1",
            "--json",
        )
    )
    tx_hash = sent["transactionHash"]
    assert as_int(sent["status"]) == 1

    receipt = json.loads(cast("receipt", tx_hash, "--rpc-url", node.fast_http, "--json"))
    assert as_int(receipt["status"]) == 1
    assert receipt["transactionHash"] == tx_hash
    assert receipt["from"].lower() == sender.address.lower()
    assert receipt["to"].lower() == recipient.lower()
    assert HexBytes(receipt["blockHash"]) == w3.eth.get_transaction_receipt(tx_hash)["blockHash"]
    assert w3.eth.get_balance(recipient) == 1


def test_cast_call_reads_probe_value(
    node: NodeProcess, w3: Web3, accounts: list[LocalAccount]
) -> None:
    probe = deploy(w3, accounts[2], "Probe", 4242)
    output = cast("call", probe.address, "value()(uint256)", "--rpc-url", node.fast_http)
    # Large numbers come with an annotation ("4242 [4.242e3]"): the value is the first word.
    assert int(output.split()[0]) == 4242


def test_cast_block_latest_json_parses_and_matches_the_node(node: NodeProcess, w3: Web3) -> None:
    block = json.loads(cast("block", "latest", "--json", "--rpc-url", node.fast_http))
    number = as_int(block["number"])
    assert number <= w3.eth.block_number
    ours = w3.eth.get_block(number)
    assert HexBytes(block["hash"]) == ours["hash"]
    assert HexBytes(block["stateRoot"]) == ours["stateRoot"]
    assert HexBytes(block["parentHash"]) == ours["parentHash"]
