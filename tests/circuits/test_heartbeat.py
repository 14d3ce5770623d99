"""heartbeat.circom against the state machine: the rules of ops.process_heartbeat (the signer's
own prover slot, or an empty one that opens at balance 0; activeUntil never backwards; the
header's fee and nonce), each broken alone by a forged transition, must stop the circuit
(lab.assert_rejected says where). test_tampering covers the words."""

from dataclasses import replace

from chain.zk.ops import Heartbeat, process_header
from chain.zk.state import (
    BALANCE_OFFSET,
    PROVER_LEVELS,
    Prover,
    Touch,
    ZkState,
    compute_next_prover_index,
    get_prover,
    get_prover_index,
    put_prover,
)
from tests.circuits.lab import CircuitLab, assert_proves, assert_rejected, with_changed_sibling
from tests.circuits.scenarios import (
    ACTIVE_UNTIL,
    ALICE,
    BOB,
    BOUNTY,
    CAROL,
    CTX,
    PENALTY,
    compute_prover_state,
    compute_settled_state,
    compute_test_genesis,
    forge,
    forge_with,
    make_op,
    run,
    with_account,
)

ACTIVE_UNTIL_BITS = 32
PROVER_INDEX_BITS = 6  # w2 = proverIndex (6) | activeUntil (32)
POST_ROOT = {"Heartbeat": "postRoot === post"}
PROVER_MERKLE = ["QuadLevel", "QuadUpdate", "Heartbeat"]


def test_proves_first_heartbeat(lab: CircuitLab) -> None:
    genesis = compute_test_genesis()
    transition = run(genesis, make_op(genesis, ALICE, Heartbeat(ACTIVE_UNTIL)))
    assert get_prover(transition.post, ALICE) == Prover(ALICE, 0, ACTIVE_UNTIL)
    assert transition.witness.inputs["proverAddress"] == 0  # an empty slot
    assert transition.witness.public_inputs[3] == 0 | ACTIVE_UNTIL << PROVER_INDEX_BITS
    assert_proves(lab, transition.witness)


def test_proves_first_heartbeat_at_the_next_index(lab: CircuitLab) -> None:
    provers = with_account(compute_prover_state(), CAROL)
    transition = run(provers, make_op(provers, CAROL, Heartbeat(ACTIVE_UNTIL)))
    assert get_prover_index(transition.post, CAROL) == 2
    assert transition.witness.public_inputs[3] & ((1 << PROVER_INDEX_BITS) - 1) == 2
    assert_proves(lab, transition.witness)


def test_proves_heartbeat_that_extends_and_keeps_a_debt(lab: CircuitLab) -> None:
    settled = compute_settled_state()
    assert get_prover(settled, BOB).balance == -PENALTY
    transition = run(settled, make_op(settled, BOB, Heartbeat(ACTIVE_UNTIL + 30)))
    assert get_prover(transition.post, BOB) == Prover(BOB, -PENALTY, ACTIVE_UNTIL + 30)
    assert transition.witness.inputs["proverBalanceOffset"] == BALANCE_OFFSET - PENALTY
    assert_proves(lab, transition.witness)


def test_proves_heartbeat_at_the_same_height(lab: CircuitLab) -> None:
    settled = compute_settled_state()
    transition = run(settled, make_op(settled, ALICE, Heartbeat(ACTIVE_UNTIL)))
    assert get_prover(transition.post, ALICE) == Prover(ALICE, BOUNTY, ACTIVE_UNTIL)
    assert_proves(lab, transition.witness)


def test_rejects_active_until_going_backwards(lab: CircuitLab) -> None:
    provers = compute_prover_state()
    forged = forge(provers, make_op(provers, ALICE, Heartbeat(ACTIVE_UNTIL - 1)))
    assert get_prover(forged.post, ALICE).active_until == ACTIVE_UNTIL - 1
    lines = {"Heartbeat": "RangeCheck(ACTIVE_UNTIL_BITS())(activeUntil - proverActiveUntil)"}
    assert_rejected(lab, forged.witness, ["Num2Bits", "RangeCheck", "Heartbeat"], lines)


def test_rejects_active_until_beyond_32_bits(lab: CircuitLab) -> None:
    # One more bit would reach past w2's fields: the word has no decomposition.
    genesis = compute_test_genesis()
    witness = run(genesis, make_op(genesis, ALICE, Heartbeat(ACTIVE_UNTIL))).witness
    w2 = witness.public_inputs[3] | 1 << (PROVER_INDEX_BITS + ACTIVE_UNTIL_BITS)
    tampered = replace(witness, inputs=witness.inputs | {"w2": w2})
    assert_rejected(lab, tampered, ["Num2Bits", "UnpackWord", "Heartbeat"])


