"""A Foundry `forge` session run against Duet's fast chain and against anvil, with the same
outcome on both: `forge create --broadcast` deploys a contract, and `forge script --broadcast`
runs a script that deploys another and calls it twice, each transaction sent and confirmed
on the chain (read back with `cast call`). The project is tests/integration/clients/
forge_project/, compiled by solc-js behind solc's command line (clients/solc): no native solc
is installed, and forge downloads none (`offline`)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from chain.fast.genesis import dev_keys
from tests.conftest import NodeFactory
from tests.integration.support import FAST_CHAIN_ID, open_fast_endpoint

REPO = Path(__file__).resolve().parents[2]
CLIENTS = Path(__file__).parent / "clients"
FORGE = REPO / "node_modules" / ".bin" / "forge"
CAST = REPO / "node_modules" / ".bin" / "cast"
SENDER = 3  # a dev account only this module's node uses
FORGE_TIMEOUT_S = 180


@pytest.fixture(scope="module", params=["duet", "anvil"])
def rpc_url(request: pytest.FixtureRequest, module_node_factory: NodeFactory) -> Iterator[str]:
    with open_fast_endpoint(request.param, module_node_factory) as (http, _):
        yield http


def run(command: list[str], cwd: Path) -> str:
    done = subprocess.run(command, capture_output=True, text=True, timeout=FORGE_TIMEOUT_S, cwd=cwd)
    assert done.returncode == 0, f"{' '.join(command[:2])} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def read_number(rpc_url: str, counter: str) -> int:
    answer = run([str(CAST), "call", "--rpc-url", rpc_url, counter, "number()(uint256)"], REPO)
    return int(answer.split()[0])


def test_forge_create_and_a_broadcast_script(rpc_url: str, tmp_path: Path) -> None:
    project = tmp_path / "project"
    shutil.copytree(CLIENTS / "forge_project", project)
    key = "0x" + dev_keys()[SENDER].hex()
    common = ["--use", str(CLIENTS / "solc"), "--rpc-url", rpc_url, "--private-key", key]

    create = [str(FORGE), "create", *common, "--broadcast", "src/Counter.sol:Counter"]
    created = run([*create, "--constructor-args", "7"], project)
    deployed = re.search(r"Deployed to: (0x[0-9a-fA-F]{40})", created)
    assert deployed, created
    assert read_number(rpc_url, deployed.group(1)) == 7

    scripted = run(
        [str(FORGE), "script", *common, "--broadcast", "script/Bump.s.sol:Bump"], project
    )
    assert "ONCHAIN EXECUTION COMPLETE & SUCCESSFUL" in scripted, scripted
    record = json.loads(
        (project / "broadcast" / "Bump.s.sol" / str(FAST_CHAIN_ID) / "run-latest.json").read_text()
    )
    assert [r["status"] for r in record["receipts"]] == ["0x1"] * 3  # deploy, bump, bump
    counter = record["transactions"][0]["contractAddress"]
    assert read_number(rpc_url, counter) == 42
