"""deposit.circom against the state machine: the rules of ops.process_deposit (a non-zero
amount below 2^96 to a non-zero recipient, in its own slot, without overflowing it), each
broken alone by a forged transition, must stop the circuit (lab.assert_rejected says where).
A deposit is not signed, so the circuit has no header, and it leaves every global alone:
the ZKPoW is held by the rollup on L1, and the rollup, not the circuit, orders the deposits
by the number in w1, which the proof binds."""

from dataclasses import replace
from unittest.mock import patch

import pytest

from chain.zk import words as words_module
from chain.zk.ops import MAX_SEQ, process_credit
from chain.zk.poseidon import FIELD_MODULUS
from chain.zk.registry import WORD_LAYOUTS
from chain.zk.state import (
    ADDRESS_BITS,
    AMOUNT_BITS,
    SEQ_BITS,
    Account,
    Touch,
    ZkState,
    get_account,
    get_account_index,
    put_account,
)
from chain.zk.words import compute_layout_width
from tests.circuits.conftest import ProvenFactory
from tests.circuits.lab import CircuitLab, assert_proves, assert_rejected, with_changed_sibling
from tests.circuits.scenarios import (
    BOB,
    CAROL,
    ETHER,
    FIRST_DEPOSIT,
    compute_test_genesis,
    forge,
    forge_with,
    make_deposit,
    run,
    with_balance,
)

TO_INDEX_SHIFT = SEQ_BITS + ADDRESS_BITS  # w1 = index (64) | to (160) | toIndex (12)
W1_BITS = compute_layout_width(WORD_LAYOUTS["deposit"][0])
AMOUNT_CHECK = ["Num2Bits", "RangeCheck", "Deposit"]
POST_ROOT = {"Deposit": "postRoot === post"}


def globals_of(state: ZkState) -> tuple[int, int, int]:
    return state.fee_pool, state.escrow, state.inbox


def test_proves_deposit_to_an_existing_account(lab: CircuitLab) -> None:
    genesis = compute_test_genesis()
    transition = run(genesis, make_deposit(BOB, 5 * ETHER))
    before = get_account(genesis, BOB).balance
    assert get_account(transition.post, BOB).balance == before + 5 * ETHER
    assert transition.trace[0].index == get_account_index(genesis, BOB)
    assert globals_of(transition.post) == globals_of(genesis)
    assert_proves(lab, transition.witness)


def test_proves_deposit_that_opens_an_account(lab: CircuitLab) -> None:
    genesis = compute_test_genesis()
    assert get_account_index(genesis, CAROL) is None
    transition = run(genesis, make_deposit(CAROL, 2 * ETHER))
    new_index = len(genesis.account_records)  # Carol's opens at the next index
    assert get_account_index(transition.post, CAROL) == new_index
    assert transition.witness.public_inputs[2] >> TO_INDEX_SHIFT == new_index  # w1's toIndex
    assert get_account(transition.post, CAROL) == Account(CAROL, 2 * ETHER)
    assert globals_of(transition.post) == globals_of(genesis)
    assert_proves(lab, transition.witness)


def test_proves_deposit_with_the_last_deposit_number(lab: CircuitLab) -> None:
    genesis = compute_test_genesis()
    transition = run(genesis, make_deposit(BOB, ETHER, index=MAX_SEQ))
    assert transition.witness.public_inputs[2] & MAX_SEQ == MAX_SEQ
    assert_proves(lab, transition.witness)


def test_proof_binds_the_deposit_number(lab: CircuitLab, proven: ProvenFactory) -> None:
    # No state holds the number, so only the proof ties the credit to the rollup's deposit.
    case = proven("deposit")
    assert case.witness.public_inputs[2] & MAX_SEQ == FIRST_DEPOSIT
    for other in (0, FIRST_DEPOSIT + 1, MAX_SEQ):
        public = list(case.witness.public_inputs)
        public[2] = public[2] - FIRST_DEPOSIT + other
        assert not lab.verify("deposit", case.proof, public), other


def test_rejects_first_word_wider_than_its_fields(lab: CircuitLab) -> None:
    # A deposit number has 64 bits: one past them would be read as `to`'s (another recipient,
    # which the rollup sees), and past the 236 bits of w1's fields the word has no fields.
    assert W1_BITS == 236
    genesis = compute_test_genesis()
    witness = run(genesis, make_deposit(BOB, ETHER)).witness
    tampered = replace(
        witness, inputs=witness.inputs | {"w1": witness.public_inputs[2] | 1 << W1_BITS}
    )
    assert_rejected(lab, tampered, ["Num2Bits", "UnpackWord", "Deposit"])


