"""reward_mint.circom against the state machine: the rules of ops.process_reward_mint (the
collection's minter is the sender flagged as a fast-chain contract, each message once, then every rule of a mint: rounds and
epochs that never go back, a round that advances at most MAX_ROUNDS_PER_EPOCH an epoch, caps
with their reset, serial = supply), each broken alone by a
forged transition, must stop the circuit (lab.assert_rejected says where). The caps are what
bound a fast chain that lies, so each has its own test here as well as in test_mint.py, and so
has the round allowance, which keeps a lying fast chain from taking a collection's round out
of reach of every later reward."""

from collections.abc import Callable
from dataclasses import replace
from unittest.mock import patch

import pytest

from chain.zk import ops
from chain.zk.genesis import REWARD_COLLECTION, ROUND_MINT_CAP
from chain.zk.ops import MAX_ROUND, InvalidOp, RewardMint, SetMinter, compute_round_allowance
from chain.zk.registry import apply_operation
from chain.zk.state import ZkState, get_collection, get_nft
from tests.circuits.lab import CircuitLab, assert_proves, assert_rejected
from tests.circuits.scenarios import (
    BOB,
    CTX,
    EPOCH_CAPPED_COLLECTION,
    MINTER,
    REWARD_ROUND,
    REWARDER,
    Transition,
    compute_rewarder_state,
    compute_test_genesis,
    deliver,
    forge,
    make_message,
    reward,
    run_all,
)

CAP_CHECK = ["Num2Bits", "RangeCheck", "MintCount", "NewToken", "RewardMint"]
COLLECTION_MERKLE = ["QuadLevel", "QuadUpdate", "NewToken", "RewardMint"]
ALLOWANCE_CHECK = ["Num2Bits", "RangeCheck", "NewToken", "RewardMint"]
ALLOWANCE_LINES = {"NewToken": "RangeCheck(ROUND_ALLOWANCE_BITS())"}
TOO_FAR = "round advances more than 1024 rounds an epoch"
# The collection was last minted in CTX's epoch; a mint this many epochs later.
EPOCHS_LATER = pytest.mark.parametrize("epochs_later", [0, 3], ids=["same-epoch", "3-later"])
INBOX_CHECK = ["Num2Bits", "RangeCheck", "Inbox", "RewardMint"]
UNUSED_COLLECTION = 3  # no minter at genesis


def compute_rewarded(collection: int, rounds: list[int]) -> ZkState:
    """REWARDER holds `collection` and has minted one token in each of `rounds`."""
    state = compute_rewarder_state(collection)
    for round_ in rounds:
        state = deliver(state, reward(state, collection, round_)).post
    return state


def forge_next(state: ZkState, body: RewardMint, epoch: int = CTX.epoch) -> Transition:
    return forge(state, make_message(body), replace(CTX, epoch=epoch))


def test_proves_reward_mint_and_counts_it(lab: CircuitLab) -> None:
    handed_over = compute_rewarder_state()
    transition = deliver(handed_over, reward(handed_over, REWARD_COLLECTION, REWARD_ROUND))
    collection = get_collection(transition.post, REWARD_COLLECTION)
    assert (collection.round, collection.round_count, collection.supply) == (REWARD_ROUND, 1, 1)
    assert get_nft(transition.post, transition.trace[1].index).owner == BOB
    assert transition.post.inbox == handed_over.inbox + 1
    assert_proves(lab, transition.witness)


def test_proves_reward_mint_in_a_new_round_restarting_the_round_count(lab: CircuitLab) -> None:
    full_round = compute_rewarded(REWARD_COLLECTION, [REWARD_ROUND] * ROUND_MINT_CAP)
    body = reward(full_round, REWARD_COLLECTION, REWARD_ROUND + 1)
    assert_proves(lab, deliver(full_round, body).witness)


