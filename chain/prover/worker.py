"""Checking a proof from outside: the one place the node turns untrusted bytes into a verdict.

Proving itself runs in provers' worker processes (chain/market/work.py), never on the node's
event loop.
"""

from chain.prover.errors import ProverError
from chain.prover.groth16 import Proof, load_verifier, verify


def is_valid_proof(circuit: str, proof: bytes, public_inputs: list[int]) -> bool:
    """Whether `proof` (untrusted bytes) proves `circuit` for these public inputs."""
    try:
        return verify(load_verifier(circuit), Proof(proof), public_inputs)
    except ProverError:
        return False
