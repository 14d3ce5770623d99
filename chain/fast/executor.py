"""The seam between the fast chain and an EVM implementation.

The fast chain decides what goes into a block; an executor runs it. Both executors
(py-evm, and revm later) take the parent state root, a block environment, what the ledger
writes before the transactions (`SystemWrites`) and the ordered transactions, and return
the post-state root, the receipts and the trie nodes to persist.
State lives in the node's database as Ethereum Merkle Patricia trie nodes keyed by hash,
so any executor can read what another wrote.
"""

from collections.abc import Callable, Mapping, Sequence, Set
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Protocol

from chain.fast.txs import FastTx
from chain.ledger.messages import DevWrite
from chain.types import Address, ChainId, Hash32, Height, Root

if TYPE_CHECKING:
    from chain.fast.call_trace import CallFrame

NodeReader = Callable[[bytes], bytes | None]
# An EIP-2930 access list: (address, (slot, ...)) in the order first touched.
AccessList = tuple[tuple[Address, tuple[int, ...]], ...]
# ZKPoW that the ZK chain locked in escrow for an address, credited before the block's
# transactions (chain/ledger/messages.py): the only way ZKPoW enters the fast chain.
Credit = tuple[Address, int]
NO_CODE: Mapping[Address, bytes] = MappingProxyType({})


@dataclass(frozen=True)
class StorageWrite:
    """A slot the ledger sets directly, no transaction involved (the root oracle's roots)."""

    address: Address
    slot: int
    value: int


@dataclass(frozen=True)
class SystemWrites:
    """What the ledger writes into a fast block's state before its transactions, in this
    order: the credits, then the storage writes, then a dev node's writes (anvil_setBalance
    and the like, chain/ledger/messages.py) in the order they were asked for."""

    credits: tuple[Credit, ...] = ()
    storage: tuple[StorageWrite, ...] = ()
    dev: tuple[DevWrite, ...] = ()


NO_SYSTEM_WRITES = SystemWrites()


@dataclass(frozen=True)
class AccountOverride:
    """An eth_call's override of one account, as geth's: each field given replaces the
    account's for that call alone; `state` replaces its whole storage, `state_diff` only
    the slots it names."""

    balance: int | None = None
    nonce: int | None = None
    code: bytes | None = None
    state: tuple[tuple[int, int], ...] | None = None
    state_diff: tuple[tuple[int, int], ...] = ()


StateOverrides = tuple[tuple[Address, AccountOverride], ...]
NO_OVERRIDES: StateOverrides = ()


class ExecutionError(Exception):
    """eth_call / eth_estimateGas failed; `data` is the revert data when the EVM reverted."""

    def __init__(self, message: str, data: bytes | None = None) -> None:
        super().__init__(message)
        self.data = data


class GasBudgetExhausted(ExecutionError):
    """eth_simulateV1's calls would spend more than they may in all."""


@dataclass(frozen=True)
class BlockEnv:
    number: Height
    timestamp: int  # seconds
    coinbase: Address
    gas_limit: int
    base_fee: int
    prev_randao: Hash32
    prev_hashes: tuple[Hash32, ...]  # newest first, at most 256
    chain_id: ChainId


@dataclass(frozen=True)
class Log:
    address: Address
    topics: tuple[bytes, ...]
    data: bytes


@dataclass(frozen=True)
class TxOutcome:
    tx: FastTx
    success: bool
    gas_used: int
    cumulative_gas_used: int
    logs: tuple[Log, ...]
    contract_address: Address | None


@dataclass
class BlockResult:
    state_root: Root
    outcomes: list[TxOutcome] = field(default_factory=list)
    rejected: list[tuple[FastTx, str]] = field(default_factory=list)  # invalid when executed
    deferred: list[FastTx] = field(default_factory=list)  # did not fit the gas limit
    state_nodes: dict[bytes, bytes] = field(default_factory=dict)
    # Nodes of the parent's tries that the new state's do not hold (chain/trie.py,
    # TrieUpdate): still stored, no longer worth caching. Empty if the executor cannot tell.
    retired_nodes: set[bytes] = field(default_factory=set)

    @property
    def gas_used(self) -> int:
        return self.outcomes[-1].cumulative_gas_used if self.outcomes else 0


