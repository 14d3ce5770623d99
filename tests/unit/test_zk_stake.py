"""A validator's stake on the ZK chain, the state machine alone: Bond, Unbond, ClaimStake and
Slash as `apply_operation` runs them. The stake lives in an account at validator | STAKE_FLAG
whose leaf reads (bonded, unbonding, unlock epoch).

Each test is pre-state, action, post-state; each `test_rejects_*` asserts the exact rule.
"""

import re

import pytest

from chain.zk.genesis import compute_genesis_state
from chain.zk.ops import (
    SLASH_PERCENT,
    UNBONDING_EPOCHS,
    BlockContext,
    Bond,
    ClaimStake,
    Deposit,
    InvalidOp,
    OpBody,
    Operation,
    Slash,
    Transfer,
    Unbond,
    compute_slashed,
)
from chain.zk.registry import apply_operation
from chain.zk.state import (
    ADDRESS_BITS,
    AMOUNT_BITS,
    ROUND_BITS,
    STAKE_FLAG,
    Account,
    Stake,
    ZkState,
    compute_next_account_index,
    compute_stake_address,
    compute_state_root,
    get_account,
    get_account_index,
    get_stake,
    get_total_supply,
    list_stakes,
    put_account,
)
from chain.zk.words import HEADER_LAYOUT, InvalidWitness, pack_word

MINTER, ALICE, BOB, CAROL = 0xA11CE0, 0xA1, 0xB0B, 0xCA201
FEE = 10**15
ZKPOW = 10**18
CTX = BlockContext(height=1, epoch=10, min_fee=FEE)
UNLOCK_EPOCH = CTX.epoch + UNBONDING_EPOCHS
MAX_AMOUNT = (1 << AMOUNT_BITS) - 1


@pytest.fixture
def genesis() -> ZkState:
    alloc = {MINTER: 100 * ZKPOW, ALICE: 100 * ZKPOW, BOB: 100 * ZKPOW}
    return compute_genesis_state(alloc, minter=MINTER, fast_chain_escrow=50 * ZKPOW)


def at_epoch(epoch: int) -> BlockContext:
    return BlockContext(CTX.height, epoch, CTX.min_fee)


def apply(state: ZkState, signer: int, body: OpBody, ctx: BlockContext = CTX) -> ZkState:
    nonce = get_account(state, signer).nonce
    post, _ = apply_operation(state, Operation(body, signer, FEE, nonce), ctx)
    return post


def slash(state: ZkState, validator: int) -> ZkState:
    post, _ = apply_operation(state, Operation(Slash(validator), 0, 0, 0), CTX)
    return post


def rejects(state: ZkState, op: Operation, message: str, ctx: BlockContext = CTX) -> None:
    root = compute_state_root(state)
    with pytest.raises(InvalidOp, match=message):
        apply_operation(state, op, ctx)
    assert compute_state_root(state) == root, "a rejected operation changed the state"


def rejects_signed(
    state: ZkState, signer: int, body: OpBody, message: str, ctx: BlockContext = CTX
) -> None:
    rejects(state, Operation(body, signer, FEE, get_account(state, signer).nonce), message, ctx)


def with_stake(state: ZkState, validator: int, stake: Stake) -> ZkState:
    """`state` with `validator`'s stake account set directly (e.g. near 2^96)."""
    changed = state.copy()
    address = compute_stake_address(validator)
    index = get_account_index(changed, address)
    index = compute_next_account_index(changed) if index is None else index
    put_account(changed, index, Account(address, stake.bonded, stake.unbonding, stake.unlock_epoch))
    return changed


def unbonding_state(genesis: ZkState) -> ZkState:
    """Alice bonds 10 ZKPoW, then unbonds 4 in CTX's epoch: claimable from UNLOCK_EPOCH."""
    return apply(apply(genesis, ALICE, Bond(10 * ZKPOW)), ALICE, Unbond(4 * ZKPOW))


# -- bond -----------------------------------------------------------------------------------


