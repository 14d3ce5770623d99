"""A real CometBFT v0.38.26 (one validator, on loopback) drives our ABCI server: heights
advance, broadcast txs reach FinalizeBlock in order, the app hash in CometBFT's headers is
the app's, and after both stop and restart the handshake lets the chain go on.

The application is a fixture (tests/integration/abci_kv_fixture.py), not Duet's.
"""

from __future__ import annotations

import base64
import json
import re
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from chain.consensus.cometbft import CometBFTNotFound, find_cometbft
from chain.launcher import ChildProcess
from tests.integration.abci_kv_fixture import REFUSED, KVFixtureApp, ServerThread

try:
    COMETBFT: Path | None = find_cometbft()
    MISSING_REASON = ""
except CometBFTNotFound as missing:
    COMETBFT = None
    MISSING_REASON = str(missing)

pytestmark = pytest.mark.skipif(COMETBFT is None, reason=MISSING_REASON)

TIMEOUT_COMMIT = "100ms"
START_TIMEOUT_S = 60.0
RPC_TIMEOUT_S = 30.0
POLL_S = 0.05


def get_free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def set_config(path: Path, values: dict[tuple[str, str], str]) -> None:
    """Sets `key = "value"` in config.toml, keyed by (section, key); "" is the top level.
    Every key must already be there: a renamed one fails loudly, not silently."""
    section, lines, seen = "", [], set()
    for line in path.read_text().splitlines():
        if match := re.match(r"^\[([\w.]+)\]\s*$", line):
            section = match.group(1)
        elif (match := re.match(r"^(\w+) = ", line)) and (section, match.group(1)) in values:
            line = f'{match.group(1)} = "{values[section, match.group(1)]}"'
            seen.add((section, match.group(1)))
        lines.append(line)
    assert seen == set(values), f"not in config.toml: {set(values) - seen}"
    path.write_text("\n".join(lines) + "\n")


@dataclass
class Net:
    home: Path
    app_address: str
    state_file: Path
    rpc_url: str
    log: Path

    def rpc(self, method: str, **params: Any) -> Any:
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params})
        request = urllib.request.Request(
            self.rpc_url, body.encode(), {"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=RPC_TIMEOUT_S) as answer:
            reply = json.load(answer)
        assert "error" not in reply, f"{method}: {reply['error']}"
        return reply["result"]

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


@dataclass
class Running:
    app: KVFixtureApp
    server: ServerThread
    node: ChildProcess


@pytest.fixture
def net(tmp_path: Path) -> Net:
    assert COMETBFT is not None
    home = tmp_path / "cometbft"
    subprocess.run([str(COMETBFT), "init", "--home", str(home)], check=True, capture_output=True)
    rpc_port = get_free_port()
    app_address = f"unix://{tmp_path / 'app.sock'}"
    set_config(
        home / "config" / "config.toml",
        {
            ("", "proxy_app"): app_address,
            ("rpc", "laddr"): f"tcp://127.0.0.1:{rpc_port}",
            ("p2p", "laddr"): f"tcp://127.0.0.1:{get_free_port()}",
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


@pytest.fixture
def start(net: Net) -> Iterator[Any]:
    """start() runs the app's server, then CometBFT; every run is stopped at teardown."""
    runs: list[Running] = []

    def start_run() -> Running:
        assert COMETBFT is not None
        app = KVFixtureApp(net.state_file)
        server = ServerThread(app, net.app_address).start()
        node = ChildProcess(
            [str(COMETBFT), "start", "--home", str(net.home)], log=net.log, tied_to_parent=True
        )
        runs.append(Running(app, server, node))
        node.start()
        node.wait_ready(net.is_up, START_TIMEOUT_S, "cometbft")
        return runs[-1]

    yield start_run
    for run in reversed(runs):
        run.node.stop()
        run.server.stop()


def stop(run: Running) -> None:
    assert run.node.stop() == 0, "cometbft did not stop cleanly"
    run.server.stop()


def test_cometbft_drives_our_abci_server(net: Net, start: Any) -> None:
    first: Running = start()
    assert first.app.calls[:2] == ["info", "init_chain"]  # a new chain: InitChain once

    heights = []
    for tx in (b"alpha=1", b"beta=2", b"alpha=3"):
        result = net.broadcast_commit(tx)
        assert result["check_tx"]["code"] == 0
        assert result["tx_result"]["code"] == 0
        heights.append(int(result["height"]))
    assert heights == sorted(heights) and len(set(heights)) == 3  # one commit after another
    assert first.app.delivered == [b"alpha=1", b"beta=2", b"alpha=3"]

    refused = net.broadcast_commit(b"no equals sign")
    assert refused["check_tx"]["code"] == REFUSED
    assert b"no equals sign" not in first.app.delivered

    # A header commits to the app hash after the block before it.
    last = heights[-1]
    net.wait_for_height(last + 2)
    for height in (heights[0], last, last + 1):
        assert net.header_app_hash(height + 1) == first.app.app_hashes[height]
    assert first.app.state.store == {"alpha": "3", "beta": "2"}

    stop(first)
    stopped_at = first.app.state.height
    assert json.loads(net.state_file.read_text())["height"] == stopped_at

    second: Running = start()
    # The handshake: Info reports the persisted height, so no InitChain and no replay from 1.
    assert second.app.calls[0] == "info"
    assert "init_chain" not in second.app.calls
    assert second.app.state.store == {"alpha": "3", "beta": "2"}
    result = net.broadcast_commit(b"gamma=4")
    assert result["tx_result"]["code"] == 0
    assert int(result["height"]) > stopped_at
    assert second.app.delivered == [b"gamma=4"]
    height = int(result["height"])
    net.wait_for_height(height + 1)
    assert net.header_app_hash(height + 1) == second.app.app_hashes[height]
    assert second.app.state.store == {"alpha": "3", "beta": "2", "gamma": "4"}
