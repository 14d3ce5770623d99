"""The ZK chain's state: plain data over four Poseidon trees and three global counters.

Records are kept beside the trees (a tree stores only hashes); every write goes through
`put_*`, which keeps the record and its leaf in step and, when the caller passes a trace,
records what a circuit needs to prove the write: the old record and the path before it.
"""

from dataclasses import astuple, dataclass, field
from typing import Literal, TypeVar, cast

from chain.zk.poseidon import poseidon
from chain.zk.tree import QuadTree

ACCOUNT_LEVELS = 6  # 4,096 accounts
NFT_LEVELS = 7  # 16,384 tokens: 4 collections × 4,096 serials
COLLECTION_LEVELS = 1  # 4 collections
PROVER_LEVELS = 3  # 64 provers of the market
SERIAL_BITS = 12
MAX_SERIALS = 1 << SERIAL_BITS
MAX_COLLECTIONS = 4**COLLECTION_LEVELS
AMOUNT_BITS = 96  # balances and prices, in wei
NONCE_BITS = 32
ROUND_BITS = 32
ADDRESS_BITS = 160
SEQ_BITS = 64  # fast-chain message numbers
# A collection's minter is an account's address, or FAST_MINTER | the address of a fast-chain
# contract, whose messages then mint. The bit keeps the two apart: the fast chain can speak
# for any address, so an account's collection must not be mintable through it.
FAST_MINTER = 1 << ADDRESS_BITS
ACTIVE_UNTIL_BITS = 32  # a prover's heartbeat keeps it active through this ZK height
# A prover's market balance is signed (penalties may take it below zero). Its leaf holds
# balance + BALANCE_OFFSET, which must stay in [0, 2^128): the circuits range-check it.
PROVER_BALANCE_BITS = 128
BALANCE_OFFSET = 1 << (PROVER_BALANCE_BITS - 1)
# A validator's stake (docs/zk-state.md, "Stake") is an account at an address that nobody can
# sign for, validator | STAKE_FLAG: every signer's address is below 2^160, so stake leaves it
# only by the stake operations' rules. Its leaf's fields read: balance = the bonded stake (what
# the validator's power counts), nonce = the stake unbonding, keyHash = the epoch from which
# the unbonding stake may be claimed. The bit is not FAST_MINTER's: that one marks minters.
STAKE_FLAG = 1 << (ADDRESS_BITS + 1)

TreeName = Literal["accounts", "nfts", "collections", "provers"]


@dataclass(frozen=True)
class Account:
    address: int
    balance: int = 0
    nonce: int = 0
    key_hash: int = 0

    def leaf(self) -> int:
        return poseidon(self.address, self.balance, self.nonce, self.key_hash)


@dataclass(frozen=True)
class Nft:
    owner: int = 0
    metadata: int = 0
    price: int = 0  # 0: not listed

    def leaf(self) -> int:
        return poseidon(self.owner, self.metadata, self.price)

    @property
    def exists(self) -> bool:
        return self.owner != 0


@dataclass(frozen=True)
class Collection:
    minter: int = 0
    round_cap: int = 0
    epoch_cap: int = 0
    round: int = 0
    round_count: int = 0
    epoch: int = 0
    epoch_count: int = 0
    supply: int = 0

    def leaf(self) -> int:
        return poseidon(
            self.minter,
            self.round_cap,
            self.epoch_cap,
            self.round,
            self.round_count,
            self.epoch,
            self.epoch_count,
            self.supply,
        )


@dataclass(frozen=True)
class Prover:
    """A prover of the market (docs/market.md): its signed market balance in wei, and the
    last ZK height its heartbeat keeps it active through."""

    address: int = 0
    balance: int = 0
    active_until: int = 0

    @property
    def exists(self) -> bool:
        return self.address != 0

    @property
    def balance_offset(self) -> int:
        """What the leaf holds for the balance: 0 in an empty slot, which no prover has."""
        return self.balance + BALANCE_OFFSET if self.exists else 0

    def leaf(self) -> int:
        return poseidon(self.address, self.balance_offset, self.active_until)


@dataclass(frozen=True)
class Stake:
    """A validator's stake, as its stake account's leaf holds it (see STAKE_FLAG)."""

    bonded: int = 0
    unbonding: int = 0
    unlock_epoch: int = 0


EMPTY_ACCOUNT = Account(address=0)
EMPTY_NFT = Nft()
EMPTY_COLLECTION = Collection()
EMPTY_PROVER = Prover()

Record = Account | Nft | Collection | Prover
R = TypeVar("R", bound=Record)


@dataclass(frozen=True)
class Touch:
    """One leaf write, as a circuit sees it: which leaf, its record before, its path before."""

    tree: TreeName
    index: int
    before: Record
    after: Record
    path: list[list[int]]


