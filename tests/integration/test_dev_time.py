"""Time moved on a dev node with its L1 (chain/consensus/dev.py, chain/node/clock.py): both
chains' blocks jump with the clock, the managed anvil's clock moves with it so the rollup
keeps settling (it refuses a block from more than a few minutes in its future), and after
a restart the clock is still ahead and anvil, started again, is moved along."""

from __future__ import annotations

import time

from web3 import Web3
from web3.types import RPCEndpoint

from chain.client.zk import ZkClient
from tests.conftest import NodeFactory
from tests.integration.support import dev_account

HOUR = 3600
SETTLED_TIMEOUT_S = 120.0


def test_operations_settle_after_time_jumps_ahead_and_after_a_restart(
    node_factory: NodeFactory,
) -> None:
    node = node_factory()  # with its managed anvil and rollup
    fast = Web3(Web3.HTTPProvider(node.fast_http))
    zk = ZkClient(node.zk_http, dev_account(1).key)
    ahead = fast.provider.make_request(RPCEndpoint("evm_increaseTime"), [HOUR])["result"]
    assert ahead == HOUR

    op = zk.transfer(dev_account(2).address, 10**15)
    status = zk.wait(op, "settled", timeout_s=SETTLED_TIMEOUT_S)
    block = zk.rpc("eth_getBlockByNumber", status["height"], False)
    assert int(block["timestamp"], 16) >= time.time() + HOUR - 60  # the ZK chain jumped too
    l1 = Web3(Web3.HTTPProvider(node.l1_http))
    assert l1.eth.get_block("latest")["timestamp"] >= time.time() + HOUR - 60

    node.restart()  # anvil too: it comes back on the wall clock
    fast = Web3(Web3.HTTPProvider(node.fast_http))
    fast.provider.make_request(RPCEndpoint("evm_mine"), [])
    assert fast.eth.get_block("latest")["timestamp"] >= time.time() + HOUR - 60
    zk = ZkClient(node.zk_http, dev_account(1).key)
    op = zk.transfer(dev_account(2).address, 10**15)
    assert zk.wait(op, "settled", timeout_s=SETTLED_TIMEOUT_S)["status"] == "settled"
