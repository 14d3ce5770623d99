"""The fast chain's state as plain data: accounts and storage over a parent state root.

An executor that does not keep state in tries of its own (the revm executor) reads accounts
and slots from the parent state's tries through `read`, records what a block changes, and
at the end of the block folds those changes into the tries with one batch update per trie
(`compute_state_update`), so a block costs what it touched, not the size of the state.
"""

from dataclasses import dataclass, field
from functools import lru_cache

from chain.encoding import decode_rlp, encode_rlp, encode_uint, keccak
from chain.trie import BLANK_ROOT, TrieReader, compute_trie_update, get_trie_value
from chain.types import Address, Root

EMPTY_CODE_HASH = keccak(b"")
HEAD_CACHE_MAX_SLOTS = 500_000  # decoded values kept between blocks (~100 bytes each)
KEY_HASHES_MAX = 200_000  # trie keys of recently used addresses and slots


@dataclass(frozen=True)
class AccountRecord:
    """An account as the state trie holds it (the storage root is the parent block's)."""

    nonce: int
    balance: int
    storage_root: bytes = BLANK_ROOT
    code_hash: bytes = EMPTY_CODE_HASH

    @property
    def is_empty(self) -> bool:
        """EIP-161: no nonce, no balance, no code."""
        return self.nonce == 0 and self.balance == 0 and self.code_hash == EMPTY_CODE_HASH


EMPTY_ACCOUNT = AccountRecord(nonce=0, balance=0)


@dataclass
class StateCache:
    """Decoded accounts and slots of the state at `root`, kept from one block to the next."""

    root: bytes = b""
    accounts: dict[Address, AccountRecord | None] = field(default_factory=dict)
    storage: dict[Address, dict[int, int]] = field(default_factory=dict)
    slot_count: int = 0


@dataclass
class WorldState:
    """A block's working state: the parent's tries plus what the block has written so far."""

    reader: TrieReader
    root: bytes
    cache: StateCache
    accounts: dict[Address, AccountRecord | None] = field(default_factory=dict)
    storage: dict[Address, dict[int, int]] = field(default_factory=dict)
    cleared: set[Address] = field(default_factory=set)  # storage wiped during the block
    codes: dict[bytes, bytes] = field(default_factory=dict)  # new code by hash


def open_state(reader: TrieReader, root: bytes, cache: StateCache | None = None) -> WorldState:
    """A working state over `root`; `cache` is used if it holds that same root."""
    if cache is None or cache.root != root:
        cache = StateCache(root=root)
    return WorldState(reader=reader, root=root, cache=cache)


@lru_cache(maxsize=KEY_HASHES_MAX)
def compute_account_key(address: Address) -> bytes:
    return keccak(address)


@lru_cache(maxsize=KEY_HASHES_MAX)
def compute_slot_key(slot: int) -> bytes:
    return keccak(slot.to_bytes(32, "big"))


def decode_account(encoded: bytes) -> AccountRecord:
    nonce, balance, storage_root, code_hash = decode_rlp(encoded)
    return AccountRecord(
        int.from_bytes(nonce, "big"), int.from_bytes(balance, "big"), storage_root, code_hash
    )


def encode_account(account: AccountRecord) -> bytes:
    return encode_rlp(
        [
            encode_uint(account.nonce),
            encode_uint(account.balance),
            account.storage_root,
            account.code_hash,
        ]
    )


# -- reads ---------------------------------------------------------------------------------


def get_parent_account(state: WorldState, address: Address) -> AccountRecord | None:
    cache = state.cache
    if address in cache.accounts:
        return cache.accounts[address]
    encoded = get_trie_value(state.reader, state.root, compute_account_key(address))
    account = None if encoded is None else decode_account(encoded)
    cache.accounts[address] = account
    return account


def get_account(state: WorldState, address: Address) -> AccountRecord | None:
    """The account as the block has left it so far; None if it does not exist."""
    if address in state.accounts:
        return state.accounts[address]
    return get_parent_account(state, address)


def get_storage(state: WorldState, address: Address, slot: int) -> int:
    written = state.storage.get(address)
    if written is not None and slot in written:
        return written[slot]
    if address in state.cleared:
        return 0
    return get_parent_storage(state, address, slot)


