"""The ZK chain's state machine alone: every operation's rules, as pure functions.

Each test is pre-state, action, post-state; each `test_rejects_*` asserts the exact rule.
"""

from dataclasses import replace

import pytest

from chain.ledger.log import LedgerHeads
from chain.types import ChainId
from chain.zk.chain import apply_block
from chain.zk.genesis import (
    GAME_PASS_COLLECTION,
    REWARD_COLLECTION,
    ROUND_MINT_CAP,
    compute_genesis_state,
)
from chain.zk.ops import (
    MARKET_ENTRIES,
    MAX_ROUNDS_PER_EPOCH,
    UNUSED_ENTRY,
    BlockContext,
    Buy,
    CancelListing,
    Deposit,
    Heartbeat,
    InvalidOp,
    ListNft,
    MarketSettle,
    Mint,
    OpBody,
    Operation,
    RegisterKey,
    Release,
    RewardMint,
    SetMinter,
    SettleEntry,
    ToFast,
    Transfer,
    TransferNft,
    Withdraw,
    compute_market_settles,
)
from chain.zk.poseidon import FIELD_MODULUS
from chain.zk.registry import apply_operation
from chain.zk.state import (
    BALANCE_OFFSET,
    EMPTY_PROVER,
    FAST_MINTER,
    MAX_SERIALS,
    Prover,
    ZkState,
    compute_next_account_index,
    compute_state_root,
    compute_token_key,
    get_account,
    get_account_index,
    get_collection,
    get_nft,
    get_prover,
    get_prover_at,
    get_total_supply,
    list_record_rows,
    load_state,
    put_collection,
)

MINTER, ALICE, BOB, CAROL = 0xA11CE0, 0xA1, 0xB0B, 0xCA201
FEE = 10**15
ZKPOW = 10**18
CTX = BlockContext(height=1, epoch=0, min_fee=FEE)
PASS_0 = compute_token_key(GAME_PASS_COLLECTION, 0)
REWARD_0 = compute_token_key(REWARD_COLLECTION, 0)


@pytest.fixture
def genesis() -> ZkState:
    alloc = {MINTER: 100 * ZKPOW, ALICE: 100 * ZKPOW, BOB: 100 * ZKPOW}
    return compute_genesis_state(alloc, minter=MINTER, fast_chain_escrow=50 * ZKPOW)


def apply(
    state: ZkState,
    signer: int,
    body: OpBody,
    nonce: int | None = None,
    fee: int = FEE,
    ctx: BlockContext = CTX,
) -> ZkState:
    nonce = get_account(state, signer).nonce if nonce is None else nonce
    post, _ = apply_operation(state, Operation(body, signer, fee, nonce), ctx)
    return post


def with_pass(state: ZkState, owner: int = ALICE) -> ZkState:
    return apply(state, MINTER, Mint(GAME_PASS_COLLECTION, owner, metadata=7, round=0))


def rejects(state: ZkState, signer: int, body: OpBody, message: str, **kw: object) -> None:
    root = compute_state_root(state)
    with pytest.raises(InvalidOp, match=message):
        apply(state, signer, body, **kw)  # type: ignore[arg-type]
    assert compute_state_root(state) == root, "a rejected operation changed the state"


# -- transfers and fees -------------------------------------------------------------------


def test_transfer_moves_amount_and_pays_fee(genesis: ZkState) -> None:
    post = apply(genesis, ALICE, Transfer(BOB, 3 * ZKPOW))
    assert get_account(post, ALICE).balance == 97 * ZKPOW - FEE
    assert get_account(post, BOB).balance == 103 * ZKPOW
    assert get_account(post, ALICE).nonce == 1
    assert post.fee_pool == FEE
    assert get_total_supply(post) == get_total_supply(genesis)


def test_transfer_to_new_address_opens_the_next_account(genesis: ZkState) -> None:
    post = apply(genesis, ALICE, Transfer(CAROL, ZKPOW))
    assert post.account_index[CAROL] == 3
    assert get_account(post, CAROL).balance == ZKPOW


def test_transfer_to_self_only_costs_the_fee(genesis: ZkState) -> None:
    post = apply(genesis, ALICE, Transfer(ALICE, 5 * ZKPOW))
    assert get_account(post, ALICE).balance == 100 * ZKPOW - FEE


def test_rejects_insufficient_balance(genesis: ZkState) -> None:
    rejects(genesis, ALICE, Transfer(BOB, 100 * ZKPOW), "insufficient balance")


def test_rejects_replayed_nonce(genesis: ZkState) -> None:
    post = apply(genesis, ALICE, Transfer(BOB, ZKPOW))
    rejects(post, ALICE, Transfer(BOB, ZKPOW), "nonce 0 is not the account's nonce 1", nonce=0)


