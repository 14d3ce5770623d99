"""The ZK chain's operations and their rules, each rule written once (docs/zk-state.md).

`apply_operation` is the only way the state changes. The same rules are enforced again
inside each operation's circuit, so the node cannot prove a transition they forbid.
"""

from dataclasses import dataclass, replace

from chain.zk.poseidon import FIELD_MODULUS
from chain.zk.state import (
    ADDRESS_BITS,
    AMOUNT_BITS,
    MAX_SERIALS,
    NONCE_BITS,
    ROUND_BITS,
    Account,
    Nft,
    Touch,
    ZkState,
    compute_next_account_index,
    compute_token_key,
    get_account,
    get_account_index,
    get_collection,
    get_nft,
    put_account,
    put_collection,
    put_nft,
)

GWEI = 10**9
FEE_GWEI_BITS = 48
MAX_AMOUNT = (1 << AMOUNT_BITS) - 1
MAX_NONCE = (1 << NONCE_BITS) - 1
MAX_ROUND = (1 << ROUND_BITS) - 1


class InvalidOp(Exception):
    """An operation that breaks a rule of the ZK chain; the message says which."""


def ensure(condition: bool, message: str) -> None:
    if not condition:
        raise InvalidOp(message)


@dataclass(frozen=True)
class Transfer:
    to: int
    amount: int


@dataclass(frozen=True)
class Mint:
    collection: int
    to: int
    metadata: int
    round: int


@dataclass(frozen=True)
class TransferNft:
    token_key: int
    to: int


@dataclass(frozen=True)
class ListNft:
    token_key: int
    price: int


@dataclass(frozen=True)
class CancelListing:
    token_key: int


@dataclass(frozen=True)
class Buy:
    token_key: int
    price: int


@dataclass(frozen=True)
class ToFast:
    """Lock ZKPoW in escrow for `to` on the fast chain, which credits it in its next block."""

    to: int
    amount: int


OpBody = Transfer | Mint | TransferNft | ListNft | CancelListing | Buy | ToFast


@dataclass(frozen=True)
class Operation:
    """An operation as the chain applies it: the signed body plus who signed it."""

    body: OpBody
    signer: int
    fee: int
    nonce: int


@dataclass(frozen=True)
class BlockContext:
    height: int
    epoch: int
    min_fee: int


def apply_operation(
    state: ZkState, op: Operation, ctx: BlockContext
) -> tuple[ZkState, list[Touch]]:
    """The state after `op`, and the leaf writes a circuit proves, in circuit order.

    Raises InvalidOp if `op` breaks a rule; `state` itself is never modified, so a rejected
    operation leaves nothing behind.
    """
    post = state.copy()
    trace: list[Touch] = []
    body = op.body
    if isinstance(body, Transfer):
        process_transfer(post, op, body, ctx, trace)
    elif isinstance(body, Mint):
        process_mint(post, op, body, ctx, trace)
    elif isinstance(body, TransferNft):
        process_transfer_nft(post, op, body, ctx, trace)
    elif isinstance(body, ListNft):
        process_list(post, op, body, ctx, trace)
    elif isinstance(body, CancelListing):
        process_cancel(post, op, body, ctx, trace)
    elif isinstance(body, ToFast):
        process_to_fast(post, op, body, ctx, trace)
    else:
        process_buy(post, op, body, ctx, trace)
    return post, trace


