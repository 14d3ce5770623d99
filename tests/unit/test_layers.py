"""The layer contract of docs/architecture.md names every part of the product.

`lint-imports` (run by ./demo.sh test) checks that each layer imports only the layers below it;
a module the contract does not name would escape that check, so these tests keep the contract
complete.
"""

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def read_layer_modules() -> set[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    (layers,) = [c for c in config["contracts"] if c["type"] == "layers"]
    return {name.strip() for layer in layers["layers"] for name in re.split(r"[:|]", layer)}


def list_top_level_parts(package: str) -> set[str]:
    folder = ROOT / package
    parts = {f"{package}.{p.stem}" for p in folder.glob("*.py") if p.stem != "__init__"}
    parts |= {f"{package}.{p.name}" for p in folder.iterdir() if (p / "__init__.py").is_file()}
    return parts


def test_every_part_of_chain_sits_in_a_layer() -> None:
    named = read_layer_modules()
    missing = sorted(list_top_level_parts("chain") - named)
    assert not missing, f"add these to a layer in pyproject.toml [tool.importlinter]: {missing}"


def test_the_contract_names_only_parts_that_exist() -> None:
    existing = list_top_level_parts("chain") | {"game"}
    stale = sorted(read_layer_modules() - existing)
    assert not stale, f"the layer contract names modules that do not exist: {stale}"
