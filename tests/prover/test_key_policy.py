"""chain.prover.key_policy: development keys are recognised, and refused outside dev chains."""

from __future__ import annotations

import json
from typing import Any

import pytest

from chain.prover.ceremony import CeremonyPaths, get_circuit_entry, setup_circuit
from chain.prover.key_policy import (
    DEV_VK_ALPHA_1,
    DEV_VK_BETA_2,
    DevKeysRefused,
    check_deploy_keys,
    compute_keys_are_dev,
    get_keys_are_dev,
    is_dev_manifest,
    is_dev_verification_key,
)

CEREMONY_MANIFEST = {"circuit": "x", "dev": False}
OTHER_G1 = ["1", "2", "1"]
OTHER_G2 = [["1", "2"], ["3", "4"], ["1", "0"]]


def make_vk(**parts: Any) -> dict[str, Any]:
    return {"vk_alpha_1": OTHER_G1, "vk_beta_2": OTHER_G2, "vk_delta_2": OTHER_G2} | parts


def test_refuses_dev_keys_on_mainnet() -> None:
    with pytest.raises(DevKeysRefused, match=r"chain id 1: .*duet ceremony.*allow_dev_keys=True"):
        check_deploy_keys(1, keys_are_dev=True, allow_dev_keys=False)


@pytest.mark.parametrize("chain_id", [31337, 1337])
def test_allows_dev_keys_on_dev_chains(chain_id: int) -> None:
    check_deploy_keys(chain_id, keys_are_dev=True, allow_dev_keys=False)


def test_allows_dev_keys_when_asked() -> None:
    check_deploy_keys(1, keys_are_dev=True, allow_dev_keys=True)


@pytest.mark.parametrize("chain_id", [1, 11155111, 31337])
def test_allows_ceremony_keys_anywhere(chain_id: int) -> None:
    check_deploy_keys(chain_id, keys_are_dev=False, allow_dev_keys=False)


def test_manifest_without_the_field_is_dev() -> None:
    assert is_dev_manifest({"circuit": "x"})  # written before the field existed
    assert is_dev_manifest({"circuit": "x", "dev": True})
    assert not is_dev_manifest(CEREMONY_MANIFEST)


def test_key_on_the_dev_powers_of_tau_is_dev() -> None:
    assert is_dev_verification_key(make_vk(vk_alpha_1=DEV_VK_ALPHA_1))
    assert is_dev_verification_key(make_vk(vk_beta_2=DEV_VK_BETA_2))
    assert not is_dev_verification_key(make_vk())


def test_key_with_a_dev_delta_is_dev() -> None:
    dev = make_vk(vk_delta_2=[["9", "9"], ["9", "9"], ["1", "0"]])

    assert is_dev_verification_key(make_vk(vk_delta_2=dev["vk_delta_2"]), [dev])
    assert not is_dev_verification_key(make_vk(), [dev])


def test_one_dev_key_makes_the_set_dev() -> None:
    ceremony = ([CEREMONY_MANIFEST], [make_vk()])

    assert not compute_keys_are_dev(*ceremony)
    assert compute_keys_are_dev([CEREMONY_MANIFEST, {"dev": True}], [make_vk(), make_vk()])
    assert compute_keys_are_dev([CEREMONY_MANIFEST], [make_vk(vk_alpha_1=DEV_VK_ALPHA_1)])
    assert compute_keys_are_dev([], [])


def test_dev_constants_are_the_dev_cache_keys(paths: CeremonyPaths) -> None:
    """The dev path writes `"dev": true`, and its keys carry the α and β named here."""
    setup_circuit(paths, "multiply", print)
    entry = get_circuit_entry(paths, "multiply")
    vk = json.loads(entry.verification_key.read_text())

    assert json.loads(entry.manifest.read_text())["dev"] is True
    assert vk["vk_alpha_1"] == DEV_VK_ALPHA_1
    assert vk["vk_beta_2"] == DEV_VK_BETA_2
    assert get_keys_are_dev(paths, ["multiply"])
