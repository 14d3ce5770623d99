"""The Groth16 precompile's keys from the ceremony's cache: what a node hands its executor.

The fast chain's precompile (chain/fast/groth16_precompile.py) knows only the keys it is
given; the node's starter loads them here, from the ceremony's current circuits.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence

from chain.fast.groth16_precompile import KnownKey, VkId, compute_vk_id, load_key_file
from chain.prover.ceremony import (
    CeremonyPaths,
    get_circuit_entry,
    get_circuit_names,
    get_default_paths,
)
from chain.prover.errors import ProverError

log = logging.getLogger(__name__)


def load_ceremony_verifiers(
    paths: CeremonyPaths | None = None, names: Sequence[str] | None = None
) -> dict[VkId, KnownKey]:
    """The keys of the ceremony's current circuits (default: all) found in its cache, by id.

    A circuit whose key is missing (setup not run) or unreadable is left out, with a warning:
    the precompile then fails for its vkId. Stale entries of earlier circuit versions are
    not loaded: which keys a node knows must follow from the sources, not from its cache.
    """
    paths = paths or get_default_paths()
    known: dict[VkId, KnownKey] = {}
    for name in names if names is not None else get_circuit_names(paths):
        try:
            path = get_circuit_entry(paths, name).verification_key
            if not path.is_file():
                raise ValueError(f"{path} is missing: run ./demo.sh setup")
            key = load_key_file(name, path)
        except (ProverError, ValueError) as error:
            log.warning("Groth16 precompile: no key for circuit %s: %s", name, error)
            continue
        known[key.vk_id] = key
    return known


def compute_ceremony_vk_id(name: str, paths: CeremonyPaths | None = None) -> VkId:
    """The vkId under which the precompile knows the ceremony's circuit `name`: what a
    contract that checks its proofs is deployed with (e.g. PassGate's ownershipVkId)."""
    path = get_circuit_entry(paths or get_default_paths(), name).verification_key
    return compute_vk_id(json.loads(path.read_text()))