def process_header(
    state: ZkState, op: Operation, ctx: BlockContext, spend: int, trace: list[Touch]
) -> None:
    """The rules every operation shares: the signer pays `spend` plus the fee, nonce moves on."""
    index = get_account_index(state, op.signer)
    ensure(index is not None, "signer has no account on the ZK chain")
    account = get_account(state, op.signer)
    ensure(
        op.nonce == account.nonce, f"nonce {op.nonce} is not the account's nonce {account.nonce}"
    )
    ensure(op.nonce < MAX_NONCE, "nonce exhausted")
    ensure(op.fee >= ctx.min_fee, f"fee {op.fee} is below the minimum {ctx.min_fee}")
    ensure(op.fee % GWEI == 0, "fee must be a whole number of gwei")
    ensure(op.fee // GWEI < 1 << FEE_GWEI_BITS, "fee too large")
    ensure(account.balance >= spend + op.fee, "insufficient balance")
    paid = replace(account, balance=account.balance - spend - op.fee, nonce=account.nonce + 1)
    put_account(state, state.account_index[op.signer], paid, trace)
    state.fee_pool += op.fee


def check_address(address: int, what: str) -> None:
    ensure(0 < address < 1 << ADDRESS_BITS, f"{what} must be a non-zero address")


def check_amount(amount: int, what: str) -> None:
    ensure(0 <= amount <= MAX_AMOUNT, f"{what} must be below 2^{AMOUNT_BITS}")


def check_owned(nft: Nft, signer: int) -> None:
    ensure(nft.exists, "no such token")
    ensure(nft.owner == signer, "signer does not own the token")


def process_credit(state: ZkState, address: int, amount: int, trace: list[Touch]) -> None:
    """Pay `amount` to `address`, opening an account at the next free index if it has none."""
    index = get_account_index(state, address)
    if index is None:
        index = compute_next_account_index(state)
        ensure(index < state.accounts.capacity, "the account tree is full")
    account = state.account_records.get(index, Account(address))
    ensure(account.balance + amount <= MAX_AMOUNT, "recipient balance would overflow")
    put_account(state, index, replace(account, balance=account.balance + amount), trace)


def process_transfer(
    state: ZkState, op: Operation, body: Transfer, ctx: BlockContext, trace: list[Touch]
) -> None:
    check_address(body.to, "recipient")
    check_amount(body.amount, "amount")
    process_header(state, op, ctx, body.amount, trace)
    process_credit(state, body.to, body.amount, trace)


def process_mint(
    state: ZkState, op: Operation, body: Mint, ctx: BlockContext, trace: list[Touch]
) -> None:
    ensure(0 <= body.collection < state.collections.capacity, "no such collection")
    collection = get_collection(state, body.collection)
    ensure(collection.minter != 0, "no such collection")
    ensure(op.signer == collection.minter, "signer is not the collection's minter")
    check_address(body.to, "recipient")
    ensure(0 <= body.metadata < FIELD_MODULUS, "metadata must be a field element")
    ensure(collection.round <= body.round <= MAX_ROUND, "round is behind the collection's round")
    ensure(collection.epoch <= ctx.epoch <= MAX_ROUND, "epoch is behind the collection's epoch")
    round_count = (collection.round_count if body.round == collection.round else 0) + 1
    epoch_count = (collection.epoch_count if ctx.epoch == collection.epoch else 0) + 1
    ensure(round_count <= collection.round_cap, "round mint cap reached")
    ensure(epoch_count <= collection.epoch_cap, "epoch mint cap reached")
    ensure(collection.supply < MAX_SERIALS, "collection is full")
    process_header(state, op, ctx, 0, trace)
    token_key = compute_token_key(body.collection, collection.supply)
    minted = replace(
        collection,
        round=body.round,
        round_count=round_count,
        epoch=ctx.epoch,
        epoch_count=epoch_count,
        supply=collection.supply + 1,
    )
    put_collection(state, body.collection, minted, trace)
    put_nft(state, token_key, Nft(owner=body.to, metadata=body.metadata), trace)


def process_transfer_nft(
    state: ZkState, op: Operation, body: TransferNft, ctx: BlockContext, trace: list[Touch]
) -> None:
    nft = get_nft(state, body.token_key)
    check_owned(nft, op.signer)
    check_address(body.to, "recipient")
    process_header(state, op, ctx, 0, trace)
    put_nft(state, body.token_key, replace(nft, owner=body.to, price=0), trace)


def process_list(
    state: ZkState, op: Operation, body: ListNft, ctx: BlockContext, trace: list[Touch]
) -> None:
    nft = get_nft(state, body.token_key)
    check_owned(nft, op.signer)
    ensure(0 < body.price <= MAX_AMOUNT, f"price must be above 0 and below 2^{AMOUNT_BITS}")
    process_header(state, op, ctx, 0, trace)
    put_nft(state, body.token_key, replace(nft, price=body.price), trace)


def process_cancel(
    state: ZkState, op: Operation, body: CancelListing, ctx: BlockContext, trace: list[Touch]
) -> None:
    nft = get_nft(state, body.token_key)
    check_owned(nft, op.signer)
    ensure(nft.price > 0, "token is not listed")
    process_header(state, op, ctx, 0, trace)
    put_nft(state, body.token_key, replace(nft, price=0), trace)


def process_buy(
    state: ZkState, op: Operation, body: Buy, ctx: BlockContext, trace: list[Touch]
) -> None:
    nft = get_nft(state, body.token_key)
    ensure(nft.exists, "no such token")
    ensure(nft.price > 0, "token is not listed")
    ensure(nft.price == body.price, f"token is listed at {nft.price}, not {body.price}")
    process_header(state, op, ctx, body.price, trace)
    process_credit(state, nft.owner, body.price, trace)
    put_nft(state, body.token_key, replace(nft, owner=op.signer, price=0), trace)


def process_to_fast(
    state: ZkState, op: Operation, body: ToFast, ctx: BlockContext, trace: list[Touch]
) -> None:
    check_address(body.to, "recipient")
    ensure(0 < body.amount <= MAX_AMOUNT, f"amount must be above 0 and below 2^{AMOUNT_BITS}")
    ensure(state.escrow + body.amount <= MAX_AMOUNT, "escrow would overflow")
    process_header(state, op, ctx, body.amount, trace)
    state.escrow += body.amount
