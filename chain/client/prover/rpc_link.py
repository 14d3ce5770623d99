"""`duet prover`: a market prover in its own process, talking to a node over JSON-RPC.

It subscribes to `proverJobs` over WebSocket (a push per ZK block) and falls back to
polling while the socket is down, so a node restart costs a few seconds, not the agent.
The loop itself (heartbeats, proving in a process pool, submitting) is
chain/client/prover/loop.py, shared with the node's embedded prover.
"""

import asyncio
import contextlib
import json
import logging
from typing import Any

import aiohttp
from eth_account import Account

from chain.client.prover.loop import ProverSnapshot
from chain.config import ZK_MIN_FEE_WEI
from chain.jsonrpc import AsyncRpcClient
from chain.types import ChainId, JobId
from chain.zk.ops import Heartbeat
from chain.zk.signing import SigningDomain, format_signed_operation, sign_operation

log = logging.getLogger("duet.prover")
RPC_TIMEOUT_S = 30.0
POLL_S = 2.0  # how long to wait for a push before looking anyway
RECONNECT_S = 2.0


class RpcLink:
    def __init__(self, http_url: str, ws_url: str, key: bytes, fee: int = ZK_MIN_FEE_WEI) -> None:
        self.http_url = http_url
        self.ws_url = ws_url
        self.key = key
        self.fee = fee
        self.address = Account.from_key(key).address
        self.chain_id = ChainId(0)
        self.node = AsyncRpcClient(http_url, RPC_TIMEOUT_S)
        self._pushed = asyncio.Event()
        self._reader: asyncio.Task[None] | None = None

    async def __aenter__(self) -> "RpcLink":
        await self.node.__aenter__()
        self.chain_id = ChainId(int(await self.call("eth_chainId", []), 16))
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        await self.node.__aexit__(*exc)

    async def call(self, method: str, params: list[Any]) -> Any:
        assert self.node.session is not None, "use `async with RpcLink(...)`"
        return await self.node.call(method, params)

    # -- ProverLink ---------------------------------------------------------------------

    async def read(self) -> ProverSnapshot:
        answer = await self.call("duet_getProverJobs", [self.address])
        prover = answer["prover"] or {}
        return ProverSnapshot(
            height=answer["height"],
            active_until=prover.get("activeUntil", -1),
            balance=int(prover.get("balance", "0")),
            proven=prover.get("proven", 0),
            missed=prover.get("missed", 0),
            invalid=prover.get("invalid", 0),
            jobs=answer["jobs"],
        )

    async def send_heartbeat(self, active_until: int) -> str:
        account = await self.call("duet_getAccount", [self.address])
        if account["index"] is None:
            raise LookupError(f"{self.address} has no account on the ZK chain to pay fees from")
        nonce = int(account["pendingNonce"], 16)
        body = Heartbeat(active_until=active_until)
        domain = SigningDomain.from_json(await self.call("duet_getSigningDomain", []))
        signed = sign_operation(body, self.fee, nonce, domain, self.key, int(account["index"]))
        op_id: str = await self.call("duet_sendOperation", [format_signed_operation(signed)])
        return op_id

    async def submit(self, job_id: JobId, result: bytes, signature: bytes) -> dict[str, Any]:
        submission = {
            "jobId": "0x" + job_id.hex(),
            "proof": "0x" + result.hex(),
            "prover": self.address,
            "signature": "0x" + signature.hex(),
        }
        answer: dict[str, Any] = await self.call("duet_submitProof", [submission])
        return answer

    async def wait_for_block(self, after: int) -> None:
        if self._reader is None or self._reader.done():
            self._reader = asyncio.create_task(self._listen())
        self._pushed.clear()
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._pushed.wait(), POLL_S)

    async def _listen(self) -> None:
        """Hold the proverJobs subscription open; each push wakes the loop."""
        assert self.node.session is not None
        try:
            async with self.node.session.ws_connect(self.ws_url, heartbeat=20) as ws:
                request = {
                    "jsonrpc": "2.0",
                    "id": 0,
                    "method": "eth_subscribe",
                    "params": ["proverJobs", self.address],
                }
                await ws.send_str(json.dumps(request))
                async for message in ws:
                    if message.type != aiohttp.WSMsgType.TEXT:
                        break
                    if json.loads(message.data).get("method") == "eth_subscription":
                        self._pushed.set()
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            log.info("proverJobs subscription down (%s); polling", exc)
        await asyncio.sleep(RECONNECT_S)