@dataclass
class ZkState:
    accounts: QuadTree = field(
        default_factory=lambda: QuadTree(ACCOUNT_LEVELS, EMPTY_ACCOUNT.leaf())
    )
    nfts: QuadTree = field(default_factory=lambda: QuadTree(NFT_LEVELS, EMPTY_NFT.leaf()))
    collections: QuadTree = field(
        default_factory=lambda: QuadTree(COLLECTION_LEVELS, EMPTY_COLLECTION.leaf())
    )
    provers: QuadTree = field(default_factory=lambda: QuadTree(PROVER_LEVELS, EMPTY_PROVER.leaf()))
    account_records: dict[int, Account] = field(default_factory=dict)
    account_index: dict[int, int] = field(default_factory=dict)  # address → index
    nft_records: dict[int, Nft] = field(default_factory=dict)
    collection_records: dict[int, Collection] = field(default_factory=dict)
    prover_records: dict[int, Prover] = field(default_factory=dict)
    prover_index: dict[int, int] = field(default_factory=dict)  # address → index
    fee_pool: int = 0
    escrow: int = 0
    inbox: int = 0  # the lowest fast-chain message number still to apply: replays stay out

    def copy(self) -> "ZkState":
        return ZkState(
            accounts=self.accounts.copy(),
            nfts=self.nfts.copy(),
            collections=self.collections.copy(),
            provers=self.provers.copy(),
            account_records=dict(self.account_records),
            account_index=dict(self.account_index),
            nft_records=dict(self.nft_records),
            collection_records=dict(self.collection_records),
            prover_records=dict(self.prover_records),
            prover_index=dict(self.prover_index),
            fee_pool=self.fee_pool,
            escrow=self.escrow,
            inbox=self.inbox,
        )

    def drop_hashes(self) -> "ZkState":
        """A copy with the same records and unhashed trees (chain/zk/tree.py, UnhashedTree):
        operations apply to it by the same rules, without a hash, and it has no root."""
        state = self.copy()
        state.accounts = self.accounts.drop_hashes()
        state.nfts = self.nfts.drop_hashes()
        state.collections = self.collections.drop_hashes()
        state.provers = self.provers.drop_hashes()
        return state


def compute_globals_hash(state: ZkState) -> int:
    return poseidon(state.fee_pool, state.escrow, state.inbox)


def compute_state_root(state: ZkState) -> int:
    return poseidon(
        state.accounts.root,
        state.nfts.root,
        state.collections.root,
        state.provers.root,
        compute_globals_hash(state),
    )


def compute_token_key(collection: int, serial: int) -> int:
    return collection << SERIAL_BITS | serial


def get_account_index(state: ZkState, address: int) -> int | None:
    return state.account_index.get(address)


def get_account(state: ZkState, address: int) -> Account:
    index = state.account_index.get(address)
    return Account(address) if index is None else state.account_records[index]


def compute_stake_address(validator: int) -> int:
    return validator | STAKE_FLAG


def get_stake(state: ZkState, validator: int) -> Stake:
    """`validator`'s stake; all zero if it never bonded any."""
    account = get_account(state, compute_stake_address(validator))
    return Stake(account.balance, account.nonce, account.key_hash)


def list_stakes(state: ZkState) -> dict[int, Stake]:
    """Every validator that ever bonded, with its stake (validator address → Stake)."""
    return {
        account.address ^ STAKE_FLAG: Stake(account.balance, account.nonce, account.key_hash)
        for account in state.account_records.values()
        if account.address >> (ADDRESS_BITS + 1) == 1
    }


def get_nft(state: ZkState, token_key: int) -> Nft:
    return state.nft_records.get(token_key, EMPTY_NFT)


def get_collection(state: ZkState, collection: int) -> Collection:
    return state.collection_records.get(collection, EMPTY_COLLECTION)


def get_prover_index(state: ZkState, address: int) -> int | None:
    return state.prover_index.get(address)


def get_prover(state: ZkState, address: int) -> Prover:
    """The prover `address`; an empty record (address 0) if it never sent a heartbeat."""
    index = state.prover_index.get(address)
    return EMPTY_PROVER if index is None else state.prover_records[index]


def get_prover_at(state: ZkState, index: int) -> Prover:
    return state.prover_records.get(index, EMPTY_PROVER)


def compute_next_account_index(state: ZkState) -> int:
    return len(state.account_records)


def compute_next_prover_index(state: ZkState) -> int:
    return len(state.prover_records)


def put_account(
    state: ZkState, index: int, account: Account, trace: list[Touch] | None = None
) -> None:
    before = state.account_records.get(index, EMPTY_ACCOUNT)
    if trace is not None:
        trace.append(Touch("accounts", index, before, account, state.accounts.get_path(index)))
    state.accounts.set_record(index, account)
    state.account_records[index] = account
    state.account_index[account.address] = index


