"""release.circom against the state machine: the rules of ops.process_release (never more than
the escrow, each message once, a non-zero amount to a non-zero recipient in its own slot),
each broken alone by a forged transition, must stop the circuit (lab.assert_rejected says
where). A release is a fast-chain message: nobody signs it, so the circuit has no header."""

from dataclasses import replace

from chain.zk.ops import Release, process_inbox
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
    BOB,
    CAROL,
    ETHER,
    compute_test_genesis,
    deliver,
    forge,
    forge_with,
    make_message,
    with_balance,
)

ESCROW = 7 * ETHER  # the test genesis's
INBOX_CHECK = ["Num2Bits", "RangeCheck", "Inbox", "Release"]


def release(state: ZkState, to: int, amount: int, skip: int = 0) -> Release:
    """A release numbered as the next message the chain expects, or `skip` numbers later."""
    return Release(state.inbox + skip, to, amount)


def compute_released(skip: int = 0) -> ZkState:
    """Genesis, then one ether released to Bob (`skip` messages after the expected one)."""
    genesis = compute_test_genesis()
    return deliver(genesis, release(genesis, BOB, ETHER, skip)).post


def test_proves_release_of_the_whole_escrow(lab: CircuitLab) -> None:
    genesis = compute_test_genesis()
    transition = deliver(genesis, release(genesis, BOB, ESCROW))
    assert (transition.post.escrow, transition.post.inbox) == (0, genesis.inbox + 1)
    assert get_account(transition.post, BOB).balance == get_account(genesis, BOB).balance + ESCROW
    assert_proves(lab, transition.witness)


def test_proves_release_after_skipped_messages(lab: CircuitLab) -> None:
    # The next five messages were refused (or were for no one here): a gap, skipped.
    released = compute_released()
    transition = deliver(released, release(released, CAROL, ETHER, skip=5))
    assert transition.post.inbox == released.inbox + 6
    assert_proves(lab, transition.witness)


def test_rejects_release_over_the_escrow(lab: CircuitLab) -> None:
    genesis = compute_test_genesis()
    forged = forge(genesis, make_message(release(genesis, BOB, ESCROW + 1)))
    assert forged.post.escrow == FIELD_MODULUS - 1
    lines = {"Release": "(newEscrow)"}
    assert_rejected(lab, forged.witness, ["Num2Bits", "RangeCheck", "Release"], lines)


def test_rejects_replayed_message(lab: CircuitLab) -> None:
    released = compute_released()
    replay = Release(released.inbox - 1, BOB, ETHER)
    forged = forge(released, make_message(replay))
    assert_rejected(lab, forged.witness, INBOX_CHECK, {"Inbox": "seq - inbox"})


def test_rejects_message_below_a_skipped_one(lab: CircuitLab) -> None:
    # Once a message applied, the refused ones below it stay refused.
    released = compute_released(skip=5)
    forged = forge(released, make_message(Release(released.inbox - 3, BOB, ETHER)))
    assert_rejected(lab, forged.witness, INBOX_CHECK)


def test_rejects_zero_amount(lab: CircuitLab) -> None:
    genesis = compute_test_genesis()
    forged = forge(genesis, make_message(release(genesis, BOB, 0)))
    assert_rejected(lab, forged.witness, ["NonZero", "Release"], {"Release": "(amount)"})


def test_rejects_amount_that_wraps_around_the_field(lab: CircuitLab) -> None:
    # p - x would add x to the escrow and take it from the recipient: w2 is range-checked.
    genesis = compute_test_genesis()
    witness = deliver(genesis, release(genesis, BOB, ETHER)).witness
    tampered = replace(witness, inputs=witness.inputs | {"w2": FIELD_MODULUS - ETHER})
    lines = {"Release": "(amount)"}
    assert_rejected(lab, tampered, ["Num2Bits", "RangeCheck", "Release"], lines)


def test_rejects_zero_recipient(lab: CircuitLab) -> None:
    genesis = compute_test_genesis()
    forged = forge(genesis, make_message(release(genesis, 0, ETHER)))
    assert_rejected(lab, forged.witness, ["NonZero", "Release"], {"Release": "(to)"})


def test_rejects_release_into_another_accounts_slot(lab: CircuitLab) -> None:
    # Carol has no account; paying her into Bob's slot would take Bob's balance.
    genesis = compute_test_genesis()
    body = release(genesis, CAROL, ETHER)
    bob_index = get_account_index(genesis, BOB)

    def pay_into_bobs_slot(state: ZkState, trace: list[Touch]) -> None:
        process_inbox(state, body.seq)
        state.escrow -= body.amount
        bob = state.account_records[bob_index]
        put_account(state, bob_index, Account(CAROL, bob.balance + ETHER, bob.nonce), trace)

    forged = forge_with(genesis, make_message(body), pay_into_bobs_slot)
    assert forged.witness.public_inputs[2] >> 224 == bob_index  # w1's toIndex
    assert_rejected(lab, forged.witness, ["Credit", "Release"])


def test_rejects_recipient_balance_overflow(lab: CircuitLab) -> None:
    genesis = compute_test_genesis()
    rich = with_balance(genesis, get_account_index(genesis, BOB), (1 << AMOUNT_BITS) - ETHER)
    forged = forge(rich, make_message(release(rich, BOB, 2 * ETHER)))
    assert_rejected(lab, forged.witness, ["Num2Bits", "RangeCheck", "Credit", "Release"])


def test_rejects_older_inbox_in_pre_root(lab: CircuitLab) -> None:
    # The inbox is private: a witness that claims an older one does not open the pre-root.
    released = compute_released()
    witness = deliver(released, release(released, BOB, ETHER)).witness
    tampered = replace(witness, inputs=witness.inputs | {"inbox": released.inbox - 1})
    assert_rejected(lab, tampered, ["Release"], {"Release": "preRoot === pre"})


def test_rejects_changed_sibling_in_recipient_path(lab: CircuitLab) -> None:
    genesis = compute_test_genesis()
    witness = deliver(genesis, release(genesis, BOB, ETHER)).witness
    merkle = ["QuadLevel", "QuadUpdate", "Credit", "Release"]
    assert_rejected(lab, with_changed_sibling(witness, "recipientPath", 1, 2), merkle)
