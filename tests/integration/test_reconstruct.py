"""Reconstruction on a real stack: a dev node (its anvil, its rollup, its embedded agent)
settles a mix of every kind of operation, then `duet reconstruct` rebuilds the state from the
L1 calldata alone; its root is L1's settled root and its records are the node's.

The replay's own rules (a tampered word reported at its op) are tested without a node, in
tests/l1/test_reconstruct.py.
"""

from __future__ import annotations

import json
import subprocess
import time
from typing import Any

import pytest
from eth_account import Account
from web3 import Web3

from chain.client.fast import FastBridge
from chain.client.zk import ZkClient
from chain.fast.system import OUTBOX_ADDRESS, OUTBOX_MESSAGE_FEE_WEI
from chain.l1.rollup import RollupClient
from chain.launcher import duet_command
from chain.testing.node_process import REPO, NodeProcess
from chain.zk.genesis import GAME_PASS_COLLECTION, REWARD_COLLECTION
from tests.conftest import NodeFactory
from tests.integration.support import (
    ETHER,
    call_data,
    deploy,
    dev_account,
    rpc_result,
    transact,
)

pytestmark = pytest.mark.timeout(600)

SETTLED_TIMEOUT_S = 300.0  # a dozen proofs at about a second each, on busy cores
MESSAGE_TIMEOUT_S = 30.0
RECONSTRUCT_TIMEOUT_S = 120.0
REWARD_ROUND = 3
QUIET_TIMEOUT_S = 180.0
# A short heartbeat, so that the embedded prover lets it lapse soon after the work is done.
MARKET_ARGS = ("--market", "active_blocks=8")


def run_reconstruct(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*duet_command(), "reconstruct", *args],
        capture_output=True,
        text=True,
        timeout=RECONSTRUCT_TIMEOUT_S,
        cwd=REPO,
    )


def fast_w3(node: NodeProcess) -> Web3:
    return Web3(Web3.HTTPProvider(node.fast_http, request_kwargs={"timeout": 30}))


def send_every_kind(node: NodeProcess) -> list[str]:
    """Every circuit at least once (transfers opening accounts, a market round, a new minter,
    an ownership key, ZKPoW both ways with the fast chain, a reward from a fast-chain
    contract). Returns the operation ids, each waited for where the next depends on it."""
    url = node.zk_http
    minter, alice, bob, carol, dave = (ZkClient(url, dev_account(i).key) for i in range(5))
    newcomer, stranger, released = (Account.create() for _ in range(3))
    ops = [
        alice.transfer(newcomer.address, 2 * ETHER),
        alice.transfer(stranger.address, ETHER),
        minter.mint(GAME_PASS_COLLECTION, bob.address, metadata=0xAB),
    ]
    bob.wait(ops[-1])
    ops.append(bob.list_nft(GAME_PASS_COLLECTION, 0, ETHER))
    bob.wait(ops[-1])
    ops += [
        carol.buy(GAME_PASS_COLLECTION, 0, ETHER),
        carol.register_key(),
        carol.to_fast(carol.address, ETHER),
        minter.set_minter(GAME_PASS_COLLECTION, dave.address, fast_chain=False),
    ]
    carol.wait(ops[-4])
    ops.append(carol.transfer_nft(GAME_PASS_COLLECTION, 0, newcomer.address))
    dave.wait(ops[-2])
    ops.append(dave.mint(GAME_PASS_COLLECTION, newcomer.address, metadata=0xCD))
    owner = ZkClient(url, newcomer.key)
    owner.wait(ops[-1])
    ops.append(owner.list_nft(GAME_PASS_COLLECTION, 1, 5 * ETHER))
    owner.wait(ops[-1])
    ops.append(owner.cancel_listing(GAME_PASS_COLLECTION, 1))
    ops += send_fast_chain_messages(node, minter, released.address)
    return ops


def send_fast_chain_messages(node: NodeProcess, minter: ZkClient, to: str) -> list[str]:
    """A release from the fast chain's outbox, and a reward from a contract there that the
    reward collection's minter hands the collection to."""
    seqs = [FastBridge(node.fast_http, dev_account(5).key).release(to, 3 * ETHER)]
    w3 = fast_w3(node)
    game = deploy(w3, dev_account(6), "RewardProbe", Web3.to_checksum_address(OUTBOX_ADDRESS))
    handover = minter.set_minter(REWARD_COLLECTION, game.address, fast_chain=True)
    minter.wait(handover)
    data = call_data(game, "reward", REWARD_COLLECTION, REWARD_ROUND, [to])
    tx = {"to": game.address, "data": data, "gas": 1_000_000, "value": OUTBOX_MESSAGE_FEE_WEI}
    receipt = transact(w3, dev_account(6), tx)
    outbox = FastBridge(node.fast_http, dev_account(6).key).outbox()
    seqs += [int(e["args"]["seq"]) for e in outbox.events.RewardMint().process_receipt(receipt)]
    arrivals = [minter.wait_for_fast_message(seq, MESSAGE_TIMEOUT_S) for seq in seqs]
    assert [a["status"] for a in arrivals] == ["applied", "applied"], arrivals
    return [handover, *(a["operationId"] for a in arrivals)]