def test_bond_moves_balance_into_a_new_stake_account(genesis: ZkState) -> None:
    post = apply(genesis, ALICE, Bond(10 * ZKPOW))
    alice = get_account(post, ALICE)
    assert (alice.balance, alice.nonce) == (90 * ZKPOW - FEE, 1)
    assert get_stake(post, ALICE) == Stake(bonded=10 * ZKPOW)
    stake_address = compute_stake_address(ALICE)
    assert stake_address == ALICE | STAKE_FLAG
    assert post.account_index[stake_address] == compute_next_account_index(genesis)
    assert post.fee_pool == genesis.fee_pool + FEE
    assert get_total_supply(post) == get_total_supply(genesis), "the bonded stake still exists"


def test_repeated_bonds_add_up_in_one_account(genesis: ZkState) -> None:
    once = apply(genesis, ALICE, Bond(10 * ZKPOW))
    twice = apply(once, ALICE, Bond(5 * ZKPOW))
    assert get_stake(twice, ALICE) == Stake(bonded=15 * ZKPOW)
    assert len(twice.account_records) == len(once.account_records)
    assert get_account(twice, ALICE).balance == 85 * ZKPOW - 2 * FEE


def test_bond_leaves_the_unbonding_stake_alone(genesis: ZkState) -> None:
    post = apply(unbonding_state(genesis), ALICE, Bond(ZKPOW))
    assert get_stake(post, ALICE) == Stake(7 * ZKPOW, 4 * ZKPOW, UNLOCK_EPOCH)


def test_rejects_bond_of_nothing_or_beyond_96_bits(genesis: ZkState) -> None:
    rejects_signed(genesis, ALICE, Bond(0), "amount must be above 0")
    rejects_signed(genesis, ALICE, Bond(1 << AMOUNT_BITS), r"below 2\^96")


def test_rejects_bond_beyond_balance_and_fee(genesis: ZkState) -> None:
    rejects_signed(genesis, ALICE, Bond(100 * ZKPOW), "insufficient balance")


def test_rejects_bond_without_an_account(genesis: ZkState) -> None:
    rejects_signed(genesis, CAROL, Bond(ZKPOW), "signer has no account")


def test_rejects_bond_with_a_replayed_nonce(genesis: ZkState) -> None:
    post = apply(genesis, ALICE, Bond(ZKPOW))
    rejects(post, Operation(Bond(ZKPOW), ALICE, FEE, 0), "nonce 0 is not the account's nonce 1")


# -- unbond ---------------------------------------------------------------------------------


def test_unbond_starts_unbonding_until_two_epochs_later(genesis: ZkState) -> None:
    bonded = apply(genesis, ALICE, Bond(10 * ZKPOW))
    post = apply(bonded, ALICE, Unbond(4 * ZKPOW))
    assert get_stake(post, ALICE) == Stake(6 * ZKPOW, 4 * ZKPOW, CTX.epoch + 2)
    assert get_account(post, ALICE).balance == get_account(bonded, ALICE).balance - FEE
    assert post.fee_pool == bonded.fee_pool + FEE


def test_unbond_of_the_whole_stake(genesis: ZkState) -> None:
    bonded = apply(genesis, ALICE, Bond(10 * ZKPOW))
    post = apply(bonded, ALICE, Unbond(10 * ZKPOW))
    assert get_stake(post, ALICE) == Stake(0, 10 * ZKPOW, UNLOCK_EPOCH)


def test_second_unbond_moves_the_unlock_epoch_for_all_the_unbonding(genesis: ZkState) -> None:
    later = at_epoch(CTX.epoch + 5)
    post = apply(unbonding_state(genesis), ALICE, Unbond(2 * ZKPOW), later)
    assert get_stake(post, ALICE) == Stake(4 * ZKPOW, 6 * ZKPOW, later.epoch + UNBONDING_EPOCHS)
    message = "unbonds until epoch 17, this is epoch 12"
    rejects_signed(post, ALICE, ClaimStake(), message, at_epoch(UNLOCK_EPOCH))


