"""exit.circom and refuse_withdraw.circom with chain/prover/escape.py: L1's escape hatch and
forced inclusion (docs/zk-state.md, "Exit proof", "Refusing a forced withdrawal").

Real proofs throughout. A false statement is refused twice where it can be: by the input
builder, which reads the state, and by the circuit, for a prover who hands it other inputs
(`assert_rejected`: the witness calculator stops at the named templates, and the proof that
groth16py makes anyway does not verify)."""

from __future__ import annotations

from dataclasses import replace
from unittest.mock import patch

import pytest

from chain.prover import escape as escape_module
from chain.prover.errors import ProverError
from chain.prover.escape import (
    EXIT_PUBLIC,
    compute_exit_account,
    compute_exit_inputs,
    compute_refusal_inputs,
    compute_refusal_inputs_for_words,
)
from chain.prover.groth16 import load_circuit, prove, verify
from chain.prover.witness import CircuitWitness
from chain.zk.ops import Transfer
from chain.zk.state import AMOUNT_BITS, compute_state_root
from tests.circuits.forced_withdrawals import (
    ALICE_BALANCE,
    ALICE_INDEX,
    BOB_INDEX,
    EMPTY_INDEX,
    ForcedCase,
    alice,
    compute_forced_cases,
    compute_withdraw_attempt,
)
from tests.circuits.lab import CircuitLab, assert_proves, assert_rejected
from tests.circuits.scenarios import (
    ALICE,
    BOB,
    CAROL,
    ETHER,
    compute_test_genesis,
    run_all,
)

BOB_BALANCE = 50 * ETHER
MEMBERSHIP = ["QuadReadLevel", "QuadMembership"]
CASES = compute_forced_cases()
REFUSED = [case for case in CASES if case.reason is not None]


def with_public(witness: CircuitWitness, names: tuple[str, ...], **changes: int) -> CircuitWitness:
    """`witness` with some inputs changed; public ones change in the statement too."""
    statement = zip(names, witness.public_inputs, strict=True)
    public = [changes.get(name, value) for name, value in statement]
    return replace(witness, inputs=witness.inputs | changes, public_inputs=public)


def force_refusal(case: ForcedCase) -> CircuitWitness:
    """The refusal's inputs for `case`, even for a valid Withdraw: what a prover would hand the
    circuit to refuse it anyway (the builder refuses to)."""
    with patch.object(escape_module, "explain_refusal", return_value="short_balance"):
        return compute_refusal_inputs_for_words(case.state, case.words)


# -- exit ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def bob_exit() -> CircuitWitness:
    return compute_exit_inputs(compute_test_genesis(), BOB_INDEX)


def test_proves_exit_of_a_funded_account(lab: CircuitLab, bob_exit: CircuitWitness) -> None:
    genesis = compute_test_genesis()
    assert bob_exit.public_inputs == [
        compute_state_root(genesis),
        BOB | BOB_INDEX << 160,
        BOB_BALANCE,
    ]
    proof = lab.prove("exit", bob_exit.inputs)
    assert lab.verify("exit", proof, bob_exit.public_inputs)
    # The proof is for that leaf alone: not another balance, address or index.
    for name, other in (
        ("balance", BOB_BALANCE + 1),
        ("account", compute_exit_account(BOB, ALICE_INDEX)),
        ("account", compute_exit_account(ALICE, BOB_INDEX)),
    ):
        tampered = with_public(bob_exit, EXIT_PUBLIC, **{name: other})
        assert not lab.verify("exit", proof, tampered.public_inputs), (name, other)


def test_proves_exit_with_the_ceremony_keys(bob_exit: CircuitWitness) -> None:
    # The node's prover path (chain.prover.groth16), with the keys L1 will hold.
    keys = load_circuit("exit")
    made = prove(keys, bob_exit.inputs, bob_exit.public_inputs)
    assert verify(keys, made, bob_exit.public_inputs)


def test_proves_exit_of_an_empty_slot(lab: CircuitLab) -> None:
    # L1 refuses a zero payout itself: the circuit need not tell an empty slot apart.
    empty = compute_exit_inputs(compute_test_genesis(), EMPTY_INDEX)
    assert empty.public_inputs[1:] == [EMPTY_INDEX << 160, 0]
    assert_proves(lab, empty)


def test_proves_exit_of_an_account_opened_later(lab: CircuitLab) -> None:
    # Carol's account opens at the next index when Alice pays her.
    state = run_all(compute_test_genesis(), [(ALICE, Transfer(CAROL, 2 * ETHER))])
    carol = compute_exit_inputs(state, 3)
    assert carol.public_inputs[1:] == [compute_exit_account(CAROL, 3), 2 * ETHER]
    assert_proves(lab, carol)


def test_rejects_exit_of_a_forged_balance(lab: CircuitLab, bob_exit: CircuitWitness) -> None:
    forged = with_public(bob_exit, EXIT_PUBLIC, balance=BOB_BALANCE + ETHER)
    assert_rejected(lab, forged, [*MEMBERSHIP, "Exit"])