def wait_settled(node: NodeProcess, ops: list[str]) -> None:
    client = ZkClient(node.zk_http, dev_account(0).key)
    deadline = time.monotonic() + SETTLED_TIMEOUT_S
    for op in ops:
        client.wait(op, "settled", timeout_s=max(1.0, deadline - time.monotonic()))


def wait_quiet(node: NodeProcess) -> int:
    """Until the chain has gone quiet: no job open, the embedded prover's heartbeat lapsed
    (it lets it lapse once users' work is done), and L1 settled the last block holding
    operations. Returns that height."""
    rollup = RollupClient(Web3(Web3.HTTPProvider(node.l1_http)), node.status["l1"]["rollup"])
    deadline = time.monotonic() + QUIET_TIMEOUT_S
    while True:
        market = rpc_result(node.zk_http, "duet_getProverMarket", [])
        heights = rpc_result(node.zk_http, "duet_getSettlementHeights", [0])
        quiet = not market["jobs"] and not any(p["active"] for p in market["provers"])
        if quiet and rollup.get_settled_height() == heights[-1]:
            return int(heights[-1])
        assert time.monotonic() < deadline, (market, heights, rollup.get_settled_height())
        time.sleep(0.5)


def count_operations(node: NodeProcess, heights: list[int]) -> int:
    return sum(
        len(rpc_result(node.zk_http, "duet_getSettlementBlock", [h])["ops"]) for h in heights
    )


def assert_state_is_the_nodes(node: NodeProcess, result: dict[str, Any]) -> None:
    """Every rebuilt account and token, and the totals, as the node's ZK RPC reads them."""
    url = node.zk_http
    for account in result["state"]["accounts"]:
        on_node = rpc_result(url, "duet_getAccount", [account["address"]])
        assert (on_node["index"], on_node["balance"], on_node["nonce"]) == (
            account["index"],
            account["balance"],
            account["nonce"],
        ), account["address"]
    for token in result["state"]["tokens"]:
        on_node = rpc_result(
            url, "duet_getToken", [hex(token["collection"]), hex(token["tokenId"])]
        )
        assert on_node is not None, token
        assert on_node["owner"].lower() == token["owner"].lower()
        assert (on_node["metadata"], on_node["price"]) == (token["metadata"], token["price"])
    totals = rpc_result(url, "duet_getTotals", [])
    rebuilt = result["totals"]
    assert (totals["escrow"], totals["feePool"], totals["totalSupply"]) == (
        rebuilt["escrow"],
        rebuilt["feePool"],
        rebuilt["totalSupply"],
    )
    assert int(totals["nextFastMessage"], 16) == rebuilt["nextFastMessage"]


def test_reconstruction_from_l1_matches_the_settled_root_and_the_nodes_state(
    node_factory: NodeFactory,
) -> None:
    node = node_factory(*MARKET_ARGS)
    ops = send_every_kind(node)
    wait_settled(node, ops)
    settled = wait_quiet(node)
    circuits = {rpc_result(node.zk_http, "duet_getOperation", [op])["circuit"] for op in ops}
    assert len(circuits) == 11, circuits

    done = run_reconstruct("--data-dir", str(node.data_dir), "--json")

    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    heights = rpc_result(node.zk_http, "duet_getSettlementHeights", [0])
    head = rpc_result(node.zk_http, "eth_getBlockByNumber", ["latest", False])
    assert result["match"] and result["mismatch"] is None
    assert result["settledHeight"] == result["recomputedHeight"] == heights[-1] == settled
    assert result["settledRoot"] == result["recomputedRoot"]
    assert int(result["recomputedRoot"], 16) == int(head["stateRoot"], 16)
    # The test's operations, and the market's own: heartbeats and payment settlements.
    assert (result["blocks"], result["operations"]) == (
        len(heights),
        count_operations(node, heights),
    )
    assert result["operations"] > len(ops)
    deployment = json.loads((node.data_dir / "l1" / "deployment.json").read_text())
    assert result["fromBlock"] == deployment["block"]
    assert_state_is_the_nodes(node, result)
    tokens = {(t["collection"], t["tokenId"]) for t in result["state"]["tokens"]}
    assert tokens == {(GAME_PASS_COLLECTION, 0), (GAME_PASS_COLLECTION, 1), (REWARD_COLLECTION, 0)}

    # The same, named by hand and printed for a person.
    rollup = node.status["l1"]["rollup"]
    shown = run_reconstruct("--l1-rpc", node.l1_http, "--rollup", rollup)
    assert shown.returncode == 0, shown.stderr
    assert "match" in shown.stdout and result["recomputedRoot"] in shown.stdout

    # Read from after the first settlement, the replay starts from the wrong root.
    assert len(heights) >= 2
    first = RollupClient(Web3(Web3.HTTPProvider(node.l1_http)), rollup).list_settlements()[0]
    after = str(first.l1_block + 1)
    late = run_reconstruct(
        "--l1-rpc", node.l1_http, "--rollup", rollup, "--json", "--from-block", after
    )
    assert late.returncode == 1, late.stderr
    mismatch = json.loads(late.stdout)["mismatch"]
    assert mismatch["opIndex"] is None and mismatch["reason"].startswith("pre-root")

    # No rollup at the address: exit 2.
    missing = run_reconstruct("--l1-rpc", node.l1_http, "--rollup", "0x" + "00" * 19 + "ab")
    assert missing.returncode == 2
    assert "no contract at" in missing.stderr