def test_rejects_unbond_above_the_bonded_stake(genesis: ZkState) -> None:
    bonded = apply(genesis, ALICE, Bond(10 * ZKPOW))
    message = re.escape(f"unbond of {10 * ZKPOW + 1} exceeds the {10 * ZKPOW} bonded")
    rejects_signed(bonded, ALICE, Unbond(10 * ZKPOW + 1), message)


def test_rejects_unbond_of_what_is_already_unbonding(genesis: ZkState) -> None:
    # Only bonded stake unbonds: 6 are bonded, 4 more are unbonding already.
    message = re.escape(f"unbond of {7 * ZKPOW} exceeds the {6 * ZKPOW} bonded")
    rejects_signed(unbonding_state(genesis), ALICE, Unbond(7 * ZKPOW), message)


def test_rejects_unbond_without_stake(genesis: ZkState) -> None:
    rejects_signed(genesis, BOB, Unbond(ZKPOW), f"unbond of {ZKPOW} exceeds the 0 bonded")
    assert compute_stake_address(BOB) not in genesis.account_index


def test_rejects_unbond_of_nothing_or_beyond_96_bits(genesis: ZkState) -> None:
    bonded = apply(genesis, ALICE, Bond(10 * ZKPOW))
    rejects_signed(bonded, ALICE, Unbond(0), "amount must be above 0")
    rejects_signed(bonded, ALICE, Unbond(1 << AMOUNT_BITS), r"below 2\^96")


def test_rejects_unbonding_stake_that_would_overflow(genesis: ZkState) -> None:
    full = with_stake(genesis, ALICE, Stake(ZKPOW, MAX_AMOUNT, UNLOCK_EPOCH))
    rejects_signed(full, ALICE, Unbond(1), "unbonding stake would overflow")


def test_rejects_unbond_whose_unlock_epoch_passes_32_bits(genesis: ZkState) -> None:
    bonded = apply(genesis, ALICE, Bond(10 * ZKPOW))
    last = (1 << ROUND_BITS) - 1 - UNBONDING_EPOCHS  # the last epoch whose unlock fits
    post = apply(bonded, ALICE, Unbond(ZKPOW), at_epoch(last))
    assert get_stake(post, ALICE).unlock_epoch == (1 << ROUND_BITS) - 1
    rejects_signed(bonded, ALICE, Unbond(ZKPOW), "epoch out of range", at_epoch(last + 1))


# -- claim ----------------------------------------------------------------------------------


def test_claim_pays_the_unbonding_stake_from_the_unlock_epoch(genesis: ZkState) -> None:
    unbonding = unbonding_state(genesis)
    post = apply(unbonding, ALICE, ClaimStake(), at_epoch(UNLOCK_EPOCH))
    assert get_stake(post, ALICE) == Stake(6 * ZKPOW, 0, UNLOCK_EPOCH)
    alice_before, alice = get_account(unbonding, ALICE), get_account(post, ALICE)
    assert alice.balance == alice_before.balance + 4 * ZKPOW - FEE
    assert alice.nonce == alice_before.nonce + 1
    assert post.fee_pool == unbonding.fee_pool + FEE


def test_claim_long_after_the_unlock_epoch(genesis: ZkState) -> None:
    post = apply(unbonding_state(genesis), ALICE, ClaimStake(), at_epoch(UNLOCK_EPOCH + 1000))
    assert get_stake(post, ALICE).unbonding == 0


def test_rejects_claim_before_the_unlock_epoch(genesis: ZkState) -> None:
    unbonding = unbonding_state(genesis)
    message = f"the stake unbonds until epoch {UNLOCK_EPOCH}, this is epoch {UNLOCK_EPOCH - 1}"
    rejects_signed(unbonding, ALICE, ClaimStake(), message, at_epoch(UNLOCK_EPOCH - 1))
    rejects_signed(unbonding, ALICE, ClaimStake(), "unbonds until epoch", CTX)


