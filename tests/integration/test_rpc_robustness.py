"""Malformed, hostile and replayed requests: each answered with the exact JSON-RPC error of
docs/rpc.md, and none of them stops the node from answering or producing blocks."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
from typing import Any

import aiohttp
import pytest
import requests
import rlp
from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3
from websockets.asyncio.client import connect

from chain.testing.node_process import NodeProcess
from tests.integration.support import (
    FAST_CHAIN_ID,
    TRANSFER_GAS,
    ZK_CHAIN_ID,
    dev_account,
    rpc,
    rpc_error,
    rpc_raw,
    rpc_result,
    sign,
    transfer,
    wait_receipt,
)

pytestmark = pytest.mark.timeout(240)

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
TX_REJECTED = -32000
MAX_BODY = 5 * 1024 * 1024
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
GOOD_ADDRESS = "0x" + "11" * 20


def post_body(url: str, body: bytes) -> requests.Response:
    return requests.post(url, data=body, headers={"Content-Type": "application/json"}, timeout=30)


def error_code(answer: Any) -> int:
    assert isinstance(answer, dict) and "error" in answer, f"expected an error, got {answer!r}"
    return int(answer["error"]["code"])


def assert_node_alive_and_producing(w3: Web3, sender: LocalAccount) -> None:
    """The node answers, and a new transaction still makes a new block."""
    before = w3.eth.block_number
    receipt = transfer(w3, sender, Account.create().address, 1)
    assert receipt["status"] == 1
    assert receipt["blockNumber"] > before
    assert w3.eth.block_number >= receipt["blockNumber"]


def assert_rejected(w3: Web3, raw: bytes, pattern: str = "") -> dict[str, Any]:
    """`eth_sendRawTransaction(raw)` is refused with -32000 and the transaction is not kept."""
    error = rpc_error(w3.provider.endpoint_uri, "eth_sendRawTransaction", ["0x" + raw.hex()])
    assert error["code"] == TX_REJECTED, error
    if pattern:
        assert re.search(pattern, error["message"], re.IGNORECASE), error
    tx_hash = "0x" + bytes(Web3.keccak(raw)).hex()
    assert rpc_result(w3.provider.endpoint_uri, "eth_getTransactionByHash", [tx_hash]) is None
    return error


# -- envelope errors ------------------------------------------------------------------------------


@pytest.mark.parametrize("body", [b"{not json", b"", b'{"jsonrpc": "2.0", "method": ', b"\xff\xfe"])
def test_rejects_a_body_that_is_not_json_with_parse_error(node: NodeProcess, body: bytes) -> None:
    answer = post_body(node.fast_http, body).json()
    assert error_code(answer) == PARSE_ERROR
    assert answer["id"] is None


def test_rejects_an_empty_batch_with_one_invalid_request_error(node: NodeProcess) -> None:
    answer = rpc_raw(node.fast_http, [])
    assert isinstance(answer, dict), f"an empty batch gets one response object, got {answer!r}"
    assert error_code(answer) == INVALID_REQUEST


@pytest.mark.parametrize(
    "payload",
    [
        1,
        "eth_chainId",
        None,
        True,
        {"jsonrpc": "2.0", "id": 1},
        {"jsonrpc": "1.0", "id": 1, "method": "eth_chainId", "params": []},
        {"id": 1, "method": "eth_chainId", "params": []},
        {"jsonrpc": "2.0", "id": 1, "method": 42, "params": []},
    ],
    ids=["number", "string", "null", "bool", "no-method", "v1", "no-version", "method-not-str"],
)
def test_rejects_a_request_that_is_not_a_json_rpc_2_object(node: NodeProcess, payload: Any) -> None:
    assert error_code(rpc_raw(node.fast_http, payload)) == INVALID_REQUEST


def test_rejects_each_non_object_in_a_batch_separately(node: NodeProcess) -> None:
    answers = rpc_raw(
        node.fast_http, [1, "x", {"jsonrpc": "2.0", "id": 7, "method": "eth_chainId"}]
    )
    assert isinstance(answers, list) and len(answers) == 3
    errors = [a for a in answers if "error" in a]
    assert [error_code(a) for a in errors] == [INVALID_REQUEST, INVALID_REQUEST]
    assert all(a["id"] is None for a in errors)
    (good,) = [a for a in answers if a.get("id") == 7]
    assert int(good["result"], 16) == FAST_CHAIN_ID


def test_rejects_an_unknown_method_naming_it(node: NodeProcess) -> None:
    error = rpc_error(node.fast_http, "eth_noSuchMethodHere", [])
    assert error["code"] == METHOD_NOT_FOUND
    assert "eth_noSuchMethodHere" in error["message"]


@pytest.mark.parametrize(
    ("method", "params"),
    [
        ("eth_getBalance", ["0x1234", "latest"]),
        ("eth_getBalance", ["0x" + "zz" * 20, "latest"]),
        ("eth_getBalance", [GOOD_ADDRESS + "00", "latest"]),
        ("eth_getBalance", []),
        ("eth_getBalance", [GOOD_ADDRESS, "not-a-tag"]),
        ("eth_getBalance", [12345, "latest"]),
        ("eth_getBlockByNumber", [123, False]),
        ("eth_getBlockByNumber", ["0xzz", False]),
        ("eth_getTransactionReceipt", [42]),
        ("eth_getTransactionReceipt", ["0x1234"]),
        ("eth_getTransactionCount", []),
        ("eth_getStorageAt", [GOOD_ADDRESS, "not-hex", "latest"]),
        ("eth_call", ["not an object", "latest"]),
        ("eth_call", [{"to": "0x12"}, "latest"]),
        ("eth_sendRawTransaction", []),
        ("eth_sendRawTransaction", ["0xnothex"]),
        ("eth_getLogs", [{"fromBlock": "yesterday"}]),
        ("duet_getLedger", ["zero", 10]),
        ("duet_getTransactionStatus", [17]),
    ],
)
def test_rejects_wrong_params_with_invalid_params(
    node: NodeProcess, method: str, params: list[Any]
) -> None:
    error = rpc_error(node.fast_http, method, params)
    assert error["code"] == INVALID_PARAMS, error
    assert error["message"], "the message says which parameter and why"


def test_rejects_params_given_as_a_non_list_non_object(node: NodeProcess) -> None:
    answer = rpc_raw(
        node.fast_http, {"jsonrpc": "2.0", "id": 1, "method": "eth_getBalance", "params": "0x11"}
    )
    assert error_code(answer) in (INVALID_REQUEST, INVALID_PARAMS)


def test_rejects_a_body_over_5_mib_and_keeps_answering(node: NodeProcess) -> None:
    padding = "0x" + "ab" * (MAX_BODY // 2 + 1024)
    body = json.dumps(
        {"jsonrpc": "2.0", "id": 1, "method": "eth_sendRawTransaction", "params": [padding]}
    ).encode()
    assert len(body) > MAX_BODY
    response = post_body(node.fast_http, body)
    answer = response.json()
    if response.status_code == 413:
        assert "error" in answer, answer
    else:
        assert error_code(answer) == INVALID_REQUEST
    assert int(rpc_result(node.fast_http, "eth_chainId"), 16) == FAST_CHAIN_ID


def test_rejects_a_batch_over_1000_requests(node: NodeProcess) -> None:
    batch = [{"jsonrpc": "2.0", "id": i, "method": "eth_chainId"} for i in range(1001)]
    answer = rpc_raw(node.fast_http, batch)
    assert isinstance(answer, dict), "an oversized batch is refused as a whole"
    assert error_code(answer) == INVALID_REQUEST


def test_batch_of_50_mixed_requests_answers_each_by_id(node: NodeProcess) -> None:
    kinds = ["good", "unknown", "bad-params", "invalid"]
    batch: list[dict[str, Any]] = []
    expected: dict[Any, str] = {}
    for i in range(50):
        kind = kinds[i % len(kinds)]
        id_: Any = f"req-{i}" if i % 3 == 0 else i
        request: dict[str, Any] = {"jsonrpc": "2.0", "id": id_}
        if kind == "good":
            request |= {"method": "eth_getBalance", "params": [GOOD_ADDRESS, "latest"]}
        elif kind == "unknown":
            request |= {"method": f"eth_unknown{i}", "params": []}
        elif kind == "bad-params":
            request |= {"method": "eth_getBalance", "params": ["0x12", "latest"]}
        else:
            request |= {"jsonrpc": "1.0", "method": "eth_chainId"}
        batch.append(request)
        expected[id_] = kind

    answers = rpc_raw(node.fast_http, batch)
    assert isinstance(answers, list) and len(answers) == 50
    by_id = {a["id"]: a for a in answers}
    assert set(by_id) == set(expected)
    codes = {"unknown": METHOD_NOT_FOUND, "bad-params": INVALID_PARAMS, "invalid": INVALID_REQUEST}
    for id_, kind in expected.items():
        if kind == "good":
            assert by_id[id_]["result"] == "0x0", by_id[id_]
        else:
            assert error_code(by_id[id_]) == codes[kind], (id_, by_id[id_])


# -- load and garbage ------------------------------------------------------------------------------
# Each hostile test gets a node of its own, so that a node it brings down does not take the
# other tests of the worker with it.


def hostile_target(node: NodeProcess) -> tuple[Web3, LocalAccount]:
    return Web3(Web3.HTTPProvider(node.fast_http, request_kwargs={"timeout": 30})), dev_account(1)


def assert_survived(node: NodeProcess, after: str) -> None:
    code = None if node.proc is None else node.proc.poll()
    assert node.running, f"node died after {after} (exit {code}); output:\n{node.log_tail(20)}"


def test_flood_of_2000_concurrent_requests_leaves_the_node_answering(
    fresh_node: NodeProcess,
) -> None:
    node = fresh_node
    w3, sender = hostile_target(node)
    clients, per_client = 20, 100
    methods = [
        ("eth_blockNumber", []),
        ("eth_chainId", []),
        ("eth_getBalance", [sender.address, "latest"]),
        ("eth_getBlockByNumber", ["latest", True]),
        ("eth_noSuchMethod", []),
    ]

    async def client(session: aiohttp.ClientSession, n: int) -> list[dict[str, Any]]:
        answers = []
        for i in range(per_client):
            method, params = methods[(n + i) % len(methods)]
            body = {"jsonrpc": "2.0", "id": i, "method": method, "params": params}
            async with session.post(node.fast_http, json=body) as response:
                answers.append(await response.json(content_type=None))
        return answers

    async def flood() -> list[list[dict[str, Any]]]:
        timeout = aiohttp.ClientTimeout(total=120)
        async with asyncio.timeout(150):
            sessions = [aiohttp.ClientSession(timeout=timeout) for _ in range(clients)]
            try:
                return await asyncio.gather(*(client(s, n) for n, s in enumerate(sessions)))
            finally:
                for session in sessions:
                    await session.close()

    results = asyncio.run(flood())
    answers = [a for batch in results for a in batch]
    assert len(answers) == clients * per_client
    assert all("result" in a or "error" in a for a in answers)
    failed = [a for a in answers if "error" in a and a["error"]["code"] != METHOD_NOT_FOUND]
    assert not failed, f"{len(failed)} good requests failed under load, e.g. {failed[:3]}"
    assert_survived(node, "the flood")
    assert_node_alive_and_producing(w3, sender)


def test_websocket_garbage_gets_parse_errors_and_leaves_the_node_producing(
    fresh_node: NodeProcess,
) -> None:
    node = fresh_node
    w3, sender = hostile_target(node)

    async def scenario() -> None:
        async with connect(node.fast_ws) as socket:
            await socket.send("this is not json {")
            answer = json.loads(await asyncio.wait_for(socket.recv(), 10))
            assert error_code(answer) == PARSE_ERROR
            await socket.send(json.dumps({"jsonrpc": "2.0", "id": 5, "method": "eth_nope"}))
            answer = json.loads(await asyncio.wait_for(socket.recv(), 10))
            assert answer["id"] == 5 and error_code(answer) == METHOD_NOT_FOUND
            await socket.send(json.dumps({"jsonrpc": "2.0", "id": 6, "method": "eth_chainId"}))
            answer = json.loads(await asyncio.wait_for(socket.recv(), 10))
            assert int(answer["result"], 16) == FAST_CHAIN_ID

        # Random binary frames and an abrupt close: the node may answer or drop this socket,
        # but must not fall over.
        try:
            async with connect(node.fast_ws) as socket:
                for _ in range(20):
                    await socket.send(os.urandom(512))
        except Exception:
            pass

        # Raw bytes that are not even HTTP on the shared port.
        host, port = node.fast_http.split("//")[1].rstrip("/").split(":")
        _reader, writer = await asyncio.open_connection(host, int(port))
        writer.write(os.urandom(4096) + b"\r\n\r\n")
        await writer.drain()
        writer.close()
        with contextlib.suppress(Exception):
            await writer.wait_closed()

        async with connect(node.fast_ws) as socket:
            await socket.send(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_blockNumber"}))
            answer = json.loads(await asyncio.wait_for(socket.recv(), 10))
            assert answer["id"] == 1 and "result" in answer

    asyncio.run(scenario())
    assert_survived(node, "WebSocket garbage")
    assert_node_alive_and_producing(w3, sender)


NESTING_BOMBS = {
    "unterminated-arrays": "[" * 100_000,
    "balanced-arrays": "[" * 100_000 + "]" * 100_000,
    "objects": '{"a":' * 100_000,
}


def assert_refused_as_malformed(answer: Any) -> None:
    answers = answer if isinstance(answer, list) else [answer]
    assert answers, answer
    assert all(error_code(a) in (PARSE_ERROR, INVALID_REQUEST) for a in answers)


def test_rejects_deeply_nested_json_and_keeps_running(fresh_node: NodeProcess) -> None:
    """100,000 levels of nesting must be refused, over HTTP and over WebSocket, not overflow
    the node's stack."""
    node = fresh_node
    for name, bomb in NESTING_BOMBS.items():
        try:
            answer = post_body(node.fast_http, bomb.encode()).json()
        except requests.ConnectionError as exc:
            assert_survived(node, f"HTTP {name}")
            raise AssertionError(f"HTTP {name}: connection dropped ({exc})") from exc
        assert_refused_as_malformed(answer)
        assert_survived(node, f"HTTP {name}")

    async def over_websocket(bomb: str) -> Any:
        async with connect(node.fast_ws) as socket:
            await socket.send(bomb)
            return json.loads(await asyncio.wait_for(socket.recv(), 10))

    for name, bomb in NESTING_BOMBS.items():
        try:
            answer = asyncio.run(over_websocket(bomb))
        except Exception as exc:
            assert_survived(node, f"WebSocket {name}")
            raise AssertionError(f"WebSocket {name}: no answer ({exc!r})") from exc
        assert_refused_as_malformed(answer)
        assert_survived(node, f"WebSocket {name}")

    assert int(rpc_result(node.fast_http, "eth_chainId"), 16) == FAST_CHAIN_ID


