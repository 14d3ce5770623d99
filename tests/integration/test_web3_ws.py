"""`eth_subscribe` over the fast chain's WebSocket endpoint, through web3.py's
`AsyncWeb3(WebSocketProvider(...))` and, for delivery after unsubscribe, a bare socket."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Callable
from typing import Any

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from hexbytes import HexBytes
from web3 import AsyncWeb3, Web3, WebSocketProvider
from web3.contract import Contract
from websockets.asyncio.client import connect

from chain.rpc.fast_api import PENDING_GAS_CAP
from chain.testing.node_process import NodeProcess
from tests.integration.support import (
    FAST_CHAIN_ID,
    call_data,
    deploy,
    event_topic,
    transact,
    transfer,
)

pytestmark = pytest.mark.timeout(180)

WAIT_S = 30.0
QUIET_S = 1.5


@pytest.fixture(scope="module")
def probes(w3: Web3, accounts: list[LocalAccount]) -> tuple[Contract, Contract]:
    return deploy(w3, accounts[0], "Probe", 1), deploy(w3, accounts[0], "Probe", 2)


async def collect(ws: AsyncWeb3[Any], sub_id: str, done: Callable[[list[Any]], bool]) -> list[Any]:
    """Results of one subscription, in arrival order, until `done(results)`."""
    results: list[Any] = []
    async with asyncio.timeout(WAIT_S):
        async for message in ws.socket.process_subscriptions():
            if message["subscription"] == sub_id:
                results.append(message["result"])
                if done(results):
                    return results
    return results


def test_websocket_answers_plain_requests(node: NodeProcess) -> None:
    async def scenario() -> None:
        async with AsyncWeb3(WebSocketProvider(node.fast_ws)) as ws:
            assert await ws.eth.chain_id == FAST_CHAIN_ID
            assert await ws.eth.block_number >= 0

    asyncio.run(scenario())


def test_new_heads_delivers_every_new_block_in_order_with_matching_hashes(
    node: NodeProcess, w3: Web3, accounts: list[LocalAccount]
) -> None:
    sender = accounts[1]

    async def scenario() -> tuple[int, list[Any]]:
        async with AsyncWeb3(WebSocketProvider(node.fast_ws)) as ws:
            sub_id = await ws.eth.subscribe("newHeads")
            start = w3.eth.block_number
            # The provider's listener buffers notifications while the blocks are being made.
            mined = []
            for _ in range(3):
                receipt = await asyncio.to_thread(transfer, w3, sender, Account.create().address, 1)
                mined.append(receipt["blockNumber"])
            heads = await collect(ws, sub_id, lambda got: got[-1]["number"] >= mined[-1])
            assert await ws.eth.unsubscribe(sub_id) is True
            heads = [h for h in heads if h["number"] > start]
            assert set(mined) <= {h["number"] for h in heads}
            return start, heads

    start, heads = asyncio.run(scenario())
    numbers = [h["number"] for h in heads]
    assert numbers == list(range(start + 1, start + 1 + len(numbers))), (start, numbers)
    for previous, head in itertools.pairwise(heads):
        assert head["parentHash"] == previous["hash"]
    for head in heads:
        block = w3.eth.get_block(head["number"])
        assert head["hash"] == block["hash"]
        assert head["parentHash"] == block["parentHash"]
        assert head["stateRoot"] == block["stateRoot"]
        assert head["timestamp"] == block["timestamp"]


def test_logs_subscription_filtered_by_address_gets_only_that_contracts_events(
    node: NodeProcess,
    w3: Web3,
    accounts: list[LocalAccount],
    probes: tuple[Contract, Contract],
) -> None:
    watched, other = probes
    sender = accounts[2]
    sentinel = 4444

    def set_value(probe: Contract, value: int) -> Any:
        receipt = transact(
            w3, sender, {"to": probe.address, "data": call_data(probe, "set", value)}
        )
        assert receipt["status"] == 1
        return receipt

    async def scenario() -> tuple[list[Any], list[Any]]:
        async with AsyncWeb3(WebSocketProvider(node.fast_ws)) as ws:
            sub_id = await ws.eth.subscribe("logs", {"address": watched.address})

            receipts = []
            for probe, value in [(watched, 11), (other, 22), (watched, 33), (other, 44)]:
                receipts.append(await asyncio.to_thread(set_value, probe, value))
            # Mined last: once its log arrives, every earlier block has been delivered.
            receipts.append(await asyncio.to_thread(set_value, watched, sentinel))

            def saw_sentinel(got: list[Any]) -> bool:
                return watched.events.ValueSet().process_log(got[-1])["args"]["v"] == sentinel

            logs = await collect(ws, sub_id, saw_sentinel)
            assert await ws.eth.unsubscribe(sub_id) is True
            return logs, receipts

    logs, receipts = asyncio.run(scenario())
    watched_receipts = [receipts[0], receipts[2], receipts[4]]
    assert [log["address"] for log in logs] == [watched.address] * 3
    assert [log["topics"][0] for log in logs] == [
        HexBytes(event_topic("ValueSet(address,uint256,bytes)"))
    ] * 3
    events = [watched.events.ValueSet().process_log(log) for log in logs]
    assert [e["args"]["v"] for e in events] == [11, 33, sentinel]
    assert [e["args"]["who"] for e in events] == [sender.address] * 3
    assert [log["transactionHash"] for log in logs] == [
        r["transactionHash"] for r in watched_receipts
    ]
    assert [log["blockHash"] for log in logs] == [r["blockHash"] for r in watched_receipts]
    assert [log["blockNumber"] for log in logs] == [r["blockNumber"] for r in watched_receipts]


def test_eth_unsubscribe_returns_true_and_stops_delivery(
    node: NodeProcess, w3: Web3, accounts: list[LocalAccount]
) -> None:
    sender = accounts[3]

    async def request(socket: Any, id: int, method: str, params: list[Any]) -> Any:
        await socket.send(
            json.dumps({"jsonrpc": "2.0", "id": id, "method": method, "params": params})
        )
        async with asyncio.timeout(WAIT_S):
            while True:
                message = json.loads(await socket.recv())
                if message.get("id") == id:
                    return message

    async def next_notification(socket: Any, sub_id: str, timeout: float) -> Any:
        try:
            async with asyncio.timeout(timeout):
                while True:
                    message = json.loads(await socket.recv())
                    if message.get("params", {}).get("subscription") == sub_id:
                        return message
        except TimeoutError:
            return None

    async def scenario() -> None:
        async with connect(node.fast_ws) as socket:
            subscribed = await request(socket, 1, "eth_subscribe", ["newHeads"])
            sub_id = subscribed["result"]
            assert isinstance(sub_id, str) and sub_id.startswith("0x")

            await asyncio.to_thread(transfer, w3, sender, Account.create().address, 1)
            delivered = await next_notification(socket, sub_id, WAIT_S)
            assert delivered is not None, "no newHeads notification for a mined block"
            assert delivered["method"] == "eth_subscription"

            unsubscribed = await request(socket, 2, "eth_unsubscribe", [sub_id])
            assert unsubscribed == {"jsonrpc": "2.0", "id": 2, "result": True}

            # Notifications already in flight before the unsubscribe may still arrive.
            while await next_notification(socket, sub_id, 0.3) is not None:
                pass
            receipt = await asyncio.to_thread(transfer, w3, sender, Account.create().address, 1)
            assert receipt["status"] == 1
            assert await next_notification(socket, sub_id, QUIET_S) is None

            # The connection itself still answers.
            chain_id = await request(socket, 3, "eth_chainId", [])
            assert int(chain_id["result"], 16) == FAST_CHAIN_ID

    asyncio.run(scenario())


async def subscribe_logs(socket: Any, kinds: tuple[str, ...], address: str) -> dict[str, str]:
    """One subscription of each kind to `address`'s logs, on one socket: id → kind."""
    subscribed = {}
    for request_id, kind in enumerate(kinds):
        request = {
            "jsonrpc": "2.0",
            "id": request_id,
            "method": "eth_subscribe",
            "params": [kind, {"address": address}],
        }
        await socket.send(json.dumps(request))
        subscribed[json.loads(await socket.recv())["result"]] = kind
    return subscribed


