"""market_settle.circom against the state machine: the rules of ops.process_market_settle
(paid within the fee pool, bounties within what is paid, each entry's prover present unless
its delta is 0, each balance offset within [0, 2^128)), each broken alone by a forged
transition, must stop the circuit (lab.assert_rejected says where). A settlement is not
signed, so the circuit has no header. test_tampering covers the words."""

from dataclasses import replace

from chain.zk.ops import MarketSettle, SettleEntry
from chain.zk.poseidon import FIELD_MODULUS
from chain.zk.state import (
    AMOUNT_BITS,
    BALANCE_OFFSET,
    EMPTY_PROVER,
    PROVER_BALANCE_BITS,
    Touch,
    ZkState,
    get_prover,
    get_prover_at,
    put_prover,
)
from tests.circuits.lab import CircuitLab, assert_proves, assert_rejected
from tests.circuits.scenarios import (
    ALICE,
    BOB,
    BOUNTY,
    CAROL,
    FEE,
    PENALTY,
    compute_prover_state,
    compute_settled_state,
    compute_test_genesis,
    forge,
    forge_with,
    make_settle,
    run,
    with_prover_balance,
)

PROVER_INDEX_BITS = 6  # an entry's word: proverIndex (6) | deltaOffset (128)
POST_ROOT = {"MarketSettle": "postRoot === post"}
ENTRY_RANGE = ["Num2Bits", "RangeCheck", "SettleEntry", "MarketSettle"]


def funded(state: ZkState, fee_pool: int = 10 * FEE) -> ZkState:
    """`state` with more fees in the pool: the ops whose proofs the bounties pay for."""
    changed = state.copy()
    changed.fee_pool += fee_pool
    return changed


def test_proves_bounty_penalty_and_burn(lab: CircuitLab) -> None:
    provers = funded(compute_prover_state())
    transition = run(provers, make_settle(BOUNTY + FEE, (0, BOUNTY), (1, -PENALTY)))
    post = transition.post
    assert get_prover(post, ALICE).balance == BOUNTY
    assert get_prover(post, BOB).balance == -PENALTY
    assert post.fee_pool == provers.fee_pool - BOUNTY - FEE  # FEE paid beyond bounties: burned
    assert transition.witness.inputs["w3"] == 1 | (BALANCE_OFFSET - PENALTY) << PROVER_INDEX_BITS
    assert_proves(lab, transition.witness)


def test_proves_bounty_that_works_off_a_debt(lab: CircuitLab) -> None:
    settled = funded(compute_settled_state())
    transition = run(settled, make_settle(BOUNTY, (1, BOUNTY)))
    assert get_prover(transition.post, BOB).balance == BOUNTY - PENALTY
    assert_proves(lab, transition.witness)


def test_proves_two_entries_for_one_prover(lab: CircuitLab) -> None:
    # The second entry's path is in the tree the first left.
    provers = funded(compute_prover_state())
    transition = run(provers, make_settle(BOUNTY, (0, BOUNTY), (0, -PENALTY)))
    assert get_prover(transition.post, ALICE).balance == BOUNTY - PENALTY
    assert_proves(lab, transition.witness)


def test_proves_unused_entries_on_an_empty_tree(lab: CircuitLab) -> None:
    # Nothing to pay anyone, and no prover yet: both entries name empty slot 0 with delta 0.
    genesis = funded(compute_test_genesis())
    transition = run(genesis, make_settle(FEE))
    assert transition.post.provers.root == genesis.provers.root
    assert transition.post.fee_pool == genesis.fee_pool - FEE
    assert_proves(lab, transition.witness)


def test_proves_balances_at_the_edges_of_their_range(lab: CircuitLab) -> None:
    provers = with_prover_balance(funded(compute_prover_state()), 0, BALANCE_OFFSET - BOUNTY)
    transition = run(provers, make_settle(BOUNTY, (0, BOUNTY - 1), (1, -BALANCE_OFFSET)))
    assert get_prover(transition.post, ALICE).balance_offset == (1 << PROVER_BALANCE_BITS) - 1
    assert get_prover(transition.post, BOB).balance_offset == 0
    assert_proves(lab, transition.witness)