def get_parent_storage(state: WorldState, address: Address, slot: int) -> int:
    cached = state.cache.storage.setdefault(address, {})
    value = cached.get(slot)
    if value is None:
        account = get_parent_account(state, address)
        value = 0 if account is None else _read_slot(state.reader, account.storage_root, slot)
        cached[slot] = value
        state.cache.slot_count += 1
    return value


def _read_slot(reader: TrieReader, storage_root: bytes, slot: int) -> int:
    encoded = get_trie_value(reader, storage_root, compute_slot_key(slot))
    return 0 if encoded is None else int.from_bytes(decode_rlp(encoded), "big")


def get_code(state: WorldState, code_hash: bytes) -> bytes:
    if code_hash == EMPTY_CODE_HASH:
        return b""
    code = state.codes.get(code_hash)
    if code is None:
        code = state.reader.read(code_hash)
        assert code is not None, f"code {code_hash.hex()} is missing from the state"
    return code


# -- writes --------------------------------------------------------------------------------


def set_account(state: WorldState, address: Address, account: AccountRecord | None) -> None:
    state.accounts[address] = account


def set_storage(state: WorldState, address: Address, slot: int, value: int) -> None:
    state.storage.setdefault(address, {})[slot] = value


def delete_account(state: WorldState, address: Address) -> None:
    state.accounts[address] = None
    clear_storage(state, address)


def clear_storage(state: WorldState, address: Address) -> None:
    """Forget every slot of `address` (the account was destroyed or created anew)."""
    state.cleared.add(address)
    state.storage[address] = {}


def set_code(state: WorldState, code: bytes) -> bytes:
    code_hash = keccak(code)
    if code:
        state.codes[code_hash] = code
    return code_hash


# -- the block's end -----------------------------------------------------------------------


def compute_state_update(state: WorldState) -> tuple[Root, dict[bytes, bytes], set[bytes]]:
    """(new state root, new trie nodes and code, retired trie nodes) after everything the
    block wrote (chain/trie.py, TrieUpdate).

    The accounts in `state.accounts` get their new storage roots on the way.
    """
    nodes: dict[bytes, bytes] = dict(state.codes)
    retired: set[bytes] = set()
    changes: dict[bytes, bytes] = {}
    for address in state.accounts.keys() | state.storage.keys():
        account = get_account(state, address)
        if account is not None:
            account = _with_new_storage_root(state, address, account, nodes, retired)
            state.accounts[address] = account
        if account != get_parent_account(state, address):
            key = compute_account_key(address)
            changes[key] = b"" if account is None else encode_account(account)
    update = compute_trie_update(state.reader, state.root, changes)
    nodes.update(update.nodes)
    return Root(update.root), nodes, (retired | update.retired) - nodes.keys()


def _with_new_storage_root(
    state: WorldState,
    address: Address,
    account: AccountRecord,
    nodes: dict[bytes, bytes],
    retired: set[bytes],
) -> AccountRecord:
    written = state.storage.get(address, {})
    parent = get_parent_account(state, address)
    cleared = address in state.cleared
    base = BLANK_ROOT if cleared or parent is None else parent.storage_root
    changes = {
        compute_slot_key(slot): b"" if value == 0 else encode_rlp(encode_uint(value))
        for slot, value in written.items()
        if cleared or value != get_parent_storage(state, address, slot)
    }
    update = compute_trie_update(state.reader, base, changes)
    nodes.update(update.nodes)
    retired |= update.retired
    if update.root == account.storage_root:
        return account
    return AccountRecord(account.nonce, account.balance, update.root, account.code_hash)


def remember_state(state: WorldState, new_root: bytes) -> StateCache:
    """The cache for the next block: the parent's values updated by this block's writes.

    Call after `compute_state_update`, which gives the written accounts their storage roots.
    """
    cache = state.cache
    if cache.slot_count > HEAD_CACHE_MAX_SLOTS:
        return StateCache(root=new_root)
    for address in state.cleared:
        cache.storage[address] = {}
    for address, written in state.storage.items():
        cache.storage.setdefault(address, {}).update(written)
        cache.slot_count += len(written)
    cache.accounts.update(state.accounts)
    cache.root = new_root
    return cache