def test_rejects_reward_mint_from_a_sender_not_the_minter(lab: CircuitLab) -> None:
    # The collection's former minter, now that REWARDER holds it.
    handed_over = compute_rewarder_state()
    body = replace(reward(handed_over, REWARD_COLLECTION, REWARD_ROUND), sender=MINTER)
    forged = forge_next(handed_over, body)
    assert_rejected(lab, forged.witness, COLLECTION_MERKLE, {"NewToken": "collection."})


def compute_account_collection_of_rewarder() -> ZkState:
    """The rewards handed to REWARDER's address as an account (fastChain 0), not a contract."""
    handover = SetMinter(REWARD_COLLECTION, REWARDER, fast_chain=0)
    return run_all(compute_test_genesis(), [(MINTER, handover)])


@pytest.mark.parametrize(
    ("compute_state", "sender"),
    [(compute_test_genesis, MINTER), (compute_account_collection_of_rewarder, REWARDER)],
    ids=["genesis-minter", "handed-to-an-account"],
)
def test_rejects_reward_mint_in_the_name_of_an_account_minter(
    lab: CircuitLab, compute_state: Callable[[], ZkState], sender: int
) -> None:
    # The fast chain can claim any sender. The collection's minter is `sender` itself, an
    # account; the circuit asks for sender + 2^160, so the leaf it rebuilds is not in the tree.
    state = compute_state()
    body = replace(reward(state, REWARD_COLLECTION, REWARD_ROUND), sender=sender)
    assert get_collection(state, REWARD_COLLECTION).minter == sender
    with pytest.raises(InvalidOp, match="sender is not the collection's minter"):
        apply_operation(state, make_message(body), CTX)
    forged = forge_next(state, body)
    assert_rejected(lab, forged.witness, COLLECTION_MERKLE, {"NewToken": "collection."})


def test_rejects_reward_mint_in_an_unused_collection(lab: CircuitLab) -> None:
    # Its minter is 0, which no flagged sender matches; the circuit refuses sender 0 first,
    # which names no contract (no SetMinter hands a collection to address 0).
    genesis = compute_test_genesis()
    body = RewardMint(0, sender=0, collection=UNUSED_COLLECTION, round=1, to=BOB, metadata=1)
    forged = forge_next(genesis, body)
    lines = {"RewardMint": "(sender)"}
    assert_rejected(lab, forged.witness, ["NonZero", "RewardMint"], lines)


def test_rejects_reward_mint_over_the_round_cap(lab: CircuitLab) -> None:
    full_round = compute_rewarded(REWARD_COLLECTION, [REWARD_ROUND] * ROUND_MINT_CAP)
    forged = forge_next(full_round, reward(full_round, REWARD_COLLECTION, REWARD_ROUND))
    lines = {"MintCount": "cap - newCount", "NewToken": "newRoundCount"}
    assert_rejected(lab, forged.witness, CAP_CHECK, lines)


def test_rejects_reward_mint_over_the_epoch_cap(lab: CircuitLab) -> None:
    full_epoch = compute_rewarded(EPOCH_CAPPED_COLLECTION, [1, 2])  # the epoch cap is 2
    forged = forge_next(full_epoch, reward(full_epoch, EPOCH_CAPPED_COLLECTION, 3))
    lines = {"MintCount": "cap - newCount", "NewToken": "newEpochCount"}
    assert_rejected(lab, forged.witness, CAP_CHECK, lines)


def test_rejects_round_going_back(lab: CircuitLab) -> None:
    rewarded = compute_rewarded(REWARD_COLLECTION, [REWARD_ROUND])
    forged = forge_next(rewarded, reward(rewarded, REWARD_COLLECTION, REWARD_ROUND - 1))
    lines = {"MintCount": "current - last", "NewToken": "newRoundCount"}
    assert_rejected(lab, forged.witness, CAP_CHECK, lines)