async def collect_until_quiet(
    socket: Any, kinds: dict[str, str]
) -> list[tuple[str, dict[str, Any]]]:
    """(kind, result) of every notification, in arrival order, until the socket is quiet."""
    got: list[tuple[str, dict[str, Any]]] = []
    try:
        async with asyncio.timeout(QUIET_S * 2):
            while True:
                params = json.loads(await socket.recv()).get("params", {})
                if params.get("subscription") in kinds:
                    got.append((kinds[params["subscription"]], params["result"]))
    except TimeoutError:
        return got


def test_soft_logs_in_dev_mode_come_before_the_committed_logs_once(
    node: NodeProcess, w3: Web3, accounts: list[LocalAccount], probes: tuple[Contract, Contract]
) -> None:
    """Dev mode shows a block soft once the sequencer made it and before it is stored:
    `softLogs` gets every log ahead of `logs` (subscribed first, so pushed first were both
    sent at commit), each once, the same log (block hash, index) as the committed one."""
    watched, _ = probes
    sender = accounts[1]

    async def scenario() -> list[tuple[str, dict[str, Any]]]:
        async with connect(node.fast_ws) as socket:
            kinds = await subscribe_logs(socket, ("logs", "softLogs"), watched.address)
            for value in (5, 6):
                tx = {"to": watched.address, "data": call_data(watched, "set", value)}
                await asyncio.to_thread(transact, w3, sender, tx)
            return await collect_until_quiet(socket, kinds)

    got = asyncio.run(scenario())
    assert [kind for kind, _ in got] == ["softLogs", "logs"] * 2
    soft = [log for kind, log in got if kind == "softLogs"]
    final = [log for kind, log in got if kind == "logs"]
    values = [watched.events.ValueSet().process_log(log)["args"]["v"] for log in soft]
    assert values == [5, 6]
    assert [(log["blockHash"], log["logIndex"]) for log in soft] == [
        (log["blockHash"], log["logIndex"]) for log in final
    ]
    assert all(not log.get("removed") for log in soft)


