"""One WebSocket to a Duet endpoint for a game client: JSON-RPC calls and subscriptions.

    async with ChainSocket(ws_url) as chain:
        await chain.call("eth_sendRawTransaction", ["0x..."])
        async for log in chain.subscribe("logs", {"address": arena}):
            ...

Calls and notifications share the socket; a reader task routes answers to their callers by
id and notifications to their subscription's queue. A move is sent without waiting for its
block: the client learns it landed from the `logs` subscription, like everyone else.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import orjson

from chain.jsonrpc import NodeUnreachable, RpcError, compute_request, get_result

CALL_TIMEOUT_S = 30.0
EARLY_LIMIT = 64  # subscriptions with notifications held before their subscriber took them


class ChainSocket:
    def __init__(self, url: str) -> None:
        self.url = url
        self._ids = itertools.count(1)
        self._waiting: dict[int, tuple[str, asyncio.Future[Any]]] = {}
        self._queues: dict[str, asyncio.Queue[Any]] = {}
        # Notifications that came before `subscribe` saw its id (the answer and the first
        # notification can arrive in one read).
        self._early: dict[str, list[Any]] = {}
        self._session: aiohttp.ClientSession | None = None
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._reader: asyncio.Task[None] | None = None

    async def __aenter__(self) -> ChainSocket:
        self._session = aiohttp.ClientSession()
        try:
            self._ws = await self._session.ws_connect(self.url, max_msg_size=0)
        except (aiohttp.ClientError, OSError) as exc:
            await self._session.close()
            raise NodeUnreachable(self.url, exc) from None
        self._reader = asyncio.create_task(self._read())
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._reader is not None:
            self._reader.cancel()
        if self._ws is not None:
            await self._ws.close()
        if self._session is not None:
            await self._session.close()

    async def call(self, method: str, params: list[Any]) -> Any:
        assert self._ws is not None, "use `async with ChainSocket(url)`"
        request_id = next(self._ids)
        answer: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waiting[request_id] = (method, answer)
        await self._ws.send_bytes(orjson.dumps(compute_request(request_id, method, params)))
        try:
            return await asyncio.wait_for(answer, CALL_TIMEOUT_S)
        finally:
            self._waiting.pop(request_id, None)

    async def send_raw_transaction(self, raw: bytes) -> str:
        return str(await self.call("eth_sendRawTransaction", ["0x" + raw.hex()]))

    async def subscribe(self, kind: str, *options: Any) -> AsyncIterator[Any]:
        """The notifications of one `eth_subscribe`, as they come."""
        queue: asyncio.Queue[Any] = asyncio.Queue()
        sub_id = str(await self.call("eth_subscribe", [kind, *options]))
        self._queues[sub_id] = queue
        for item in self._early.pop(sub_id, []):
            queue.put_nowait(item)
        try:
            while True:
                item = await queue.get()
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            self._queues.pop(sub_id, None)

    async def _read(self) -> None:
        assert self._ws is not None
        try:
            async for message in self._ws:
                if message.type not in (aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY):
                    break
                self._route(orjson.loads(message.data))
        finally:
            closed = NodeUnreachable(self.url, "it closed the connection")
            for _, future in self._waiting.values():
                if not future.done():
                    future.set_exception(closed)
            for queue in self._queues.values():
                queue.put_nowait(closed)

    def _route(self, message: dict[str, Any]) -> None:
        if message.get("method") == "eth_subscription":
            params = message["params"]
            queue = self._queues.get(params["subscription"])
            if queue is not None:
                queue.put_nowait(params["result"])
            elif len(self._early) < EARLY_LIMIT:
                self._early.setdefault(params["subscription"], []).append(params["result"])
            return
        waiting = self._waiting.get(message.get("id"))  # type: ignore[arg-type]
        if waiting is None or waiting[1].done():
            return
        method, future = waiting
        try:
            future.set_result(get_result(method, message))
        except RpcError as refused:
            future.set_exception(refused)
