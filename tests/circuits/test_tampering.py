"""Every circuit proves a valid operation, and binds its statement: a proof does not carry
over to another pre-root, post-root or operation word, nor does a witness that claims one."""

import pytest

from chain.zk.registry import CIRCUIT_NAMES, TRACE_TREES, CircuitName
from tests.circuits.conftest import ProvenFactory
from tests.circuits.lab import CircuitLab

ROOT_INPUTS = ["preRoot", "postRoot"]
# Words that no state leaf holds, so another value still has a witness (a proof never carries
# over: verification fails for them like for every word). WHEN ADDING ENTRIES, SAY WHY.
UNBOUND_WORDS = {
    # The fast-chain recipient of locked ZKPoW is a message, not ZK state: the EIP-712
    # signature binds it, and settlement reads it from the L1 calldata beside the proof.
    ("to_fast", 2): "fast-chain recipient",
    # Likewise the L1 recipient of a withdrawal: the rollup pays whoever the words name.
    ("withdraw", 2): "L1 recipient",
    # The deposit number (w1's lowest field) is the rollup's, not the ZK state's: the rollup
    # checks at settlement that the deposits it reads from the words consume its queue.
    ("deposit", 1): "L1 deposit number",
}


@pytest.mark.parametrize("name", CIRCUIT_NAMES)
def test_proves_valid_operation(name: CircuitName, lab: CircuitLab, proven: ProvenFactory) -> None:
    case = proven(name)
    assert lab.find_witness_failure(name, case.witness.inputs) is None
    assert lab.verify(name, case.proof, case.witness.public_inputs)


@pytest.mark.parametrize("name", CIRCUIT_NAMES)
def test_rejects_tampered_roots(name: CircuitName, lab: CircuitLab, proven: ProvenFactory) -> None:
    case = proven(name)
    tampered = []
    for position, root in enumerate(ROOT_INPUTS):
        public = list(case.witness.public_inputs)
        public[position] += 1
        assert not lab.verify(name, case.proof, public), root  # fails at verification
        tampered.append(case.witness.inputs | {root: public[position]})
    # ... and no witness claims it: the circuit stops at the root's own equality.
    for root, failure in zip(ROOT_INPUTS, lab.find_witness_failures(name, tampered), strict=True):
        assert failure is not None, root
        assert failure.get_line(failure.templates[-1]) == f"{root} === {root[:-4]};"


@pytest.mark.parametrize("name", CIRCUIT_NAMES)
def test_rejects_tampered_word(name: CircuitName, lab: CircuitLab, proven: ProvenFactory) -> None:
    case = proven(name)
    words = case.witness.public_inputs[2:]
    tampered = []
    for position in range(len(words)):
        public = list(case.witness.public_inputs)
        public[2 + position] ^= 1  # the lowest bit of the word's first field
        assert not lab.verify(name, case.proof, public), f"w{position + 1}"
        if (name, position + 1) not in UNBOUND_WORDS:
            tampered.append(case.witness.inputs | {f"w{position + 1}": public[2 + position]})
    failures = lab.find_witness_failures(name, tampered)
    assert None not in failures, failures


@pytest.mark.parametrize("name", [n for n in CIRCUIT_NAMES if "provers" not in TRACE_TREES[n]])
def test_rejects_other_provers_root(
    name: CircuitName, lab: CircuitLab, proven: ProvenFactory
) -> None:
    # A circuit that leaves the provers alone takes their root as a private input and hashes
    # it into both roots: another one does not open the pre-root.
    case = proven(name)
    root = case.witness.inputs["proversRoot"]
    assert isinstance(root, int)
    failure = lab.find_witness_failure(name, case.witness.inputs | {"proversRoot": root + 1})
    assert failure is not None
    assert failure.get_line(failure.templates[-1]) == "preRoot === pre;"
