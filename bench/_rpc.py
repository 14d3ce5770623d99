"""A lean web3.py provider for load generation.

web3.py's AsyncHTTPProvider opens a new TCP connection for every request and hops to a
thread pool to take a lock on its session cache. Under load both cost more client CPU than
the call itself (CPU the node under test then lacks on a small machine), and a request
cancelled while waiting for that lock leaves it held, so Ctrl+C hangs the interpreter's
exit. This provider posts the same JSON-RPC bodies through one aiohttp session that keeps
its connection open. Everything above the provider (AsyncWeb3, its middleware, formatters
and errors) is web3.py's own.
"""

from __future__ import annotations

from typing import Any

import aiohttp
from web3 import AsyncWeb3
from web3.providers.async_base import AsyncJSONBaseProvider
from web3.types import RPCEndpoint, RPCResponse

RPC_TIMEOUT_S = 60.0


class KeepAliveProvider(AsyncJSONBaseProvider):
    def __init__(self, url: str, session: aiohttp.ClientSession) -> None:
        super().__init__()
        self.url = url
        self.session = session
        self.calls = 0  # requests sent, so a benchmark can report the load per move

    async def make_request(self, method: RPCEndpoint, params: Any) -> RPCResponse:
        self.calls += 1
        body = self.encode_rpc_request(method, params)
        async with self.session.post(self.url, data=body) as response:
            response.raise_for_status()
            return self.decode_rpc_response(await response.read())

    async def disconnect(self) -> None:
        await self.session.close()


Web3 = AsyncWeb3[KeepAliveProvider]


async def make_web3(url: str) -> Web3:
    """An AsyncWeb3 with a provider and HTTP session of its own (call inside the event loop)."""
    session = aiohttp.ClientSession(
        headers={"Content-Type": "application/json"},
        timeout=aiohttp.ClientTimeout(total=RPC_TIMEOUT_S),
    )
    return AsyncWeb3(KeepAliveProvider(url, session))
