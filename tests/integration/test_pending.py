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
)


def test_pending_nonce_counts_transactions_waiting_in_the_pool(node_factory: NodeFactory) -> None:
    node = node_factory("--block-window-ms", "1500")  # keep them waiting long enough to look
    w3 = Web3(Web3.HTTPProvider(node.fast_http))
    sender, to = dev_account(3), dev_account(4).address
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
