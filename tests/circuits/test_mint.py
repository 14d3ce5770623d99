"""mint.circom against the state machine: the rules of ops.process_mint (minter, rounds and
epochs that never go back, a round that advances at most MAX_ROUNDS_PER_EPOCH an epoch, caps
with their reset, serial = supply), each broken alone by a
forged transition, must stop the circuit (lab.assert_rejected says where). All but the
minter's live in lib/mint.circom (NewToken), which reward_mint.circom shares."""

from dataclasses import replace
from unittest.mock import patch

import pytest

from chain.zk import ops
from chain.zk.genesis import REWARD_COLLECTION, ROUND_MINT_CAP
from chain.zk.ops import InvalidOp, Mint, compute_round_allowance
from chain.zk.registry import apply_operation
from chain.zk.state import MAX_SERIALS, ZkState, get_collection, put_collection
from tests.circuits.lab import CircuitLab, assert_proves, assert_rejected, with_changed_sibling
from tests.circuits.scenarios import (
    ALICE,
    BOB,
    CTX,
    EPOCH_CAPPED_COLLECTION,
    MINTER,
    REWARD_ROUND,
    REWARDER,
    Transition,
    compute_rewarder_state,
    compute_test_genesis,
    forge,
    make_op,
    run,
    run_all,
    with_account,
)

CAP_CHECK = ["Num2Bits", "RangeCheck", "MintCount", "NewToken", "Mint"]
ALLOWANCE_CHECK = ["Num2Bits", "RangeCheck", "NewToken", "Mint"]
# The collection was last minted in CTX's epoch; a mint this many epochs later.
EPOCHS_LATER = pytest.mark.parametrize("epochs_later", [0, 3], ids=["same-epoch", "3-later"])
COLLECTION_MERKLE = ["QuadLevel", "QuadUpdate", "NewToken", "Mint"]


def mint(collection: int, round_: int, to: int = BOB) -> Mint:
    return Mint(collection, to, metadata=0xABC, round=round_)


def compute_minted(collection: int, rounds: list[int]) -> ZkState:
    """Genesis, then one mint in `collection` in each of `rounds`."""
    return run_all(compute_test_genesis(), [(MINTER, mint(collection, r)) for r in rounds])


def mint_next(state: ZkState, body: Mint, signer: int = MINTER) -> Transition:
    return run(state, make_op(state, signer, body))


def forge_next(
    state: ZkState, body: Mint, signer: int = MINTER, epoch: int = CTX.epoch
) -> Transition:
    return forge(state, make_op(state, signer, body), replace(CTX, epoch=epoch))


def test_proves_mint_in_a_new_round_restarting_the_round_count(lab: CircuitLab) -> None:
    full_round = compute_minted(REWARD_COLLECTION, [REWARD_ROUND] * ROUND_MINT_CAP)
    assert_proves(lab, mint_next(full_round, mint(REWARD_COLLECTION, REWARD_ROUND + 1)).witness)


def test_proves_mint_in_a_new_epoch_restarting_the_epoch_count(lab: CircuitLab) -> None:
    full_epoch = compute_minted(EPOCH_CAPPED_COLLECTION, [1, 2])  # the epoch cap is 2
    later = replace(CTX, epoch=CTX.epoch + 1)
    body = mint(EPOCH_CAPPED_COLLECTION, 3)
    assert_proves(lab, run(full_epoch, make_op(full_epoch, MINTER, body), later).witness)


def test_rejects_mint_over_the_round_cap(lab: CircuitLab) -> None:
    full_round = compute_minted(REWARD_COLLECTION, [REWARD_ROUND] * ROUND_MINT_CAP)
    forged = forge_next(full_round, mint(REWARD_COLLECTION, REWARD_ROUND))
    lines = {"MintCount": "cap - newCount", "NewToken": "newRoundCount"}
    assert_rejected(lab, forged.witness, CAP_CHECK, lines)


def test_rejects_mint_over_the_epoch_cap(lab: CircuitLab) -> None:
    full_epoch = compute_minted(EPOCH_CAPPED_COLLECTION, [1, 2])  # new rounds, same epoch
    forged = forge_next(full_epoch, mint(EPOCH_CAPPED_COLLECTION, 3))
    lines = {"MintCount": "cap - newCount", "NewToken": "newEpochCount"}
    assert_rejected(lab, forged.witness, CAP_CHECK, lines)


def test_rejects_round_going_back(lab: CircuitLab) -> None:
    minted = compute_minted(REWARD_COLLECTION, [REWARD_ROUND])
    forged = forge_next(minted, mint(REWARD_COLLECTION, REWARD_ROUND - 1))
    lines = {"MintCount": "current - last", "NewToken": "newRoundCount"}
    assert_rejected(lab, forged.witness, CAP_CHECK, lines)


