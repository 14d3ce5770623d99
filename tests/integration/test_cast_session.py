"""A Foundry `cast` session run against Duet's fast chain and against anvil, with the same
outcome on both: `cast send --create` deploys a contract, `cast send` calls it, `cast call`
reads it back, a reverting `cast send` reports its reason, and `cast run` replays that
transaction locally (it reads the block and the state before it through the JSON-RPC) and
shows the revert in its trace."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from chain.fast.genesis import dev_keys
from tests.conftest import NodeFactory
from tests.integration.support import open_fast_endpoint

REPO = Path(__file__).resolve().parents[2]
CAST = REPO / "node_modules" / ".bin" / "cast"
ARTIFACT = REPO / "build" / "contracts" / "Probe.json"
SENDER = 4  # a dev account only this module's node uses
CAST_TIMEOUT_S = 120


@pytest.fixture(scope="module", params=["duet", "anvil"])
def rpc_url(request: pytest.FixtureRequest, module_node_factory: NodeFactory) -> Iterator[str]:
    with open_fast_endpoint(request.param, module_node_factory) as (http, _):
        yield http


def cast(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CAST), *args], capture_output=True, text=True, timeout=CAST_TIMEOUT_S
    )


def send(url: str, *args: str) -> dict[str, Any]:
    key = "0x" + dev_keys()[SENDER].hex()
    done = cast("send", "--rpc-url", url, "--private-key", key, "--json", *args)
    assert done.returncode == 0, done.stderr
    receipt: dict[str, Any] = json.loads(done.stdout)
    return receipt


def test_a_cast_session_deploys_calls_and_replays_a_revert(rpc_url: str) -> None:
    bytecode = json.loads(ARTIFACT.read_text())["bytecode"]
    constructor = cast("abi-encode", "f(uint256)", "7").stdout.strip()
    deployed = send(rpc_url, "--create", bytecode + constructor.removeprefix("0x"))
    assert deployed["status"] == "0x1"
    probe = deployed["contractAddress"]

    assert send(rpc_url, probe, "set(uint256)", "5")["status"] == "0x1"
    read = cast("call", "--rpc-url", rpc_url, probe, "value()(uint256)")
    assert read.returncode == 0, read.stderr
    assert read.stdout.strip() == "5"

    failed = send(rpc_url, probe, "failWithReason()", "--gas-limit", "100000")
    assert failed["status"] == "0x0"
    assert failed["revertReason"].startswith("probe: nope")

    replayed = cast("run", "--rpc-url", rpc_url, failed["transactionHash"])
    assert replayed.returncode == 0, replayed.stderr  # the replay ran; the transaction failed
    assert "[Revert] probe: nope" in replayed.stdout, replayed.stdout + replayed.stderr
    assert "Transaction failed" in replayed.stderr