def test_rejects_future_nonce(genesis: ZkState) -> None:
    rejects(genesis, ALICE, Transfer(BOB, ZKPOW), "nonce 5 is not", nonce=5)


def test_rejects_fee_below_minimum(genesis: ZkState) -> None:
    rejects(genesis, ALICE, Transfer(BOB, 1), "below the minimum", fee=FEE - 10**9)


def test_rejects_fee_not_in_whole_gwei(genesis: ZkState) -> None:
    rejects(genesis, ALICE, Transfer(BOB, 1), "whole number of gwei", fee=FEE + 1)


def test_rejects_signer_without_account(genesis: ZkState) -> None:
    rejects(genesis, CAROL, Transfer(BOB, 1), "signer has no account", nonce=0)


def test_rejects_transfer_to_zero_address(genesis: ZkState) -> None:
    rejects(genesis, ALICE, Transfer(0, 1), "recipient must be a non-zero address")


def test_rejects_amount_beyond_96_bits(genesis: ZkState) -> None:
    rejects(genesis, ALICE, Transfer(BOB, 1 << 96), "amount must be below 2\\^96")


# -- minting under caps ---------------------------------------------------------------------


def test_mint_gives_the_next_serial_to_the_recipient(genesis: ZkState) -> None:
    post = apply(genesis, MINTER, Mint(REWARD_COLLECTION, BOB, metadata=99, round=4))
    nft = get_nft(post, REWARD_0)
    assert (nft.owner, nft.metadata, nft.price) == (BOB, 99, 0)
    collection = get_collection(post, REWARD_COLLECTION)
    assert (collection.supply, collection.round, collection.round_count) == (1, 4, 1)


def test_rejects_mint_by_someone_other_than_the_minter(genesis: ZkState) -> None:
    rejects(genesis, ALICE, Mint(REWARD_COLLECTION, ALICE, 1, 0), "not the collection's minter")


def test_rejects_mint_over_the_round_cap(genesis: ZkState) -> None:
    state = genesis
    for _ in range(ROUND_MINT_CAP):
        state = apply(state, MINTER, Mint(REWARD_COLLECTION, BOB, 1, round=2))
    rejects(state, MINTER, Mint(REWARD_COLLECTION, BOB, 1, round=2), "round mint cap reached")
    # a new round starts a new count
    apply(state, MINTER, Mint(REWARD_COLLECTION, BOB, 1, round=3))


def test_rejects_mint_over_the_epoch_cap_across_rounds(genesis: ZkState) -> None:
    tight = replace(get_collection(genesis, REWARD_COLLECTION), epoch_cap=2)
    state = genesis.copy()
    put_collection(state, REWARD_COLLECTION, tight)
    state = apply(state, MINTER, Mint(REWARD_COLLECTION, BOB, 1, round=1))
    state = apply(state, MINTER, Mint(REWARD_COLLECTION, BOB, 1, round=2))
    rejects(state, MINTER, Mint(REWARD_COLLECTION, BOB, 1, round=3), "epoch mint cap reached")
    next_epoch = BlockContext(height=1000, epoch=1, min_fee=FEE)
    apply(state, MINTER, Mint(REWARD_COLLECTION, BOB, 1, round=3), ctx=next_epoch)


def test_rejects_mint_for_an_earlier_round(genesis: ZkState) -> None:
    state = apply(genesis, MINTER, Mint(REWARD_COLLECTION, BOB, 1, round=5))
    rejects(state, MINTER, Mint(REWARD_COLLECTION, BOB, 1, round=4), "round is behind")


@pytest.mark.parametrize("epochs_later", [0, 3], ids=["same-epoch", "3-epochs-later"])
def test_mint_advances_the_round_by_at_most_its_allowance(
    genesis: ZkState, epochs_later: int
) -> None:
    # The collection was last minted in round 5 of CTX's epoch; a mint `epochs_later` may take
    # it (epochs_later + 1) · 1024 rounds on, not one more.
    state = apply(genesis, MINTER, Mint(REWARD_COLLECTION, BOB, 1, round=5))
    later = replace(CTX, epoch=CTX.epoch + epochs_later)
    last = 5 + (epochs_later + 1) * MAX_ROUNDS_PER_EPOCH
    too_far = Mint(REWARD_COLLECTION, BOB, 1, round=last + 1)
    rejects(state, MINTER, too_far, "round advances more than 1024 rounds an epoch", ctx=later)
    post = apply(state, MINTER, Mint(REWARD_COLLECTION, BOB, 1, round=last), ctx=later)
    collection = get_collection(post, REWARD_COLLECTION)
    assert (collection.round, collection.epoch) == (last, later.epoch)


