"""The ZK chain on a real node: a web3.py user mints, transfers, lists and buys an NFT, and
sees every operation proven by the embedded prover (real Groth16 proofs, checked by the node).
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from web3.exceptions import ContractLogicError

from chain.client.zk import OperationFailed, ZkClient
from chain.testing.node_process import NodeProcess
from chain.zk.genesis import REWARD_COLLECTION, ROUND_MINT_CAP
from chain.zk.ops import Transfer
from chain.zk.signing import SigningDomain, format_signed_operation, sign_operation
from tests.conftest import NodeFactory
from tests.integration.support import ETHER, dev_account, rpc

PROVEN_TIMEOUT_S = 240.0  # a few operations at about a second each, on two busy cores


@pytest.fixture(scope="module")
def zk_node(module_node_factory: NodeFactory) -> Iterator[NodeProcess]:
    yield module_node_factory()


def client(node: NodeProcess, index: int) -> ZkClient:
    return ZkClient(node.zk_http, dev_account(index).key)


def test_erc20_views_of_zkpow(zk_node: NodeProcess) -> None:
    zkpow = client(zk_node, 1).zkpow()
    assert zkpow.functions.name().call() == "ZKPoW"
    assert zkpow.functions.symbol().call() == "ZKPOW"
    assert zkpow.functions.decimals().call() == 18
    assert zkpow.functions.balanceOf(dev_account(9).address).call() == 10_000 * ETHER
    assert zkpow.functions.totalSupply().call() >= 10 * 10_000 * ETHER


def test_web3_user_mints_transfers_lists_and_buys_and_all_get_proven(zk_node: NodeProcess) -> None:
    minter, alice, bob = client(zk_node, 0), client(zk_node, 1), client(zk_node, 2)
    carol = dev_account(3).address
    rewards = alice.collection(REWARD_COLLECTION)
    ops: list[str] = []

    ops.append(alice.transfer(bob.address, 5 * ETHER))
    alice.wait(ops[-1])
    assert bob.balance() == 10_005 * ETHER
    assert alice.balance() == 9_995 * ETHER - alice.fee

    ops.append(minter.mint(REWARD_COLLECTION, alice.address, metadata=0xC0FFEE, round=1))
    minter.wait(ops[-1])
    assert rewards.functions.ownerOf(0).call() == alice.address
    assert rewards.functions.balanceOf(alice.address).call() == 1
    uri = rewards.functions.tokenURI(0).call()
    assert json.loads(uri.split(",", 1)[1])["metadata"] == f"0x{0xC0FFEE:064x}"

    ops.append(alice.list_nft(REWARD_COLLECTION, 0, price=2 * ETHER))
    alice.wait(ops[-1])
    assert [t["tokenId"] for t in alice.listings()] == [0]

    alice_before = alice.balance()
    ops.append(bob.buy(REWARD_COLLECTION, 0, price=2 * ETHER))
    bob.wait(ops[-1])
    assert rewards.functions.ownerOf(0).call() == bob.address
    assert alice.balance() == alice_before + 2 * ETHER
    assert alice.listings() == []

    ops.append(bob.transfer_nft(REWARD_COLLECTION, 0, carol))
    bob.wait(ops[-1])
    assert rewards.functions.ownerOf(0).call() == carol

    for op_id in ops:
        status = alice.wait(op_id, "proven", timeout_s=PROVEN_TIMEOUT_S)
        assert status["proof"] is not None and len(status["publicInputs"]) >= 4


def test_rejects_replayed_operation(zk_node: NodeProcess) -> None:
    sender = client(zk_node, 4)
    domain = sender.signing_domain()
    index = sender.rpc("duet_getAccount", sender.address)["index"]
    signed = sign_operation(Transfer(0xB0B, 1), sender.fee, 0, domain, dev_account(4).key, index)
    wire = format_signed_operation(signed)
    first = rpc(zk_node.zk_http, "duet_sendOperation", [wire])
    sender.wait(first["result"])
    again = rpc(zk_node.zk_http, "duet_sendOperation", [wire])
    assert again["error"]["message"] == "operation rejected: already committed"


def test_rejects_operation_signed_for_another_chain(zk_node: NodeProcess) -> None:
    domain = client(zk_node, 5).signing_domain()
    elsewhere = SigningDomain(domain.chain_id + 1, domain.verifying_contract)
    signed = sign_operation(Transfer(0xB0B, 1), 10**15, 0, elsewhere, dev_account(5).key, 5)
    answer = rpc(zk_node.zk_http, "duet_sendOperation", [format_signed_operation(signed)])
    assert answer["error"]["code"] == -32602
    assert "not from the account named in 'from'" in answer["error"]["message"]


def test_rejects_mint_over_round_cap_with_the_rule_in_the_error(zk_node: NodeProcess) -> None:
    minter = client(zk_node, 0)
    minted = [minter.mint(REWARD_COLLECTION, dev_account(6).address, 1, round=50)]
    minted += [
        minter.mint(REWARD_COLLECTION, dev_account(6).address, 1, round=50)
        for _ in range(ROUND_MINT_CAP - 1)
    ]
    with pytest.raises(OperationFailed, match="round mint cap reached"):
        minter.mint(REWARD_COLLECTION, dev_account(6).address, 1, round=50)
    for op_id in minted:
        minter.wait(op_id)


def test_rejects_insufficient_balance_at_submission(zk_node: NodeProcess) -> None:
    poor = client(zk_node, 7)
    with pytest.raises(OperationFailed, match="insufficient balance"):
        poor.transfer(dev_account(8).address, 20_000 * ETHER)


def test_owner_of_unminted_token_reverts(zk_node: NodeProcess) -> None:
    rewards = client(zk_node, 1).collection(REWARD_COLLECTION)
    with pytest.raises(ContractLogicError, match="ERC721: invalid token ID"):
        rewards.functions.ownerOf(4000).call()


def test_call_to_a_non_system_address_reverts_with_explanation(zk_node: NodeProcess) -> None:
    answer = rpc(zk_node.zk_http, "eth_call", [{"to": dev_account(1).address, "data": "0x"}])
    assert answer["error"]["code"] == 3
    assert "the ZK chain has no EVM" in answer["error"]["message"]


def test_operation_status_of_unknown_id(zk_node: NodeProcess) -> None:
    answer = rpc(zk_node.zk_http, "duet_getProofStatus", ["0x" + "11" * 32])
    assert answer["result"]["status"] == "unknown"


def test_zk_state_and_pending_operations_survive_kill_9(node_factory: NodeFactory) -> None:
    node = node_factory("--no-prover", "--zk-interval", "3600")  # nothing commits on its own
    alice = client(node, 1)
    pending = alice.transfer(dev_account(2).address, 3 * ETHER)
    assert alice.status(pending)["status"] == "pending"
    node.kill9()
    node.restart()
    alice = client(node, 1)
    assert alice.status(pending)["status"] == "pending", "an acknowledged operation was lost"
    account_before = rpc(node.zk_http, "duet_getAccount", [alice.address])["result"]
    assert account_before["pendingNonce"] == "0x1"
    node.stop()
    node.extra_args = ["--no-prover", "--zk-interval", "0.2"]
    node.restart()
    alice = client(node, 1)
    alice.wait(pending)
    root_before = rpc(node.zk_http, "eth_getBlockByNumber", ["latest", False])["result"]
    node.kill9()
    node.extra_args = ["--no-prover", "--zk-interval", "3600"]
    node.restart()
    alice = client(node, 1)
    assert alice.balance() == 9_997 * ETHER - alice.fee
    assert alice.balance(dev_account(2).address) == 10_003 * ETHER
    assert alice.status(pending)["status"] == "committed"
    head = rpc(node.zk_http, "eth_getBlockByNumber", [root_before["number"], False])["result"]
    assert head["stateRoot"] == root_before["stateRoot"]


def test_heartbeat_makes_a_prover_that_is_proven_and_survives_a_restart(
    node_factory: NodeFactory,
) -> None:
    node = node_factory()
    alice = client(node, 1)
    height = int(rpc(node.zk_http, "eth_blockNumber", [])["result"], 16)
    with pytest.raises(OperationFailed, match=r"activeUntil 1000 is beyond \d+"):
        alice.heartbeat(active_until=1_000)  # further than the market's 30 blocks ahead
    offer = height + 20
    op_id = alice.heartbeat(active_until=offer)
    alice.wait(op_id, "proven", timeout_s=PROVEN_TIMEOUT_S)
    assert alice.balance() == 10_000 * ETHER - alice.fee
    head = rpc(node.zk_http, "eth_getBlockByNumber", ["latest", False])["result"]
    node.stop()
    node.restart()  # the node rebuilds its ZK state from the stored records, provers included
    again = rpc(node.zk_http, "eth_getBlockByNumber", [head["number"], False])["result"]
    assert again["stateRoot"] == head["stateRoot"]
    alice = client(node, 1)
    # the dev node aggregates and settles on L1
    assert alice.status(op_id)["status"] in ("proven", "aggregated", "settled")
    with pytest.raises(OperationFailed, match=f"activeUntil {offer - 1} is before the prover's"):
        alice.heartbeat(active_until=offer - 1)