def test_rejects_epoch_going_back(lab: CircuitLab) -> None:
    minted = compute_minted(REWARD_COLLECTION, [REWARD_ROUND])
    forged = forge_next(minted, mint(REWARD_COLLECTION, REWARD_ROUND), epoch=CTX.epoch - 1)
    lines = {"MintCount": "current - last", "NewToken": "newEpochCount"}
    assert_rejected(lab, forged.witness, CAP_CHECK, lines)


@EPOCHS_LATER
def test_proves_mint_advancing_the_round_by_its_whole_allowance(
    lab: CircuitLab, epochs_later: int
) -> None:
    minted = compute_minted(REWARD_COLLECTION, [REWARD_ROUND])
    later = replace(CTX, epoch=CTX.epoch + epochs_later)
    allowance = compute_round_allowance(CTX.epoch, later.epoch)  # 1024, or 4 · 1024
    body = mint(REWARD_COLLECTION, REWARD_ROUND + allowance)
    assert_proves(lab, run(minted, make_op(minted, MINTER, body), later).witness)


@EPOCHS_LATER
def test_rejects_mint_advancing_the_round_past_its_allowance(
    lab: CircuitLab, epochs_later: int
) -> None:
    minted = compute_minted(REWARD_COLLECTION, [REWARD_ROUND])
    later = replace(CTX, epoch=CTX.epoch + epochs_later)
    allowance = compute_round_allowance(CTX.epoch, later.epoch)
    body = mint(REWARD_COLLECTION, REWARD_ROUND + allowance + 1)
    with pytest.raises(InvalidOp, match="round advances more than 1024 rounds an epoch"):
        apply_operation(minted, make_op(minted, MINTER, body), later)
    forged = forge_next(minted, body, epoch=later.epoch)
    lines = {"NewToken": "RangeCheck(ROUND_ALLOWANCE_BITS())"}
    assert_rejected(lab, forged.witness, ALLOWANCE_CHECK, lines)


def test_rejects_mint_by_someone_not_the_minter(lab: CircuitLab) -> None:
    genesis = compute_test_genesis()
    forged = forge_next(genesis, mint(REWARD_COLLECTION, REWARD_ROUND), signer=ALICE)
    assert_rejected(lab, forged.witness, COLLECTION_MERKLE, {"NewToken": "collection."})


def test_rejects_serial_other_than_supply(lab: CircuitLab) -> None:
    genesis = compute_test_genesis()

    def skip_a_serial(collection: int, serial: int) -> int:
        return collection << 12 | (serial + 1)

    with patch.object(ops, "compute_token_key", skip_a_serial):
        forged = forge_next(genesis, mint(REWARD_COLLECTION, REWARD_ROUND))
    assert forged.trace[2].index == skip_a_serial(REWARD_COLLECTION, 0)
    assert_rejected(lab, forged.witness, COLLECTION_MERKLE, {"NewToken": "collection."})


def test_rejects_mint_into_a_full_collection(lab: CircuitLab) -> None:
    # Serial 4096 does not exist: its key is serial 0 of the next collection.
    full = compute_test_genesis()
    collection = get_collection(full, REWARD_COLLECTION)
    put_collection(full, REWARD_COLLECTION, replace(collection, supply=MAX_SERIALS))
    forged = forge_next(full, mint(REWARD_COLLECTION, REWARD_ROUND))
    assert_rejected(lab, forged.witness, COLLECTION_MERKLE, {"NewToken": "collection."})


def test_rejects_mint_to_the_zero_address(lab: CircuitLab) -> None:
    genesis = compute_test_genesis()
    forged = forge_next(genesis, mint(REWARD_COLLECTION, REWARD_ROUND, to=0))
    lines = {"NewToken": "(to)"}
    assert_rejected(lab, forged.witness, ["NonZero", "NewToken", "Mint"], lines)


def test_rejects_changed_sibling_in_token_path(lab: CircuitLab) -> None:
    genesis = compute_test_genesis()
    witness = mint_next(genesis, mint(REWARD_COLLECTION, REWARD_ROUND)).witness
    changed = with_changed_sibling(witness, "nftPath", 6, 1)
    merkle = ["QuadLevel", "QuadUpdate", "NewToken", "Mint"]
    assert_rejected(lab, changed, merkle, {"NewToken": "token."})


def test_rejects_signed_mint_in_a_fast_chain_collection(lab: CircuitLab) -> None:
    # REWARDER's collection mints by fast-chain message only: its minter is FAST_MINTER |
    # REWARDER, which no signer's 160-bit address equals, not even an account at REWARDER.
    handed_over = with_account(compute_rewarder_state(), REWARDER)
    op = make_op(handed_over, REWARDER, mint(REWARD_COLLECTION, REWARD_ROUND))
    with pytest.raises(InvalidOp, match="signer is not the collection's minter"):
        apply_operation(handed_over, op, CTX)
    assert_rejected(lab, forge(handed_over, op).witness, COLLECTION_MERKLE)