# -- rejected transactions ----------------------------------------------------------------------


@pytest.mark.parametrize("chain_id", [ZK_CHAIN_ID, 1], ids=["zk-chain-7701", "mainnet-1"])
def test_rejects_a_transaction_signed_for_another_chain_id(
    w3: Web3, accounts: list[LocalAccount], chain_id: int
) -> None:
    sender = accounts[2]
    nonce = w3.eth.get_transaction_count(sender.address)
    for fields in ({}, {"gasPrice": w3.eth.gas_price}):
        raw = sign(
            w3,
            sender,
            {"to": GOOD_ADDRESS, "value": 1, "gas": TRANSFER_GAS, "chainId": chain_id, **fields},
        )
        assert_rejected(w3, raw, r"chain[ _-]?id")
    assert w3.eth.get_transaction_count(sender.address) == nonce


def test_rejects_replaying_an_already_mined_transaction(
    w3: Web3, accounts: list[LocalAccount]
) -> None:
    sender = accounts[2]
    raw = sign(w3, sender, {"to": GOOD_ADDRESS, "value": 1, "gas": TRANSFER_GAS})
    receipt = wait_receipt(w3, w3.eth.send_raw_transaction(raw))
    assert receipt["status"] == 1
    error = rpc_error(w3.provider.endpoint_uri, "eth_sendRawTransaction", ["0x" + raw.hex()])
    assert error["code"] == TX_REJECTED
    assert re.search("nonce too low|already known", error["message"], re.IGNORECASE), error
    assert (
        w3.eth.get_transaction(receipt["transactionHash"])["blockNumber"]
        == (receipt["blockNumber"])
    )