def test_rejects_claim_with_nothing_unbonding(genesis: ZkState) -> None:
    bonded = apply(genesis, ALICE, Bond(10 * ZKPOW))
    rejects_signed(bonded, ALICE, ClaimStake(), "no stake is unbonding", at_epoch(UNLOCK_EPOCH))
    rejects_signed(genesis, BOB, ClaimStake(), "no stake is unbonding", at_epoch(UNLOCK_EPOCH))


def test_rejects_a_second_claim_of_the_same_stake(genesis: ZkState) -> None:
    unlocked = at_epoch(UNLOCK_EPOCH)
    claimed = apply(unbonding_state(genesis), ALICE, ClaimStake(), unlocked)
    rejects_signed(claimed, ALICE, ClaimStake(), "no stake is unbonding", unlocked)


def test_rejects_claim_beyond_32_bit_epochs(genesis: ZkState) -> None:
    late = at_epoch(1 << ROUND_BITS)
    rejects_signed(unbonding_state(genesis), ALICE, ClaimStake(), "epoch out of range", late)


def test_rejects_claim_that_overflows_the_balance(genesis: ZkState) -> None:
    rich = with_stake(genesis, ALICE, Stake(0, MAX_AMOUNT, UNLOCK_EPOCH))
    message = "recipient balance would overflow"
    rejects_signed(rich, ALICE, ClaimStake(), message, at_epoch(UNLOCK_EPOCH))


# -- slash ----------------------------------------------------------------------------------


def test_slash_burns_5_percent_of_bonded_and_unbonding(genesis: ZkState) -> None:
    unbonding = unbonding_state(genesis)
    post = slash(unbonding, ALICE)
    assert SLASH_PERCENT == 5
    assert get_stake(post, ALICE) == Stake(
        6 * ZKPOW - 6 * ZKPOW // 20, 4 * ZKPOW - 4 * ZKPOW // 20, UNLOCK_EPOCH
    )
    # Nobody gains it: every other record and every global stays.
    stake_index = unbonding.account_index[compute_stake_address(ALICE)]
    others = {i: a for i, a in post.account_records.items() if i != stake_index}
    assert others == {i: a for i, a in unbonding.account_records.items() if i != stake_index}
    assert (post.fee_pool, post.escrow, post.inbox) == (
        unbonding.fee_pool,
        unbonding.escrow,
        unbonding.inbox,
    )


def test_slash_rounds_each_burn_down(genesis: ZkState) -> None:
    dust = with_stake(genesis, ALICE, Stake(39, 19, UNLOCK_EPOCH))
    assert (compute_slashed(39), compute_slashed(19), compute_slashed(20)) == (1, 0, 1)
    assert get_stake(slash(dust, ALICE), ALICE) == Stake(38, 19, UNLOCK_EPOCH)


def test_slash_of_an_emptied_stake_burns_nothing(genesis: ZkState) -> None:
    emptied = with_stake(genesis, ALICE, Stake(0, 0, UNLOCK_EPOCH))
    assert slash(emptied, ALICE).accounts.root == emptied.accounts.root


def test_slashed_unbonding_stake_is_still_claimed_at_its_unlock(genesis: ZkState) -> None:
    slashed = slash(unbonding_state(genesis), ALICE)
    post = apply(slashed, ALICE, ClaimStake(), at_epoch(UNLOCK_EPOCH))
    paid = get_account(post, ALICE).balance - get_account(slashed, ALICE).balance
    assert paid == 4 * ZKPOW - 4 * ZKPOW // 20 - FEE


def test_total_supply_falls_by_exactly_what_a_slash_burns(genesis: ZkState) -> None:
    bonded = apply(genesis, ALICE, Bond(10 * ZKPOW + 7))
    burned = compute_slashed(10 * ZKPOW + 7)
    assert get_total_supply(slash(bonded, ALICE)) == get_total_supply(bonded) - burned


