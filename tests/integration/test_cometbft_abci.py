"""A real CometBFT v0.38.26 (one validator, on loopback) drives our ABCI server: heights
advance, broadcast txs reach FinalizeBlock in order, the app hash in CometBFT's headers is
the app's, and after both stop and restart the handshake lets the chain go on.

The application is a fixture (tests/integration/abci_kv_fixture.py), not Duet's.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from chain.launcher import ChildProcess
from tests.integration.abci_kv_fixture import REFUSED, KVFixtureApp
from tests.integration.cometbft_net import (
    COMETBFT,
    MISSING_REASON,
    START_TIMEOUT_S,
    Net,
    ServerThread,
    make_net,
)

pytestmark = pytest.mark.skipif(COMETBFT is None, reason=MISSING_REASON)


@dataclass
class Running:
    app: KVFixtureApp
    server: ServerThread
    node: ChildProcess


@pytest.fixture
def net(tmp_path: Path) -> Net:
    return make_net(tmp_path)


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