def test_rejects_mint_into_a_full_collection(genesis: ZkState) -> None:
    full = replace(get_collection(genesis, REWARD_COLLECTION), supply=MAX_SERIALS)
    state = genesis.copy()
    put_collection(state, REWARD_COLLECTION, full)
    rejects(state, MINTER, Mint(REWARD_COLLECTION, BOB, 1, 0), "collection is full")


def test_rejects_mint_in_a_collection_that_does_not_exist(genesis: ZkState) -> None:
    rejects(genesis, MINTER, Mint(3, BOB, 1, 0), "no such collection")


# -- NFT transfers and the market ------------------------------------------------------------


def test_transfer_nft_changes_owner_and_clears_listing(genesis: ZkState) -> None:
    state = apply(with_pass(genesis), ALICE, ListNft(PASS_0, ZKPOW))
    post = apply(state, ALICE, TransferNft(PASS_0, BOB))
    assert get_nft(post, PASS_0).owner == BOB
    assert get_nft(post, PASS_0).price == 0


def test_rejects_transfer_nft_by_non_owner(genesis: ZkState) -> None:
    rejects(with_pass(genesis), BOB, TransferNft(PASS_0, BOB), "does not own the token")


def test_rejects_transfer_of_unminted_token(genesis: ZkState) -> None:
    rejects(genesis, ALICE, TransferNft(PASS_0, BOB), "no such token")


def test_list_then_cancel(genesis: ZkState) -> None:
    listed = apply(with_pass(genesis), ALICE, ListNft(PASS_0, 2 * ZKPOW))
    assert get_nft(listed, PASS_0).price == 2 * ZKPOW
    cancelled = apply(listed, ALICE, CancelListing(PASS_0))
    assert get_nft(cancelled, PASS_0).price == 0


def test_rejects_listing_at_zero(genesis: ZkState) -> None:
    rejects(with_pass(genesis), ALICE, ListNft(PASS_0, 0), "price must be above 0")


def test_rejects_listing_by_non_owner(genesis: ZkState) -> None:
    rejects(with_pass(genesis), BOB, ListNft(PASS_0, 1), "does not own the token")


def test_rejects_cancel_of_unlisted_token(genesis: ZkState) -> None:
    rejects(with_pass(genesis), ALICE, CancelListing(PASS_0), "not listed")


def test_buy_swaps_token_for_price_atomically(genesis: ZkState) -> None:
    listed = apply(with_pass(genesis), ALICE, ListNft(PASS_0, 5 * ZKPOW))
    alice_before = get_account(listed, ALICE).balance
    post = apply(listed, BOB, Buy(PASS_0, 5 * ZKPOW))
    assert get_nft(post, PASS_0).owner == BOB
    assert get_nft(post, PASS_0).price == 0
    assert get_account(post, ALICE).balance == alice_before + 5 * ZKPOW
    assert get_account(post, BOB).balance == 95 * ZKPOW - FEE
    assert get_total_supply(post) == get_total_supply(genesis)


def test_rejects_buy_at_another_price(genesis: ZkState) -> None:
    listed = apply(with_pass(genesis), ALICE, ListNft(PASS_0, 5 * ZKPOW))
    rejects(listed, BOB, Buy(PASS_0, 4 * ZKPOW), "listed at 5000000000000000000, not 4")


def test_rejects_buy_of_unlisted_token(genesis: ZkState) -> None:
    rejects(with_pass(genesis), BOB, Buy(PASS_0, 1), "not listed")


def test_rejects_buy_without_funds(genesis: ZkState) -> None:
    listed = apply(with_pass(genesis), ALICE, ListNft(PASS_0, 200 * ZKPOW))
    rejects(listed, BOB, Buy(PASS_0, 200 * ZKPOW), "insufficient balance")


# -- traces and storage ----------------------------------------------------------------------


def test_trace_lists_writes_in_circuit_order_with_paths_before(genesis: ZkState) -> None:
    listed = apply(with_pass(genesis), ALICE, ListNft(PASS_0, ZKPOW))
    _, trace = apply_operation(listed, Operation(Buy(PASS_0, ZKPOW), BOB, FEE, 0), CTX)
    assert [(t.tree, t.index) for t in trace] == [
        ("accounts", listed.account_index[BOB]),
        ("accounts", listed.account_index[ALICE]),
        ("nfts", PASS_0),
    ]
    assert trace[0].path == listed.accounts.get_path(listed.account_index[BOB])


