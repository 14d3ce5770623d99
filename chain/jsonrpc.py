"""The one JSON-RPC client every Duet client uses: sync over urllib, async over aiohttp.

    RpcClient(url).call("duet_heads", [])
    async with AsyncRpcClient(url) as node:
        await node.call("duet_getProverJobs", [address])

Two errors, because a caller acts differently on each: `RpcError` when the node answered
and refused (its code and message), `NodeUnreachable` when no answer came (no listener,
timeout, connection dropped). `NodeUnreachable` is a `ConnectionError`, so code that
already treats `OSError` as "the node is gone" keeps doing so.

This module sits at the bottom of the layers: it imports nothing from `chain`.
"""

from __future__ import annotations

import itertools
import json
import urllib.error
import urllib.request
from typing import Any

import aiohttp

# Positional (Ethereum's methods) or named (CometBFT's).
Params = list[Any] | dict[str, Any]

DEFAULT_TIMEOUT_S = 30.0
PARSE_ERROR = -32700  # JSON-RPC 2.0: the answer is not JSON


class RpcError(Exception):
    """The node answered a call with a JSON-RPC error: its code and its message."""

    def __init__(self, method: str, code: int, message: str, data: Any = None) -> None:
        super().__init__(f"{method}: {message}")
        self.method = method
        self.code = code
        self.message = message
        self.data = data


class NodeUnreachable(ConnectionError):
    """No answer came from the endpoint: nothing listens, the call timed out, or it dropped."""

    def __init__(self, url: str, reason: object) -> None:
        super().__init__(f"the node at {url} does not answer: {reason}")
        self.url = url


def compute_request(request_id: int, method: str, params: Params) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": request_id, "method": method, "params": params}


def get_result(method: str, answer: Any) -> Any:
    """The `result` of a JSON-RPC answer; RpcError if it carries an error or is malformed."""
    if not isinstance(answer, dict):
        raise RpcError(method, PARSE_ERROR, f"not a JSON-RPC answer: {answer!r:.200}")
    if "error" in answer:
        error = answer["error"]
        if not isinstance(error, dict):
            raise RpcError(method, PARSE_ERROR, str(error))
        code = int(error.get("code", 0))
        raise RpcError(method, code, str(error.get("message", error)), error.get("data"))
    if "result" not in answer:
        raise RpcError(method, PARSE_ERROR, f"an answer without a result: {answer!r:.200}")
    return answer["result"]


class RpcClient:
    """Blocking calls to one HTTP endpoint."""

    def __init__(self, url: str, timeout_s: float = DEFAULT_TIMEOUT_S) -> None:
        self.url = url
        self.timeout_s = timeout_s
        self._ids = itertools.count(1)

    def call(self, method: str, params: Params | None = None) -> Any:
        body = json.dumps(compute_request(next(self._ids), method, params or [])).encode()
        request = urllib.request.Request(
            self.url, data=body, headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                raw = response.read()
        except urllib.error.HTTPError as exc:  # an HTTP error status may still carry JSON-RPC
            raw = exc.read()
            if not raw:
                raise RpcError(method, exc.code, f"HTTP {exc.code} {exc.reason}") from None
        except (urllib.error.URLError, OSError) as exc:
            raise NodeUnreachable(self.url, getattr(exc, "reason", exc)) from None
        try:
            answer = json.loads(raw)
        except ValueError:
            raise RpcError(method, PARSE_ERROR, f"not JSON: {raw[:200]!r}") from None
        return get_result(method, answer)


class AsyncRpcClient:
    """Calls to one HTTP endpoint from asyncio; `async with` holds one session for many calls
    (a call outside it opens a session of its own)."""

    def __init__(self, url: str, timeout_s: float = DEFAULT_TIMEOUT_S) -> None:
        self.url = url
        self.timeout_s = timeout_s
        self._ids = itertools.count(1)
        self.session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> AsyncRpcClient:
        self.session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout_s))
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self.session is not None:
            await self.session.close()
            self.session = None

    async def call(self, method: str, params: Params | None = None) -> Any:
        if self.session is None:
            async with self:
                return await self.call(method, params)
        body = compute_request(next(self._ids), method, params or [])
        return get_result(method, await self._post(method, body))

    async def call_batch(self, calls: list[tuple[str, Params]]) -> list[Any]:
        """The calls as one JSON-RPC batch (one HTTP round trip): one entry per call, in call
        order, each its result or the RpcError it answered."""
        if self.session is None:
            async with self:
                return await self.call_batch(calls)
        if not calls:
            return []
        ids = [next(self._ids) for _ in calls]
        body = [compute_request(i, m, p) for i, (m, p) in zip(ids, calls, strict=True)]
        answers = await self._post("batch", body)
        if isinstance(answers, dict) and len(calls) == 1:  # CometBFT answers a batch of one so
            answers = [answers]
        if not isinstance(answers, list):
            raise RpcError("batch", PARSE_ERROR, f"not a batch answer: {answers!r:.200}")
        by_id = {a.get("id"): a for a in answers if isinstance(a, dict)}
        results: list[Any] = []
        for request_id, (method, _) in zip(ids, calls, strict=True):
            try:
                results.append(get_result(method, by_id.get(request_id)))
            except RpcError as exc:
                results.append(exc)
        return results

    async def _post(self, method: str, body: Any) -> Any:
        assert self.session is not None
        try:
            async with self.session.post(self.url, json=body) as response:
                text = await response.text()
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            raise NodeUnreachable(self.url, str(exc) or type(exc).__name__) from None
        try:
            return json.loads(text)
        except ValueError:
            raise RpcError(method, PARSE_ERROR, f"not JSON: {text[:200]!r}") from None
