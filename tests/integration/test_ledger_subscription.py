"""The `ledger` subscription streams the braided log: entries of both chains, in order."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from itertools import pairwise
from typing import Any

from web3 import Web3
from websockets.asyncio.client import connect

from tests.conftest import NodeFactory
from tests.integration.support import TRANSFER_GAS, dev_account, sign


async def collect(url: str, count: int, during: Callable[[], None]) -> list[dict[str, Any]]:
    async with connect(url) as ws:
        await ws.send(
            json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_subscribe", "params": ["ledger"]})
        )
        sub_id = json.loads(await ws.recv())["result"]
        await asyncio.to_thread(during)
        entries = []
        while len(entries) < count:
            message = json.loads(await asyncio.wait_for(ws.recv(), timeout=10))
            assert message["params"]["subscription"] == sub_id
            entries.append(message["params"]["result"])
        await ws.send(
            json.dumps({"jsonrpc": "2.0", "id": 2, "method": "eth_unsubscribe", "params": [sub_id]})
        )
        return entries


def test_ledger_subscription_streams_both_chains_in_log_order(node_factory: NodeFactory) -> None:
    node = node_factory("--zk-interval", "0.2")
    w3 = Web3(Web3.HTTPProvider(node.fast_http))
    sender, to = dev_account(5), dev_account(6).address

    def send_two() -> None:
        for nonce in range(2):
            tx = sign(w3, sender, {"to": to, "value": 1, "gas": TRANSFER_GAS}, nonce=nonce)
            w3.eth.wait_for_transaction_receipt(w3.eth.send_raw_transaction(tx), timeout=10)

    entries = asyncio.run(collect(node.zk_ws, 8, send_two))
    seqs = [e["seq"] for e in entries]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), "consecutive, no gaps, in order"
    assert {e["chain"] for e in entries} == {"fast", "zk"}
    assert all(b["prevHash"] == a["hash"] for a, b in pairwise(entries))