def test_pending_logs_forecast_a_move_at_admission_and_skip_a_failing_one(
    node: NodeProcess, w3: Web3, accounts: list[LocalAccount], probes: tuple[Contract, Contract]
) -> None:
    """`pendingLogs` sends what an admitted transaction emits when simulated, with null block
    fields, ahead of the block's `softLogs`. Nothing is forecast for a transaction whose
    simulation reverts, one to another address, or one that may burn more than the cap."""
    watched, other = probes
    sender = accounts[2]

    async def scenario() -> list[tuple[str, dict[str, Any]]]:
        async with connect(node.fast_ws) as socket:
            kinds = await subscribe_logs(socket, ("softLogs", "pendingLogs"), watched.address)
            for contract, fn, args, gas in (
                (watched, "failWithReason", (), 200_000),
                (other, "set", (8,), 200_000),
                (watched, "set", (9,), 200_000),
                (watched, "set", (10,), PENDING_GAS_CAP + 1),
            ):
                data = call_data(contract, fn, *args)
                tx = {"to": contract.address, "data": data, "gas": gas}
                await asyncio.to_thread(transact, w3, sender, tx)
            return await collect_until_quiet(socket, kinds)

    got = asyncio.run(scenario())
    assert [kind for kind, _ in got] == ["pendingLogs", "softLogs", "softLogs"]
    (_, pending), (_, soft), (_, unforecast) = got
    assert pending["blockHash"] is None and pending["blockNumber"] is None
    assert pending["transactionIndex"] is None and pending["logIndex"] == "0x0"
    for field in ("address", "topics", "data", "transactionHash"):
        assert pending[field] == soft[field]
    value_set = watched.events.ValueSet()
    assert value_set.process_log(soft)["args"]["v"] == 9
    assert value_set.process_log(unforecast)["args"]["v"] == 10


def test_pending_logs_is_a_fast_chain_subscription(node: NodeProcess) -> None:
    async def scenario() -> dict[str, Any]:
        async with connect(node.zk_ws) as socket:
            request = {"jsonrpc": "2.0", "id": 1, "method": "eth_subscribe"}
            await socket.send(json.dumps({**request, "params": ["pendingLogs", {}]}))
            return dict(json.loads(await socket.recv()))

    answer = asyncio.run(scenario())
    assert answer["error"]["code"] == -32602
    assert "pendingLogs is served on the fast chain's endpoint" in answer["error"]["message"]
