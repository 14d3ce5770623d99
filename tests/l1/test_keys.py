"""The ceremony's verification keys as L1 takes them (chain/l1/keys.py), and the fact the
batch check rests on: every key shares α, β and γ."""

from __future__ import annotations

import json

from py_ecc import optimized_bn128 as bn128

from chain.l1.calldata import L1_CIRCUIT_NAMES, count_words
from chain.l1.keys import encode_verification_key, is_shared_key_part, load_ceremony_keys
from chain.zk.registry import CIRCUIT_NAMES, WORD_LAYOUTS

WORD = 32


def test_every_key_has_the_roots_and_its_words_as_public_inputs() -> None:
    keys = load_ceremony_keys()
    assert len(keys) == len(L1_CIRCUIT_NAMES)
    for name, key in zip(L1_CIRCUIT_NAMES, keys, strict=True):
        assert key["nPublic"] == 2 + count_words(name)
    assert [count_words(name) for name in L1_CIRCUIT_NAMES[len(CIRCUIT_NAMES) :]] == [
        len(WORD_LAYOUTS["withdraw"]),  # refuse_withdraw: the withdraw's words
        1,  # exit: root, account, balance
    ]


def test_ceremony_keys_share_alpha_beta_and_gamma() -> None:
    """α and β come from the shared powers of tau; γ is the G2 generator in every snarkjs
    key. A batch may then pair Σ r_j·α with β and Σ r_j·L_j with γ once for all circuits."""
    keys = load_ceremony_keys()
    for part in ("vk_alpha_1", "vk_beta_2", "vk_gamma_2"):
        assert is_shared_key_part(keys, part), part
    (x0, x1), (y0, y1), _ = keys[0]["vk_gamma_2"]
    generator_x, generator_y = bn128.normalize(bn128.G2)
    assert [int(x0), int(x1)] == [int(c) for c in generator_x.coeffs]
    assert [int(y0), int(y1)] == [int(c) for c in generator_y.coeffs]


def test_ceremony_keys_have_their_own_delta() -> None:
    """δ is the one part a circuit's key does not share: each zkey beacon is the circuit's."""
    deltas = [json.dumps(key["vk_delta_2"]) for key in load_ceremony_keys()]
    assert len(set(deltas)) == len(deltas)


def test_a_key_encodes_as_words_with_g2_imaginary_parts_first() -> None:
    key = load_ceremony_keys()[0]
    data = encode_verification_key(key)
    assert len(data) == (2 + 3 * 4 + 2 * len(key["IC"])) * WORD

    def word(index: int) -> int:
        return int.from_bytes(data[index * WORD : (index + 1) * WORD], "big")

    assert [word(0), word(1)] == [int(c) for c in key["vk_alpha_1"][:2]]
    (bx0, bx1), (by0, by1), _ = key["vk_beta_2"]
    assert [word(2), word(3), word(4), word(5)] == [int(bx1), int(bx0), int(by1), int(by0)]
    assert [word(14), word(15)] == [int(c) for c in key["IC"][0][:2]]
