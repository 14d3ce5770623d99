"""The one JSON-RPC client: a result, a refusal (RpcError with the node's code and message),
no answer (NodeUnreachable), and an answer that is not JSON-RPC."""

import asyncio
import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from chain.jsonrpc import AsyncRpcClient, NodeUnreachable, RpcClient, RpcError, get_result


def answer(request: dict[str, Any]) -> dict[str, Any]:
    method = request["method"]
    if method == "echo":
        return {"jsonrpc": "2.0", "id": request["id"], "result": request["params"]}
    error = {"code": -32601, "message": f"no method {method}"}
    return {"jsonrpc": "2.0", "id": request["id"], "error": error}


class Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if isinstance(request, list):  # a batch: answered in reverse, as JSON-RPC allows
            answers = [answer(one) for one in reversed(request)]
            # CometBFT answers a batch of one with the answer alone.
            body = json.dumps(answers[0] if len(answers) == 1 else answers)
        elif request["method"] == "garbage":
            body = "<html>not json</html>"
        else:
            body = json.dumps(answer(request))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


@pytest.fixture
def closed_url() -> str:
    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}/"


def test_call_returns_the_result(url: str) -> None:
    assert RpcClient(url).call("echo", [1, "a"]) == [1, "a"]


def test_async_call_returns_the_result(url: str) -> None:
    async def both() -> tuple[object, object]:
        async with AsyncRpcClient(url) as node:
            held = await node.call("echo", [2])
        return held, await AsyncRpcClient(url).call("echo", [3])  # a session of its own

    assert asyncio.run(both()) == ([2], [3])


def test_rejects_an_error_answer_with_its_code_and_message(url: str) -> None:
    with pytest.raises(RpcError, match="nope: no method nope") as refused:
        RpcClient(url).call("nope")
    assert refused.value.code == -32601
    assert refused.value.message == "no method nope"


def test_async_rejects_an_error_answer(url: str) -> None:
    with pytest.raises(RpcError, match="no method nope") as refused:
        asyncio.run(AsyncRpcClient(url).call("nope"))
    assert refused.value.code == -32601


def test_invalid_answer_that_is_not_json(url: str) -> None:
    with pytest.raises(RpcError, match="not JSON") as refused:
        RpcClient(url).call("garbage")
    assert refused.value.code == -32700


def test_unreachable_node_is_not_an_rpc_error(closed_url: str) -> None:
    with pytest.raises(NodeUnreachable, match="does not answer"):
        RpcClient(closed_url, timeout_s=2).call("echo")
    with pytest.raises(NodeUnreachable, match="does not answer"):
        asyncio.run(AsyncRpcClient(closed_url, timeout_s=2).call("echo"))
    assert issubclass(NodeUnreachable, OSError)  # callers that treat OSError as "gone"


def test_invalid_answer_without_result() -> None:
    with pytest.raises(RpcError, match="without a result"):
        get_result("m", {"jsonrpc": "2.0", "id": 1})
    with pytest.raises(RpcError, match="not a JSON-RPC answer"):
        get_result("m", [1])


def test_batch_answers_each_call_in_call_order(url: str) -> None:
    calls: list[tuple[str, Any]] = [("echo", [1]), ("nope", []), ("echo", {"named": 2})]
    first, refused, named = asyncio.run(AsyncRpcClient(url).call_batch(calls))
    assert first == [1]
    assert isinstance(refused, RpcError) and refused.code == -32601
    assert named == {"named": 2}


def test_batch_of_one_answered_without_the_array(url: str) -> None:
    assert asyncio.run(AsyncRpcClient(url).call_batch([("echo", [7])])) == [[7]]
    assert asyncio.run(AsyncRpcClient(url).call_batch([])) == []