def test_state_reloads_from_its_records_to_the_same_root(genesis: ZkState) -> None:
    state = apply(with_pass(genesis), ALICE, ListNft(PASS_0, ZKPOW))
    state = apply_message(state, Release(seq=3, to=CAROL, amount=ZKPOW))
    reloaded = load_state(list_record_rows(state), state.fee_pool, state.escrow, state.inbox)
    assert compute_state_root(reloaded) == compute_state_root(state)
    assert reloaded.account_index == state.account_index


# -- locking ZKPoW for the fast chain ------------------------------------------------------


def test_to_fast_moves_balance_into_escrow(genesis: ZkState) -> None:
    post = apply(genesis, ALICE, ToFast(CAROL, 4 * ZKPOW))
    assert post.escrow == genesis.escrow + 4 * ZKPOW
    assert get_account(post, ALICE).balance == 96 * ZKPOW - FEE
    assert CAROL not in post.account_index, "the recipient lives on the fast chain"
    assert get_total_supply(post) == get_total_supply(genesis)


def test_rejects_to_fast_of_nothing(genesis: ZkState) -> None:
    rejects(genesis, ALICE, ToFast(CAROL, 0), "amount must be above 0")


def test_rejects_to_fast_beyond_balance(genesis: ZkState) -> None:
    rejects(genesis, ALICE, ToFast(CAROL, 100 * ZKPOW), "insufficient balance")


def test_rejects_to_fast_to_zero_address(genesis: ZkState) -> None:
    rejects(genesis, ALICE, ToFast(0, ZKPOW), "recipient must be a non-zero address")


# -- messages from the fast chain ----------------------------------------------------------

GAME = 0x6A3E  # a fast-chain contract


def apply_message(state: ZkState, body: OpBody, ctx: BlockContext = CTX) -> ZkState:
    post, _ = apply_operation(state, Operation(body, signer=0, fee=0, nonce=0), ctx)
    return post


def refuses(state: ZkState, body: OpBody, message: str, ctx: BlockContext = CTX) -> None:
    root = compute_state_root(state)
    with pytest.raises(InvalidOp, match=message):
        apply_message(state, body, ctx)
    assert compute_state_root(state) == root, "a refused message changed the state"


def with_game_minter(state: ZkState) -> ZkState:
    return apply(state, MINTER, SetMinter(REWARD_COLLECTION, GAME, fast_chain=1))


def test_release_pays_out_of_escrow_and_moves_the_inbox_on(genesis: ZkState) -> None:
    post = apply_message(genesis, Release(seq=0, to=CAROL, amount=3 * ZKPOW))
    assert post.escrow == genesis.escrow - 3 * ZKPOW
    assert get_account(post, CAROL).balance == 3 * ZKPOW, "a new account opens for the recipient"
    assert post.inbox == 1
    assert get_total_supply(post) == get_total_supply(genesis)


def test_release_skips_refused_message_numbers(genesis: ZkState) -> None:
    post = apply_message(genesis, Release(seq=5, to=ALICE, amount=ZKPOW))
    assert post.inbox == 6
    assert get_account(post, ALICE).balance == 101 * ZKPOW


def test_rejects_release_beyond_the_escrow(genesis: ZkState) -> None:
    refuses(genesis, Release(seq=0, to=ALICE, amount=50 * ZKPOW + 1), "exceeds the escrow")


def test_release_of_the_whole_escrow_empties_it(genesis: ZkState) -> None:
    post = apply_message(genesis, Release(seq=0, to=ALICE, amount=50 * ZKPOW))
    assert post.escrow == 0
    refuses(post, Release(seq=1, to=ALICE, amount=1), "exceeds the escrow")


def test_rejects_replayed_message(genesis: ZkState) -> None:
    post = apply_message(genesis, Release(seq=4, to=ALICE, amount=ZKPOW))
    refuses(post, Release(seq=4, to=ALICE, amount=ZKPOW), "message 4 is a replay")
    refuses(post, Release(seq=2, to=BOB, amount=ZKPOW), "message 2 is a replay")


def test_rejects_release_of_nothing_or_to_nobody(genesis: ZkState) -> None:
    refuses(genesis, Release(seq=0, to=ALICE, amount=0), "amount must be above 0")
    refuses(genesis, Release(seq=0, to=0, amount=1), "recipient must be a non-zero address")


def test_set_minter_hands_minting_to_a_fast_chain_contract(genesis: ZkState) -> None:
    post = with_game_minter(genesis)
    assert get_collection(post, REWARD_COLLECTION).minter == FAST_MINTER | GAME
    rejects(post, MINTER, Mint(REWARD_COLLECTION, ALICE, 1, 0), "signer is not the collection's")


