"""withdraw.circom against the state machine: burning ZKPoW here for the rollup to pay on L1.
Each rule of ops.process_withdraw (and of the header it shares with every signed operation),
broken alone by a forged transition, must stop the circuit. The amount leaves the ZK chain:
no escrow holds it, and the only global that moves is the fee pool."""

from dataclasses import replace
from unittest.mock import patch

from chain.zk import words as words_module
from chain.zk.ops import MAX_NONCE, Operation, Withdraw, process_header
from chain.zk.poseidon import FIELD_MODULUS
from chain.zk.state import (
    ADDRESS_BITS,
    AMOUNT_BITS,
    Account,
    Touch,
    ZkState,
    get_account,
    get_account_index,
    put_account,
)
from tests.circuits.conftest import ProvenFactory
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
)

ALICE_BALANCE = 100 * ETHER  # the test genesis's
HEADER_MERKLE = ["QuadLevel", "QuadUpdate", "Header", "Withdraw"]
HEADER_BALANCE = ["Num2Bits", "RangeCheck", "Header", "Withdraw"]
WORD_CHECK = ["Num2Bits", "RangeCheck", "Withdraw"]
POST_ROOT = {"Withdraw": "postRoot === post"}


def test_proves_withdraw_and_the_amount_leaves(lab: CircuitLab) -> None:
    genesis = compute_test_genesis()
    transition = run(genesis, make_op(genesis, ALICE, Withdraw(CAROL, 4 * ETHER)))
    assert get_account(transition.post, ALICE) == Account(ALICE, ALICE_BALANCE - 4 * ETHER - FEE, 1)
    assert get_account_index(transition.post, CAROL) is None  # an L1 address: no account here
    assert transition.post.fee_pool == genesis.fee_pool + FEE
    assert (transition.post.escrow, transition.post.inbox) == (genesis.escrow, genesis.inbox)
    assert_proves(lab, transition.witness)


def test_proves_withdraw_of_the_whole_balance(lab: CircuitLab) -> None:
    genesis = compute_test_genesis()
    transition = run(genesis, make_op(genesis, ALICE, Withdraw(BOB, ALICE_BALANCE - FEE)))
    assert get_account(transition.post, ALICE).balance == 0
    assert_proves(lab, transition.witness)


def test_proof_binds_the_l1_recipient_and_amount(lab: CircuitLab, proven: ProvenFactory) -> None:
    # The rollup pays w3 to w2: a proof of Alice's withdrawal to Carol pays no one else, and
    # no other amount. (No leaf holds the recipient: only the proof binds it.)
    case = proven("withdraw")
    assert case.witness.public_inputs[3:] == [CAROL, 3 * ETHER]
    for position, other in ((3, BOB), (3, ALICE), (4, 3 * ETHER + 1), (4, ETHER)):
        public = list(case.witness.public_inputs)
        public[position] = other
        assert not lab.verify("withdraw", case.proof, public), (position, other)


def test_rejects_withdraw_above_balance_and_fee(lab: CircuitLab) -> None:
    genesis = compute_test_genesis()
    forged = forge(genesis, make_op(genesis, ALICE, Withdraw(BOB, ALICE_BALANCE - FEE + 1)))
    assert get_account(forged.post, ALICE).balance == FIELD_MODULUS - 1
    assert_rejected(lab, forged.witness, HEADER_BALANCE)


def test_rejects_zero_amount(lab: CircuitLab) -> None:
    genesis = compute_test_genesis()
    forged = forge(genesis, make_op(genesis, ALICE, Withdraw(BOB, 0)))
    assert_rejected(lab, forged.witness, ["NonZero", "Withdraw"], {"Withdraw": "NonZero()(w3)"})


def test_rejects_amount_of_2_to_the_96(lab: CircuitLab) -> None:
    genesis = compute_test_genesis()
    forged = forge(genesis, make_op(genesis, ALICE, Withdraw(BOB, 1 << AMOUNT_BITS)))
    with patch.object(words_module, "is_field_in_range", return_value=True):
        witness = forged.witness  # the builder itself refuses such a word
    assert witness.inputs["w3"] == 1 << AMOUNT_BITS
    assert_rejected(lab, witness, WORD_CHECK, {"Withdraw": "RangeCheck(AMOUNT_BITS())(w3)"})


