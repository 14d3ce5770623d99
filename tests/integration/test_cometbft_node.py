"""`duet node --consensus cometbft`: a real node process runs its ABCI application and a real
CometBFT v0.38.26 as its child (one validator, on loopback). Transactions sent to the node's
usual JSON-RPC are forwarded to CometBFT's mempool and come back as committed fast blocks
(their logs soft-confirmed first);
what the node refuses never reaches CometBFT; acknowledged transactions survive a kill -9
of the node (forwarded again at start-up); and when CometBFT dies, the node stops, saying so.
ZK operations and the embedded prover's proofs go through CometBFT as tagged transactions.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from web3 import Web3
from websockets.asyncio.client import connect

from chain.client.zk import ZkClient
from chain.consensus.txs import PROOF_TAG, ZK_OP_TAG
from chain.jsonrpc import RpcClient, RpcError
from chain.testing.accounts import dev_account, sign_transfer
from chain.testing.node_process import NodeProcess
from tests.integration.cometbft_net import COMETBFT, MISSING_REASON, Net, make_net
from tests.integration.support import call_data, deploy, transact

pytestmark = pytest.mark.skipif(COMETBFT is None, reason=MISSING_REASON)

BOB = "0x" + "22" * 20
FINAL_TIMEOUT_S = 30.0
PROVEN_TIMEOUT_S = 240.0  # the embedded prover's Groth16 proof, on two busy cores
ETHER = 10**18


def transfer(nonce: int, chain_id: int = 7702, sender: int = 0, value: int = 1) -> str:
    raw = sign_transfer(nonce, sender=sender, to=BOB, value=value, chain_id=chain_id)
    return "0x" + raw.hex()


def wait_for_receipts(rpc: RpcClient, hashes: list[str]) -> list[dict[str, Any]]:
    deadline = time.monotonic() + FINAL_TIMEOUT_S
    receipts: dict[str, dict[str, Any]] = {}
    while len(receipts) < len(hashes):
        assert time.monotonic() < deadline, f"{len(hashes) - len(receipts)} never committed"
        for tx_hash in hashes:
            if tx_hash not in receipts and (
                got := rpc.call("eth_getTransactionReceipt", [tx_hash])
            ):
                receipts[tx_hash] = got
        time.sleep(0.05)
    return [receipts[h] for h in hashes]


@pytest.fixture
def net(tmp_path: Path) -> Net:
    return make_net(tmp_path)


@pytest.fixture
def node(net: Net, tmp_path: Path) -> Iterator[NodeProcess]:
    mode = ("--consensus", "cometbft", "--cometbft-home", str(net.home))
    process = NodeProcess(tmp_path / "node", mode=mode)
    yield process.start()
    process.kill9()


def test_transactions_sent_to_the_node_commit_through_cometbft(node: NodeProcess, net: Net) -> None:
    rpc = RpcClient(node.fast_http)
    sender = dev_account(0).address
    hashes = [rpc.call("eth_sendRawTransaction", [transfer(nonce)]) for nonce in range(30)]
    # Admitted and not yet committed: the pending nonce counts them.
    assert int(rpc.call("eth_getTransactionCount", [sender, "pending"]), 16) == 30

    receipts = wait_for_receipts(rpc, hashes)
    assert all(r["status"] == "0x1" for r in receipts)
    assert int(rpc.call("eth_getBalance", [BOB, "latest"]), 16) == 30
    assert int(rpc.call("eth_getTransactionCount", [sender, "latest"]), 16) == 30
    # CometBFT's blocks carry them: as many transactions in its chain as the node committed.
    heights = {int(r["blockNumber"], 16) for r in receipts}
    assert len(heights) >= 1
    committed = net.rpc("tx_search", query="tx.height>0", per_page="100")["total_count"]
    assert int(committed) == 30

    # What the node refuses is refused at once, as in dev mode, and never forwarded.
    with pytest.raises(RpcError, match="signed for chain ID 1"):
        rpc.call("eth_sendRawTransaction", [transfer(30, chain_id=1)])
    with pytest.raises(RpcError, match="nonce too low"):
        rpc.call("eth_sendRawTransaction", [transfer(3, value=2)])
    with pytest.raises(RpcError, match="already known"):
        rpc.call("eth_sendRawTransaction", [transfer(3)])
    unconfirmed = net.rpc("num_unconfirmed_txs")
    assert int(unconfirmed["total"]) == 0


def test_acknowledged_transactions_survive_a_kill_of_the_node(node: NodeProcess) -> None:
    rpc = RpcClient(node.fast_http)
    hashes = [rpc.call("eth_sendRawTransaction", [transfer(n, sender=1)]) for n in range(40)]
    node.kill9()  # CometBFT dies with it (tied to its parent): its mempool is gone too
    node.start()
    rpc = RpcClient(node.fast_http)
    receipts = wait_for_receipts(rpc, hashes)
    assert [int(r["status"], 16) for r in receipts] == [1] * 40
    assert int(rpc.call("eth_getTransactionCount", [dev_account(1).address, "latest"]), 16) == 40

    # A clean stop and start continue the same chain (which goes on delivering each ZK
    # block's roots, so it may have grown).
    head = int(rpc.call("eth_blockNumber"), 16)
    head_hash = rpc.call("eth_getBlockByNumber", [hex(head), False])["hash"]
    node.restart()
    rpc = RpcClient(node.fast_http)
    assert int(rpc.call("eth_blockNumber"), 16) >= head
    assert rpc.call("eth_getBlockByNumber", [hex(head), False])["hash"] == head_hash
    (receipt,) = wait_for_receipts(
        rpc, [rpc.call("eth_sendRawTransaction", [transfer(40, sender=1)])]
    )
    assert int(receipt["blockNumber"], 16) > head


def test_the_node_stops_when_its_cometbft_dies(node: NodeProcess) -> None:
    match = re.search(r"CometBFT started \(pid (\d+)", node.log_path.read_text())
    assert match is not None, node.log_tail()
    os.kill(int(match.group(1)), signal.SIGKILL)
    assert node.proc is not None
    code = node.proc.wait(FINAL_TIMEOUT_S)
    assert code == 1
    assert "CometBFT exited with code" in node.log_path.read_text()


def test_a_move_is_soft_confirmed_then_final_in_the_same_block(node: NodeProcess) -> None:
    """`softLogs` delivers a log once this node made or accepted the proposal holding it,
    `logs` once the height committed: the same log (block hash, index), soft no later."""
    w3 = Web3(Web3.HTTPProvider(node.fast_http))
    probe = deploy(w3, dev_account(2), "Probe", 1)
    data = call_data(probe, "set", 77)

    async def scenario() -> list[tuple[str, dict[str, Any]]]:
        async with connect(node.fast_ws) as socket:
            kinds = {}
            for request_id, kind in enumerate(("softLogs", "logs")):
                request = {
                    "jsonrpc": "2.0",
                    "id": request_id,
                    "method": "eth_subscribe",
                    "params": [kind, {"address": probe.address}],
                }
                await socket.send(json.dumps(request))
                kinds[json.loads(await socket.recv())["result"]] = kind
            await asyncio.to_thread(
                transact, w3, dev_account(2), {"to": probe.address, "data": data}
            )
            arrived: list[tuple[str, dict[str, Any]]] = []
            async with asyncio.timeout(FINAL_TIMEOUT_S):
                while len(arrived) < 2:
                    params = json.loads(await socket.recv())["params"]
                    arrived.append((kinds[params["subscription"]], params["result"]))
            return arrived

    arrived = asyncio.run(scenario())
    assert [kind for kind, _ in arrived] == ["softLogs", "logs"]
    soft, final = (log for _, log in arrived)
    assert (soft["blockHash"], soft["logIndex"]) == (final["blockHash"], final["logIndex"])
    assert soft["transactionHash"] == final["transactionHash"]
    assert not soft.get("removed")


def test_zk_operations_commit_and_get_proven_through_cometbft(node: NodeProcess, net: Net) -> None:
    """A ZK transfer sent to the node's ZK endpoint goes through CometBFT as a tagged
    transaction, lands in a ZK block made at a height's header time, and the embedded
    prover's proof of it goes through CometBFT too before the market counts it."""
    alice = ZkClient(node.zk_http, dev_account(1).key)
    bob = dev_account(2).address
    before = ZkClient(node.zk_http, dev_account(2).key).balance()
    op_id = alice.transfer(bob, 5 * ETHER)
    alice.wait(op_id, timeout_s=FINAL_TIMEOUT_S)
    assert ZkClient(node.zk_http, dev_account(2).key).balance() == before + 5 * ETHER
    status = alice.wait(op_id, "proven", timeout_s=PROVEN_TIMEOUT_S)
    assert status["proof"] is not None

    # CometBFT indexes a committed block's transactions after the commit, so the proof's
    # height may be searchable a moment after the market counted it; the newest come first.
    deadline = time.monotonic() + FINAL_TIMEOUT_S
    while True:
        committed = net.rpc("tx_search", query="tx.height>0", per_page="100", order_by="desc")
        tags = {base64.b64decode(tx["tx"])[0] for tx in committed["txs"]}
        if {ZK_OP_TAG, PROOF_TAG} <= tags or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert {ZK_OP_TAG, PROOF_TAG} <= tags
