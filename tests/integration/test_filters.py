"""Polling filters through web3.py, the same session against Duet's fast chain and anvil:
block, pending-transaction and event filters report what happened once each, the event
filter's whole range on request, and an uninstalled filter is gone on both."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from eth_account import Account
from web3 import Web3
from web3.exceptions import Web3RPCError

from chain.fast.genesis import dev_keys
from chain.l1.anvil import Anvil
from tests.conftest import NodeFactory
from tests.integration.support import FAST_CHAIN_ID, call_data, deploy, transact

SENDER = 6  # a dev account no other module of this node's tests uses


@pytest.fixture(scope="module", params=["duet", "anvil"])
def w3(request: pytest.FixtureRequest, module_node_factory: NodeFactory) -> Iterator[Web3]:
    if request.param == "duet":
        node = module_node_factory("--no-prover", "--no-l1")
        yield Web3(Web3.HTTPProvider(node.fast_http))
    else:
        with Anvil("--chain-id", str(FAST_CHAIN_ID)) as url:  # the helpers sign for it
            yield Web3(Web3.HTTPProvider(url))


def test_filters_report_each_block_transaction_and_event_once(w3: Web3) -> None:
    account = Account.from_key(dev_keys()[SENDER])
    probe = deploy(w3, account, "Probe", 1)
    start = w3.eth.block_number
    blocks = w3.eth.filter("latest")
    pending = w3.eth.filter("pending")
    events = probe.events.ValueSet.create_filter(from_block=start)

    receipts = [
        transact(w3, account, {"to": probe.address, "data": call_data(probe, "set", v)})
        for v in (5, 6)
    ]
    hashes = [r["transactionHash"] for r in receipts]

    new_blocks = blocks.get_new_entries()
    assert {r["blockHash"] for r in receipts} <= set(new_blocks)
    assert not set(new_blocks) & set(blocks.get_new_entries())  # once each
    assert set(hashes) <= set(pending.get_new_entries())
    assert [e["args"]["v"] for e in events.get_new_entries()] == [5, 6]
    assert events.get_new_entries() == []
    assert [e["args"]["v"] for e in events.get_all_entries()] == [5, 6]

    assert w3.eth.uninstall_filter(blocks.filter_id)
    assert not w3.eth.uninstall_filter(blocks.filter_id)
    with pytest.raises(Web3RPCError, match="filter not found"):
        w3.eth.get_filter_changes(blocks.filter_id)