def tamper_s(raw: bytes, how: str) -> bytes:
    """Re-encodes an EIP-1559 transaction with its `s` changed."""
    assert raw[0] == 2
    fields = rlp.decode(raw[1:])
    y_parity, s = int.from_bytes(fields[9], "big"), int.from_bytes(fields[11], "big")
    if how == "flipped":
        s_bytes = bytearray(fields[11])
        s_bytes[5] ^= 0xFF
        s_bytes[17] ^= 0x5A
        new_s = int.from_bytes(s_bytes, "big")
    elif how == "zero":
        new_s = 0
    elif how == "high-s":
        # Same signer mathematically, but EIP-2 allows only the low-s form.
        new_s, y_parity = SECP256K1_N - s, 1 - y_parity
    else:
        new_s = SECP256K1_N + 1
    fields[9] = y_parity.to_bytes(1, "big") if y_parity else b""
    fields[11] = new_s.to_bytes(32, "big").lstrip(b"\0") if new_s else b""
    return b"\x02" + rlp.encode(fields)


@pytest.mark.parametrize("how", ["flipped", "zero", "high-s", "over-n"])
def test_rejects_a_transaction_with_a_bad_signature(
    w3: Web3, accounts: list[LocalAccount], how: str
) -> None:
    sender = accounts[3]
    nonce = w3.eth.get_transaction_count(sender.address)
    raw = sign(w3, sender, {"to": GOOD_ADDRESS, "value": 1, "gas": TRANSFER_GAS})
    assert_rejected(w3, tamper_s(raw, how))
    assert w3.eth.get_transaction_count(sender.address) == nonce
    # The untampered original is still acceptable, so only the signature was at fault.
    assert wait_receipt(w3, w3.eth.send_raw_transaction(raw))["status"] == 1


