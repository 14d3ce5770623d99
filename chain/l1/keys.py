"""The ceremony's verification keys in the form the rollup's constructor takes.

A key is α ‖ β ‖ γ ‖ δ ‖ IC[0..nPublic]: every coordinate a 32-byte big-endian word, G1 as
x, y and G2 as x.c1, x.c0, y.c1, y.c0 (the EIP-197 order; snarkjs lists the real part first).
The rollup keeps α, β and γ once (every key of one powers of tau shares them) and writes each
key's δ ‖ IC[] into a data contract of its own.
"""

import json
from collections.abc import Mapping, Sequence
from typing import Any

from chain.l1.calldata import L1_CIRCUIT_NAMES, count_words
from chain.l1.errors import L1Error
from chain.prover.ceremony import CeremonyPaths, get_circuit_entry, get_default_paths

WORD_BYTES = 32
ROOT_INPUTS = 2  # preRoot, postRoot before the words
SHARED_PARTS = ("vk_alpha_1", "vk_beta_2", "vk_gamma_2")


def encode_verification_key(vk: Mapping[str, Any]) -> bytes:
    """A snarkjs verification_key.json as the rollup's key bytes."""
    if vk.get("protocol") != "groth16" or vk.get("curve") != "bn128":
        raise L1Error("not a snarkjs Groth16 key on bn128")
    words = [
        *encode_g1(vk["vk_alpha_1"]),
        *encode_g2(vk["vk_beta_2"]),
        *encode_g2(vk["vk_gamma_2"]),
        *encode_g2(vk["vk_delta_2"]),
    ]
    for point in vk["IC"]:
        words.extend(encode_g1(point))
    return b"".join(word.to_bytes(WORD_BYTES, "big") for word in words)


def encode_g1(point: Sequence[str]) -> list[int]:
    x, y, z = (int(c) for c in point)
    if z != 1:
        raise L1Error(f"G1 point not in affine form (z = {z})")
    return [x, y]


def encode_g2(point: Sequence[Sequence[str]]) -> list[int]:
    (x0, x1), (y0, y1), (z0, z1) = ((int(a), int(b)) for a, b in point)
    if (z0, z1) != (1, 0):
        raise L1Error("G2 point not in affine form")
    return [x1, x0, y1, y0]


def load_ceremony_keys(paths: CeremonyPaths | None = None) -> list[dict[str, Any]]:
    """The current ceremony's snarkjs keys, by circuit id (the order of L1_CIRCUIT_NAMES: the
    operations', then the escape statements'), each checked to have preRoot, postRoot and
    its circuit's words as public inputs (an exit: root, account, balance)."""
    paths = paths or get_default_paths()
    keys = []
    for name in L1_CIRCUIT_NAMES:
        entry = get_circuit_entry(paths, name)
        if not entry.verification_key.is_file():
            raise L1Error(f"no verification key for {name}: run ./demo.sh setup")
        vk = json.loads(entry.verification_key.read_text())
        expected = ROOT_INPUTS + count_words(name)
        if vk["nPublic"] != expected:
            raise L1Error(f"{name}'s key has {vk['nPublic']} public inputs, expected {expected}")
        keys.append(vk)
    return keys


def is_shared_key_part(keys: Sequence[Mapping[str, Any]], part: str) -> bool:
    """Whether every key has the same `part` (e.g. "vk_alpha_1")."""
    return all(key[part] == keys[0][part] for key in keys)