def test_set_minter_hands_minting_to_another_account(genesis: ZkState) -> None:
    post = apply(genesis, MINTER, SetMinter(REWARD_COLLECTION, ALICE, fast_chain=0))
    post = apply(post, ALICE, Mint(REWARD_COLLECTION, BOB, 1, 0))
    assert get_nft(post, REWARD_0).owner == BOB


def test_rejects_set_minter_by_someone_else(genesis: ZkState) -> None:
    body = SetMinter(REWARD_COLLECTION, ALICE, fast_chain=0)
    rejects(genesis, ALICE, body, "signer is not the collection's minter")


def test_rejects_set_minter_to_zero(genesis: ZkState) -> None:
    body = SetMinter(REWARD_COLLECTION, 0, fast_chain=1)
    rejects(genesis, MINTER, body, "new minter must be a non-zero")


def test_rejects_set_minter_with_a_fast_chain_flag_beyond_one(genesis: ZkState) -> None:
    body = SetMinter(REWARD_COLLECTION, GAME, fast_chain=2)
    rejects(genesis, MINTER, body, "fastChain must be 0 or 1")


def test_rejects_reward_mint_in_an_account_minters_name(genesis: ZkState) -> None:
    # The fast chain can claim any sender: an account's collection stays out of its reach.
    refuses(genesis, RewardMint(0, MINTER, GAME_PASS_COLLECTION, 0, BOB, 9), "sender is not")


def test_reward_mint_from_the_minter_contract(genesis: ZkState) -> None:
    state = with_game_minter(genesis)
    post = apply_message(state, RewardMint(0, GAME, REWARD_COLLECTION, 2, BOB, metadata=9))
    assert get_nft(post, REWARD_0).owner == BOB
    collection = get_collection(post, REWARD_COLLECTION)
    assert (collection.round, collection.round_count, collection.supply) == (2, 1, 1)
    assert post.inbox == 1


def test_rejects_reward_mint_from_another_contract(genesis: ZkState) -> None:
    state = with_game_minter(genesis)
    body = RewardMint(0, 0xE111, REWARD_COLLECTION, 0, BOB, 9)
    refuses(state, body, "sender is not the collection's minter")


def test_rejects_reward_mints_over_the_round_cap(genesis: ZkState) -> None:
    state = with_game_minter(genesis)
    for seq in range(ROUND_MINT_CAP):
        state = apply_message(state, RewardMint(seq, GAME, REWARD_COLLECTION, 1, BOB, seq))
    body = RewardMint(ROUND_MINT_CAP, GAME, REWARD_COLLECTION, 1, BOB, 0)
    refuses(state, body, "round mint cap reached")
    assert get_collection(state, REWARD_COLLECTION).supply == ROUND_MINT_CAP


def test_rejects_reward_mints_over_the_epoch_cap_across_rounds(genesis: ZkState) -> None:
    state = with_game_minter(genesis)
    cap = get_collection(state, REWARD_COLLECTION).epoch_cap
    for seq in range(cap):
        state = apply_message(state, RewardMint(seq, GAME, REWARD_COLLECTION, seq, BOB, 0))
    body = RewardMint(cap, GAME, REWARD_COLLECTION, cap, BOB, 0)
    refuses(state, body, "epoch mint cap reached")


@pytest.mark.parametrize("epochs_later", [0, 3], ids=["same-epoch", "3-epochs-later"])
def test_reward_mint_advances_the_round_by_at_most_its_allowance(
    genesis: ZkState, epochs_later: int
) -> None:
    # A fast chain that lies about the round cannot take it out of reach of later rewards:
    # (epochs_later + 1) · 1024 rounds past the collection's last, and not one more.
    state = apply_message(
        with_game_minter(genesis), RewardMint(0, GAME, REWARD_COLLECTION, 5, BOB, 0)
    )
    later = replace(CTX, epoch=CTX.epoch + epochs_later)
    last = 5 + (epochs_later + 1) * MAX_ROUNDS_PER_EPOCH
    too_far = RewardMint(1, GAME, REWARD_COLLECTION, last + 1, BOB, 0)
    refuses(state, too_far, "round advances more than 1024 rounds an epoch", ctx=later)
    body = RewardMint(1, GAME, REWARD_COLLECTION, last, BOB, 0)
    post = apply_message(state, body, later)
    assert get_collection(post, REWARD_COLLECTION).round == last


# -- ownership keys --------------------------------------------------------------------------


def test_register_key_sets_the_signers_key_hash(genesis: ZkState) -> None:
    post = apply(genesis, ALICE, RegisterKey(key_hash=0x5EC2E7))
    alice = get_account(post, ALICE)
    assert alice.key_hash == 0x5EC2E7
    assert (alice.balance, alice.nonce) == (100 * ZKPOW - FEE, 1)