def test_rejects_a_transaction_its_sender_cannot_pay_for(
    w3: Web3, accounts: list[LocalAccount]
) -> None:
    empty = Account.create()
    raw = sign(w3, empty, {"to": GOOD_ADDRESS, "value": 1, "gas": TRANSFER_GAS}, nonce=0)
    assert_rejected(w3, raw, "insufficient funds")

    rich = accounts[3]
    balance = w3.eth.get_balance(rich.address)
    raw = sign(w3, rich, {"to": GOOD_ADDRESS, "value": balance, "gas": TRANSFER_GAS})
    assert_rejected(w3, raw, "insufficient funds")


def test_rejects_a_legacy_transaction_without_eip155_chain_id(
    w3: Web3, accounts: list[LocalAccount]
) -> None:
    sender = accounts[3]
    nonce = w3.eth.get_transaction_count(sender.address)
    unprotected = {
        "nonce": nonce,
        "to": GOOD_ADDRESS,
        "value": 1,
        "gas": TRANSFER_GAS,
        "gasPrice": w3.eth.gas_price,
        "data": b"",
    }
    signed = sender.sign_transaction(unprotected)
    assert signed.v in (27, 28), "signed without a chain ID"
    assert_rejected(w3, bytes(signed.raw_transaction))
    assert w3.eth.get_transaction_count(sender.address) == nonce


