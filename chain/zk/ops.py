"""The ZK chain's operations and their rules, each rule written once (docs/zk-state.md).

Each operation type is a body (a dataclass) and its `process_*` function, which its `OpSpec`
(chain/zk/registry.py) names; `apply_operation` there is the only way the state changes. The
same rules are enforced again inside each operation's circuit, so the node cannot prove a
transition they forbid.

Most operations are signed by an account. Three are not signed, and nobody pays a fee for
them. Two arrive as messages from the fast chain's outbox (`Release`, `RewardMint`): what
bounds them is the escrow and the mint caps, since the fast chain is not proven and may lie.
One credits a deposit locked in the L1 rollup (`Deposit`): the rollup checks, at settlement,
that each one credits exactly the next deposit it holds (docs/l1.md, "Deposits"). One pays the
prover market out of the fee pool (`MarketSettle`): the node makes it from the market's own
book (docs/market.md), and what bounds it is the fee pool, since no settlement pays out more
than it takes from there.
"""

from collections.abc import Sequence
from dataclasses import dataclass, replace

from chain.ensure import ensure
from chain.zk.poseidon import FIELD_MODULUS
from chain.zk.state import (
    ACTIVE_UNTIL_BITS,
    ADDRESS_BITS,
    AMOUNT_BITS,
    BALANCE_OFFSET,
    FAST_MINTER,
    MAX_SERIALS,
    NONCE_BITS,
    ROUND_BITS,
    SEQ_BITS,
    Account,
    Nft,
    Prover,
    Stake,
    Touch,
    ZkState,
    compute_next_account_index,
    compute_next_prover_index,
    compute_stake_address,
    compute_token_key,
    get_account,
    get_account_index,
    get_collection,
    get_nft,
    get_prover_at,
    get_prover_index,
    get_stake,
    put_account,
    put_collection,
    put_nft,
    put_prover,
)
from chain.zk.words import FEE_GWEI_BITS

GWEI = 10**9
MAX_AMOUNT = (1 << AMOUNT_BITS) - 1
MAX_NONCE = (1 << NONCE_BITS) - 1
MAX_ROUND = (1 << ROUND_BITS) - 1
# How far a mint may take its collection's round: this many rounds for each epoch since the
# collection's last mint, and for the mint's own. A round comes from the minter or, for a
# RewardMint, from the unproven fast chain, so without a bound one message could take it to
# MAX_ROUND and refuse every later reward ("round is behind") for good. The epoch is the
# chain's, not the message's: it measures elapsed time, which no message can hurry (the
# rollup binds it to the settled block's timestamp // 600 s, docs/l1.md "Epochs"). 1024 an
# epoch (10 minutes) is a round every ~0.6 s sustained, generous for real games (a collection
# idle for a day may jump ~147k rounds), while a fast chain that lies burns at most 1024
# rounds per epoch of L1 time: the 2^32 rounds last ~80 years. lib/params.circom holds the
# same number.
MAX_ROUNDS_PER_EPOCH = 1024
MAX_SEQ = (1 << SEQ_BITS) - 1
MAX_ACTIVE_UNTIL = (1 << ACTIVE_UNTIL_BITS) - 1
# Stake unbonds for this many epochs (of 10 minutes, ops' epochs) before it may be claimed:
# long enough for CometBFT's evidence of a double vote, which commits within a few heights, to
# slash it first. A validator that could take its stake out at once would sign twice and leave.
UNBONDING_EPOCHS = 2
# The share of a validator's stake, bonded and unbonding, that one slash burns (the Cosmos Hub
# burns 5% for a double vote). lib's stake.circom holds the same numbers.
SLASH_PERCENT = 5
# Prover entries per MarketSettle: each is one Merkle update in the circuit. A block's payments
# to more provers take more settlements.
MARKET_ENTRIES = 2


class InvalidOp(Exception):
    """An operation that breaks a rule of the ZK chain; the message says which."""


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


