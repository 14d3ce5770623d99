"""Transactions waiting for a block: the pending nonce, their status, and what happens next."""

from __future__ import annotations

from web3 import Web3

from tests.conftest import NodeFactory
from tests.integration.support import (
    TRANSFER_GAS,
    dev_account,
    rpc_result,
    sign,
    wait_receipt,
    wait_until,
)


def test_pending_nonce_counts_transactions_waiting_in_the_pool(node_factory: NodeFactory) -> None:
    # Keep them waiting long enough to look. A transaction on a quiet chain is in a block at
    # once, but one that comes within a block window of the last block waits for the window
    # to end: a primer transfer makes a block, and the three follow within its 5 s window.
    # No ZK block either (each would wake the fast chain to deliver its roots).
    node = node_factory("--block-window-ms", "5000", "--zk-interval", "3600")
    w3 = Web3(Web3.HTTPProvider(node.fast_http))
    # The first fast block delivers the ZK genesis's roots; the transactions come after it.
    wait_until(lambda: w3.eth.block_number >= 1, 30, what="the genesis roots delivered")
    sender, to = dev_account(3), dev_account(4).address
    primer = sign(w3, dev_account(5), {"to": to, "value": 1, "gas": TRANSFER_GAS})
    wait_receipt(w3, w3.eth.send_raw_transaction(primer))
    hashes = [
        w3.eth.send_raw_transaction(
            sign(w3, sender, {"to": to, "value": 1, "gas": TRANSFER_GAS}, nonce=n)
        )
        for n in range(3)
    ]
    assert w3.eth.get_transaction_count(sender.address, "pending") == 3
    assert w3.eth.get_transaction_count(sender.address, "latest") == 0
    status = rpc_result(node.fast_http, "duet_getTransactionStatus", [hashes[0].to_0x_hex()])
    assert status == {"status": "pending", "blockNumber": None, "reason": None}
    assert w3.eth.get_transaction(hashes[2])["blockNumber"] is None

    receipts = [wait_receipt(w3, h) for h in hashes]
    assert len({r["blockNumber"] for r in receipts}) == 1, "one batch, one block"
    status = rpc_result(node.fast_http, "duet_getTransactionStatus", [hashes[0].to_0x_hex()])
    assert status["status"] == "committed" and status["blockNumber"] == receipts[0]["blockNumber"]
    assert w3.eth.get_transaction_count(sender.address, "latest") == 3