def test_rejects_register_key_of_zero(genesis: ZkState) -> None:
    rejects(genesis, ALICE, RegisterKey(key_hash=0), "key hash must be a non-zero field element")


def test_rejects_register_key_beyond_the_field(genesis: ZkState) -> None:
    body = RegisterKey(key_hash=FIELD_MODULUS)
    rejects(genesis, ALICE, body, "key hash must be a non-zero field element")


def test_rejects_register_key_without_an_account(genesis: ZkState) -> None:
    rejects(genesis, CAROL, RegisterKey(key_hash=1), "signer has no account")


# -- L1 deposits and withdrawals -------------------------------------------------------------


def test_deposit_credits_an_existing_account(genesis: ZkState) -> None:
    post = apply_message(genesis, Deposit(index=0, to=ALICE, amount=7 * ZKPOW))
    alice = get_account(post, ALICE)
    assert (alice.balance, alice.nonce) == (107 * ZKPOW, 0)
    assert get_total_supply(post) == get_total_supply(genesis) + 7 * ZKPOW


def test_deposit_opens_an_account_for_a_new_address(genesis: ZkState) -> None:
    post = apply_message(genesis, Deposit(index=3, to=CAROL, amount=ZKPOW))
    assert post.account_index[CAROL] == compute_next_account_index(genesis)
    assert get_account(post, CAROL).balance == ZKPOW


def test_rejects_deposit_of_nothing_or_to_nobody(genesis: ZkState) -> None:
    refuses(genesis, Deposit(index=0, to=ALICE, amount=0), "amount must be above 0")
    refuses(genesis, Deposit(index=0, to=0, amount=1), "recipient must be a non-zero address")
    refuses(genesis, Deposit(index=1 << 64, to=ALICE, amount=1), "deposit number must be below")


def test_rejects_deposit_that_overflows_the_balance(genesis: ZkState) -> None:
    limit = (1 << 96) - 1
    refuses(genesis, Deposit(0, ALICE, limit - 100 * ZKPOW + 1), "balance would overflow")


def test_rejects_a_signed_deposit(genesis: ZkState) -> None:
    rejects(genesis, ALICE, Deposit(index=0, to=ALICE, amount=ZKPOW), "has no signer")


def test_withdraw_burns_amount_and_fee(genesis: ZkState) -> None:
    post = apply(genesis, ALICE, Withdraw(to=CAROL, amount=9 * ZKPOW))
    alice = get_account(post, ALICE)
    assert (alice.balance, alice.nonce) == (91 * ZKPOW - FEE, 1)
    assert get_total_supply(post) == get_total_supply(genesis) - 9 * ZKPOW, "burned here"
    assert CAROL not in post.account_index, "the recipient is on L1"


def test_rejects_withdraw_beyond_balance_or_of_nothing(genesis: ZkState) -> None:
    rejects(genesis, ALICE, Withdraw(CAROL, 100 * ZKPOW), "insufficient balance")
    rejects(genesis, ALICE, Withdraw(CAROL, 0), "amount must be above 0")
    rejects(genesis, ALICE, Withdraw(0, ZKPOW), "L1 recipient must be a non-zero address")


def test_block_credits_deposits_first_and_stops_at_the_first_it_cannot_credit(
    genesis: ZkState,
) -> None:
    heads = LedgerHeads(log=None, chains={})
    limit = (1 << 96) - 1
    deposits = [
        Deposit(0, CAROL, ZKPOW),
        Deposit(1, ALICE, limit),  # would overflow Alice's balance
        Deposit(2, BOB, ZKPOW),  # waits behind it: the rollup takes deposits in order
    ]
    zk = apply_block(genesis, heads, ChainId(2), 1_000, [], FEE, (), deposits)
    assert zk.deposits_taken == 1
    assert zk.deposit_refused is not None and "deposit 1" in zk.deposit_refused
    assert [a.op for a in zk.applied] == [Operation(deposits[0], 0, 0, 0)]
    assert get_account(zk.state, CAROL).balance == ZKPOW
    assert get_account(zk.state, BOB).balance == 100 * ZKPOW


# -- the prover market: heartbeats and settlements -------------------------------------------


def with_provers(state: ZkState, *provers: int, active_until: int = 130) -> ZkState:
    """`state` after each of `provers` sends its first heartbeat, in that order."""
    for prover in provers:
        state = apply(state, prover, Heartbeat(active_until))
    return state


def with_fee_pool(state: ZkState, fee_pool: int) -> ZkState:
    changed = state.copy()
    changed.fee_pool = fee_pool
    return changed


def settle(*entries: tuple[int, int], paid: int) -> MarketSettle:
    padding = (UNUSED_ENTRY,) * (MARKET_ENTRIES - len(entries))
    return MarketSettle(paid, (*(SettleEntry(i, d) for i, d in entries), *padding))