@dataclass(frozen=True)
class SetMinter:
    """Hand a collection's minting to `minter`: another account (fast_chain 0), or a
    fast-chain contract (fast_chain 1) whose reward-mint messages the chain then honours,
    within the caps."""

    collection: int
    minter: int
    fast_chain: int


@dataclass(frozen=True)
class RegisterKey:
    """Set the signer's ownership key: `key_hash = H(secret)`, where the secret is derived
    from the signer's Ethereum key (chain/zk/ownership.py). With it, the signer can prove
    that they own a token without their key or their address in the proof (the ownership
    circuit)."""

    key_hash: int


@dataclass(frozen=True)
class Release:
    """Fast-chain message `seq`: ZKPoW burned there is paid to `to` here, out of escrow."""

    seq: int
    to: int
    amount: int


@dataclass(frozen=True)
class Withdraw:
    """Burn `amount` of the signer's ZKPoW here, to be paid to `to` on L1 by the rollup once
    the block is settled (a Merkle proof of the withdrawal under that block's withdrawals
    root, claimed once)."""

    to: int
    amount: int


@dataclass(frozen=True)
class Deposit:
    """L1 deposit number `index` of the rollup: ZKPoW locked there, credited to `to` here."""

    index: int
    to: int
    amount: int


@dataclass(frozen=True)
class RewardMint:
    """Fast-chain message `seq`: `sender` asks for a token of `collection` for `to`."""

    seq: int
    sender: int
    collection: int
    round: int
    to: int
    metadata: int


@dataclass(frozen=True)
class Heartbeat:
    """The signer offers to prove for the market through ZK height `active_until` (never
    earlier than it offered before). Its first heartbeat makes it a prover, balance 0."""

    active_until: int


@dataclass(frozen=True)
class SettleEntry:
    """`delta` wei (signed: a penalty is negative) for the prover at index `prover`."""

    prover: int
    delta: int


UNUSED_ENTRY = SettleEntry(prover=0, delta=0)  # pads a settlement of fewer provers


@dataclass(frozen=True)
class MarketSettle:
    """The market's payments of a ZK block (docs/market.md, "Payments are proven too"):
    `paid` wei leave the fee pool, and each entry's delta goes to its prover's balance.
    Bounties come out of `paid`; penalties are burned, never paid to anyone: the positive
    deltas add up to at most `paid`. Exactly MARKET_ENTRIES entries, UNUSED_ENTRY for none."""

    paid: int
    entries: tuple[SettleEntry, ...]


@dataclass(frozen=True)
class Bond:
    """Lock `amount` of the signer's ZKPoW as its stake as a validator: its power counts the
    bonded stake from the next power epoch of the consensus (docs/architecture.md, "Stake")."""

    amount: int


@dataclass(frozen=True)
class Unbond:
    """Start `amount` of the signer's bonded stake unbonding: it stops counting for power, and
    may be claimed UNBONDING_EPOCHS epochs later (all of it unbonding, from this op's epoch)."""

    amount: int


@dataclass(frozen=True)
class ClaimStake:
    """Pay the signer all of its unbonding stake, once its unlock epoch has come."""


@dataclass(frozen=True)
class Slash:
    """Burn SLASH_PERCENT of `validator`'s stake, bonded and unbonding alike: the consensus's
    evidence of its double vote (docs/architecture.md, "Stake"), which the network's
    validators, not any account, decide. Nobody gains what is burned."""

    validator: int


SignedBody = (
    Transfer
    | Mint
    | TransferNft
    | ListNft
    | CancelListing
    | Buy
    | ToFast
    | SetMinter
    | RegisterKey
    | Withdraw
    | Heartbeat
    | Bond
    | Unbond
    | ClaimStake
)
MessageBody = Release | RewardMint  # from the fast chain's outbox
UnsignedBody = MessageBody | Deposit | MarketSettle | Slash
OpBody = SignedBody | UnsignedBody


