"""The real circuits on the ceremony's keys (what `./demo.sh setup` made), both ways: the
embedded prover's proof passes `snarkjs groth16 verify`, and a proof snarkjs makes from the
same inputs passes the embedded verifier. That is what lets browser provers run snarkjs on
the same zkeys as the node."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from chain.prover.groth16 import (
    Proof,
    compute_snarkjs_public,
    load_circuit,
    load_verifier,
    prove,
    verify,
)
from chain.zk.registry import CIRCUIT_NAMES, CircuitName
from tests.circuits.conftest import compute_valid_transition
from tests.circuits.lab import encode_inputs
from tests.prover.test_embedded_prover import is_accepted_by_snarkjs


def snarkjs_prove(name: CircuitName, inputs: dict[str, object], scratch: Path) -> Proof:
    keys = load_circuit(name)
    encoded = json.dumps(encode_inputs(inputs))  # JavaScript numbers stop at 2^53
    (scratch / "input.json").write_text(encoded)
    snarkjs = str(keys.paths.node_modules / ".bin" / "snarkjs")
    wtns, proof, public = (scratch / f for f in ("w.wtns", "proof.json", "public.json"))
    for command in (
        [
            snarkjs,
            "wtns",
            "calculate",
            str(keys.entry.wasm),
            str(scratch / "input.json"),
            str(wtns),
        ],
        [snarkjs, "groth16", "prove", str(keys.entry.zkey), str(wtns), str(proof), str(public)],
    ):
        subprocess.run(command, check=True, capture_output=True)
    return Proof.from_snarkjs(json.loads(proof.read_text()))


@pytest.mark.parametrize("name", CIRCUIT_NAMES)
def test_embedded_proof_passes_snarkjs_verify(name: CircuitName, tmp_path: Path) -> None:
    witness = compute_valid_transition(name).witness
    keys = load_circuit(name)
    proof = prove(keys, witness.inputs, witness.public_inputs)
    assert is_accepted_by_snarkjs(keys, proof, witness.public_inputs, tmp_path)
    tampered = [witness.public_inputs[0], witness.public_inputs[1] ^ 1, *witness.public_inputs[2:]]
    assert not is_accepted_by_snarkjs(keys, proof, tampered, tmp_path)


@pytest.mark.parametrize("name", CIRCUIT_NAMES)
def test_snarkjs_proof_passes_embedded_verify(name: CircuitName, tmp_path: Path) -> None:
    witness = compute_valid_transition(name).witness
    proof = snarkjs_prove(name, dict(witness.inputs), tmp_path)
    verifier = load_verifier(name)
    assert verify(verifier, proof, witness.public_inputs)
    assert compute_snarkjs_public(witness.public_inputs)[0] == str(witness.public_inputs[0])
    assert not verify(verifier, proof, [*witness.public_inputs[:-1], witness.public_inputs[-1] + 1])