def test_rejects_zero_amount(lab: CircuitLab) -> None:
    genesis = compute_test_genesis()
    forged = forge(genesis, make_deposit(BOB, 0))
    assert_rejected(lab, forged.witness, ["NonZero", "Deposit"], {"Deposit": "NonZero()(amount)"})


def test_rejects_amount_of_2_to_the_96(lab: CircuitLab) -> None:
    genesis = compute_test_genesis()
    forged = forge(genesis, make_deposit(CAROL, 1 << AMOUNT_BITS))
    with patch.object(words_module, "is_field_in_range", return_value=True):
        witness = forged.witness  # the builder itself refuses such a word
    assert witness.inputs["w2"] == 1 << AMOUNT_BITS
    lines = {"Deposit": "RangeCheck(AMOUNT_BITS())(amount)"}
    assert_rejected(lab, witness, AMOUNT_CHECK, lines)


def test_rejects_amount_that_wraps_around_the_field(lab: CircuitLab) -> None:
    # p - x would take x from the recipient.
    genesis = compute_test_genesis()
    witness = run(genesis, make_deposit(BOB, ETHER)).witness
    tampered = replace(witness, inputs=witness.inputs | {"w2": FIELD_MODULUS - ETHER})
    lines = {"Deposit": "RangeCheck(AMOUNT_BITS())(amount)"}
    assert_rejected(lab, tampered, AMOUNT_CHECK, lines)


def test_rejects_zero_recipient(lab: CircuitLab) -> None:
    genesis = compute_test_genesis()
    forged = forge(genesis, make_deposit(0, ETHER))
    assert_rejected(lab, forged.witness, ["NonZero", "Deposit"], {"Deposit": "NonZero()(to)"})


def test_rejects_recipient_balance_overflow(lab: CircuitLab) -> None:
    genesis = compute_test_genesis()
    rich = with_balance(genesis, genesis.account_index[BOB], (1 << AMOUNT_BITS) - ETHER)
    forged = forge(rich, make_deposit(BOB, 2 * ETHER))
    assert get_account(forged.post, BOB).balance == (1 << AMOUNT_BITS) + ETHER
    assert_rejected(lab, forged.witness, ["Num2Bits", "RangeCheck", "Credit", "Deposit"])


def test_rejects_deposit_into_another_accounts_slot(lab: CircuitLab) -> None:
    # Carol has no account; crediting her in Bob's slot would take Bob's balance.
    genesis = compute_test_genesis()
    op = make_deposit(CAROL, ETHER)
    bob_index = genesis.account_index[BOB]

    def pay_into_bobs_slot(state: ZkState, trace: list[Touch]) -> None:
        bob = state.account_records[bob_index]
        put_account(state, bob_index, Account(CAROL, bob.balance + ETHER, bob.nonce), trace)

    forged = forge_with(genesis, op, pay_into_bobs_slot)
    assert forged.witness.public_inputs[2] >> TO_INDEX_SHIFT == bob_index  # w1's toIndex
    assert_rejected(lab, forged.witness, ["Credit", "Deposit"])


@pytest.mark.parametrize("counter", ["fee_pool", "escrow", "inbox"])
def test_rejects_deposit_that_moves_a_global(counter: str, lab: CircuitLab) -> None:
    # Unlike a release, a deposit takes nothing from the escrow and no fast-chain message
    # number; nobody pays a fee for it.
    genesis = compute_test_genesis()
    op = make_deposit(BOB, ETHER)

    def credit_and_move(state: ZkState, trace: list[Touch]) -> None:
        process_credit(state, BOB, ETHER, trace)
        setattr(state, counter, getattr(state, counter) + 1)

    forged = forge_with(genesis, op, credit_and_move)
    assert globals_of(forged.post) != globals_of(genesis)
    assert_rejected(lab, forged.witness, ["Deposit"], POST_ROOT)


def test_rejects_other_escrow_in_pre_root(lab: CircuitLab) -> None:
    # The globals are private: a witness that claims others does not open the pre-root.
    genesis = compute_test_genesis()
    witness = run(genesis, make_deposit(BOB, ETHER)).witness
    tampered = replace(witness, inputs=witness.inputs | {"escrow": genesis.escrow + ETHER})
    assert_rejected(lab, tampered, ["Deposit"], {"Deposit": "preRoot === pre"})


def test_rejects_changed_sibling_in_recipient_path(lab: CircuitLab) -> None:
    genesis = compute_test_genesis()
    witness = run(genesis, make_deposit(BOB, ETHER)).witness
    merkle = ["QuadLevel", "QuadUpdate", "Credit", "Deposit"]
    assert_rejected(lab, with_changed_sibling(witness, "recipientPath", 1, 2), merkle)