def test_rejected_transactions_leave_the_node_producing(
    w3: Web3, accounts: list[LocalAccount]
) -> None:
    sender = accounts[0]
    bad = sign(w3, sender, {"to": GOOD_ADDRESS, "gas": TRANSFER_GAS, "chainId": ZK_CHAIN_ID})
    assert rpc(w3.provider.endpoint_uri, "eth_sendRawTransaction", ["0x" + bad.hex()])["error"]
    assert_node_alive_and_producing(w3, sender)


# -- calls that cannot stall the node -------------------------------------------------------------

INFINITE_LOOP = "0x5b600056"  # JUMPDEST PUSH1 0 JUMP: init code that never returns


@pytest.mark.parametrize("method", ["eth_call", "eth_estimateGas"])
def test_caps_a_call_asking_for_2_to_the_64_gas_at_the_block_limit(
    node: NodeProcess, w3: Web3, accounts: list[LocalAccount], method: str
) -> None:
    # Gas above the block limit sent the call to py-evm, which ran the loop uncapped on the
    # thread that makes the blocks: both chains stopped. Capped, it runs out of gas.
    call = {"from": GOOD_ADDRESS, "data": INFINITE_LOOP, "gas": hex(2**64 - 1)}
    params: list[Any] = [call, "latest"]
    answer = rpc(node.fast_http, method, params)
    assert "error" in answer, answer
    assert re.search("out ?of ?gas", answer["error"]["message"], re.IGNORECASE), answer
    assert_node_alive_and_producing(w3, accounts[0])


@pytest.mark.parametrize("method", ["eth_call", "eth_estimateGas"])
@pytest.mark.parametrize(
    ("override", "reason"),
    [
        ({"movePrecompileToAddress": GOOD_ADDRESS}, "movePrecompileToAddress is not served"),
        ({"balanse": "0x1"}, "balanse is not served"),
        ({"state": {}, "stateDiff": {}}, "both state and stateDiff"),
        ({"stateDiff": {"0x00": "0x01"}}, "must be 32 bytes"),
        ({"nonce": hex(2**64)}, "below 2\\*\\*64"),
    ],
)
def test_refuses_an_override_it_would_otherwise_ignore(
    node: NodeProcess, method: str, override: dict[str, Any], reason: str
) -> None:
    # Ignored, an override would give the answer of another state: refused with why.
    call = {"from": GOOD_ADDRESS, "to": GOOD_ADDRESS, "data": "0x"}
    answer = rpc(node.fast_http, method, [call, "latest", {GOOD_ADDRESS: override}])
    assert answer["error"]["code"] == -32602, answer
    assert re.search(reason, answer["error"]["message"]), answer
    assert "result" in rpc(node.fast_http, method, [call, "latest", {}])  # none: answered
