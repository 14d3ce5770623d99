"""The JSON-RPC transport: HTTP POST and WebSocket on one port per chain (aiohttp).

Whatever arrives (bad JSON, unknown methods, huge bodies, floods) is answered with a
JSON-RPC error; handlers run one at a time on the event loop, between blocks.
"""

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
from aiohttp import WSMsgType, web

from chain.config import RPC_MAX_BATCH, RPC_MAX_BODY_BYTES
from chain.ledger.store import is_storage_full
from chain.rpc.errors import (
    INTERNAL_ERROR,
    INVALID_REQUEST,
    METHOD_NOT_FOUND,
    PARSE_ERROR,
    SERVER_ERROR,
    RpcError,
)
from chain.rpc.subscriptions import CONNECTION_QUEUE_LIMIT, Connection, SubscriptionHub

log = logging.getLogger("duet.rpc")
Handler = Callable[[list[Any]], Any]
# Static files an endpoint serves beside JSON-RPC: (route, finder from the route's match
# to a file, or None for 404). The ZK endpoint serves the market's circuit files.
FileRoute = tuple[str, Callable[[dict[str, str]], Path | None]]


def parse_json(text: str | bytes) -> Any:
    # orjson stops at a nesting depth of 1024 with an error. The stdlib parser would recurse
    # to the interpreter's limit, which py-evm's dependencies raise to 100,000: deep enough
    # to overflow the C stack and kill the process on a body of "[[[[...".
    return orjson.loads(text)


def dumps(obj: Any) -> str:
    return orjson.dumps(obj).decode()


def error_response(request_id: Any, error: RpcError) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": request_id, "error": error.to_json()}


def explain_failure(method: str, exc: Exception) -> RpcError:
    """The error a request gets for a failure that is not the request's fault."""
    if is_storage_full(exc):
        log.warning("%s refused: the disk is full", method)
        return RpcError(
            SERVER_ERROR, "the node's disk is full: nothing was written; try again later"
        )
    log.error("internal error in %s", method, exc_info=exc)
    return RpcError(INTERNAL_ERROR, f"internal error: {exc}")


def is_valid_id(request_id: Any) -> bool:
    """JSON-RPC 2.0: an id is a string, a number or null (absent: a notification). A bool is
    none of them, though Python counts it an int."""
    if isinstance(request_id, bool):
        return False
    return request_id is None or isinstance(request_id, str | int | float)


class Dispatcher:
    def __init__(self, methods: dict[str, Handler]) -> None:
        self.methods = methods

    def handle(
        self, request: Any, extra: dict[str, Handler] | None = None
    ) -> dict[str, Any] | None:
        """One request object to one response (None for a notification)."""
        if not isinstance(request, dict):
            return error_response(None, RpcError(INVALID_REQUEST, "request must be a JSON object"))
        request_id = request.get("id")
        if not is_valid_id(request_id):
            return error_response(
                None, RpcError(INVALID_REQUEST, "id must be a string, a number or null")
            )
        method = request.get("method")
        if not isinstance(method, str):
            return error_response(request_id, RpcError(INVALID_REQUEST, "method must be a string"))
        if request.get("jsonrpc") != "2.0":
            return error_response(request_id, RpcError(INVALID_REQUEST, 'jsonrpc must be "2.0"'))
        handler = (extra or {}).get(method) or self.methods.get(method)
        try:
            if handler is None:
                raise RpcError(
                    METHOD_NOT_FOUND, f"the method {method} does not exist/is not available"
                )
            result = handler(request.get("params", []))
        except RpcError as exc:
            response = error_response(request_id, exc)
        except Exception as exc:
            response = error_response(request_id, explain_failure(method, exc))
        else:
            response = {"jsonrpc": "2.0", "id": request_id, "result": result}
        return response if "id" in request else None

    def handle_payload(self, text: str | bytes, extra: dict[str, Handler] | None = None) -> Any:
        """A whole body (single or batch) to what should be sent back (None: nothing)."""
        try:
            payload = parse_json(text)
        except (ValueError, UnicodeDecodeError) as exc:
            return error_response(None, RpcError(PARSE_ERROR, f"parse error: {exc}"))
        if isinstance(payload, list):
            if not payload:
                return error_response(None, RpcError(INVALID_REQUEST, "empty batch"))
            if len(payload) > RPC_MAX_BATCH:
                return error_response(
                    None, RpcError(INVALID_REQUEST, f"batch too large: at most {RPC_MAX_BATCH}")
                )
            responses = [r for r in (self.handle(req, extra) for req in payload) if r is not None]
            return responses or None
        return self.handle(payload, extra)


def make_app(
    dispatcher: Dispatcher, hub: SubscriptionHub, files: FileRoute | None = None
) -> web.Application:
    app = web.Application(client_max_size=RPC_MAX_BODY_BYTES)

    async def http_handler(request: web.Request) -> web.StreamResponse:
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            error = RpcError(INVALID_REQUEST, f"request body exceeds {RPC_MAX_BODY_BYTES} bytes")
            return web.json_response(error_response(None, error), status=413, dumps=dumps)
        answer = dispatcher.handle_payload(body)
        if answer is None:
            return web.Response(status=204)
        return web.Response(body=orjson.dumps(answer), content_type="application/json")

    async def get_handler(request: web.Request) -> web.StreamResponse:
        if request.headers.get("Upgrade", "").lower() != "websocket":
            return web.json_response(
                {
                    "service": "duet",
                    "chainId": hub.chain_id,
                    "usage": "POST JSON-RPC here, or connect a WebSocket to this URL",
                },
                dumps=dumps,
            )
        return await ws_handler(request)

    async def ws_handler(request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(max_msg_size=RPC_MAX_BODY_BYTES, heartbeat=30)
        await ws.prepare(request)
        queue: asyncio.Queue[str | None] = asyncio.Queue(CONNECTION_QUEUE_LIMIT)
        conn = Connection(
            queue, on_overflow=lambda: asyncio.ensure_future(ws.close(message=b"too slow"))
        )
        extra: dict[str, Handler] = {
            "eth_subscribe": lambda params: hub.subscribe(conn, params),
            "eth_unsubscribe": lambda params: hub.unsubscribe(conn, params),
        }

        async def writer() -> None:
            while (message := await queue.get()) is not None:
                if ws.closed:
                    return
                await ws.send_str(message)

        writer_task = asyncio.create_task(writer())
        hub.connections.add(conn)
        try:
            async for msg in ws:
                if msg.type in (WSMsgType.TEXT, WSMsgType.BINARY):
                    answer = dispatcher.handle_payload(msg.data, extra)
                    if answer is not None:
                        conn.push(dumps(answer))
                elif msg.type == WSMsgType.ERROR:
                    break
        finally:
            hub.connections.discard(conn)
            writer_task.cancel()
        return ws

    app.router.add_post("/", http_handler)
    app.router.add_get("/", get_handler)
    if files is not None:
        route, find = files

        async def file_handler(request: web.Request) -> web.StreamResponse:
            try:
                path = find(dict(request.match_info))
            except Exception as exc:  # the files are not set up: say so, as a 503
                log.warning("cannot serve %s: %s", request.path, exc)
                raise web.HTTPServiceUnavailable(text=str(exc)) from None
            if path is None:
                raise web.HTTPNotFound(text=f"no such file: {request.path}")
            return web.FileResponse(path, headers={"Cache-Control": "no-cache"})

        app.router.add_get(route, file_handler)
    return app