def test_rejects_exit_at_another_index(lab: CircuitLab, bob_exit: CircuitWitness) -> None:
    # Bob's leaf claimed at Alice's index: the path leads elsewhere.
    forged = with_public(bob_exit, EXIT_PUBLIC, account=compute_exit_account(BOB, ALICE_INDEX))
    assert_rejected(lab, forged, [*MEMBERSHIP, "Exit"])


def test_rejects_exit_for_another_address(lab: CircuitLab, bob_exit: CircuitWitness) -> None:
    # Carol claims Bob's balance at Bob's index.
    forged = with_public(bob_exit, EXIT_PUBLIC, account=compute_exit_account(CAROL, BOB_INDEX))
    assert_rejected(lab, forged, [*MEMBERSHIP, "Exit"])


def test_rejects_exit_under_another_root(lab: CircuitLab, bob_exit: CircuitWitness) -> None:
    # Bob spent after the root the proof is of: it says nothing of the later one.
    later = run_all(compute_test_genesis(), [(BOB, Transfer(CAROL, ETHER))])
    forged = with_public(bob_exit, EXIT_PUBLIC, root=compute_state_root(later))
    assert_rejected(lab, forged, ["Exit"], {"Exit": "root === state"})


def test_rejects_exit_of_a_balance_beyond_96_bits(
    lab: CircuitLab, bob_exit: CircuitWitness
) -> None:
    forged = with_public(bob_exit, EXIT_PUBLIC, balance=1 << AMOUNT_BITS)
    assert_rejected(lab, forged, ["Num2Bits", "RangeCheck", "Exit"])


# -- refuse_withdraw ----------------------------------------------------------------------


@pytest.mark.parametrize("case", REFUSED, ids=[case.name for case in REFUSED])
def test_proves_refusal(case: ForcedCase, lab: CircuitLab) -> None:
    refusal = compute_refusal_inputs_for_words(case.state, case.words)
    root = compute_state_root(case.state)
    assert refusal.public_inputs == [root, root, *case.words]
    assert_proves(lab, refusal)


def test_proves_refusal_with_the_ceremony_keys() -> None:
    genesis = compute_test_genesis()
    refusal = compute_refusal_inputs(genesis, alice(ALICE_BALANCE))  # the fee makes it short
    keys = load_circuit("refuse_withdraw")
    made = prove(keys, refusal.inputs, refusal.public_inputs)
    assert verify(keys, made, refusal.public_inputs)
    # The proof binds the words: L1 cannot count it as the refusal of another Withdraw.
    for position, other in ((3, CAROL), (4, ALICE_BALANCE - 1)):
        public = list(refusal.public_inputs)
        public[position] = other
        assert not verify(keys, made, public), (position, other)


def test_rejects_refusal_of_a_valid_withdraw(lab: CircuitLab) -> None:
    valid = CASES[0]
    assert valid.reason is None
    with pytest.raises(ProverError, match="the Withdraw is valid at this state"):
        compute_refusal_inputs(valid.state, valid.op)
    assert_rejected(lab, force_refusal(valid), ["NonZero", "RefuseWithdraw"])


def test_rejects_refusal_that_changes_the_root(lab: CircuitLab) -> None:
    case = REFUSED[0]
    refusal = compute_refusal_inputs_for_words(case.state, case.words)
    names = ("preRoot", "postRoot", "w1", "w2", "w3")
    forged = with_public(refusal, names, postRoot=refusal.public_inputs[0] + 1)
    assert_rejected(lab, forged, ["RefuseWithdraw"], {"RefuseWithdraw": "postRoot === preRoot"})


def test_rejects_refusal_from_a_forged_leaf(lab: CircuitLab) -> None:
    # Alice's withdrawal of one ether is valid; a prover claiming she holds less is caught by
    # the path, not by the balance rule.
    valid = CASES[0]
    forged = force_refusal(valid)
    forged = replace(forged, inputs=forged.inputs | {"balance": 0})
    assert_rejected(lab, forged, [*MEMBERSHIP, "RefuseWithdraw"])


def test_exactly_one_circuit_settles_each_forced_withdraw(lab: CircuitLab) -> None:
    # For each case, the best inputs each circuit can get (the leaf at fromIndex as the state
    # holds it): exactly one satisfies its circuit, the one that explain_refusal names.
    attempts = [compute_withdraw_attempt(case.state, case.words) for case in CASES]
    refusals = [force_refusal(case).inputs for case in CASES]
    withdraw_failures = lab.find_witness_failures("withdraw", attempts)
    refusal_failures = lab.find_witness_failures("refuse_withdraw", refusals)
    for case, withdraw_failure, refusal_failure in zip(
        CASES, withdraw_failures, refusal_failures, strict=True
    ):
        withdraws = withdraw_failure is None
        refuses = refusal_failure is None
        assert withdraws != refuses, (case.name, withdraw_failure, refusal_failure)
        assert refuses == (case.reason is not None), case.name
