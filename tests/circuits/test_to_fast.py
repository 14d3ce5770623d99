"""to_fast.circom against the state machine: locking ZKPoW in escrow for the fast chain.
Each rule of ops.process_to_fast, broken alone, must stop the circuit."""

from chain.zk.ops import ToFast
from chain.zk.poseidon import FIELD_MODULUS
from chain.zk.state import AMOUNT_BITS, get_account, get_account_index
from tests.circuits.lab import CircuitLab, assert_proves, assert_rejected, with_changed_sibling
from tests.circuits.scenarios import (
    ALICE,
    BOB,
    ETHER,
    FEE,
    compute_test_genesis,
    forge,
    make_op,
    run,
)


def test_proves_lock_and_escrow_grows(lab: CircuitLab) -> None:
    genesis = compute_test_genesis()
    transition = run(genesis, make_op(genesis, ALICE, ToFast(BOB, 4 * ETHER)))
    assert transition.post.escrow == genesis.escrow + 4 * ETHER
    assert get_account(transition.post, ALICE).balance == 96 * ETHER - FEE
    assert_proves(lab, transition.witness)


def test_rejects_lock_beyond_balance(lab: CircuitLab) -> None:
    genesis = compute_test_genesis()
    forged = forge(genesis, make_op(genesis, ALICE, ToFast(BOB, 100 * ETHER)))
    assert_rejected(lab, forged.witness, ["Num2Bits", "RangeCheck", "Header", "ToFast"])


def test_rejects_zero_amount(lab: CircuitLab) -> None:
    genesis = compute_test_genesis()
    forged = forge(genesis, make_op(genesis, ALICE, ToFast(BOB, 0)))
    assert_rejected(lab, forged.witness, ["NonZero", "ToFast"])


def test_rejects_amount_that_wraps_around_the_field(lab: CircuitLab) -> None:
    # p - x would take x out of escrow and hand it to the signer: w3 is range-checked first.
    genesis = compute_test_genesis()
    witness = run(genesis, make_op(genesis, ALICE, ToFast(BOB, ETHER))).witness
    inputs = {**witness.inputs, "w3": FIELD_MODULUS - ETHER}
    tampered = type(witness)(witness.circuit, inputs, witness.public_inputs)
    assert_rejected(lab, tampered, ["Num2Bits", "RangeCheck", "ToFast"])


def test_rejects_escrow_overflow(lab: CircuitLab) -> None:
    genesis = compute_test_genesis()
    genesis.escrow = (1 << AMOUNT_BITS) - ETHER
    forged = forge(genesis, make_op(genesis, ALICE, ToFast(BOB, 2 * ETHER)))
    assert_rejected(lab, forged.witness, ["Num2Bits", "RangeCheck", "ToFast"])


def test_rejects_tampered_escrow_in_post_root(lab: CircuitLab) -> None:
    genesis = compute_test_genesis()
    witness = run(genesis, make_op(genesis, ALICE, ToFast(BOB, ETHER))).witness
    inputs = {**witness.inputs, "escrow": genesis.escrow + 10 * ETHER}
    tampered = type(witness)(witness.circuit, inputs, witness.public_inputs)
    assert_rejected(lab, tampered, ["ToFast"])


def test_rejects_changed_sibling_in_signer_path(lab: CircuitLab) -> None:
    genesis = compute_test_genesis()
    witness = run(genesis, make_op(genesis, ALICE, ToFast(BOB, ETHER))).witness
    merkle = ["QuadLevel", "QuadUpdate", "Header", "ToFast"]
    assert_rejected(lab, with_changed_sibling(witness, "signerPath", 2, 1), merkle)
    assert get_account_index(genesis, ALICE) is not None
