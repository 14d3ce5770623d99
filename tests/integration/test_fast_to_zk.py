"""fast → ZK on a real node: ZKPoW burned through the outbox is released from escrow on the
ZK chain, reward-mint requests from the authorised contract mint within the caps and the rest
are refused on record, the root oracle holds the ZK chain's recent roots, and a message is
taken exactly once across a kill -9."""

from __future__ import annotations

import time

import pytest
from eth_account import Account
from web3 import Web3

from chain.client.fast import FastBridge
from chain.client.zk import ZkClient
from chain.fast.system import OUTBOX_ADDRESS, OUTBOX_MESSAGE_FEE_WEI
from chain.testing.node_process import NodeProcess
from chain.zk.genesis import REWARD_COLLECTION, ROUND_MINT_CAP
from tests.conftest import NodeFactory
from tests.integration.support import (
    CALL_GAS,
    ETHER,
    call_data,
    deploy,
    dev_account,
    rpc_result,
    transact,
)

ZK_INTERVAL_S = 0.3
MESSAGE_TIMEOUT_S = 30.0


@pytest.fixture(scope="module")
def bridge_node(module_node_factory: NodeFactory) -> NodeProcess:
    return module_node_factory("--zk-interval", str(ZK_INTERVAL_S), "--no-prover")


def zk_totals(node: NodeProcess) -> dict[str, int]:
    totals = rpc_result(node.zk_http, "duet_getTotals", [])
    return {k: int(v, 16) for k, v in totals.items()}


def fast_w3(node: NodeProcess) -> Web3:
    return Web3(Web3.HTTPProvider(node.fast_http, request_kwargs={"timeout": 30}))


def test_release_burns_on_the_fast_chain_and_pays_from_escrow(bridge_node: NodeProcess) -> None:
    sender = FastBridge(bridge_node.fast_http, dev_account(5).key)
    zk = ZkClient(bridge_node.zk_http, dev_account(5).key)
    recipient = Account.create().address
    outbox_before = sender.balance(Web3.to_checksum_address(OUTBOX_ADDRESS))
    escrow_before = zk_totals(bridge_node)["escrow"]
    seq = sender.release(recipient, 3 * ETHER)
    burned = 3 * ETHER + OUTBOX_MESSAGE_FEE_WEI  # the fee stays burned: it is not released
    assert sender.balance(Web3.to_checksum_address(OUTBOX_ADDRESS)) == outbox_before + burned
    arrival = zk.wait_for_fast_message(seq, MESSAGE_TIMEOUT_S)
    assert arrival["status"] == "applied", arrival
    assert zk.balance(recipient) == 3 * ETHER
    assert zk_totals(bridge_node)["escrow"] == escrow_before - 3 * ETHER
    assert zk_totals(bridge_node)["nextFastMessage"] > seq
    operation = rpc_result(bridge_node.zk_http, "duet_getOperation", [arrival["operationId"]])
    assert operation["operation"]["type"] == "Release"
    assert operation["circuit"] == "release"


def test_rejects_plain_transfer_to_the_outbox(bridge_node: NodeProcess) -> None:
    w3 = fast_w3(bridge_node)
    account = dev_account(6)
    tx = {"to": Web3.to_checksum_address(OUTBOX_ADDRESS), "value": ETHER, "gas": CALL_GAS}
    receipt = transact(w3, account, tx)
    assert receipt["status"] == 0, "value sent to the outbox without a message must revert"