@dataclass(frozen=True)
class CallMsg:
    sender: Address | None
    to: Address | None
    value: int
    data: bytes
    gas: int | None


@dataclass(frozen=True)
class SimulatedCall:
    """One call of eth_simulateV1, run after the calls before it: what it returned, spent
    and logged, and why it failed (None: it did not)."""

    success: bool
    output: bytes
    gas_used: int
    logs: tuple[Log, ...]
    error: str | None = None
    reverted: bool = False  # a REVERT (its output is the revert data), not another failure


@dataclass(frozen=True)
class Account:
    nonce: int
    balance: int
    code: bytes


class Executor(Protocol):
    name: str

    def make_genesis(
        self,
        alloc: Mapping[Address, int],
        code: Mapping[Address, bytes] = NO_CODE,
        storage: Sequence[StorageWrite] = (),
    ) -> tuple[Root, dict[bytes, bytes]]:
        """The genesis state: balances, contracts' runtime code, and their initial slots."""
        ...

    def apply_block(
        self,
        parent_root: Root,
        env: BlockEnv,
        txs: list[FastTx],
        system: SystemWrites = NO_SYSTEM_WRITES,
    ) -> BlockResult:
        """Apply `system` (what the ledger delivers: ZKPoW credits, then storage writes),
        then run `txs` in order."""
        ...

    def call(
        self, root: Root, env: BlockEnv, msg: CallMsg, overrides: StateOverrides = NO_OVERRIDES
    ) -> tuple[bytes, int]:
        """(output, gas used) of a call that changes nothing, on `root` with `overrides`
        written first; raises ExecutionError."""
        ...

    def estimate_gas(
        self, root: Root, env: BlockEnv, msg: CallMsg, overrides: StateOverrides = NO_OVERRIDES
    ) -> int: ...

    def create_access_list(self, root: Root, env: BlockEnv, msg: CallMsg) -> tuple[AccessList, int]:
        """`eth_createAccessList`: the EIP-2930 access list of `msg` on `root` (the accounts
        and slots it touches but the sender's, the recipient's account, the precompiles and
        the coinbase) and the gas it uses with that list; raises ExecutionError."""
        ...

    def simulate(self, root: Root, env: BlockEnv, msg: CallMsg) -> tuple[Log, ...]:
        """The logs `msg` would emit on `root`, changing nothing; raises ExecutionError if
        it fails (what a pending transaction's soft events come from)."""
        ...

    def simulate_blocks(
        self,
        root: Root,
        envs: Sequence[BlockEnv],
        blocks: Sequence[Sequence[CallMsg]],
        gas_budget: int,
    ) -> list[list[SimulatedCall]]:
        """eth_simulateV1: `blocks` of calls run one after another on `root`, each block in
        its env, each call on the state the calls before it left; nothing is kept. The calls
        spend at most `gas_budget` in all (a call gets no more than is left); ExecutionError
        once too little is left for the next one."""
        ...

    def trace_call(self, root: Root, env: BlockEnv, msg: CallMsg) -> "CallFrame":
        """`msg`'s call tree on `root` (debug_traceCall), changing nothing."""
        ...

    def trace_transaction(
        self,
        parent_root: Root,
        env: BlockEnv,
        system: SystemWrites,
        before: Sequence[FastTx],
        tx: FastTx,
    ) -> "CallFrame":
        """`tx`'s call tree as its block ran it (debug_traceTransaction): on the block's
        parent state, after the block's system writes and the transactions `before` it."""
        ...

    def get_account(self, root: Root, address: Address) -> Account: ...

    def get_storage(self, root: Root, address: Address, slot: int) -> int: ...

    def remember_nodes(self, nodes: dict[bytes, bytes], retired: Set[bytes] = frozenset()) -> None:
        """A block's state just committed to the database: its new nodes, which an executor
        may cache, and the nodes it retired (BlockResult.retired_nodes), which it may drop."""
        ...
