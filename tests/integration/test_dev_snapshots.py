"""A dev node's snapshots (chain/node/snapshots.py): a revert takes back both chains, the
ledger and the node's own L1 together, so that what settled on L1 after the snapshot is
gone from L1 as from the node, and settlement goes on from there; snapshots taken after the
one reverted to are gone; what cannot be taken back is refused before anything moves.
The same fast-chain session runs against anvil in test_anvil_parity.py."""

from __future__ import annotations

from pathlib import Path

import pytest
from eth_utils import to_checksum_address
from web3 import Web3
from web3.types import RPCEndpoint

from chain.client.zk import ZkClient
from chain.l1.link import make_l1_web3
from chain.l1.rollup import RollupClient
from chain.node import open_node
from chain.node.snapshots import MAX_HELD, DevSnapshots, SnapshotRefused
from chain.nodefile import read_node_file
from chain.testing.accounts import dev_account
from chain.zk.ops import Deposit
from tests.conftest import NodeFactory

SETTLED_TIMEOUT_S = 120.0
AMOUNT = 10**15
CAROL = 0xCA201  # a ZK address, as the ZK chain numbers them


def test_a_revert_takes_both_chains_and_l1_back_and_settlement_goes_on(
    node_factory: NodeFactory,
) -> None:
    node = node_factory()  # with its managed anvil, rollup, agent and prover
    fast = Web3(Web3.HTTPProvider(node.fast_http))
    l1 = read_node_file(node.data_dir).l1
    assert l1 is not None and l1.rollup is not None
    rollup = RollupClient(make_l1_web3(l1.http), to_checksum_address(l1.rollup))
    zk = ZkClient(node.zk_http, dev_account(1).key)
    to = dev_account(2).address

    def rpc(method: str, *params: object) -> object:
        answer = fast.provider.make_request(RPCEndpoint(method), list(params))
        assert "result" in answer, answer
        return answer["result"]

    snapshot = rpc("evm_snapshot")
    balance, settled = zk.balance(to), rollup.get_settled_height()
    zk_head = zk.rpc("eth_getBlockByNumber", "latest", False)
    op = zk.transfer(to, 3 * AMOUNT)
    status = zk.wait(op, "settled", timeout_s=SETTLED_TIMEOUT_S)
    assert rollup.get_settled_height() >= int(status["height"], 16) > settled
    assert zk.balance(to) == balance + 3 * AMOUNT

    assert rpc("evm_revert", snapshot) is True
    assert zk.balance(to) == balance
    assert zk.status(op)["status"] == "unknown"
    assert rollup.get_settled_height() == settled  # L1 went back with the node
    same = zk.rpc("eth_getBlockByNumber", hex(int(zk_head["number"], 16)), False)
    assert same["hash"] == zk_head["hash"]

    # Settlement goes on from there: the rollup takes the node's new blocks.
    again = zk.wait(zk.transfer(to, 5 * AMOUNT), "settled", timeout_s=SETTLED_TIMEOUT_S)
    assert rollup.get_settled_height() >= int(again["height"], 16)
    assert zk.balance(to) == balance + 5 * AMOUNT


def test_later_snapshots_go_with_a_revert_and_the_held_ones_are_bounded(tmp_path: Path) -> None:
    node = open_node(tmp_path / "node")
    snapshots = DevSnapshots(node, None, False)
    first = snapshots.take()
    node.produce_zk_block()
    head = node.query.log_head
    second = snapshots.take()
    node.produce_zk_block()
    node.produce_zk_block()
    assert snapshots.revert(second)
    assert node.query.log_head == head
    assert node.store.get_block_by_seq(head.seq + 1) is None
    assert snapshots.revert(first)
    assert not snapshots.revert(second)  # taken after the one reverted to
    assert not snapshots.revert(first)  # used up
    assert not snapshots.revert(99)  # never given
    for _ in range(MAX_HELD):
        snapshots.take()
    with pytest.raises(SnapshotRefused, match=f"{MAX_HELD} snapshots are held"):
        snapshots.take()
    node.close()


def test_a_node_on_an_l1_it_does_not_run_refuses_snapshots(tmp_path: Path) -> None:
    node = open_node(tmp_path / "node")
    with pytest.raises(SnapshotRefused, match="an L1 it does not run"):
        DevSnapshots(node, "http://127.0.0.1:9/", managed=False).take()
    node.close()


def test_an_l1_read_begun_before_a_revert_is_dropped(tmp_path: Path) -> None:
    """The deposit reader asks where to resume, then reads L1; if the node (and its L1) went
    back meanwhile, what it read may be gone from L1: the node must not credit it."""
    node = open_node(tmp_path / "node")
    copy = node.store.copy()
    index = node.get_next_deposit_index()  # a read begins
    node.take_back(copy)  # and the node goes back before it ends
    node.add_l1_deposits([Deposit(index, CAROL, AMOUNT)])
    assert node.l1_deposits == []
    index = node.get_next_deposit_index()  # the reader's next read
    node.add_l1_deposits([Deposit(index, CAROL, AMOUNT)])
    assert len(node.l1_deposits) == 1
    node.close()
