"""`apply_operation_in_place` (chain/zk/registry.py) on an unhashed state, which the operation
pool uses, must agree with `apply_operation` on the real state for every operation: the same
records after one that applies, the same refusal for one that does not, and, refused, no
trace left of the writes it made before its rule failed (a transfer takes the sender's fee
before it finds that the recipient's balance would overflow). Run over random sequences of
every operation type, valid and not, from a state with accounts, a listed token, provers and
stake."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from chain.zk import ops
from chain.zk.genesis import REWARD_COLLECTION
from chain.zk.ops import BlockContext, Operation
from chain.zk.registry import apply_operation, apply_operation_in_place
from chain.zk.state import (
    ZkState,
    compute_state_root,
    compute_token_key,
    get_account,
    undo_touches,
)
from chain.zk.tree import UnhashedTree
from tests.circuits.scenarios import (
    ACTIVE_UNTIL,
    ALICE,
    BOB,
    CAROL,
    CTX,
    EPOCH_CAPPED_COLLECTION,
    ETHER,
    FEE,
    FIRST_REWARD,
    LIST_PRICE,
    MINTER,
    REWARD_ROUND,
    REWARDER,
    STAKE,
    compute_listed_state,
    run_all,
)

NEWCOMER = 0x1234
BRIMFUL = 0x5678  # an account a deposit fills to the brim
SIGNERS = (ALICE, BOB, CAROL, MINTER, NEWCOMER)
# The first of each is the likeliest to apply (hypothesis draws it most, and shrinks to it).
ADDRESSES = (BOB, *SIGNERS, REWARDER, 0)
AMOUNTS = (ETHER, 0, 1, FEE, LIST_PRICE, ops.MAX_AMOUNT, 10**30, 2**96)
PRICES = (LIST_PRICE, 0, 1, 10**30)
TOKENS = (FIRST_REWARD, compute_token_key(REWARD_COLLECTION, 1), compute_token_key(3, 7), 2**20)
COLLECTIONS = (REWARD_COLLECTION, EPOCH_CAPPED_COLLECTION, 0, 3, 4)
SMALL = (0, 1, 2, 5, 63, 64)
ROUNDS = (REWARD_ROUND, REWARD_ROUND, REWARD_ROUND + 1, 0, 2**33)
ACTIVE = (ACTIVE_UNTIL + 1, ACTIVE_UNTIL, 0, CTX.height, 2**40)
NONCE_FROM_STATE = -1
CONTEXTS = (CTX, replace(CTX, epoch=CTX.epoch + ops.UNBONDING_EPOCHS), replace(CTX, height=1))


def compute_rich_state() -> ZkState:
    """Accounts, Alice's reward token listed, Alice and Bob provers, Alice's stake (some of
    it unbonding), a collection that REWARDER's messages mint, and fees in the pool for
    settlements."""
    state = run_all(
        compute_listed_state(),
        [
            (ALICE, ops.Heartbeat(ACTIVE_UNTIL)),
            (BOB, ops.Heartbeat(ACTIVE_UNTIL)),
            (ALICE, ops.Bond(STAKE)),
            (ALICE, ops.Unbond(ETHER)),
            (MINTER, ops.SetMinter(EPOCH_CAPPED_COLLECTION, REWARDER, fast_chain=1)),
        ],
    )
    state.fee_pool += 10 * FEE
    return state


RICH = compute_rich_state()
NEXT = -1  # in a message's seq: the next one the chain expects (else it is a replay)

pick = st.sampled_from
# Each signed body with the signer its rules most likely accept (the runner takes another
# signer at times), so that every type applies often and is refused often.
signed_bodies: Any = st.one_of(
    st.tuples(st.builds(ops.Transfer, pick(ADDRESSES), pick(AMOUNTS)), st.just(ALICE)),
    st.tuples(
        st.builds(ops.Mint, pick(COLLECTIONS), pick(ADDRESSES), pick(SMALL), pick(ROUNDS)),
        st.just(MINTER),
    ),
    st.tuples(st.builds(ops.TransferNft, pick(TOKENS), pick(ADDRESSES)), st.just(ALICE)),
    st.tuples(st.builds(ops.ListNft, pick(TOKENS), pick(PRICES)), st.just(ALICE)),
    st.tuples(st.builds(ops.CancelListing, pick(TOKENS)), st.just(ALICE)),
    st.tuples(st.builds(ops.Buy, pick(TOKENS), pick(PRICES)), st.just(BOB)),
    st.tuples(st.builds(ops.ToFast, pick(ADDRESSES), pick(AMOUNTS)), st.just(BOB)),
    st.tuples(
        st.builds(ops.SetMinter, pick(COLLECTIONS), pick(ADDRESSES), pick((0, 1, 2))),
        st.just(MINTER),
    ),
    st.tuples(st.builds(ops.RegisterKey, pick(SMALL)), pick(SIGNERS)),
    st.tuples(st.builds(ops.Withdraw, pick(ADDRESSES), pick(AMOUNTS)), st.just(BOB)),
    st.tuples(st.builds(ops.Heartbeat, pick(ACTIVE)), pick((ALICE, BOB, MINTER))),
    st.tuples(st.builds(ops.Bond, pick(AMOUNTS)), pick((ALICE, BOB))),
    st.tuples(st.builds(ops.Unbond, pick(AMOUNTS)), pick((ALICE, BOB))),
    st.tuples(st.builds(ops.ClaimStake), st.just(ALICE)),
)
entries = st.lists(
    st.builds(ops.SettleEntry, pick((0, 1, 2, 63, 64)), pick((0, FEE, -FEE, 10**25))),
    min_size=ops.MARKET_ENTRIES,
    max_size=ops.MARKET_ENTRIES,
).map(tuple)
seqs = pick((NEXT, NEXT, NEXT, 0, 64))
unsigned_bodies: Any = st.one_of(
    st.builds(ops.Release, seqs, pick(ADDRESSES), pick((1, FEE, ETHER, 10**30))),
    st.builds(
        ops.RewardMint,
        seqs,
        pick((REWARDER, REWARDER, ALICE)),
        pick(COLLECTIONS),
        pick(ROUNDS),
        pick(ADDRESSES),
        pick(SMALL),
    ),
    st.builds(ops.Deposit, pick(SMALL), pick(ADDRESSES), pick(AMOUNTS)),
    st.builds(ops.MarketSettle, pick((0, FEE, 10 * FEE, 10**25)), entries),
    st.builds(ops.Slash, pick(ADDRESSES)),
)


@st.composite
def operations(draw: Any) -> tuple[Operation, BlockContext, int]:
    """An operation, its block context, and how far its nonce is off the signer's (filled in
    by the runner, which knows the state: NONCE_FROM_STATE)."""
    ctx = draw(pick(CONTEXTS))
    if draw(st.integers(0, 3)) > 0:  # three in four are signed
        body, likely = draw(signed_bodies)
        signer = draw(pick((*[likely] * 8, *SIGNERS)))
        skew = draw(pick((*[0] * 8, 1, -1)))  # mostly the right nonce
        fee = draw(pick((*[FEE] * 8, 0, 10**30)))
        return Operation(body, signer, fee, NONCE_FROM_STATE), ctx, skew
    return Operation(draw(unsigned_bodies), 0, 0, 0), ctx, 0


def signed_op(signer: int, body: ops.SignedBody) -> tuple[Operation, BlockContext, int]:
    return Operation(body, signer, FEE, NONCE_FROM_STATE), CTX, 0


def complete(op: Operation, state: ZkState, skew: int) -> Operation:
    """`op` with its nonce (the signer's, off by `skew`) and a message's seq taken from
    `state` where the strategy left them open."""
    if op.nonce == NONCE_FROM_STATE:
        op = replace(op, nonce=max(0, get_account(state, op.signer).nonce + skew))
    if getattr(op.body, "seq", None) == NEXT:
        op = replace(op, body=replace(op.body, seq=state.inbox))  # type: ignore[type-var]
    return op


LEAF_RECORDS = 6  # of `records`: what leaf writes change (the counters are not leaves)


def records(state: ZkState) -> tuple[Any, ...]:
    return (
        state.account_records,
        state.account_index,
        state.nft_records,
        state.collection_records,
        state.prover_records,
        state.prover_index,
        state.fee_pool,
        state.escrow,
        state.inbox,
    )


def tree_roots(state: ZkState) -> tuple[int, ...]:
    return state.accounts.root, state.nfts.root, state.collections.root, state.provers.root


def attempt(apply: Any, *args: Any) -> tuple[str, str, Any]:
    """`apply(*args)`'s result, or the refusal's type and message: what is compared."""
    try:
        result = apply(*args)
    except Exception as exc:
        return type(exc).__name__, str(exc), None
    return "applied", "", result


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(operations(), min_size=1, max_size=8))
@example(  # every type that opens a leaf, then one refused after it wrote
    [
        signed_op(BOB, ops.Buy(FIRST_REWARD, LIST_PRICE)),
        signed_op(MINTER, ops.Mint(REWARD_COLLECTION, NEWCOMER, 1, REWARD_ROUND)),
        signed_op(ALICE, ops.Transfer(NEWCOMER, ETHER)),
        signed_op(MINTER, ops.Heartbeat(ACTIVE_UNTIL)),
        signed_op(BOB, ops.Bond(ETHER)),
        (
            Operation(
                ops.RewardMint(NEXT, REWARDER, EPOCH_CAPPED_COLLECTION, 1, CAROL, 2), 0, 0, 0
            ),
            CTX,
            0,
        ),
        (Operation(ops.Deposit(9, BRIMFUL, ops.MAX_AMOUNT), 0, 0, 0), CTX, 0),
        signed_op(ALICE, ops.Transfer(BRIMFUL, ETHER)),  # refused once paid: overflow
    ]
)
def test_agrees_with_apply_operation(steps: list[tuple[Operation, BlockContext, int]]) -> None:
    expected = RICH.copy()
    hashed = RICH.copy()
    unhashed = RICH.drop_hashes()
    for op, ctx, skew in steps:
        op = complete(op, expected, skew)
        kind, why, applied = attempt(apply_operation, expected, op, ctx)
        assert attempt(apply_operation_in_place, unhashed, op, ctx)[:2] == (kind, why)
        assert attempt(apply_operation_in_place, hashed, op, ctx)[:2] == (kind, why)
        if applied is not None:
            post, trace = applied
            undone = post.copy()
            undo_touches(undone, trace)  # what a refusal after all of these writes would do
            assert records(undone)[:LEAF_RECORDS] == records(expected)[:LEAF_RECORDS]
            assert tree_roots(undone) == tree_roots(expected)
            expected = post
        assert records(unhashed) == records(expected)
        assert records(hashed) == records(expected)
        assert compute_state_root(hashed) == compute_state_root(expected)


def test_a_refused_operation_leaves_nothing_of_what_it_wrote() -> None:
    """A transfer to an account whose balance would overflow: the sender's fee and amount
    are taken before the recipient is read, so without the undo the sender would pay for
    nothing (and the next waiting operation of theirs would fail on its nonce)."""
    state = apply_operation(RICH, Operation(ops.Deposit(9, BRIMFUL, ops.MAX_AMOUNT), 0, 0, 0), CTX)[
        0
    ]
    before = records(state), compute_state_root(state)
    op = Operation(ops.Transfer(BRIMFUL, ETHER), ALICE, FEE, get_account(state, ALICE).nonce)
    with pytest.raises(ops.InvalidOp, match="would overflow"):
        apply_operation_in_place(state, op, CTX)
    assert (records(state), compute_state_root(state)) == before


def test_an_unhashed_state_has_no_root() -> None:
    unhashed = RICH.drop_hashes()
    assert isinstance(unhashed.accounts, UnhashedTree)
    with pytest.raises(TypeError, match="no root"):
        compute_state_root(unhashed)
