"""Fixtures for the circuit tests: one `CircuitLab` (keys, proofs, witness checks) per worker,
and one valid, proven transition per circuit."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import pytest

from chain.prover.ownership import compute_key_hash
from chain.prover.witness import CircuitWitness
from chain.zk.genesis import REWARD_COLLECTION
from chain.zk.ops import (
    Bond,
    CancelListing,
    ClaimStake,
    Heartbeat,
    ListNft,
    Mint,
    Operation,
    RegisterKey,
    Release,
    SetMinter,
    Slash,
    ToFast,
    Transfer,
    TransferNft,
    Unbond,
    Withdraw,
)
from chain.zk.registry import CircuitName
from tests.circuits.lab import CircuitLab, get_cache_dir
from tests.circuits.scenarios import (
    ACTIVE_UNTIL,
    ALICE,
    BOB,
    BOUNTY,
    CAROL,
    ETHER,
    FEE,
    FIRST_REWARD,
    FIRST_SEQ,
    LIST_PRICE,
    MINTER,
    PENALTY,
    REWARD_ROUND,
    REWARDER,
    SECRET,
    STAKE,
    UNBONDED,
    Transition,
    compute_bonded_state,
    compute_bought,
    compute_listed_state,
    compute_minted_state,
    compute_prover_state,
    compute_rewarder_state,
    compute_test_genesis,
    compute_unbonding_state,
    compute_unlocked_ctx,
    deliver,
    make_deposit,
    make_op,
    make_settle,
    reward,
    run,
)


@dataclass(frozen=True)
class Proven:
    transition: Transition
    witness: CircuitWitness
    proof: bytes


def compute_valid_transition(name: CircuitName) -> Transition:
    """One ordinary operation of each type, applied by the state machine."""
    if name == "transfer":
        genesis = compute_test_genesis()
        return run(genesis, make_op(genesis, ALICE, Transfer(CAROL, 2 * ETHER)))
    if name == "to_fast":
        genesis = compute_test_genesis()
        return run(genesis, make_op(genesis, ALICE, ToFast(CAROL, 3 * ETHER)))
    if name == "mint":
        genesis = compute_test_genesis()
        mint = Mint(REWARD_COLLECTION, BOB, metadata=0xBEEF, round=REWARD_ROUND)
        return run(genesis, make_op(genesis, MINTER, mint))
    if name == "set_minter":
        genesis = compute_test_genesis()
        handover = SetMinter(REWARD_COLLECTION, REWARDER, fast_chain=1)
        return run(genesis, make_op(genesis, MINTER, handover))
    if name == "register_key":
        genesis = compute_test_genesis()
        return run(genesis, make_op(genesis, ALICE, RegisterKey(compute_key_hash(SECRET))))
    if name == "release":
        return deliver(compute_test_genesis(), Release(seq=FIRST_SEQ, to=CAROL, amount=2 * ETHER))
    if name == "deposit":
        genesis = compute_test_genesis()
        return run(genesis, make_deposit(CAROL, 2 * ETHER))
    if name == "withdraw":
        genesis = compute_test_genesis()
        return run(genesis, make_op(genesis, ALICE, Withdraw(CAROL, 3 * ETHER)))
    if name == "heartbeat":
        genesis = compute_test_genesis()
        return run(genesis, make_op(genesis, ALICE, Heartbeat(ACTIVE_UNTIL)))
    if name == "market_settle":
        provers = compute_prover_state()
        provers.fee_pool += BOUNTY  # fees of the ops the bounty paid for
        return run(provers, make_settle(BOUNTY + FEE, (0, BOUNTY), (1, -PENALTY)))
    if name == "reward_mint":
        handed_over = compute_rewarder_state()
        return deliver(handed_over, reward(handed_over, REWARD_COLLECTION, REWARD_ROUND))
    if name == "bond":
        genesis = compute_test_genesis()
        return run(genesis, make_op(genesis, ALICE, Bond(STAKE)))
    if name == "unbond":
        bonded = compute_bonded_state()
        return run(bonded, make_op(bonded, ALICE, Unbond(UNBONDED)))
    if name == "claim_stake":
        unbonding = compute_unbonding_state()
        return run(unbonding, make_op(unbonding, ALICE, ClaimStake()), compute_unlocked_ctx())
    if name == "slash":
        unbonding = compute_unbonding_state()
        return run(unbonding, Operation(Slash(ALICE), 0, 0, 0))
    if name == "list":
        minted = compute_minted_state()
        return run(minted, make_op(minted, ALICE, ListNft(FIRST_REWARD, LIST_PRICE)))
    listed = compute_listed_state()
    if name == "transfer_nft":
        return run(listed, make_op(listed, ALICE, TransferNft(FIRST_REWARD, CAROL)))
    if name == "cancel":
        return run(listed, make_op(listed, ALICE, CancelListing(FIRST_REWARD)))
    return compute_bought(listed)


@pytest.fixture(scope="session")
def lab() -> CircuitLab:
    return CircuitLab(get_cache_dir())


ProvenFactory = Callable[[CircuitName], Proven]


@pytest.fixture(scope="session")
def proven(lab: CircuitLab) -> ProvenFactory:
    """`proven(name)`: the circuit's valid transition, its witness and a proof of it."""

    @cache
    def get(name: CircuitName) -> Proven:
        transition = compute_valid_transition(name)
        witness = transition.witness
        return Proven(transition, witness, lab.prove(name, witness.inputs))

    return get
