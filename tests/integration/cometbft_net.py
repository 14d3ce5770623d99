"""A single-validator CometBFT on loopback for integration tests: its home made by
`cometbft init`, its config pointed at an ABCI server of ours, its RPC, and the server on a
thread of its own. Shared by the tests that run a real CometBFT against an application."""

from __future__ import annotations

import asyncio
import base64
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from chain.consensus.abci.application import Application
from chain.consensus.abci.server import AbciServer
from chain.consensus.cometbft import CometBFTNotFound, find_cometbft
from chain.consensus.cometbft_config import set_config
from chain.consensus.network import get_free_ports
from chain.jsonrpc import RpcClient

try:
    COMETBFT: Path | None = find_cometbft()
    MISSING_REASON = ""
except CometBFTNotFound as missing:
    COMETBFT = None
    MISSING_REASON = str(missing)

SERVER_START_TIMEOUT_S = 10.0

T = TypeVar("T")
TIMEOUT_COMMIT = "100ms"
START_TIMEOUT_S = 60.0
RPC_TIMEOUT_S = 30.0
POLL_S = 0.05


@dataclass
class Net:
    home: Path
    app_address: str
    state_file: Path
    rpc_url: str
    log: Path

    def rpc(self, method: str, **params: Any) -> Any:
        return RpcClient(self.rpc_url, RPC_TIMEOUT_S).call(method, params)

    def height(self) -> int:
        return int(self.rpc("status")["sync_info"]["latest_block_height"])

    def is_up(self) -> bool:
        try:
            return self.height() >= 1
        except OSError:
            return False

    def wait_for_height(self, height: int) -> None:
        deadline = time.monotonic() + RPC_TIMEOUT_S
        while self.height() < height:
            assert time.monotonic() < deadline, f"height {height} not reached; log: {self.log}"
            time.sleep(POLL_S)

    def header_app_hash(self, height: int) -> bytes:
        header = self.rpc("block", height=str(height))["block"]["header"]
        return bytes.fromhex(header["app_hash"])

    def broadcast_commit(self, tx: bytes) -> dict[str, Any]:
        result: dict[str, Any] = self.rpc("broadcast_tx_commit", tx=base64.b64encode(tx).decode())
        return result


def make_net(tmp_path: Path) -> Net:
    """A new CometBFT home in `tmp_path`, its app on a unix socket there."""
    assert COMETBFT is not None
    home = tmp_path / "cometbft"
    subprocess.run([str(COMETBFT), "init", "--home", str(home)], check=True, capture_output=True)
    rpc_port, p2p_port = get_free_ports(2)
    app_address = f"unix://{tmp_path / 'app.sock'}"
    set_config(
        home / "config" / "config.toml",
        {
            ("", "proxy_app"): app_address,
            ("rpc", "laddr"): f"tcp://127.0.0.1:{rpc_port}",
            ("p2p", "laddr"): f"tcp://127.0.0.1:{p2p_port}",
            ("consensus", "timeout_commit"): TIMEOUT_COMMIT,
        },
    )
    return Net(
        home=home,
        app_address=app_address,
        state_file=tmp_path / "app-state.json",
        rpc_url=f"http://127.0.0.1:{rpc_port}",
        log=tmp_path / "cometbft.log",
    )


class ServerThread:
    """An AbciServer for `app` on its own event loop in a thread, so a synchronous test can
    drive CometBFT while the app answers it."""

    def __init__(self, app: Application, address: str) -> None:
        self.app = app
        self.address = address
        self._loop = asyncio.new_event_loop()
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._error: BaseException | None = None

    def start(self) -> ServerThread:
        self._thread.start()
        if not self._ready.wait(SERVER_START_TIMEOUT_S) or self._error is not None:
            raise RuntimeError(f"ABCI server did not start: {self._error!r}")
        return self

    def stop(self) -> None:
        """Idempotent: a stopped server's loop is closed already."""
        if self._stop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(SERVER_START_TIMEOUT_S)

    def call(self, read: Callable[[], T]) -> T:
        """`read()` run on the server's loop, between two of the application's calls (the
        application's state belongs to that loop's thread)."""

        async def run() -> T:
            return read()

        return asyncio.run_coroutine_threadsafe(run(), self._loop).result(SERVER_START_TIMEOUT_S)

    def _run(self) -> None:
        try:
            self._loop.run_until_complete(self._serve())
        except BaseException as error:
            self._error = error
            self._ready.set()
        finally:
            self._loop.close()

    async def _serve(self) -> None:
        self._stop = asyncio.Event()
        async with AbciServer(self.app, self.address):
            self._ready.set()
            await self._stop.wait()
