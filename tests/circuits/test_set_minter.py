"""set_minter.circom against the state machine: the rules of ops.process_set_minter (only the
minter hands over, to a non-zero address, flagged as a fast-chain contract exactly when the
word's fastChain bit says so, and nothing but the minter changes), each broken alone by a
forged transition, must stop the circuit (lab.assert_rejected says where)."""

from dataclasses import replace

import pytest

from chain.zk.genesis import GAME_PASS_COLLECTION, REWARD_COLLECTION
from chain.zk.ops import InvalidOp, Mint, SetMinter, process_header
from chain.zk.registry import WORD_LAYOUTS, apply_operation
from chain.zk.state import FAST_MINTER, Touch, ZkState, get_collection, put_collection
from chain.zk.words import compute_layout_width
from tests.circuits.conftest import ProvenFactory
from tests.circuits.lab import CircuitLab, assert_proves, assert_rejected, with_changed_sibling
from tests.circuits.scenarios import (
    ALICE,
    BOB,
    CTX,
    MINTER,
    REWARD_ROUND,
    REWARDER,
    compute_rewarder_state,
    compute_test_genesis,
    deliver,
    forge,
    forge_with,
    make_op,
    reward,
    run,
    run_all,
    with_account,
)

COLLECTION_MERKLE = ["QuadLevel", "QuadUpdate", "SetMinter"]
UNUSED_COLLECTION = 3  # no minter at genesis
W2 = 3  # w2's position in the public inputs: preRoot, postRoot, w1, w2
FAST_CHAIN_BIT = compute_layout_width(WORD_LAYOUTS["set_minter"][1]) - 1  # w2's last field


def test_proves_handover_to_another_account_and_the_new_minter_mints(lab: CircuitLab) -> None:
    genesis = compute_test_genesis()
    body = SetMinter(REWARD_COLLECTION, ALICE, fast_chain=0)
    handover = run(genesis, make_op(genesis, MINTER, body))
    assert get_collection(handover.post, REWARD_COLLECTION) == replace(
        get_collection(genesis, REWARD_COLLECTION), minter=ALICE
    )
    assert_proves(lab, handover.witness)
    mint = Mint(REWARD_COLLECTION, BOB, metadata=0xABC, round=REWARD_ROUND)
    assert_proves(lab, run(handover.post, make_op(handover.post, ALICE, mint)).witness)


def test_proves_handover_to_a_fast_chain_contract_and_its_message_mints(lab: CircuitLab) -> None:
    genesis = compute_test_genesis()
    body = SetMinter(REWARD_COLLECTION, REWARDER, fast_chain=1)
    handover = run(genesis, make_op(genesis, MINTER, body))
    assert get_collection(handover.post, REWARD_COLLECTION).minter == FAST_MINTER | REWARDER
    assert_proves(lab, handover.witness)
    message = reward(handover.post, REWARD_COLLECTION, REWARD_ROUND)
    assert_proves(lab, deliver(handover.post, message).witness)


def test_rejects_handover_by_someone_not_the_minter(lab: CircuitLab) -> None:
    genesis = compute_test_genesis()
    forged = forge(genesis, make_op(genesis, ALICE, SetMinter(REWARD_COLLECTION, ALICE, 0)))
    assert_rejected(lab, forged.witness, COLLECTION_MERKLE, {"SetMinter": "collection."})


def test_rejects_handover_by_the_former_minter(lab: CircuitLab) -> None:
    handed_over = run_all(
        compute_test_genesis(), [(MINTER, SetMinter(REWARD_COLLECTION, ALICE, 0))]
    )
    op = make_op(handed_over, MINTER, SetMinter(REWARD_COLLECTION, MINTER, 0))
    assert_rejected(lab, forge(handed_over, op).witness, COLLECTION_MERKLE)


def test_rejects_taking_over_an_unused_collection(lab: CircuitLab) -> None:
    # Its minter is 0, and no signer is address 0 ("no such collection").
    genesis = compute_test_genesis()
    forged = forge(genesis, make_op(genesis, ALICE, SetMinter(UNUSED_COLLECTION, ALICE, 0)))
    assert_rejected(lab, forged.witness, COLLECTION_MERKLE)


def test_rejects_zero_new_minter(lab: CircuitLab) -> None:
    genesis = compute_test_genesis()
    forged = forge(genesis, make_op(genesis, MINTER, SetMinter(REWARD_COLLECTION, 0, 1)))
    assert_rejected(lab, forged.witness, ["NonZero", "SetMinter"], {"SetMinter": "(minter)"})


