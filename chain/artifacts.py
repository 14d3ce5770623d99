"""Compiled Solidity: build/contracts/<Name>.json = {"abi", "bytecode", "deployedBytecode",
"source"}, written by scripts/compile_contracts.mjs during ./demo.sh setup. The one reader
for the fast chain's genesis, the clients and the L1 deployment."""

import json
from functools import cache
from pathlib import Path
from typing import Any, cast

ARTIFACTS_DIR = Path(__file__).resolve().parents[1] / "build" / "contracts"


class ArtifactMissing(FileNotFoundError):
    """A contract was not compiled: the message names the setup step that compiles it."""


@cache
def load_artifact(name: str) -> dict[str, Any]:
    path = ARTIFACTS_DIR / f"{name}.json"
    try:
        return cast(dict[str, Any], json.loads(path.read_text()))
    except FileNotFoundError:
        raise ArtifactMissing(
            f"{path} is missing: compile the contracts with `./demo.sh setup`"
        ) from None


def load_abi(name: str) -> list[dict[str, Any]]:
    return cast(list[dict[str, Any]], load_artifact(name)["abi"])


def load_runtime_code(name: str) -> bytes:
    """The code a contract leaves at its address once deployed."""
    return bytes.fromhex(load_artifact(name)["deployedBytecode"].removeprefix("0x"))
