"""The embedded prover against the fixture circuits: its proofs verify in groth16py and in
`snarkjs groth16 verify` alike, and a tampered proof or a wrong public signal fails both."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from chain.prover.ceremony import CeremonyPaths
from chain.prover.errors import ProverError
from chain.prover.groth16 import (
    CircuitKeys,
    Proof,
    compute_public_signals,
    compute_snarkjs_public,
    load_circuit,
    load_verifier,
    prove,
    verify,
)

# circomlibjs: poseidon([1, 2]), the reference value every Poseidon port is checked against.
POSEIDON_1_2 = 7853200120776062878684798364095072458815029376092732009249414926327459813530
SCALAR_FIELD = 21888242871839275222246405745257275088548364400416034343698204186575808495617
BASE_FIELD = 21888242871839275222246405745257275088696311157297823662689037894645226208583  # of A
PREIMAGE_INPUTS = {"a": 1, "b": 2, "aSquared": 1}
PREIMAGE_SIGNALS = [POSEIDON_1_2, 1]  # the output digest first, then the public input


@pytest.fixture(scope="module")
def keys(built_paths: CeremonyPaths) -> CircuitKeys:
    return load_circuit("hash_preimage", built_paths)


@pytest.fixture(scope="module")
def proof(keys: CircuitKeys) -> Proof:
    return prove(keys, PREIMAGE_INPUTS, PREIMAGE_SIGNALS)


def is_accepted_by_snarkjs(
    keys: CircuitKeys, proof: Proof, public_signals: list[int], scratch: Path
) -> bool:
    (scratch / "proof.json").write_text(json.dumps(proof.to_snarkjs()))
    (scratch / "public.json").write_text(json.dumps(compute_snarkjs_public(public_signals)))
    snarkjs = keys.paths.node_modules / ".bin" / "snarkjs"
    command = [str(snarkjs), "groth16", "verify", str(keys.entry.verification_key)]
    command += [str(scratch / "public.json"), str(scratch / "proof.json")]
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    return completed.returncode == 0 and "OK!" in completed.stdout


def compute_negated_a(proof: Proof) -> Proof:
    """The same proof with A replaced by -A: still a curve point, no longer a proof."""
    words = proof.words
    words[1] = BASE_FIELD - words[1]
    return Proof(b"".join(word.to_bytes(32, "big") for word in words))


def test_proof_verifies_in_groth16py(keys: CircuitKeys, proof: Proof) -> None:
    assert verify(keys, proof, PREIMAGE_SIGNALS)
    assert keys.verifier.verify_snarkjs(
        json.dumps(proof.to_snarkjs()), json.dumps(compute_snarkjs_public(PREIMAGE_SIGNALS))
    )


def test_proof_verifies_in_snarkjs(keys: CircuitKeys, proof: Proof, tmp_path: Path) -> None:
    assert is_accepted_by_snarkjs(keys, proof, PREIMAGE_SIGNALS, tmp_path)


def test_verifier_alone_accepts_the_proof(built_paths: CeremonyPaths, proof: Proof) -> None:
    assert verify(load_verifier("hash_preimage", built_paths), proof, PREIMAGE_SIGNALS)


def test_rejects_wrong_public_signal(keys: CircuitKeys, proof: Proof, tmp_path: Path) -> None:
    wrong = [POSEIDON_1_2, 4]

    assert not verify(keys, proof, wrong)
    assert not is_accepted_by_snarkjs(keys, proof, wrong, tmp_path)


def test_rejects_tampered_proof(keys: CircuitKeys, proof: Proof, tmp_path: Path) -> None:
    tampered = compute_negated_a(proof)

    assert not verify(keys, tampered, PREIMAGE_SIGNALS)
    assert not is_accepted_by_snarkjs(keys, tampered, PREIMAGE_SIGNALS, tmp_path)


def test_rejects_malformed_proof(keys: CircuitKeys, proof: Proof, tmp_path: Path) -> None:
    flipped = bytearray(proof.blob)
    flipped[40] ^= 1  # B.x leaves the curve: groth16py calls it an encoding error

    assert not verify(keys, Proof(bytes(flipped)), PREIMAGE_SIGNALS)
    assert not is_accepted_by_snarkjs(keys, Proof(bytes(flipped)), PREIMAGE_SIGNALS, tmp_path)


def test_rejects_signal_outside_the_field(keys: CircuitKeys, proof: Proof) -> None:
    assert not verify(keys, proof, [POSEIDON_1_2 + SCALAR_FIELD, 1])


def test_invalid_signal_count_raises(keys: CircuitKeys, proof: Proof) -> None:
    with pytest.raises(ProverError, match="has 2 public signals, got 1"):
        verify(keys, proof, [POSEIDON_1_2])


def test_invalid_inputs_missing_signal_raise(keys: CircuitKeys) -> None:
    with pytest.raises(ProverError, match="bad inputs: incomplete inputs"):
        prove(keys, {"a": 1, "b": 2}, PREIMAGE_SIGNALS)


def test_invalid_inputs_breaking_a_constraint_raise(keys: CircuitKeys) -> None:
    # groth16py proves anyway (a proof of nothing); prove() must catch it by verifying.
    with pytest.raises(ProverError, match="do not satisfy the circuit"):
        prove(keys, {"a": 1, "b": 2, "aSquared": 2}, [POSEIDON_1_2, 2])


def test_public_signals_come_from_the_witness(keys: CircuitKeys) -> None:
    assert compute_public_signals(keys, PREIMAGE_INPUTS) == PREIMAGE_SIGNALS


def test_public_outputs_precede_public_inputs(built_paths: CeremonyPaths) -> None:
    keys = load_circuit("multiply", built_paths)
    inputs = {"a": 3, "b": 5, "d": 9}

    signals = compute_public_signals(keys, inputs)

    assert signals == [15, 9]  # c = a·b, then d
    assert verify(keys, prove(keys, inputs, signals), signals)


def test_load_circuit_is_cached_per_process(built_paths: CeremonyPaths, keys: CircuitKeys) -> None:
    assert load_circuit("hash_preimage", built_paths) is keys


def test_load_circuit_without_setup_says_run_setup(paths: CeremonyPaths) -> None:
    with pytest.raises(ProverError, match=r"no keys for circuit 'multiply'.*run ./demo.sh setup"):
        load_circuit("multiply", paths)