def test_rejects_epoch_going_back(lab: CircuitLab) -> None:
    rewarded = compute_rewarded(REWARD_COLLECTION, [REWARD_ROUND])
    body = reward(rewarded, REWARD_COLLECTION, REWARD_ROUND)
    forged = forge_next(rewarded, body, epoch=CTX.epoch - 1)
    lines = {"MintCount": "current - last", "NewToken": "newEpochCount"}
    assert_rejected(lab, forged.witness, CAP_CHECK, lines)


@EPOCHS_LATER
def test_proves_reward_mint_advancing_the_round_by_its_whole_allowance(
    lab: CircuitLab, epochs_later: int
) -> None:
    rewarded = compute_rewarded(REWARD_COLLECTION, [REWARD_ROUND])
    later = replace(CTX, epoch=CTX.epoch + epochs_later)
    allowance = compute_round_allowance(CTX.epoch, later.epoch)  # 1024, or 4 · 1024
    body = reward(rewarded, REWARD_COLLECTION, REWARD_ROUND + allowance)
    assert_proves(lab, deliver(rewarded, body, later).witness)


@EPOCHS_LATER
def test_rejects_reward_mint_advancing_the_round_past_its_allowance(
    lab: CircuitLab, epochs_later: int
) -> None:
    rewarded = compute_rewarded(REWARD_COLLECTION, [REWARD_ROUND])
    later = replace(CTX, epoch=CTX.epoch + epochs_later)
    allowance = compute_round_allowance(CTX.epoch, later.epoch)
    body = reward(rewarded, REWARD_COLLECTION, REWARD_ROUND + allowance + 1)
    with pytest.raises(InvalidOp, match=TOO_FAR):
        apply_operation(rewarded, make_message(body), later)
    forged = forge_next(rewarded, body, epoch=later.epoch)
    assert_rejected(lab, forged.witness, ALLOWANCE_CHECK, ALLOWANCE_LINES)


def test_rejects_reward_mint_taking_the_round_to_its_last(lab: CircuitLab) -> None:
    # The attack the allowance stops: one message takes the round to 2^32 - 1, after which
    # every honest reward would be "round is behind the collection's round" for good.
    rewarded = compute_rewarded(REWARD_COLLECTION, [REWARD_ROUND])
    body = reward(rewarded, REWARD_COLLECTION, MAX_ROUND)
    with pytest.raises(InvalidOp, match=TOO_FAR):
        apply_operation(rewarded, make_message(body), CTX)
    assert_rejected(lab, forge_next(rewarded, body).witness, ALLOWANCE_CHECK, ALLOWANCE_LINES)


def test_rejects_replayed_message(lab: CircuitLab) -> None:
    handed_over = compute_rewarder_state()
    first = reward(handed_over, REWARD_COLLECTION, REWARD_ROUND)
    rewarded = deliver(handed_over, first).post
    forged = forge_next(rewarded, first)  # message 0 again: a second token for one request
    assert_rejected(lab, forged.witness, INBOX_CHECK, {"Inbox": "seq - inbox"})


def test_rejects_serial_other_than_supply(lab: CircuitLab) -> None:
    handed_over = compute_rewarder_state()

    def skip_a_serial(collection: int, serial: int) -> int:
        return collection << 12 | (serial + 1)

    with patch.object(ops, "compute_token_key", skip_a_serial):
        forged = forge_next(handed_over, reward(handed_over, REWARD_COLLECTION, REWARD_ROUND))
    assert forged.trace[1].index == skip_a_serial(REWARD_COLLECTION, 0)
    assert_rejected(lab, forged.witness, COLLECTION_MERKLE, {"NewToken": "collection."})


def test_rejects_reward_mint_to_the_zero_address(lab: CircuitLab) -> None:
    handed_over = compute_rewarder_state()
    body = reward(handed_over, REWARD_COLLECTION, REWARD_ROUND, to=0)
    forged = forge_next(handed_over, body)
    assert_rejected(lab, forged.witness, ["NonZero", "NewToken", "RewardMint"])