def test_rejects_heartbeat_into_another_provers_slot(lab: CircuitLab) -> None:
    # Bob signs, but writes Alice's slot: he would take her balance and her record.
    settled = compute_settled_state()
    op = make_op(settled, BOB, Heartbeat(ACTIVE_UNTIL + 30))
    alice = settled.prover_index[ALICE]

    def beat_in_alices_slot(state: ZkState, trace: list[Touch]) -> None:
        process_header(state, op, CTX, 0, trace)
        taken = Prover(BOB, state.prover_records[alice].balance, ACTIVE_UNTIL + 30)
        put_prover(state, alice, taken, trace)

    forged = forge_with(settled, op, beat_in_alices_slot)
    assert forged.witness.public_inputs[3] & ((1 << PROVER_INDEX_BITS) - 1) == alice
    lines = {"Heartbeat": "proverAddress * (proverAddress - header.from) === 0"}
    assert_rejected(lab, forged.witness, ["Heartbeat"], lines)


def test_rejects_heartbeat_signed_by_someone_else(lab: CircuitLab) -> None:
    # Alice's heartbeat in Bob's words: the header's leaf is Bob's, the prover slot Alice's.
    provers = compute_prover_state()
    witness = run(provers, make_op(provers, ALICE, Heartbeat(ACTIVE_UNTIL + 1))).witness
    bob = run(provers, make_op(provers, BOB, Heartbeat(ACTIVE_UNTIL + 1))).witness
    tampered = replace(witness, inputs=witness.inputs | {"w1": bob.inputs["w1"]})
    assert_rejected(lab, tampered, ["QuadLevel", "QuadUpdate", "Header", "Heartbeat"])


def test_rejects_new_prover_with_a_balance(lab: CircuitLab) -> None:
    # A first heartbeat opens the slot at balance 0: nobody starts with market money.
    genesis = compute_test_genesis()
    op = make_op(genesis, ALICE, Heartbeat(ACTIVE_UNTIL))

    def open_with_a_bounty(state: ZkState, trace: list[Touch]) -> None:
        process_header(state, op, CTX, 0, trace)
        index = compute_next_prover_index(state)
        put_prover(state, index, Prover(ALICE, BOUNTY, ACTIVE_UNTIL), trace)

    forged = forge_with(genesis, op, open_with_a_bounty)
    assert_rejected(lab, forged.witness, ["Heartbeat"], POST_ROOT)


def test_rejects_heartbeat_that_clears_a_debt(lab: CircuitLab) -> None:
    settled = compute_settled_state()
    op = make_op(settled, BOB, Heartbeat(ACTIVE_UNTIL + 30))

    def beat_and_forgive(state: ZkState, trace: list[Touch]) -> None:
        process_header(state, op, CTX, 0, trace)
        put_prover(state, state.prover_index[BOB], Prover(BOB, 0, ACTIVE_UNTIL + 30), trace)

    forged = forge_with(settled, op, beat_and_forgive)
    assert_rejected(lab, forged.witness, ["Heartbeat"], POST_ROOT)


def test_rejects_heartbeat_that_keeps_the_fee(lab: CircuitLab) -> None:
    provers = compute_prover_state()
    op = make_op(provers, ALICE, Heartbeat(ACTIVE_UNTIL + 1))

    def beat_without_the_pool(state: ZkState, trace: list[Touch]) -> None:
        process_header(state, op, CTX, 0, trace)
        state.fee_pool -= op.fee
        put_prover(state, 0, Prover(ALICE, 0, ACTIVE_UNTIL + 1), trace)

    forged = forge_with(provers, op, beat_without_the_pool)
    assert_rejected(lab, forged.witness, ["Heartbeat"], POST_ROOT)


def test_rejects_other_provers_root_in_pre_root(lab: CircuitLab) -> None:
    # The provers root comes from the prover's path: a sibling changed at its top level opens
    # another root (one changed below would not lead up the path at all).
    provers = compute_prover_state()
    witness = run(provers, make_op(provers, BOB, Heartbeat(ACTIVE_UNTIL + 1))).witness
    changed = with_changed_sibling(witness, "proverPath", PROVER_LEVELS - 1, 1)
    assert_rejected(lab, changed, ["Heartbeat"], {"Heartbeat": "preRoot === pre"})


def test_rejects_changed_sibling_in_prover_path(lab: CircuitLab) -> None:
    provers = compute_prover_state()
    witness = run(provers, make_op(provers, BOB, Heartbeat(ACTIVE_UNTIL + 1))).witness
    assert_rejected(lab, with_changed_sibling(witness, "proverPath", 0, 0), PROVER_MERKLE)