def test_rejects_amount_that_wraps_around_the_field(lab: CircuitLab) -> None:
    # p - x would pay x to the signer and still have L1 pay out p - x.
    genesis = compute_test_genesis()
    witness = run(genesis, make_op(genesis, ALICE, Withdraw(BOB, ETHER))).witness
    tampered = replace(witness, inputs=witness.inputs | {"w3": FIELD_MODULUS - ETHER})
    assert_rejected(lab, tampered, WORD_CHECK, {"Withdraw": "RangeCheck(AMOUNT_BITS())(w3)"})


def test_rejects_zero_recipient(lab: CircuitLab) -> None:
    genesis = compute_test_genesis()
    forged = forge(genesis, make_op(genesis, ALICE, Withdraw(0, ETHER)))
    assert_rejected(lab, forged.witness, ["NonZero", "Withdraw"], {"Withdraw": "NonZero()(w2)"})


def test_rejects_recipient_wider_than_an_address(lab: CircuitLab) -> None:
    # The rollup pays the 160-bit address: a wider w2 would name two recipients at once.
    genesis = compute_test_genesis()
    witness = run(genesis, make_op(genesis, ALICE, Withdraw(BOB, ETHER))).witness
    tampered = replace(witness, inputs=witness.inputs | {"w2": BOB | 1 << ADDRESS_BITS})
    assert_rejected(lab, tampered, WORD_CHECK, {"Withdraw": "RangeCheck(ADDRESS_BITS())(w2)"})


def test_rejects_wrong_nonce(lab: CircuitLab) -> None:
    genesis = compute_test_genesis()
    op = Operation(Withdraw(BOB, ETHER), ALICE, FEE, nonce=1)  # the account's nonce is 0
    assert_rejected(lab, forge(genesis, op).witness, HEADER_MERKLE)


def test_rejects_exhausted_nonce(lab: CircuitLab) -> None:
    genesis = compute_test_genesis()
    exhausted = genesis.copy()
    index = genesis.account_index[ALICE]
    put_account(exhausted, index, Account(ALICE, 10 * ETHER, nonce=MAX_NONCE))
    forged = forge(exhausted, make_op(exhausted, ALICE, Withdraw(BOB, ETHER)))
    assert_rejected(lab, forged.witness, ["NonZero", "Header", "Withdraw"])


def test_rejects_withdraw_that_keeps_the_amount(lab: CircuitLab) -> None:
    # The signer pays the fee alone: L1 would pay out ZKPoW that never left the ZK chain.
    genesis = compute_test_genesis()
    op = make_op(genesis, ALICE, Withdraw(BOB, ETHER))
    forged = forge_with(genesis, op, lambda state, trace: process_header(state, op, CTX, 0, trace))
    assert get_account(forged.post, ALICE).balance == ALICE_BALANCE - FEE
    assert_rejected(lab, forged.witness, ["Withdraw"], POST_ROOT)


def test_rejects_withdraw_into_the_escrow(lab: CircuitLab) -> None:
    # What a ToFast does: a withdrawal that also locked the amount would count it twice.
    genesis = compute_test_genesis()
    op = make_op(genesis, ALICE, Withdraw(BOB, ETHER))

    def spend_and_lock(state: ZkState, trace: list[Touch]) -> None:
        process_header(state, op, CTX, ETHER, trace)
        state.escrow += ETHER

    forged = forge_with(genesis, op, spend_and_lock)
    assert forged.post.escrow == genesis.escrow + ETHER
    assert_rejected(lab, forged.witness, ["Withdraw"], POST_ROOT)


def test_rejects_fee_kept_out_of_the_pool(lab: CircuitLab) -> None:
    genesis = compute_test_genesis()
    op = make_op(genesis, ALICE, Withdraw(BOB, ETHER))

    def spend_without_pooling(state: ZkState, trace: list[Touch]) -> None:
        process_header(state, op, CTX, ETHER, trace)
        state.fee_pool -= FEE

    forged = forge_with(genesis, op, spend_without_pooling)
    assert forged.post.fee_pool == genesis.fee_pool
    assert_rejected(lab, forged.witness, ["Withdraw"], POST_ROOT)


def test_rejects_changed_sibling_in_signer_path(lab: CircuitLab) -> None:
    genesis = compute_test_genesis()
    witness = run(genesis, make_op(genesis, ALICE, Withdraw(BOB, ETHER))).witness
    assert_rejected(lab, with_changed_sibling(witness, "signerPath", 2, 1), HEADER_MERKLE)