def test_first_heartbeat_makes_a_prover_at_the_next_index(genesis: ZkState) -> None:
    post = apply(genesis, ALICE, Heartbeat(active_until=130))
    assert post.prover_index == {ALICE: 0}
    assert get_prover(post, ALICE) == Prover(ALICE, balance=0, active_until=130)
    assert get_prover(post, ALICE).balance_offset == BALANCE_OFFSET
    alice = get_account(post, ALICE)
    assert (alice.balance, alice.nonce, post.fee_pool) == (100 * ZKPOW - FEE, 1, FEE)
    post = apply(post, BOB, Heartbeat(active_until=131))
    assert post.prover_index == {ALICE: 0, BOB: 1}


def test_heartbeat_extends_and_keeps_the_balance(genesis: ZkState) -> None:
    state = with_provers(with_fee_pool(genesis, ZKPOW), ALICE)
    state = apply_message(state, settle((0, 5 * FEE), paid=5 * FEE))
    post = apply(state, ALICE, Heartbeat(active_until=200))
    assert get_prover(post, ALICE) == Prover(ALICE, balance=5 * FEE, active_until=200)
    assert post.prover_index == {ALICE: 0}
    assert get_prover(apply(post, ALICE, Heartbeat(200)), ALICE).active_until == 200, "the same"


def test_rejects_heartbeat_going_backwards(genesis: ZkState) -> None:
    state = with_provers(genesis, ALICE, active_until=130)
    rejects(state, ALICE, Heartbeat(129), "activeUntil 129 is before the prover's 130")


def test_rejects_heartbeat_beyond_32_bits(genesis: ZkState) -> None:
    rejects(genesis, ALICE, Heartbeat(1 << 32), "activeUntil must fit 32 bits")


def test_rejects_heartbeat_without_an_account(genesis: ZkState) -> None:
    rejects(genesis, CAROL, Heartbeat(130), "signer has no account")


def test_rejects_heartbeat_when_the_prover_tree_is_full(genesis: ZkState) -> None:
    full = genesis.copy()
    for index in range(full.provers.capacity):
        full.prover_records[index] = Prover(0x1000 + index, 0, 1)
    rejects(full, ALICE, Heartbeat(130), "the prover tree is full")


def test_settlement_pays_bounties_from_the_pool_and_burns_penalties(genesis: ZkState) -> None:
    state = with_provers(with_fee_pool(genesis, ZKPOW), ALICE, BOB)
    pool = state.fee_pool
    post = apply_message(state, settle((0, 3 * FEE), (1, -10 * FEE), paid=4 * FEE))
    assert get_prover(post, ALICE).balance == 3 * FEE
    assert get_prover(post, BOB) == Prover(BOB, balance=-10 * FEE, active_until=130)
    assert post.fee_pool == pool - 4 * FEE
    # What was paid beyond the bounties is burned, and a debt is no money: 1 FEE goes.
    assert get_total_supply(post) == get_total_supply(state) - FEE


def test_settlement_works_off_a_debt(genesis: ZkState) -> None:
    state = with_provers(with_fee_pool(genesis, ZKPOW), ALICE)
    state = apply_message(state, settle((0, -10 * FEE), paid=0))
    post = apply_message(state, settle((0, 4 * FEE), paid=4 * FEE))
    assert get_prover(post, ALICE).balance == -6 * FEE
    assert get_total_supply(post) == get_total_supply(state) - 4 * FEE, "paid into the debt"


def test_settlement_entries_apply_in_order_to_one_prover(genesis: ZkState) -> None:
    state = with_provers(with_fee_pool(genesis, ZKPOW), ALICE)
    post = apply_message(state, settle((0, 2 * FEE), (0, -FEE), paid=2 * FEE))
    assert get_prover(post, ALICE).balance == FEE


def test_unused_entry_may_name_an_empty_slot(genesis: ZkState) -> None:
    state = with_fee_pool(genesis, ZKPOW)
    post = apply_message(state, settle(paid=FEE))  # no prover at all: every entry unused
    assert get_prover_at(post, 0) == EMPTY_PROVER
    assert post.prover_records == {} and post.fee_pool == ZKPOW - FEE
    assert post.provers.root == genesis.provers.root


def test_rejects_settlement_of_a_nonexistent_prover(genesis: ZkState) -> None:
    state = with_provers(with_fee_pool(genesis, ZKPOW), ALICE)
    refuses(state, settle((1, FEE), paid=FEE), "no prover at index 1")
    refuses(state, settle((64, 0), paid=0), "no prover slot 64")