def test_reward_mints_stop_at_the_round_cap_and_refusals_are_recorded(
    module_node_factory: NodeFactory,
) -> None:
    node = module_node_factory("--zk-interval", str(ZK_INTERVAL_S), "--no-prover")
    w3 = fast_w3(node)
    game = deploy(w3, dev_account(1), "RewardProbe", Web3.to_checksum_address(OUTBOX_ADDRESS))
    minter = ZkClient(node.zk_http, dev_account(0).key)  # the genesis minter
    minter.wait(minter.set_minter(REWARD_COLLECTION, game.address, fast_chain=True))
    winners = [Account.create().address for _ in range(ROUND_MINT_CAP + 1)]
    data = call_data(game, "reward", REWARD_COLLECTION, 7, winners)
    fees = len(winners) * OUTBOX_MESSAGE_FEE_WEI
    tx = {"to": game.address, "data": data, "gas": 1_000_000, "value": fees}
    receipt = transact(w3, dev_account(1), tx)
    outbox = FastBridge(node.fast_http, dev_account(1).key).outbox()
    seqs = [int(e["args"]["seq"]) for e in outbox.events.RewardMint().process_receipt(receipt)]
    arrivals = [minter.wait_for_fast_message(seq, MESSAGE_TIMEOUT_S) for seq in seqs]
    statuses = [a["status"] for a in arrivals]
    assert statuses == ["applied"] * ROUND_MINT_CAP + ["refused"]
    assert arrivals[-1]["reason"] == "round mint cap reached"
    owners = [minter.token(REWARD_COLLECTION, i)["owner"] for i in range(ROUND_MINT_CAP)]  # type: ignore[index]
    assert [o.lower() for o in owners] == [w.lower() for w in winners[:ROUND_MINT_CAP]]
    assert minter.token(REWARD_COLLECTION, ROUND_MINT_CAP) is None


def test_rejects_reward_requests_from_a_contract_that_is_not_the_minter(
    bridge_node: NodeProcess,
) -> None:
    w3 = fast_w3(bridge_node)
    stranger = deploy(w3, dev_account(2), "RewardProbe", Web3.to_checksum_address(OUTBOX_ADDRESS))
    winner = Account.create().address
    data = call_data(stranger, "reward", REWARD_COLLECTION, 1, [winner])
    tx = {"to": stranger.address, "data": data, "gas": 300_000, "value": OUTBOX_MESSAGE_FEE_WEI}
    receipt = transact(w3, dev_account(2), tx)
    outbox = FastBridge(bridge_node.fast_http, dev_account(2).key).outbox()
    (event,) = outbox.events.RewardMint().process_receipt(receipt)
    zk = ZkClient(bridge_node.zk_http, dev_account(2).key)
    arrival = zk.wait_for_fast_message(int(event["args"]["seq"]), MESSAGE_TIMEOUT_S)
    assert arrival["status"] == "refused"
    assert arrival["reason"] == "sender is not the collection's minter"


def test_root_oracle_holds_the_recent_zk_roots(bridge_node: NodeProcess) -> None:
    oracle = FastBridge(bridge_node.fast_http, dev_account(3).key).root_oracle()
    deadline = time.monotonic() + MESSAGE_TIMEOUT_S
    while oracle.functions.latestHeight().call() < 3:
        assert time.monotonic() < deadline, "the root oracle is not being updated"
        time.sleep(ZK_INTERVAL_S)
    latest = oracle.functions.latestHeight().call()
    # The oracle keeps a window of 256 heights; a long test run can outgrow it.
    for height in (latest, latest - 1, max(1, latest - 200)):
        block = rpc_result(bridge_node.zk_http, "eth_getBlockByNumber", [hex(height), False])
        root = oracle.functions.stateRootAt(height).call()
        assert "0x" + root.hex() == block["stateRoot"], height
        assert oracle.functions.isRecentStateRoot(root).call()
    assert not oracle.functions.isRecentStateRoot(b"\x01" * 32).call()


def test_message_sent_before_a_kill_9_is_taken_once_after_it(node_factory: NodeFactory) -> None:
    # A long ZK interval leaves the message waiting in the inbox when the node dies.
    node = node_factory("--zk-interval", "3", "--no-prover")
    sender = FastBridge(node.fast_http, dev_account(7).key)
    recipient = Account.create().address
    seq = sender.release(recipient, 2 * ETHER)
    node.kill9()
    node.restart()
    zk = ZkClient(node.zk_http, dev_account(7).key)
    assert zk.wait_for_fast_message(seq, MESSAGE_TIMEOUT_S)["status"] == "applied"
    time.sleep(2 * 3)  # two more ZK blocks must not take it again
    assert len(zk.fast_message(seq)["arrivals"]) == 1
    assert zk.balance(recipient) == 2 * ETHER
