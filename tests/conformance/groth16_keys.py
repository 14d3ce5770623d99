"""Keys and proofs of the fixture circuits (tests/fixtures/circuits) for the Groth16 precompile.

The fixture circuits' ceremony entries are cached beside the real ones
(`$DUET_CACHE_DIR/fixture-circuits`, keyed by the sources' hash like every entry, built
about ten seconds the first time) and share the real powers of tau; the ceremony's lock
per entry lets xdist workers share the cache.
"""

from __future__ import annotations

from functools import cache

from chain.fast.groth16_precompile import KnownKey, VkId, compute_gas
from chain.prover.ceremony import (
    PROJECT_ROOT,
    CeremonyPaths,
    get_default_paths,
    setup_circuits,
)
from chain.prover.groth16 import PROOF_BYTES, load_circuit, prove
from chain.prover.precompile_keys import load_ceremony_verifiers

FIXTURE_CIRCUITS = PROJECT_ROOT / "tests" / "fixtures" / "circuits"
FIXTURE_CACHE = "fixture-circuits"

# multiply.circom: a·b = c and a² = d; public signals [c, d] (the output first).
MULTIPLY_INPUTS = {"a": 3, "b": 5, "d": 9}
MULTIPLY_SIGNALS = (15, 9)
MULTIPLY_GAS = compute_gas(32 + PROOF_BYTES + 32 * len(MULTIPLY_SIGNALS))  # 160,000


@cache
def get_fixture_paths() -> CeremonyPaths:
    """The fixture circuits with every entry built."""
    shared = get_default_paths()
    paths = CeremonyPaths(
        project_root=PROJECT_ROOT,
        circuits_dir=FIXTURE_CIRCUITS,
        cache_dir=shared.cache_dir / FIXTURE_CACHE,
        ptau_dir=shared.ptau_dir,
    )
    setup_circuits(paths, jobs=1, report=lambda line: None)
    return paths


@cache
def get_fixture_verifiers() -> dict[VkId, KnownKey]:
    """What a node's precompile would know if the fixture circuits were its circuits."""
    return load_ceremony_verifiers(get_fixture_paths())


def get_vk_id(name: str) -> VkId:
    (key,) = (k for k in get_fixture_verifiers().values() if k.name == name)
    return key.vk_id


@cache
def get_multiply_proof() -> bytes:
    """A proof of multiply.circom for MULTIPLY_SIGNALS, as the 256-byte blob."""
    keys = load_circuit("multiply", get_fixture_paths())
    return prove(keys, MULTIPLY_INPUTS, MULTIPLY_SIGNALS).blob