@dataclass(frozen=True)
class Operation:
    """An operation as the chain applies it: the body plus who signed it (signer, fee and
    nonce are 0 for an unsigned operation: a fast-chain message, an L1 deposit, a market
    settlement)."""

    body: OpBody
    signer: int
    fee: int
    nonce: int
    # The signer's account index, which its signature names (so it is good for one account
    # leaf: L1 reads it from the words); None where nobody signed one (tests, the state
    # machine's own callers), when the signer's index is taken as the state has it.
    from_index: int | None = None


@dataclass(frozen=True)
class BlockContext:
    height: int
    epoch: int
    min_fee: int


def process_unsigned(op: Operation) -> None:
    """Nobody signs a message, a deposit or a settlement, so nothing in a proof speaks for a
    signer, fee or nonce."""
    ensure(
        op == Operation(op.body, 0, 0, 0), InvalidOp, f"a {type(op.body).__name__} has no signer"
    )


def process_header(
    state: ZkState, op: Operation, ctx: BlockContext, spend: int, trace: list[Touch]
) -> None:
    """The rules every operation shares: the signer pays `spend` plus the fee, nonce moves on."""
    # A signer is recovered from a signature: an address, never a stake account (STAKE_FLAG).
    check_address(op.signer, "signer")
    index = get_account_index(state, op.signer)
    ensure(index is not None, InvalidOp, "signer has no account on the ZK chain")
    ensure(
        op.from_index is None or op.from_index == index,
        InvalidOp,
        f"fromIndex {op.from_index} is not the signer's account {index}",
    )
    account = get_account(state, op.signer)
    ensure(
        op.nonce == account.nonce,
        InvalidOp,
        f"nonce {op.nonce} is not the account's nonce {account.nonce}",
    )
    ensure(op.nonce < MAX_NONCE, InvalidOp, "nonce exhausted")
    ensure(op.fee >= ctx.min_fee, InvalidOp, f"fee {op.fee} is below the minimum {ctx.min_fee}")
    ensure(op.fee % GWEI == 0, InvalidOp, "fee must be a whole number of gwei")
    ensure(op.fee // GWEI < 1 << FEE_GWEI_BITS, InvalidOp, "fee too large")
    ensure(account.balance >= spend + op.fee, InvalidOp, "insufficient balance")
    paid = replace(account, balance=account.balance - spend - op.fee, nonce=account.nonce + 1)
    put_account(state, state.account_index[op.signer], paid, trace)
    state.fee_pool += op.fee


def check_address(address: int, what: str) -> None:
    ensure(0 < address < 1 << ADDRESS_BITS, InvalidOp, f"{what} must be a non-zero address")


def check_amount(amount: int, what: str) -> None:
    ensure(0 <= amount <= MAX_AMOUNT, InvalidOp, f"{what} must be below 2^{AMOUNT_BITS}")


def check_positive_amount(amount: int) -> None:
    ensure(0 < amount <= MAX_AMOUNT, InvalidOp, f"amount must be above 0 and below 2^{AMOUNT_BITS}")


def check_owned(nft: Nft, signer: int) -> None:
    ensure(nft.exists, InvalidOp, "no such token")
    ensure(nft.owner == signer, InvalidOp, "signer does not own the token")


def process_credit(state: ZkState, address: int, amount: int, trace: list[Touch]) -> None:
    """Pay `amount` to `address`, opening an account at the next free index if it has none."""
    index = get_account_index(state, address)
    if index is None:
        index = compute_next_account_index(state)
        ensure(index < state.accounts.capacity, InvalidOp, "the account tree is full")
    account = state.account_records.get(index, Account(address))
    ensure(account.balance + amount <= MAX_AMOUNT, InvalidOp, "recipient balance would overflow")
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
    check_minter(state, body.collection, op.signer, "signer")
    check_mint(state, body.collection, body.to, body.metadata, body.round, ctx)
    process_header(state, op, ctx, 0, trace)
    process_new_token(state, body.collection, body.to, body.metadata, body.round, ctx, trace)


def check_minter(state: ZkState, collection_id: int, minter: int, who: str) -> None:
    ensure(0 <= collection_id < state.collections.capacity, InvalidOp, "no such collection")
    collection = get_collection(state, collection_id)
    ensure(collection.minter != 0, InvalidOp, "no such collection")
    ensure(minter == collection.minter, InvalidOp, f"{who} is not the collection's minter")


def check_mint(
    state: ZkState, collection_id: int, to: int, metadata: int, round_: int, ctx: BlockContext
) -> None:
    """The caps and the token's fields: what bounds every mint, signed or from the fast chain."""
    collection = get_collection(state, collection_id)
    check_address(to, "recipient")
    ensure(0 <= metadata < FIELD_MODULUS, InvalidOp, "metadata must be a field element")
    ensure(
        collection.round <= round_ <= MAX_ROUND, InvalidOp, "round is behind the collection's round"
    )
    ensure(
        collection.epoch <= ctx.epoch <= MAX_ROUND,
        InvalidOp,
        "epoch is behind the collection's epoch",
    )
    allowance = compute_round_allowance(collection.epoch, ctx.epoch)
    message = f"round advances more than {MAX_ROUNDS_PER_EPOCH} rounds an epoch"
    ensure(round_ - collection.round <= allowance, InvalidOp, message)
    round_count = (collection.round_count if round_ == collection.round else 0) + 1
    epoch_count = (collection.epoch_count if ctx.epoch == collection.epoch else 0) + 1
    ensure(round_count <= collection.round_cap, InvalidOp, "round mint cap reached")
    ensure(epoch_count <= collection.epoch_cap, InvalidOp, "epoch mint cap reached")
    ensure(collection.supply < MAX_SERIALS, InvalidOp, "collection is full")


def compute_round_allowance(last_epoch: int, epoch: int) -> int:
    """How many rounds a mint in `epoch` may take a collection last minted in `last_epoch`."""
    return (epoch - last_epoch + 1) * MAX_ROUNDS_PER_EPOCH


def process_new_token(
    state: ZkState,
    collection_id: int,
    to: int,
    metadata: int,
    round_: int,
    ctx: BlockContext,
    trace: list[Touch],
) -> None:
    """Count the mint against the caps and create the token with the next serial."""
    collection = get_collection(state, collection_id)
    same_round = round_ == collection.round
    same_epoch = ctx.epoch == collection.epoch
    minted = replace(
        collection,
        round=round_,
        round_count=(collection.round_count if same_round else 0) + 1,
        epoch=ctx.epoch,
        epoch_count=(collection.epoch_count if same_epoch else 0) + 1,
        supply=collection.supply + 1,
    )
    put_collection(state, collection_id, minted, trace)
    token_key = compute_token_key(collection_id, collection.supply)
    put_nft(state, token_key, Nft(owner=to, metadata=metadata), trace)


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
    ensure(
        0 < body.price <= MAX_AMOUNT, InvalidOp, f"price must be above 0 and below 2^{AMOUNT_BITS}"
    )
    process_header(state, op, ctx, 0, trace)
    put_nft(state, body.token_key, replace(nft, price=body.price), trace)


def process_cancel(
    state: ZkState, op: Operation, body: CancelListing, ctx: BlockContext, trace: list[Touch]
) -> None:
    nft = get_nft(state, body.token_key)
    check_owned(nft, op.signer)
    ensure(nft.price > 0, InvalidOp, "token is not listed")
    process_header(state, op, ctx, 0, trace)
    put_nft(state, body.token_key, replace(nft, price=0), trace)


def process_buy(
    state: ZkState, op: Operation, body: Buy, ctx: BlockContext, trace: list[Touch]
) -> None:
    nft = get_nft(state, body.token_key)
    ensure(nft.exists, InvalidOp, "no such token")
    ensure(nft.price > 0, InvalidOp, "token is not listed")
    ensure(nft.price == body.price, InvalidOp, f"token is listed at {nft.price}, not {body.price}")
    process_header(state, op, ctx, body.price, trace)
    process_credit(state, nft.owner, body.price, trace)
    put_nft(state, body.token_key, replace(nft, owner=op.signer, price=0), trace)


def process_to_fast(
    state: ZkState, op: Operation, body: ToFast, ctx: BlockContext, trace: list[Touch]
) -> None:
    check_address(body.to, "recipient")
    check_positive_amount(body.amount)
    ensure(state.escrow + body.amount <= MAX_AMOUNT, InvalidOp, "escrow would overflow")
    process_header(state, op, ctx, body.amount, trace)
    state.escrow += body.amount


def process_withdraw(
    state: ZkState, op: Operation, body: Withdraw, ctx: BlockContext, trace: list[Touch]
) -> None:
    check_address(body.to, "L1 recipient")
    check_positive_amount(body.amount)
    process_header(state, op, ctx, body.amount, trace)


def process_deposit(
    state: ZkState, op: Operation, body: Deposit, ctx: BlockContext, trace: list[Touch]
) -> None:
    ensure(0 <= body.index <= MAX_SEQ, InvalidOp, f"deposit number must be below 2^{SEQ_BITS}")
    check_address(body.to, "recipient")
    check_positive_amount(body.amount)
    process_credit(state, body.to, body.amount, trace)


def process_set_minter(
    state: ZkState, op: Operation, body: SetMinter, ctx: BlockContext, trace: list[Touch]
) -> None:
    check_minter(state, body.collection, op.signer, "signer")
    check_address(body.minter, "new minter")
    ensure(body.fast_chain in (0, 1), InvalidOp, "fastChain must be 0 or 1")
    process_header(state, op, ctx, 0, trace)
    minter = body.minter | (FAST_MINTER if body.fast_chain else 0)
    collection = get_collection(state, body.collection)
    put_collection(state, body.collection, replace(collection, minter=minter), trace)


def process_register_key(
    state: ZkState, op: Operation, body: RegisterKey, ctx: BlockContext, trace: list[Touch]
) -> None:
    ensure(
        0 < body.key_hash < FIELD_MODULUS, InvalidOp, "key hash must be a non-zero field element"
    )
    process_header(state, op, ctx, 0, trace)
    index = state.account_index[op.signer]
    account = state.account_records[index]
    put_account(state, index, replace(account, key_hash=body.key_hash), trace)


def process_inbox(state: ZkState, seq: int) -> None:
    """Messages apply in the outbox's order, each at most once; a refused one is skipped."""
    ensure(seq <= MAX_SEQ, InvalidOp, f"message number must be below 2^{SEQ_BITS}")
    ensure(
        seq >= state.inbox,
        InvalidOp,
        f"message {seq} is a replay: the next message is {state.inbox}",
    )
    state.inbox = seq + 1


def process_release(
    state: ZkState, op: Operation, body: Release, ctx: BlockContext, trace: list[Touch]
) -> None:
    check_address(body.to, "recipient")
    check_positive_amount(body.amount)
    # Whatever the fast chain claims it burned, it never held more than the escrow.
    ensure(body.amount <= state.escrow, InvalidOp, f"release of {body.amount} exceeds the escrow")
    process_inbox(state, body.seq)
    state.escrow -= body.amount
    process_credit(state, body.to, body.amount, trace)


def process_reward_mint(
    state: ZkState, op: Operation, body: RewardMint, ctx: BlockContext, trace: list[Touch]
) -> None:
    check_minter(state, body.collection, FAST_MINTER | body.sender, "sender")
    check_mint(state, body.collection, body.to, body.metadata, body.round, ctx)
    process_inbox(state, body.seq)
    process_new_token(state, body.collection, body.to, body.metadata, body.round, ctx, trace)


def process_heartbeat(
    state: ZkState, op: Operation, body: Heartbeat, ctx: BlockContext, trace: list[Touch]
) -> None:
    """The signer's prover record, made at the next free index on its first heartbeat, is
    active through `active_until`. How far ahead of the height that may be is the node's
    rule (the market's `active_blocks`): a circuit does not see the height."""
    ensure(0 <= body.active_until <= MAX_ACTIVE_UNTIL, InvalidOp, "activeUntil must fit 32 bits")
    index = get_prover_index(state, op.signer)
    if index is None:
        index = compute_next_prover_index(state)
        ensure(index < state.provers.capacity, InvalidOp, "the prover tree is full")
    prover = get_prover_at(state, index)
    ensure(
        body.active_until >= prover.active_until,
        InvalidOp,
        f"activeUntil {body.active_until} is before the prover's {prover.active_until}",
    )
    process_header(state, op, ctx, 0, trace)
    active = Prover(op.signer, prover.balance, body.active_until)
    put_prover(state, index, active, trace)


def process_market_settle(
    state: ZkState, op: Operation, body: MarketSettle, ctx: BlockContext, trace: list[Touch]
) -> None:
    ensure(
        len(body.entries) == MARKET_ENTRIES, InvalidOp, f"a settlement has {MARKET_ENTRIES} entries"
    )
    for entry in body.entries:
        ensure(
            0 <= entry.prover < state.provers.capacity, InvalidOp, f"no prover slot {entry.prover}"
        )
        ensure(
            -BALANCE_OFFSET <= entry.delta < BALANCE_OFFSET,
            InvalidOp,
            "delta must fit 128 bits signed",
        )
    ensure(0 <= body.paid <= MAX_AMOUNT, InvalidOp, f"paid must be below 2^{AMOUNT_BITS}")
    ensure(
        body.paid <= state.fee_pool,
        InvalidOp,
        f"paid {body.paid} exceeds the fee pool {state.fee_pool}",
    )
    # Penalties are burned: they never fund a bounty, so a debt (never collected) cannot turn
    # into another prover's balance (collectable).
    bounties = sum(max(entry.delta, 0) for entry in body.entries)
    ensure(bounties <= body.paid, InvalidOp, f"bounties of {bounties} exceed the {body.paid} paid")
    state.fee_pool -= body.paid
    for entry in body.entries:
        process_settle_entry(state, entry, trace)


def process_settle_entry(state: ZkState, entry: SettleEntry, trace: list[Touch]) -> None:
    prover = get_prover_at(state, entry.prover)
    # An unused entry (delta 0) may name an empty slot: it writes nothing new.
    ensure(entry.delta == 0 or prover.exists, InvalidOp, f"no prover at index {entry.prover}")
    balance = prover.balance + entry.delta
    ensure(-BALANCE_OFFSET <= balance < BALANCE_OFFSET, InvalidOp, "prover balance would overflow")
    put_prover(state, entry.prover, replace(prover, balance=balance), trace)


def compute_market_settles(
    state: ZkState, paid: int, payments: Sequence[tuple[int, int]]
) -> list[MarketSettle]:
    """The settlements of one market block: `paid` wei from the fee pool and the net
    `payments` (prover address, delta wei), MARKET_ENTRIES to a settlement, in their order.
    Each takes from the pool what its bounties need; the last also takes what is left, which
    is burned. None if nothing moves. Raises InvalidOp for a payee that never sent a heartbeat.
    """
    entries = [SettleEntry(get_payee_index(state, address), delta) for address, delta in payments]
    chunks = [entries[i : i + MARKET_ENTRIES] for i in range(0, len(entries), MARKET_ENTRIES)]
    if not chunks and paid:
        chunks = [[]]
    settles = []
    left = paid
    for position, chunk in enumerate(chunks):
        bounties = sum(max(entry.delta, 0) for entry in chunk)
        take = left if position == len(chunks) - 1 else min(bounties, left)
        padding = (UNUSED_ENTRY,) * (MARKET_ENTRIES - len(chunk))
        settles.append(MarketSettle(take, (*chunk, *padding)))
        left -= take
    return settles


def get_payee_index(state: ZkState, address: int) -> int:
    index = get_prover_index(state, address)
    if index is None:
        raise InvalidOp(f"{address:#x} is not a prover")
    return index


# -- stake (docs/zk-state.md, "Stake") ----------------------------------------------------------


def process_bond(
    state: ZkState, op: Operation, body: Bond, ctx: BlockContext, trace: list[Touch]
) -> None:
    check_positive_amount(body.amount)
    process_header(state, op, ctx, body.amount, trace)
    process_credit(state, compute_stake_address(op.signer), body.amount, trace)


def process_unbond(
    state: ZkState, op: Operation, body: Unbond, ctx: BlockContext, trace: list[Touch]
) -> None:
    check_positive_amount(body.amount)
    stake = get_stake(state, op.signer)
    ensure(
        body.amount <= stake.bonded,
        InvalidOp,
        f"unbond of {body.amount} exceeds the {stake.bonded} bonded",
    )
    ensure(stake.unbonding + body.amount <= MAX_AMOUNT, InvalidOp, "unbonding stake would overflow")
    ensure(ctx.epoch + UNBONDING_EPOCHS <= MAX_ROUND, InvalidOp, "epoch out of range")
    process_header(state, op, ctx, 0, trace)
    unbonding = Stake(
        stake.bonded - body.amount, stake.unbonding + body.amount, ctx.epoch + UNBONDING_EPOCHS
    )
    put_stake(state, op.signer, unbonding, trace)


def process_claim_stake(
    state: ZkState, op: Operation, body: ClaimStake, ctx: BlockContext, trace: list[Touch]
) -> None:
    stake = get_stake(state, op.signer)
    ensure(stake.unbonding > 0, InvalidOp, "no stake is unbonding")
    ensure(
        ctx.epoch >= stake.unlock_epoch,
        InvalidOp,
        f"the stake unbonds until epoch {stake.unlock_epoch}, this is epoch {ctx.epoch}",
    )
    ensure(ctx.epoch <= MAX_ROUND, InvalidOp, "epoch out of range")
    process_header(state, op, ctx, 0, trace)
    put_stake(state, op.signer, Stake(stake.bonded, 0, stake.unlock_epoch), trace)
    process_credit(state, op.signer, stake.unbonding, trace)


def process_slash(
    state: ZkState, op: Operation, body: Slash, ctx: BlockContext, trace: list[Touch]
) -> None:
    check_address(body.validator, "validator")
    ensure(
        get_account_index(state, compute_stake_address(body.validator)) is not None,
        InvalidOp,
        f"{body.validator:#x} has no stake",
    )
    stake = get_stake(state, body.validator)
    bonded, unbonding = compute_slashed(stake.bonded), compute_slashed(stake.unbonding)
    put_stake(
        state,
        body.validator,
        Stake(stake.bonded - bonded, stake.unbonding - unbonding, stake.unlock_epoch),
        trace,
    )


def compute_slashed(amount: int) -> int:
    """What a slash burns of `amount` wei of stake, rounded down."""
    return amount * SLASH_PERCENT // 100


def put_stake(state: ZkState, validator: int, stake: Stake, trace: list[Touch]) -> None:
    """Write the stake account of a validator that has one."""
    address = compute_stake_address(validator)
    index = state.account_index[address]
    account = Account(address, stake.bonded, stake.unbonding, stake.unlock_epoch)
    put_account(state, index, account, trace)
