"""The node as parts (chain/node/): built from a store and an executor the caller gives, read
through its query facade, which sees each block as it is made, and copied or re-keyed only
through named methods."""

import dataclasses
from pathlib import Path

import pytest
from eth_account import Account

from chain.config import NetworkConfig
from chain.fast.genesis import dev_keys
from chain.fast.pyevm_executor import PyEvmExecutor
from chain.fast.txs import decode_transaction
from chain.l1.attestation import Attestor
from chain.ledger.blocks import seal
from chain.ledger.claims import WrongStateRoot
from chain.ledger.store import Store
from chain.node import Node, NodeQuery, open_node
from chain.zk.ops import Transfer
from chain.zk.signing import format_signed_operation, sign_operation
from chain.zk.state import get_account, get_account_index

KEY = dev_keys()[1]
ADDRESS = int(Account.from_key(KEY).address, 16)
SEQUENCER_KEY = dev_keys()[2]


def send_transfer(node: Node, amount: int) -> bytes:
    query = node.query
    nonce = query.get_zk_pending_nonce(ADDRESS)
    index = get_account_index(query.zk_state, ADDRESS) or 0
    body = Transfer(to=int(Account.from_key(dev_keys()[3]).address, 16), amount=amount)
    fee = node.config.zk_min_fee
    signed = sign_operation(body, fee, nonce, query.signing_domain, KEY, index)
    return node.submit_operation(format_signed_operation(signed))


def test_node_takes_the_store_and_executor_it_is_given(tmp_path: Path) -> None:
    store = Store(tmp_path / "duet.db")
    executor = PyEvmExecutor(store.get_state_node)
    node = Node(store, executor, NetworkConfig())
    try:
        assert node.store is store and node.executor is executor
        assert node.query.fast_head.height == 0 and node.query.zk_head.height == 0
    finally:
        node.close()


def test_query_reads_the_state_each_block_leaves(tmp_path: Path) -> None:
    node = open_node(tmp_path / "node", executor="pyevm")
    try:
        query = node.query
        assert isinstance(query, NodeQuery)
        before = get_account(query.zk_state, ADDRESS)
        op_id = send_transfer(node, 10**15)
        assert query.is_zk_op_pending(op_id)
        assert query.get_zk_pending_nonce(ADDRESS) == before.nonce + 1
        block = node.produce_zk_block()
        assert not query.is_zk_op_pending(op_id)
        assert query.zk_head == block
        assert get_account(query.zk_state, ADDRESS).nonce == before.nonce + 1
        record = query.get_zk_op(op_id)
        assert record is not None and record.height == block.height
        assert [r.op_id for r in query.list_zk_ops_at(block.height)] == [op_id]
    finally:
        node.close()


def test_query_has_no_way_to_write() -> None:
    """The facade hands out reads only: nothing that submits, produces or stores."""
    writers = ("submit", "produce", "commit", "add_", "record_", "use_", "backup", "close")
    names = [n for n in dir(NodeQuery) if not n.startswith("_")]
    assert names  # the check below would pass on an empty class
    assert [n for n in names if n.startswith(writers)] == []


def test_backup_to_makes_a_node_that_starts_at_the_same_heads(tmp_path: Path) -> None:
    node = open_node(tmp_path / "node", executor="pyevm")
    try:
        send_transfer(node, 10**15)
        node.produce_zk_block()
        node.backup_to(tmp_path / "copy.db")
        store = Store(tmp_path / "copy.db")
        copy = Node(store, PyEvmExecutor(store.get_state_node), node.config)
        try:
            assert copy.query.zk_head == node.query.zk_head
            assert copy.query.log_head == node.query.log_head
        finally:
            copy.close()
    finally:
        node.close()


def test_use_attestor_starts_and_stops_attesting(tmp_path: Path) -> None:
    node = open_node(tmp_path / "node", executor="pyevm")
    try:
        send_transfer(node, 10**15)
        height = node.produce_zk_block().height
        assert node.query.get_attestation(height) is None  # no sequencer key yet
        node.use_attestor(Attestor(node.query.signing_domain, (SEQUENCER_KEY,)))
        assert node.query.get_attestation(height) is not None
        node.use_attestor(None)
        assert node.query.get_attestation(height) is None
    finally:
        node.close()


def test_a_node_checks_a_fast_block_another_node_proposed(tmp_path: Path) -> None:
    proposer = open_node(tmp_path / "proposer")  # revm
    try:
        proposer.backup_to(tmp_path / "checker.db")  # the same genesis
        store = Store(tmp_path / "checker.db")
        checker = Node(store, PyEvmExecutor(store.get_state_node), proposer.config)
        try:
            tx = Account.from_key(KEY).sign_transaction(
                {
                    "chainId": proposer.config.fast_chain_id,
                    "nonce": 0,
                    "to": Account.from_key(dev_keys()[3]).address,
                    "value": 10**15,
                    "gas": 21_000,
                    "maxFeePerGas": 10**10,
                    "maxPriorityFeePerGas": 1,
                }
            )
            txs = [decode_transaction(bytes(tx.raw_transaction), proposer.config.fast_chain_id)]
            proposal = proposer.make_fast_block(txs, proposer.query.fast_head.timestamp_ms).proposal
            # Re-sealed, so the only false claim is the state root.
            forged_header = seal(dataclasses.replace(proposal.header, state_root=b"\x11" * 32))
            forged = dataclasses.replace(proposal, header=forged_header)
            with pytest.raises(WrongStateRoot):
                checker.check_fast_block(forged)
            checked = checker.check_fast_block(proposal)
            assert checked.block == proposal.header
        finally:
            checker.close()
    finally:
        proposer.close()