def put_nft(state: ZkState, token_key: int, nft: Nft, trace: list[Touch] | None = None) -> None:
    before = get_nft(state, token_key)
    if trace is not None:
        trace.append(Touch("nfts", token_key, before, nft, state.nfts.get_path(token_key)))
    state.nfts.set_record(token_key, nft)
    if nft == EMPTY_NFT:
        state.nft_records.pop(token_key, None)
    else:
        state.nft_records[token_key] = nft


def put_collection(
    state: ZkState, collection_id: int, collection: Collection, trace: list[Touch] | None = None
) -> None:
    before = get_collection(state, collection_id)
    if trace is not None:
        path = state.collections.get_path(collection_id)
        trace.append(Touch("collections", collection_id, before, collection, path))
    state.collections.set_record(collection_id, collection)
    state.collection_records[collection_id] = collection


def put_prover(
    state: ZkState, index: int, prover: Prover, trace: list[Touch] | None = None
) -> None:
    before = get_prover_at(state, index)
    if trace is not None:
        trace.append(Touch("provers", index, before, prover, state.provers.get_path(index)))
    state.provers.set_record(index, prover)
    # A settlement's unused entry writes an empty slot back unchanged: it stays no one's.
    if prover.exists:
        state.prover_records[index] = prover
        state.prover_index[prover.address] = index


def undo_touches(state: ZkState, trace: list[Touch]) -> None:
    """Take back the leaf writes of `trace` (what put_* recorded, in order), last first:
    each leaf gets its record before, and a record that a write brought into being is gone
    again, from its address index too."""
    for touch in reversed(trace):
        before, after, index = touch.before, touch.after, touch.index
        if isinstance(before, Account):
            if before.address == 0:
                state.account_records.pop(index, None)
                state.account_index.pop(cast(Account, after).address, None)
            else:
                state.account_records[index] = before
        elif isinstance(before, Nft):
            restore_record(state.nft_records, index, before, EMPTY_NFT)
        elif isinstance(before, Collection):
            restore_record(state.collection_records, index, before, EMPTY_COLLECTION)
        elif isinstance(before, Prover):
            if before.exists:
                state.prover_records[index] = before
            else:
                state.prover_records.pop(index, None)
                state.prover_index.pop(cast(Prover, after).address, None)
        tree: QuadTree = getattr(state, touch.tree)
        tree.set_record(index, before)


def restore_record(records: dict[int, R], key: int, before: R, empty: R) -> None:
    if before == empty:
        records.pop(key, None)
    else:
        records[key] = before


def get_total_supply(state: ZkState) -> int:
    """All ZKPoW that exists: balances, stake (bonded and unbonding), fees not yet paid out,
    escrow for the fast chain, and what the market owes provers. A prover's debt is not
    money: it is never collected, only worked off by later bounties, so it counts as 0 here."""
    balances = sum(account.balance for account in state.account_records.values())
    unbonding = sum(stake.unbonding for stake in list_stakes(state).values())
    owed = sum(max(prover.balance, 0) for prover in state.prover_records.values())
    return balances + unbonding + state.fee_pool + state.escrow + owed


# -- storage form: records as rows of ints ------------------------------------------------

RECORD_TYPES: dict[str, type[Record]] = {
    "accounts": Account,
    "nfts": Nft,
    "collections": Collection,
    "provers": Prover,
}


def list_record_rows(state: ZkState) -> list[tuple[str, int, list[int]]]:
    """Every record of `state` as (tree, index, fields): what the store keeps."""
    rows: list[tuple[str, int, list[int]]] = []
    for tree, records in (
        ("accounts", state.account_records),
        ("nfts", state.nft_records),
        ("collections", state.collection_records),
        ("provers", state.prover_records),
    ):
        rows.extend((tree, index, list(astuple(r))) for index, r in records.items())
    return rows


def compute_touched_rows(trace: list[Touch]) -> list[tuple[str, int, list[int]]]:
    """The records a list of writes leaves behind, last write winning."""
    latest = {(t.tree, t.index): t.after for t in trace}
    return [(tree, index, list(astuple(r))) for (tree, index), r in latest.items()]


def load_state(
    rows: list[tuple[str, int, list[int]]], fee_pool: int, escrow: int, inbox: int
) -> ZkState:
    state = ZkState(fee_pool=fee_pool, escrow=escrow, inbox=inbox)
    for tree, index, values in rows:
        record = RECORD_TYPES[tree](*values)
        if isinstance(record, Account):
            put_account(state, index, record)
        elif isinstance(record, Nft):
            put_nft(state, index, record)
        elif isinstance(record, Prover):
            put_prover(state, index, record)
        else:
            put_collection(state, index, record)
    return state
