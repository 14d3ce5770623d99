"""The proof's byte layout and its snarkjs shape, and the witness file reader: pure formats,
checked without a circuit (tests/prover checks them against real proofs and snarkjs)."""

from __future__ import annotations

import pytest

from chain.prover.errors import ProverError
from chain.prover.groth16 import PROOF_BYTES, Proof, compute_snarkjs_public, compute_wtns_values

SCALAR_FIELD = 21888242871839275222246405745257275088548364400416034343698204186575808495617


def make_proof(words: list[int]) -> Proof:
    return Proof(b"".join(word.to_bytes(32, "big") for word in words))


def make_wtns(values: list[int]) -> bytes:
    """A version-2 `.wtns` as circom's witness calculator writes it: header, then values."""
    header = (32).to_bytes(4, "little") + SCALAR_FIELD.to_bytes(32, "little")
    header += len(values).to_bytes(4, "little")
    body = b"".join(value.to_bytes(32, "little") for value in values)
    sections = b""
    for kind, data in ((1, header), (2, body)):
        sections += kind.to_bytes(4, "little") + len(data).to_bytes(8, "little") + data
    return b"wtns" + (2).to_bytes(4, "little") + (2).to_bytes(4, "little") + sections


def test_proof_is_eight_big_endian_words() -> None:
    proof = make_proof(list(range(1, 9)))

    assert len(proof.blob) == PROOF_BYTES == 256
    assert proof.words == [1, 2, 3, 4, 5, 6, 7, 8]


def test_snarkjs_shape_swaps_each_g2_coordinate() -> None:
    # Blob: A.x A.y | B.x.c1 B.x.c0 B.y.c1 B.y.c0 | C.x C.y; snarkjs lists c0 first.
    proof = make_proof([11, 12, 21, 20, 23, 22, 31, 32])

    assert proof.to_snarkjs() == {
        "pi_a": ["11", "12", "1"],
        "pi_b": [["20", "21"], ["22", "23"], ["1", "0"]],
        "pi_c": ["31", "32", "1"],
        "protocol": "groth16",
        "curve": "bn128",
    }


def test_snarkjs_shape_round_trips() -> None:
    proof = make_proof([SCALAR_FIELD - i for i in range(8)])

    assert Proof.from_snarkjs(proof.to_snarkjs()) == proof


def test_public_json_is_decimal_strings() -> None:
    assert compute_snarkjs_public([0, 2**253]) == ["0", str(2**253)]


def test_rejects_proof_of_wrong_length() -> None:
    with pytest.raises(ProverError, match="a proof is 256 bytes, got 255"):
        Proof(bytes(255))


@pytest.mark.parametrize(
    "proof_json",
    [{}, {"pi_a": ["1", "2", "1"]}, {"pi_a": ["x", "2", "1"], "pi_b": [], "pi_c": []}],
)
def test_rejects_malformed_snarkjs_proof(proof_json: dict[str, object]) -> None:
    with pytest.raises(ProverError, match="not a snarkjs Groth16 proof"):
        Proof.from_snarkjs(proof_json)


def test_wtns_values_in_wire_order() -> None:
    values = [1, 15, 9, SCALAR_FIELD - 1]

    assert compute_wtns_values(make_wtns(values)) == values


def test_rejects_file_that_is_not_a_wtns() -> None:
    with pytest.raises(ProverError, match="not a wtns file"):
        compute_wtns_values(b"r1cs" + bytes(8))
