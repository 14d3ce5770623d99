"""transfer.circom against the state machine: the rules of ops.process_transfer, each broken
alone by a forged transition (see scenarios.forge), must stop the circuit.

Each rejection names where the witness calculator stops (templates innermost first) and checks
that groth16py's proof of the witness fails verification (lab.assert_rejected)."""

from unittest.mock import patch

from chain.zk import words as words_module
from chain.zk.ops import MAX_NONCE, Operation, Transfer, process_header
from chain.zk.poseidon import FIELD_MODULUS
from chain.zk.state import (
    AMOUNT_BITS,
    Account,
    Touch,
    ZkState,
    get_account,
    get_account_index,
    put_account,
)
from tests.circuits.lab import CircuitLab, assert_proves, assert_rejected, with_changed_sibling
from tests.circuits.scenarios import (
    ALICE,
    BOB,
    CAROL,
    CTX,
    ETHER,
    FEE,
    compute_test_genesis,
    forge,
    forge_with,
    make_op,
    run,
    with_balance,
)

HEADER_MERKLE = ["QuadLevel", "QuadUpdate", "Header", "Transfer"]
CREDIT_MERKLE = ["QuadLevel", "QuadUpdate", "Credit", "Transfer"]


def test_proves_transfer_to_an_existing_account(lab: CircuitLab) -> None:
    genesis = compute_test_genesis()
    assert_proves(lab, run(genesis, make_op(genesis, ALICE, Transfer(BOB, 5 * ETHER))).witness)


def test_proves_transfer_to_oneself(lab: CircuitLab) -> None:
    # The credit runs against the root the debit left: the same leaf, written twice.
    genesis = compute_test_genesis()
    assert_proves(lab, run(genesis, make_op(genesis, ALICE, Transfer(ALICE, ETHER))).witness)


def test_rejects_insufficient_balance(lab: CircuitLab) -> None:
    genesis = compute_test_genesis()
    balance = get_account(genesis, ALICE).balance
    forged = forge(genesis, make_op(genesis, ALICE, Transfer(BOB, balance)))
    # Without the rule the signer's balance wraps around the field, to p - fee.
    assert get_account(forged.post, ALICE).balance == FIELD_MODULUS - FEE
    assert_rejected(lab, forged.witness, ["Num2Bits", "RangeCheck", "Header", "Transfer"])


def test_rejects_amount_that_wraps_around_the_field(lab: CircuitLab) -> None:
    # A "negative" amount p - x would move x from the recipient to the signer.
    genesis = compute_test_genesis()
    forged = forge(genesis, make_op(genesis, ALICE, Transfer(BOB, FIELD_MODULUS - ETHER)))
    with patch.object(words_module, "is_field_in_range", return_value=True):
        witness = forged.witness  # the builder itself refuses such a word
    assert witness.inputs["w3"] == FIELD_MODULUS - ETHER
    assert_rejected(lab, witness, ["Num2Bits", "RangeCheck", "Transfer"], {"Transfer": "(amount)"})


def test_rejects_recipient_balance_overflow(lab: CircuitLab) -> None:
    genesis = compute_test_genesis()
    rich = with_balance(genesis, get_account_index(genesis, BOB), (1 << AMOUNT_BITS) - ETHER)
    forged = forge(rich, make_op(rich, ALICE, Transfer(BOB, 2 * ETHER)))
    assert_rejected(lab, forged.witness, ["Num2Bits", "RangeCheck", "Credit", "Transfer"])


def test_rejects_changed_sibling_in_signer_path(lab: CircuitLab) -> None:
    genesis = compute_test_genesis()
    witness = run(genesis, make_op(genesis, ALICE, Transfer(BOB, ETHER))).witness
    assert_rejected(lab, with_changed_sibling(witness, "signerPath", 3, 2), HEADER_MERKLE)


def test_rejects_changed_sibling_in_recipient_path(lab: CircuitLab) -> None:
    genesis = compute_test_genesis()
    witness = run(genesis, make_op(genesis, ALICE, Transfer(BOB, ETHER))).witness
    assert_rejected(lab, with_changed_sibling(witness, "recipientPath", 0, 3), CREDIT_MERKLE)


def test_rejects_wrong_nonce(lab: CircuitLab) -> None:
    genesis = compute_test_genesis()
    op = Operation(Transfer(BOB, ETHER), ALICE, FEE, nonce=1)  # the account's nonce is 0
    assert_rejected(lab, forge(genesis, op).witness, HEADER_MERKLE)


def test_rejects_exhausted_nonce(lab: CircuitLab) -> None:
    genesis = compute_test_genesis()
    exhausted = genesis.copy()
    index = get_account_index(genesis, ALICE)
    put_account(exhausted, index, Account(ALICE, 10 * ETHER, nonce=MAX_NONCE))
    forged = forge(exhausted, make_op(exhausted, ALICE, Transfer(BOB, ETHER)))
    assert_rejected(lab, forged.witness, ["NonZero", "Header", "Transfer"])


def test_rejects_zero_recipient(lab: CircuitLab) -> None:
    genesis = compute_test_genesis()
    forged = forge(genesis, make_op(genesis, ALICE, Transfer(0, ETHER)))
    assert_rejected(lab, forged.witness, ["NonZero", "Transfer"], {"Transfer": "(to)"})


def test_rejects_credit_into_another_accounts_slot(lab: CircuitLab) -> None:
    # Carol has no account; paying her into Bob's slot would take Bob's balance.
    genesis = compute_test_genesis()
    op = make_op(genesis, ALICE, Transfer(CAROL, ETHER))
    bob_index = get_account_index(genesis, BOB)

    def pay_into_bobs_slot(state: ZkState, trace: list[Touch]) -> None:
        process_header(state, op, CTX, ETHER, trace)
        bob = state.account_records[bob_index]
        put_account(state, bob_index, Account(CAROL, bob.balance + ETHER, bob.nonce), trace)

    forged = forge_with(genesis, op, pay_into_bobs_slot)
    assert_rejected(lab, forged.witness, ["Credit", "Transfer"])