def test_rejects_settlement_of_a_nonexistent_prover(lab: CircuitLab) -> None:
    # Slot 2 is empty: a bounty for it would leave the pool and go to nobody's balance.
    provers = funded(compute_prover_state())
    forged = forge(provers, make_settle(BOUNTY, (2, BOUNTY)))
    assert get_prover_at(forged.post, 2) == EMPTY_PROVER
    lines = {"SettleEntry": "delta * isEmpty === 0"}
    assert_rejected(lab, forged.witness, ["SettleEntry", "MarketSettle"], lines)


def test_rejects_settlement_that_claims_a_prover_in_an_empty_slot(lab: CircuitLab) -> None:
    # Carol never sent a heartbeat: a witness that claims slot 2 holds her does not open it.
    provers = funded(compute_prover_state())
    witness = forge(provers, make_settle(BOUNTY, (2, BOUNTY))).witness
    claimed = {
        "proverAddress": [CAROL, ALICE],
        "proverBalanceOffset": [BALANCE_OFFSET, BALANCE_OFFSET],
    }
    tampered = replace(witness, inputs=witness.inputs | claimed)
    assert_rejected(lab, tampered, ["QuadLevel", "QuadUpdate", "SettleEntry", "MarketSettle"])


def test_rejects_bounties_beyond_what_is_paid(lab: CircuitLab) -> None:
    provers = funded(compute_prover_state())
    forged = forge(provers, make_settle(BOUNTY - 1, (0, BOUNTY)))
    lines = {"MarketSettle": "RangeCheck(AMOUNT_BITS())(paid - bounties)"}
    assert_rejected(lab, forged.witness, ["Num2Bits", "RangeCheck", "MarketSettle"], lines)


def test_rejects_penalty_that_funds_a_bounty(lab: CircuitLab) -> None:
    # Σ delta is 0 <= paid, but Bob's debt is never collected while Alice's bounty is: money
    # made out of nothing.
    provers = funded(compute_prover_state())
    forged = forge(provers, make_settle(0, (0, BOUNTY), (1, -BOUNTY)))
    lines = {"MarketSettle": "RangeCheck(AMOUNT_BITS())(paid - bounties)"}
    assert_rejected(lab, forged.witness, ["Num2Bits", "RangeCheck", "MarketSettle"], lines)


def test_rejects_paying_more_than_the_fee_pool(lab: CircuitLab) -> None:
    provers = compute_prover_state()
    forged = forge(provers, make_settle(provers.fee_pool + 1, (0, BOUNTY)))
    assert forged.post.fee_pool == FIELD_MODULUS - 1
    lines = {"MarketSettle": "RangeCheck(AMOUNT_BITS())(newFeePool)"}
    assert_rejected(lab, forged.witness, ["Num2Bits", "RangeCheck", "MarketSettle"], lines)


def test_rejects_paid_of_2_to_the_96(lab: CircuitLab) -> None:
    genesis = compute_test_genesis()
    genesis.fee_pool = (1 << AMOUNT_BITS) - 1
    witness = run(genesis, make_settle(FEE)).witness
    tampered = replace(witness, inputs=witness.inputs | {"w1": 1 << AMOUNT_BITS})
    lines = {"MarketSettle": "RangeCheck(AMOUNT_BITS())(paid)"}
    assert_rejected(lab, tampered, ["Num2Bits", "RangeCheck", "MarketSettle"], lines)


def test_rejects_balance_offset_above_its_range(lab: CircuitLab) -> None:
    provers = with_prover_balance(funded(compute_prover_state()), 0, BALANCE_OFFSET - 1)
    forged = forge(provers, make_settle(1, (0, 1)))
    assert get_prover(forged.post, ALICE).balance_offset == 1 << PROVER_BALANCE_BITS
    assert_rejected(lab, forged.witness, ENTRY_RANGE)


def test_rejects_balance_offset_below_zero(lab: CircuitLab) -> None:
    provers = with_prover_balance(funded(compute_prover_state()), 1, -BALANCE_OFFSET)
    forged = forge(provers, make_settle(0, (1, -1)))
    assert get_prover(forged.post, BOB).balance_offset == FIELD_MODULUS - 1
    assert_rejected(lab, forged.witness, ENTRY_RANGE)


def test_rejects_entry_word_wider_than_its_fields(lab: CircuitLab) -> None:
    # A delta offset of 2^128 or more has no place in the word: no decomposition.
    provers = funded(compute_prover_state())
    witness = run(provers, make_settle(BOUNTY, (0, BOUNTY))).witness
    w2 = witness.public_inputs[3] | 1 << (PROVER_INDEX_BITS + PROVER_BALANCE_BITS)
    tampered = replace(witness, inputs=witness.inputs | {"w2": w2})
    assert_rejected(lab, tampered, ["Num2Bits", "UnpackWord", "SettleEntry", "MarketSettle"])


