"""An ethers v6 session (tests/integration/clients/ethers_session.mjs: a wallet, a contract,
events by HTTP polling and over WebSocket, a revert's reason, past events) run against Duet's
fast chain and against anvil, with the same outcome on both."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from chain.fast.genesis import dev_keys
from tests.conftest import NodeFactory
from tests.integration.support import FAST_CHAIN_ID, open_fast_endpoint

REPO = Path(__file__).resolve().parents[2]
SESSION = Path(__file__).parent / "clients" / "ethers_session.mjs"
ARTIFACT = REPO / "build" / "contracts" / "Probe.json"
SENDER = 5  # a dev account only this module's node uses
SESSION_TIMEOUT_S = 120


@pytest.fixture(scope="module", params=["duet", "anvil"])
def endpoints(
    request: pytest.FixtureRequest, module_node_factory: NodeFactory
) -> Iterator[tuple[str, str]]:
    with open_fast_endpoint(request.param, module_node_factory) as urls:
        yield urls


def test_an_ethers_session_sees_what_it_did(endpoints: tuple[str, str]) -> None:
    http, ws = endpoints
    key = "0x" + dev_keys()[SENDER].hex()
    done = subprocess.run(
        ["node", str(SESSION), http, ws, str(ARTIFACT), key],
        capture_output=True,
        text=True,
        timeout=SESSION_TIMEOUT_S,
        cwd=REPO,  # node_modules/ethers
    )
    assert done.returncode == 0, done.stderr[-3000:]
    outcome = json.loads(done.stdout.strip().splitlines()[-1])
    assert outcome == {
        "chainId": FAST_CHAIN_ID,
        "initial": "7",
        "status": 1,
        "logs": 1,
        "polled": "5",
        "pushed": "6",
        "revert": "probe: nope",
        "events": ["5", "6"],
        "value": "6",
        "nonce": 3,  # the deployment and two sets: a fresh chain, an account only this uses
    }