def test_total_supply_counts_the_unbonding_stake(genesis: ZkState) -> None:
    bonded = apply(genesis, ALICE, Bond(10 * ZKPOW))
    unbonding = apply(bonded, ALICE, Unbond(4 * ZKPOW))
    assert get_total_supply(unbonding) == get_total_supply(bonded)
    burned = compute_slashed(6 * ZKPOW) + compute_slashed(4 * ZKPOW)
    assert get_total_supply(slash(unbonding, ALICE)) == get_total_supply(unbonding) - burned


def test_rejects_slash_of_a_validator_without_stake(genesis: ZkState) -> None:
    rejects(genesis, Operation(Slash(BOB), 0, 0, 0), f"{BOB:#x} has no stake")


def test_rejects_slash_of_address_zero_or_a_stake_address(genesis: ZkState) -> None:
    bonded = apply(genesis, ALICE, Bond(10 * ZKPOW))
    message = "validator must be a non-zero address"
    rejects(bonded, Operation(Slash(0), 0, 0, 0), message)
    rejects(bonded, Operation(Slash(compute_stake_address(ALICE)), 0, 0, 0), message)


def test_rejects_a_signed_slash(genesis: ZkState) -> None:
    # Nobody signs a slash: the validators decide it from CometBFT's evidence.
    bonded = apply(genesis, ALICE, Bond(10 * ZKPOW))
    rejects(bonded, Operation(Slash(ALICE), BOB, FEE, 0), "a Slash has no signer")
    rejects(bonded, Operation(Slash(ALICE), 0, FEE, 0), "a Slash has no signer")


# -- the stake accounts -----------------------------------------------------------------------


def test_list_stakes_lists_every_validator_that_bonded(genesis: ZkState) -> None:
    assert list_stakes(genesis) == {}
    both = apply(unbonding_state(genesis), BOB, Bond(3 * ZKPOW))
    assert list_stakes(both) == {
        ALICE: Stake(6 * ZKPOW, 4 * ZKPOW, UNLOCK_EPOCH),
        BOB: Stake(bonded=3 * ZKPOW),
    }
    # A stake taken out in full stays listed, at zero.
    emptied = apply(both, BOB, Unbond(3 * ZKPOW))
    emptied = apply(emptied, BOB, ClaimStake(), at_epoch(UNLOCK_EPOCH))
    assert list_stakes(emptied)[BOB] == Stake(0, 0, UNLOCK_EPOCH)


def test_rejects_transfer_or_deposit_into_a_stake_account(genesis: ZkState) -> None:
    # Stake leaves and enters its account by the stake operations' rules only.
    bonded = apply(genesis, ALICE, Bond(10 * ZKPOW))
    stake = compute_stake_address(ALICE)
    rejects_signed(bonded, BOB, Transfer(stake, ZKPOW), "recipient must be a non-zero address")
    deposit = Operation(Deposit(0, stake, ZKPOW), 0, 0, 0)
    rejects(bonded, deposit, "recipient must be a non-zero address")


def test_a_header_word_cannot_hold_a_stake_address() -> None:
    # Every signer is an address recovered from a signature, below 2^160; the stake flag is
    # above it, and a header word has no room for it: even a forged block could not prove a
    # stake account signing.
    stake = compute_stake_address(ALICE)
    assert stake >> ADDRESS_BITS != 0
    fields = {"from": stake, "fromIndex": 0, "nonce": 0, "feeGwei": 1}
    with pytest.raises(InvalidWitness, match=r"word field from = \d+ does not fit 160 bits"):
        pack_word(HEADER_LAYOUT, fields)


def test_rejects_operation_signed_by_a_stake_address(genesis: ZkState) -> None:
    bonded = apply(genesis, ALICE, Bond(10 * ZKPOW))
    op = Operation(Transfer(BOB, ZKPOW), compute_stake_address(ALICE), FEE, 0)
    with pytest.raises(InvalidOp, match="signer must be a non-zero address"):
        apply_operation(bonded, op, CTX)
