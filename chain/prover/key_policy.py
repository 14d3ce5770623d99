"""Which Groth16 keys may secure value: the development keys only on development chains.

The development ceremony (`chain.prover.ceremony`) is deterministic: its powers of tau and
every circuit's δ come from public beacons, so anyone can recompute the toxic waste and forge
a proof of any statement. Keys hold value only after a multi-party ceremony
(`duet ceremony`, `chain.prover.phase2`) on a powers of tau whose secrets nobody knows.

Two ways to tell development keys, either enough:
- the manifest: the development path writes `"dev": true`; only a finalized multi-party
  ceremony writes `"dev": false` (a manifest without the field is an older development one);
- the key itself: every development key shares the development powers of tau's α and β, and
  a key is also development if its δ is a development key's. Knowing τ, α and β alone
  already forges proofs (with γ the generator, A·B = α·β + the public inputs' term has known
  discrete logs and C = 0), so a ceremony run on the development powers of tau is no better.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from chain.prover.ceremony import (
    CeremonyPaths,
    get_circuit_entry,
    get_circuit_names,
    get_default_paths,
    is_entry_complete,
)
from chain.prover.errors import ProverError

DEV_CHAIN_IDS = frozenset({31337, 1337})  # anvil / hardhat, and ganache / geth --dev
ALLOW_DEV_KEYS_FLAG = "allow_dev_keys=True"  # deploy_contracts' parameter
# α and β of the development powers of tau (2^14, public beacon), as snarkjs's
# verification_key.json writes them; tests/prover/test_key_policy.py keeps them equal to the
# development cache's keys.
DEV_VK_ALPHA_1 = [
    "5141173850987760717263358351443372251542330505275765966189922320550726366508",
    "10205452431040597704376143033029034885577447791054380814279242597598211664018",
    "1",
]
DEV_VK_BETA_2 = [
    [
        "3336273949599465742578717466444936757885753961312442313382625203019174922408",
        "13542136288405189413771353477767233123303619879904347473523483593992957341352",
    ],
    [
        "16094957125214348601679085324326641899422382584833355885406073096264881440752",
        "16832926990077782578542790707771976975154561213505298965831500803767864781849",
    ],
    ["1", "0"],
]

VerificationKey = Mapping[str, Any]


class DevKeysRefused(ProverError):
    """Deploying the public development keys where value is at stake."""


def is_dev_chain(chain_id: int) -> bool:
    return chain_id in DEV_CHAIN_IDS


def check_deploy_keys(chain_id: int, keys_are_dev: bool, allow_dev_keys: bool) -> None:
    """Refuse the development keys on a chain that is not a development chain, unless the
    deployer asked for them (`deploy_contracts(..., allow_dev_keys=True)`)."""
    if keys_are_dev and not allow_dev_keys and not is_dev_chain(chain_id):
        raise DevKeysRefused(
            f"refusing to deploy the development Groth16 keys on chain id {chain_id}: their "
            "toxic waste is public, so anyone can forge proofs. Run a multi-party ceremony "
            "(`duet ceremony new/contribute/finalize`, then DUET_KEYS_DIR=<its dir>), or pass "
            f"{ALLOW_DEV_KEYS_FLAG} if this chain holds no value (dev chain ids: "
            f"{', '.join(map(str, sorted(DEV_CHAIN_IDS)))})"
        )


def is_dev_manifest(manifest: Mapping[str, Any]) -> bool:
    """Only a finalized multi-party ceremony's manifest says `"dev": false`."""
    return manifest.get("dev", True) is not False


def is_dev_verification_key(vk: VerificationKey, dev_vks: Iterable[VerificationKey] = ()) -> bool:
    """Made on the development powers of tau, or sharing a development key's δ."""
    if vk.get("vk_alpha_1") == DEV_VK_ALPHA_1 or vk.get("vk_beta_2") == DEV_VK_BETA_2:
        return True
    return any(vk.get("vk_delta_2") == dev["vk_delta_2"] for dev in dev_vks)


def compute_keys_are_dev(
    manifests: Sequence[Mapping[str, Any]],
    vks: Sequence[VerificationKey],
    dev_vks: Sequence[VerificationKey] = (),
) -> bool:
    """Whether a key set is (or contains) development keys: an empty set counts as one."""
    if not manifests or not vks:
        return True
    return any(map(is_dev_manifest, manifests)) or any(
        is_dev_verification_key(vk, dev_vks) for vk in vks
    )


def get_keys_are_dev(
    paths: CeremonyPaths | None = None, names: Sequence[str] | None = None
) -> bool:
    """Whether the keys the node would load (`$DUET_KEYS_DIR`, else the development cache) are
    development keys, for `check_deploy_keys`. A circuit without keys counts as development."""
    paths = paths or get_default_paths()
    names = list(names) if names is not None else get_circuit_names(paths)
    manifests, vks = [], []
    for name in names:
        entry = get_circuit_entry(paths, name)
        if not is_entry_complete(entry):
            return True
        manifests.append(json.loads(entry.manifest.read_text()))
        vks.append(json.loads(entry.verification_key.read_text()))
    return compute_keys_are_dev(manifests, vks, _read_dev_vks(paths, names))


def _read_dev_vks(paths: CeremonyPaths, names: Sequence[str]) -> list[dict[str, Any]]:
    """The development cache's keys of these circuits, where it holds them (a deploy host
    may have none: the α / β check still holds)."""
    if paths.keys_dir is None:
        return []
    dev_paths = replace(paths, keys_dir=None)
    found = []
    for name in names:
        entry = get_circuit_entry(dev_paths, name)
        if entry.verification_key.is_file():
            found.append(json.loads(entry.verification_key.read_text()))
    return found