def test_rejects_handover_that_also_raises_the_caps(lab: CircuitLab) -> None:
    genesis = compute_test_genesis()
    op = make_op(genesis, MINTER, SetMinter(REWARD_COLLECTION, REWARDER, 1))

    def hand_over_uncapped(state: ZkState, trace: list[Touch]) -> None:
        process_header(state, op, CTX, 0, trace)
        collection = get_collection(state, REWARD_COLLECTION)
        uncapped = replace(
            collection, minter=FAST_MINTER | REWARDER, round_cap=1_000, epoch_cap=1_000
        )
        put_collection(state, REWARD_COLLECTION, uncapped, trace)

    forged = forge_with(genesis, op, hand_over_uncapped)
    assert_rejected(lab, forged.witness, ["SetMinter"], {"SetMinter": "postRoot === post"})


def test_rejects_handover_of_another_collection(lab: CircuitLab) -> None:
    # The word names the reward collection; the write goes to the game pass's leaf.
    genesis = compute_test_genesis()
    op = make_op(genesis, MINTER, SetMinter(REWARD_COLLECTION, REWARDER, 1))

    def hand_over_the_passes(state: ZkState, trace: list[Touch]) -> None:
        process_header(state, op, CTX, 0, trace)
        passes = get_collection(state, GAME_PASS_COLLECTION)
        put_collection(
            state, GAME_PASS_COLLECTION, replace(passes, minter=FAST_MINTER | REWARDER), trace
        )

    forged = forge_with(genesis, op, hand_over_the_passes)
    assert_rejected(lab, forged.witness, COLLECTION_MERKLE)


def test_rejects_changed_sibling_in_collection_path(lab: CircuitLab) -> None:
    genesis = compute_test_genesis()
    witness = run(genesis, make_op(genesis, MINTER, SetMinter(REWARD_COLLECTION, ALICE, 0))).witness
    changed = with_changed_sibling(witness, "collectionPath", 0, 3)
    assert_rejected(lab, changed, ["SetMinter"], {"SetMinter": "preRoot === pre"})


@pytest.mark.parametrize("fast_chain", [1, 0], ids=["flag-dropped", "flag-added"])
def test_rejects_leaf_whose_fast_chain_flag_is_not_the_words(
    lab: CircuitLab, fast_chain: int
) -> None:
    # The word's fastChain bit, not the prover, decides the leaf's flag: a handover to an
    # account must not leave a leaf that fast-chain messages mint from, nor the other way.
    genesis = compute_test_genesis()
    op = make_op(genesis, MINTER, SetMinter(REWARD_COLLECTION, REWARDER, fast_chain))
    other_minter = REWARDER | (0 if fast_chain else FAST_MINTER)

    def hand_over_with_the_other_flag(state: ZkState, trace: list[Touch]) -> None:
        process_header(state, op, CTX, 0, trace)
        collection = get_collection(state, REWARD_COLLECTION)
        put_collection(state, REWARD_COLLECTION, replace(collection, minter=other_minter), trace)

    forged = forge_with(genesis, op, hand_over_with_the_other_flag)
    assert_rejected(lab, forged.witness, ["SetMinter"], {"SetMinter": "postRoot === post"})


def test_rejects_proof_with_the_fast_chain_bit_flipped(
    lab: CircuitLab, proven: ProvenFactory
) -> None:
    # The valid set_minter hands the rewards to REWARDER with fastChain 1.
    case = proven("set_minter")
    public = list(case.witness.public_inputs)
    assert public[W2] >> FAST_CHAIN_BIT == 1
    public[W2] ^= 1 << FAST_CHAIN_BIT
    assert not lab.verify("set_minter", case.proof, public)
    failure = lab.find_witness_failure("set_minter", case.witness.inputs | {"w2": public[W2]})
    assert failure is not None and failure.templates == ["SetMinter"], failure
    assert "postRoot === post" in failure.get_line("SetMinter")


def test_rejects_fast_chain_flag_beyond_one(lab: CircuitLab, proven: ProvenFactory) -> None:
    # fastChain = 2 would need a bit beyond w2's layout, which the unpacking refuses.
    witness = proven("set_minter").witness
    public = list(witness.public_inputs)
    public[W2] += 1 << FAST_CHAIN_BIT  # fastChain 1 + 1
    tampered = replace(witness, inputs=witness.inputs | {"w2": public[W2]}, public_inputs=public)
    assert_rejected(lab, tampered, ["Num2Bits", "UnpackWord", "SetMinter"])


def test_rejects_handover_signed_by_the_fast_chain_contracts_address(lab: CircuitLab) -> None:
    # Whoever signs as the contract's address is an account, never the flagged minter: nothing
    # signed takes a fast-chain collection back.
    handed_over = with_account(compute_rewarder_state(), REWARDER)
    op = make_op(handed_over, REWARDER, SetMinter(REWARD_COLLECTION, REWARDER, 0))
    with pytest.raises(InvalidOp, match="signer is not the collection's minter"):
        apply_operation(handed_over, op, CTX)
    assert_rejected(lab, forge(handed_over, op).witness, COLLECTION_MERKLE)