def test_rejects_bounties_beyond_what_is_paid(genesis: ZkState) -> None:
    state = with_provers(with_fee_pool(genesis, ZKPOW), ALICE, BOB)
    refuses(state, settle((0, 3 * FEE), paid=3 * FEE - 1), "bounties of .* exceed")
    # A penalty does not fund another prover's bounty: it is burned, not paid.
    refuses(state, settle((0, 3 * FEE), (1, -3 * FEE), paid=0), "bounties of .* exceed")


def test_rejects_paying_more_than_the_fee_pool(genesis: ZkState) -> None:
    state = with_provers(with_fee_pool(genesis, ZKPOW), ALICE)
    refuses(state, settle((0, FEE), paid=state.fee_pool + 1), "exceeds the fee pool")
    refuses(state, settle(paid=1 << 96), r"paid must be below 2\^96")


def test_rejects_balance_offset_out_of_range(genesis: ZkState) -> None:
    state = with_provers(with_fee_pool(genesis, ZKPOW), ALICE)
    refuses(state, settle((0, -BALANCE_OFFSET - 1), paid=0), "delta must fit 128 bits signed")
    refuses(state, settle((0, BALANCE_OFFSET), paid=0), "delta must fit 128 bits signed")
    deep = apply_message(state, settle((0, -BALANCE_OFFSET), paid=0))
    assert get_prover(deep, ALICE).balance_offset == 0  # the lowest balance there is
    refuses(deep, settle((0, -1), paid=0), "prover balance would overflow")


def test_rejects_settlement_of_another_size(genesis: ZkState) -> None:
    state = with_provers(with_fee_pool(genesis, ZKPOW), ALICE)
    body = MarketSettle(FEE, (SettleEntry(0, FEE),) * (MARKET_ENTRIES + 1))
    refuses(state, body, f"a settlement has {MARKET_ENTRIES} entries")


def test_rejects_a_signed_settlement(genesis: ZkState) -> None:
    rejects(with_fee_pool(genesis, ZKPOW), ALICE, settle(paid=0), "has no signer")


def test_market_settles_split_a_block_into_settlements(genesis: ZkState) -> None:
    state = with_provers(with_fee_pool(genesis, ZKPOW), ALICE, BOB, MINTER)
    payments = [(ALICE, 3 * FEE), (BOB, -10 * FEE), (MINTER, 2 * FEE)]
    settles = compute_market_settles(state, 6 * FEE, payments)
    assert settles == [
        MarketSettle(3 * FEE, (SettleEntry(0, 3 * FEE), SettleEntry(1, -10 * FEE))),
        MarketSettle(3 * FEE, (SettleEntry(2, 2 * FEE), UNUSED_ENTRY)),  # and 1 FEE burned
    ]
    for body in settles:
        state = apply_message(state, body)
    assert [get_prover(state, p).balance for p in (ALICE, BOB, MINTER)] == [
        3 * FEE,
        -10 * FEE,
        2 * FEE,
    ]
    assert state.fee_pool == ZKPOW + 3 * FEE - 6 * FEE  # the heartbeats' fees, the payments
    assert compute_market_settles(state, 0, []) == []
    assert compute_market_settles(state, FEE, []) == [settle(paid=FEE)]


def test_rejects_market_payment_to_a_non_prover(genesis: ZkState) -> None:
    with pytest.raises(InvalidOp, match="is not a prover"):
        compute_market_settles(genesis, FEE, [(ALICE, FEE)])


def test_provers_survive_storage(genesis: ZkState) -> None:
    state = with_provers(with_fee_pool(genesis, ZKPOW), ALICE, BOB)
    state = apply_message(state, settle((0, FEE), (1, -FEE), paid=FEE))
    reloaded = load_state(list_record_rows(state), state.fee_pool, state.escrow, state.inbox)
    assert compute_state_root(reloaded) == compute_state_root(state)
    assert reloaded.prover_index == state.prover_index == {ALICE: 0, BOB: 1}
    assert reloaded.prover_records == state.prover_records


def test_an_operation_signed_for_another_account_leaf_is_refused(genesis: ZkState) -> None:
    """A signature names the signer's account index (fromIndex): on another leaf, one a
    compromised sequencer might open for the same address, it does not apply."""
    state = genesis
    index = get_account_index(state, ALICE)
    assert index is not None
    signed_for = Operation(Transfer(BOB, 1), ALICE, FEE, 0, from_index=index)
    apply_operation(state, signed_for, CTX)  # the signer's own leaf: applies
    elsewhere = replace(signed_for, from_index=index + 1)
    with pytest.raises(InvalidOp, match=f"fromIndex {index + 1} is not the signer's account"):
        apply_operation(state, elsewhere, CTX)