def test_rejects_entry_in_another_provers_slot(lab: CircuitLab) -> None:
    # Alice's bounty written into Bob's slot: the entry's index names the slot it writes.
    provers = funded(compute_prover_state())
    op = make_settle(BOUNTY, (0, BOUNTY))

    def pay_bobs_slot(state: ZkState, trace: list[Touch]) -> None:
        state.fee_pool -= BOUNTY
        put_prover(state, 1, replace(get_prover_at(state, 1), balance=BOUNTY), trace)
        put_prover(state, 0, get_prover_at(state, 0), trace)

    forged = forge_with(provers, op, pay_bobs_slot)
    assert_rejected(lab, forged.witness, ["QuadLevel", "QuadUpdate", "SettleEntry", "MarketSettle"])


def test_rejects_entry_that_changes_active_until(lab: CircuitLab) -> None:
    # Only a heartbeat, which its prover signs, moves activeUntil.
    provers = funded(compute_prover_state())
    op = make_settle(BOUNTY, (0, BOUNTY))

    def pay_and_extend(state: ZkState, trace: list[Touch]) -> None:
        state.fee_pool -= BOUNTY
        alice = get_prover_at(state, 0)
        put_prover(state, 0, replace(alice, balance=BOUNTY, active_until=1 << 31), trace)
        put_prover(state, 0, get_prover_at(state, 0), trace)

    forged = forge_with(provers, op, pay_and_extend)
    # The circuit's first entry keeps activeUntil, so the second entry's path, in the forged
    # tree, does not start where the first entry left the tree.
    lines = {"MarketSettle": "entry[i].oldRoot === entry[i - 1].newRoot"}
    assert_rejected(lab, forged.witness, ["MarketSettle"], lines)


def test_rejects_settlement_that_moves_another_global(lab: CircuitLab) -> None:
    provers = funded(compute_prover_state())
    op = make_settle(BOUNTY, (0, BOUNTY))

    def pay_and_touch_escrow(state: ZkState, trace: list[Touch]) -> None:
        state.fee_pool -= BOUNTY
        state.escrow += BOUNTY
        put_prover(state, 0, replace(get_prover_at(state, 0), balance=BOUNTY), trace)
        put_prover(state, 0, get_prover_at(state, 0), trace)

    forged = forge_with(provers, op, pay_and_touch_escrow)
    assert_rejected(lab, forged.witness, ["MarketSettle"], POST_ROOT)


def test_rejects_second_entry_against_the_pre_state(lab: CircuitLab) -> None:
    # Each entry starts from the tree the one before left, not from the pre-state.
    provers = funded(compute_prover_state())
    witness = run(provers, make_settle(BOUNTY, (0, BOUNTY), (1, -PENALTY))).witness
    stale = witness.inputs | {"proverPath": [provers.provers.get_path(i) for i in (0, 1)]}
    tampered = replace(witness, inputs=stale)
    lines = {"MarketSettle": "entry[i].oldRoot === entry[i - 1].newRoot"}
    assert_rejected(lab, tampered, ["MarketSettle"], lines)


def test_rejects_changed_sibling_in_an_entrys_path(lab: CircuitLab) -> None:
    provers = funded(compute_prover_state())
    witness = run(provers, make_settle(BOUNTY, (0, BOUNTY), (1, -PENALTY))).witness
    path = witness.inputs["proverPath"]
    assert isinstance(path, list)
    changed = [[list(children) for children in entry] for entry in path]
    changed[1][0][2] += 1
    tampered = replace(witness, inputs=witness.inputs | {"proverPath": changed})
    assert_rejected(lab, tampered, ["QuadLevel", "QuadUpdate", "SettleEntry", "MarketSettle"])


def test_unused_entry_settles_like_a_zero_delta() -> None:
    # What the words say of an unused entry: index 0, delta 0 (offset 2^127).
    provers = compute_prover_state()
    body = make_settle(0).body
    assert isinstance(body, MarketSettle)
    assert body.entries == (SettleEntry(0, 0), SettleEntry(0, 0))
    witness = run(provers, make_settle(0)).witness
    assert witness.public_inputs[3:] == [BALANCE_OFFSET << PROVER_INDEX_BITS] * 2
