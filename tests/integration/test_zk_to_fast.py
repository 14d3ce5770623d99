"""ZK → fast on a real node: ZKPoW locked in escrow on the ZK chain is credited to the
recipient's native balance by the next fast block, exactly once, across restarts too; the
fast chain never holds more ZKPoW than the escrow."""

from __future__ import annotations

import time

import pytest
from eth_account import Account
from web3 import Web3

from chain.client.zk import OperationFailed, ZkClient
from chain.testing.node_process import NodeProcess
from tests.conftest import NodeFactory
from tests.integration.support import ETHER, dev_account, rpc, transfer

ZK_INTERVAL_S = 0.5
CREDIT_TIMEOUT_S = 30.0


def fast_balance(node: NodeProcess, address: str) -> int:
    return int(rpc(node.fast_http, "eth_getBalance", [address, "latest"])["result"], 16)


def wait_for_fast_balance(node: NodeProcess, address: str, expected: int) -> None:
    start = time.monotonic()
    while time.monotonic() - start < CREDIT_TIMEOUT_S:
        if fast_balance(node, address) == expected:
            return
        time.sleep(0.01)
    raise AssertionError(f"{address} has {fast_balance(node, address)} on the fast chain")


def zk_escrow(node: NodeProcess) -> int:
    return int(rpc(node.zk_http, "duet_getTotals", [])["result"]["escrow"], 16)


@pytest.fixture(scope="module")
def bridge_node(module_node_factory: NodeFactory) -> NodeProcess:
    return module_node_factory("--zk-interval", str(ZK_INTERVAL_S), "--no-prover")


def test_lock_on_zk_credits_native_balance_on_fast_chain(bridge_node: NodeProcess) -> None:
    alice = ZkClient(bridge_node.zk_http, dev_account(1).key)
    fresh = Account.create().address
    escrow_before = zk_escrow(bridge_node)
    op = alice.to_fast(fresh, 7 * ETHER)
    wait_for_fast_balance(bridge_node, fresh, 7 * ETHER)
    assert alice.wait(op)["status"] == "committed"
    assert zk_escrow(bridge_node) == escrow_before + 7 * ETHER
    assert alice.balance() == 10_000 * ETHER - 7 * ETHER - alice.fee


def test_rejects_lock_beyond_balance(bridge_node: NodeProcess) -> None:
    bob = ZkClient(bridge_node.zk_http, dev_account(2).key)
    with pytest.raises(OperationFailed, match="insufficient balance"):
        bob.to_fast(dev_account(2).address, 20_000 * ETHER)


def test_credit_is_delivered_once_across_a_kill_9(node_factory: NodeFactory) -> None:
    node = node_factory("--zk-interval", str(ZK_INTERVAL_S), "--no-prover")
    carol = ZkClient(node.zk_http, dev_account(3).key)
    fresh = Account.create().address
    carol.wait(carol.to_fast(fresh, 2 * ETHER))
    wait_for_fast_balance(node, fresh, 2 * ETHER)
    node.kill9()
    node.restart()
    time.sleep(3 * ZK_INTERVAL_S)  # blocks after the restart must not deliver it again
    assert fast_balance(node, fresh) == 2 * ETHER
    ZkClient(node.zk_http, dev_account(3).key).to_fast(fresh, ETHER)
    wait_for_fast_balance(node, fresh, 3 * ETHER)


def test_message_committed_before_a_kill_9_is_delivered_after_it(node_factory: NodeFactory) -> None:
    # A long fast batching window gives the kill a moment between the ZK block and delivery:
    # a fast block made just before opens it (a quiet chain would deliver at once).
    node = node_factory("--zk-interval", "0.2", "--no-prover", "--block-window-ms", "2000")
    dave = ZkClient(node.zk_http, dev_account(4).key)
    fresh = Account.create().address
    transfer(Web3(Web3.HTTPProvider(node.fast_http)), dev_account(5), fresh, 1)
    dave.wait(dave.to_fast(fresh, 5 * ETHER))
    node.kill9()
    node.extra_args = ["--zk-interval", "0.2", "--no-prover"]
    node.restart()
    wait_for_fast_balance(node, fresh, 5 * ETHER + 1)
    time.sleep(0.5)
    assert fast_balance(node, fresh) == 5 * ETHER + 1
