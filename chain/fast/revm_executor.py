"""The fast executor: py-evm's transaction rules around revm's interpreter (pyrevm 0.3.7).

Duet keeps the parts of a transaction that decide validity and money in Python, written to
py-evm's rules (nonce, balance and fee checks, gas purchase and refund, the EIP-7623 floor,
the coinbase payment, EIP-161 clearing), and hands only the message itself to revm
(`revm_runner`). State comes from the parent state's tries (`worldstate`), the new root is
computed from what the block touched, and the trie nodes stored are the ones py-evm writes.

Where pyrevm cannot be exact, the whole block (or call) runs on py-evm instead, which this
executor holds as its reference; each case is detected soundly, never guessed:
- a block hash read, or a touch of Prague's BLS12-381 precompiles or of Duet's
  Groth16-verify precompile (see `revm_runner`);
- BASEFEE or GASPRICE in a transaction's code: pyrevm runs every message with a zero base
  fee and gas price, and offers no way to set them. Calls are exact (py-evm runs eth_call
  with both at zero too); transactions whose loaded code contains either opcode, outside
  dead code, go to py-evm;
- contracts creating contracts: the init code they run is built in memory, out of sight of
  that inspection. A CREATE is seen when the address it derives from the creator's nonce
  was loaded (even from a frame that reverted); CREATE2 anywhere in loaded code sends the
  block to py-evm. A deployment transaction's own init code is inspected directly.
- an EIP-7623 floor above the gas used when revm has capped the refund (py-evm's receipt
  needs the uncapped one);
- EIP-7702: a set-code transaction, and any run that loaded a delegated account (code
  0xef0100 ‖ address): pyrevm 0.3.7 (revm 8) predates Prague's delegations.
"""

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence, Set
from dataclasses import dataclass, replace

from eth.vm.forks.prague import PragueVM
from eth.vm.spoof import SpoofTransaction
from eth_utils import ValidationError
from pyrevm import ExecutionResult
from pyrevm import Log as RevmLog

from chain.encoding import encode_rlp, keccak
from chain.fast.call_trace import CallFrame
from chain.fast.executor import (
    NO_CODE,
    NO_OVERRIDES,
    NO_SYSTEM_WRITES,
    AccessList,
    Account,
    BlockEnv,
    BlockResult,
    CallMsg,
    ExecutionError,
    Log,
    NodeReader,
    SimulatedCall,
    StateOverrides,
    StorageWrite,
    SystemWrites,
    TxOutcome,
)
from chain.fast.groth16_precompile import NO_VERIFIERS, Verifiers
from chain.fast.pyevm_executor import INITCODE_TOO_LARGE, PyEvmExecutor
from chain.fast.revm_dump import DumpFormatError
from chain.fast.revm_runner import (
    CREATE,
    CREATE2,
    CREATE_OPCODES,
    DELEGATED,
    FEE_OPCODES,
    INSPECTED_OPCODES,
    MANY_FRAMES_OPCODES,
    WATCHED_OPCODES,
    Message,
    MessageRunner,
    NeedsReference,
    ReadHints,
    Run,
    check_call_run,
    compute_code_flags,
    compute_preload,
    find_opcodes,
)
from chain.fast.statedb import NodeCache
from chain.fast.txs import MAX_INITCODE_SIZE, SECP256K1_N, SET_CODE, FastTx
from chain.fast.worldstate import (
    EMPTY_ACCOUNT,
    EMPTY_CODE_HASH,
    AccountRecord,
    StateCache,
    WorldState,
    clear_storage,
    compute_state_update,
    delete_account,
    get_account,
    get_code,
    get_storage,
    open_state,
    remember_state,
    set_account,
    set_code,
    set_storage,
)
from chain.ledger.messages import BalanceSet, NonceSet, StorageSet
from chain.trie import TrieReader
from chain.types import Address, Root

log = logging.getLogger(__name__)

# What sends a block or a call to py-evm: a case pyrevm cannot run exactly, or a dump this
# module cannot read (another pyrevm than the pinned one).
PYEVM_DECIDES = (NeedsReference, DumpFormatError)

ZERO_ADDRESS = Address(b"\x00" * 20)

# EIP-7623 (Prague): a transaction pays at least this much per calldata token.
TX_BASE_GAS = 21_000
FLOOR_GAS_PER_TOKEN = 10
TOKENS_PER_NONZERO_BYTE = 4
REFUND_QUOTIENT = 5  # EIP-3529
INITCODE_WORD_GAS = 2  # EIP-3860


class TxRejected(Exception):
    """The transaction is invalid against the state (py-evm would raise ValidationError)."""


def compute_contract_address(sender: Address, nonce: int) -> Address:
    nonce_bytes = nonce.to_bytes((nonce.bit_length() + 7) // 8, "big")
    return Address(keccak(encode_rlp([sender, nonce_bytes]))[12:])


def compute_floor_gas(data: bytes) -> int:
    zeros = data.count(0)
    tokens = zeros + (len(data) - zeros) * TOKENS_PER_NONZERO_BYTE
    return TX_BASE_GAS + FLOOR_GAS_PER_TOKEN * tokens


# -- a transaction -------------------------------------------------------------------------


def validate_transaction(state: WorldState, env: BlockEnv, tx: FastTx) -> None:
    """py-evm's checks, in its order and words (Prague: London, Homestead, Frontier, Cancun)."""
    if tx.to is None and len(tx.data) > MAX_INITCODE_SIZE:
        raise TxRejected(INITCODE_TOO_LARGE)
    try:
        tx.evm.validate()
    except ValidationError as exc:
        raise TxRejected(str(exc)) from exc
    account = get_account(state, tx.sender) or EMPTY_ACCOUNT
    if tx.evm.s > SECP256K1_N // 2 or tx.evm.s == 0:
        raise TxRejected("Invalid signature S value")
    if tx.max_fee_per_gas < env.base_fee:
        raise TxRejected(
            f"Sender's max fee per gas ({tx.max_fee_per_gas}) is lower than block's base "
            f"fee per gas ({env.base_fee})"
        )
    max_gas_cost = tx.gas * tx.effective_gas_price(env.base_fee)
    if account.balance < max_gas_cost:
        raise TxRejected(
            f"Sender {tx.sender!r} cannot afford txn gas {max_gas_cost} with account "
            f"balance {account.balance}"
        )
    if account.balance < tx.value + max_gas_cost:
        raise TxRejected(
            "Sender does not have enough balance to cover transaction value and gas "
            f" (has {account.balance}, needs {tx.value + max_gas_cost})"
        )
    if account.nonce != tx.nonce:
        raise TxRejected(f"Invalid transaction nonce: Expected {account.nonce}, but got {tx.nonce}")
    if account.balance < tx.gas * tx.max_fee_per_gas:
        raise TxRejected("Sender has insufficient funds for blob fee.")
    intrinsic = tx.evm.intrinsic_gas
    if tx.gas < intrinsic:  # py-evm finds it out when it builds the message
        raise TxRejected(f"Message.gas cannot be negative: Got: {tx.gas - intrinsic}")


@dataclass(frozen=True)
class GasUse:
    charged: int  # what the sender pays for and the coinbase is tipped on
    receipt: int  # the receipt's gas used


def compute_gas_use(tx: FastTx, result: ExecutionResult) -> GasUse:
    """py-evm's Prague arithmetic: refunds capped at a fifth, then the EIP-7623 floor."""
    refund = result.gas_refunded  # revm reports it already capped
    spent = result.gas_used + refund
    floor = compute_floor_gas(tx.data)
    charged = max(spent - refund, floor)
    if floor <= spent - refund:
        return GasUse(charged, charged)
    # py-evm's receipt applies the cap to gas plus the floor top-up, from the uncapped
    # refund, which revm does not report once it has been capped.
    if refund and refund == spent // REFUND_QUOTIENT:
        raise NeedsReference("EIP-7623 floor with a capped refund")
    consumed = spent + floor - (spent - refund)
    return GasUse(charged, consumed - min(refund, consumed // REFUND_QUOTIENT))


def make_message(tx: FastTx) -> Message:
    access_list = tuple(
        (Address(address), tuple(slots)) for address, slots in getattr(tx.evm, "access_list", ())
    )
    return Message(tx.sender, tx.to, tx.value, tx.data, tx.gas, access_list)


def compute_sender_start(account: AccountRecord, tx: FastTx, price: int) -> AccountRecord:
    """The sender as execution sees it: gas bought, nonce raised (revm raises it for creates)."""
    nonce = account.nonce if tx.to is None else account.nonce + 1
    balance = account.balance - tx.gas * price
    return AccountRecord(nonce, balance, account.storage_root, account.code_hash)


def is_create_too_costly_for_revm(tx: FastTx) -> bool:
    """revm counts EIP-3860's init code cost in the intrinsic gas and refuses the transaction
    when it does not fit; py-evm charges it at execution and fails the deployment, all gas
    used."""
    words = (len(tx.data) + 31) // 32
    return tx.gas < tx.evm.intrinsic_gas + INITCODE_WORD_GAS * words


def process_system_writes(state: WorldState, system: SystemWrites) -> None:
    """The ledger's writes before the block's transactions: credits, storage, a dev node's."""
    for address, amount in system.credits:
        account = get_account(state, address) or EMPTY_ACCOUNT
        set_account(state, address, replace(account, balance=account.balance + amount))
    for write in system.storage:
        _set_slot(state, write.address, write.slot, write.value)
    for dev in system.dev:
        if isinstance(dev, StorageSet):
            _set_slot(state, dev.address, dev.slot, dev.value)
            continue
        account = get_account(state, dev.address) or EMPTY_ACCOUNT
        if isinstance(dev, BalanceSet):
            account = replace(account, balance=dev.balance)
        elif isinstance(dev, NonceSet):
            account = replace(account, nonce=dev.nonce)
        else:
            code_hash = keccak(dev.code)
            state.codes[code_hash] = dev.code  # py-evm stores even empty code: so must this
            account = replace(account, code_hash=code_hash)
        set_account(state, dev.address, account)


def _set_slot(state: WorldState, address: Address, slot: int, value: int) -> None:
    if get_account(state, address) is None:
        # py-evm keeps an account that has only storage; so must this state.
        set_account(state, address, EMPTY_ACCOUNT)
    set_storage(state, address, slot, value)


class BlockProcessor:
    """One block on revm: py-evm's rules per transaction, py-evm's results."""

    def __init__(
        self,
        state: WorldState,
        env: BlockEnv,
        code_flags: dict[bytes, frozenset[int]],
        hints: ReadHints,
    ) -> None:
        self.state = state
        self.env = env
        self.runner = MessageRunner(state, env)
        self.code_flags = code_flags
        self.hints = hints

    def process_block(self, txs: list[FastTx]) -> BlockResult:
        result = BlockResult(state_root=Root(self.state.root))
        cumulative = 0
        for tx in txs:
            if cumulative + tx.gas > self.env.gas_limit:
                result.deferred.append(tx)
                continue
            try:
                outcome = self.process_transaction(tx, cumulative)
            except TxRejected as exc:
                result.rejected.append((tx, str(exc)))
                continue
            cumulative = outcome.cumulative_gas_used
            result.outcomes.append(outcome)
        return result

    def process_transaction(self, tx: FastTx, cumulative: int) -> TxOutcome:
        validate_transaction(self.state, self.env, tx)
        price = tx.effective_gas_price(self.env.base_fee)
        sender = get_account(self.state, tx.sender) or EMPTY_ACCOUNT
        start = compute_sender_start(sender, tx, price)
        if tx.to is None:
            if is_create_too_costly_for_revm(tx):
                return self.process_failed_create(tx, start, price, cumulative)
            self.check_init_code(tx.data)
        if tx.type == SET_CODE:
            raise NeedsReference("an EIP-7702 transaction: pyrevm 0.3.7 predates them")
        always = [tx.sender, self.env.coinbase] + ([tx.to] if tx.to is not None else [])
        preload = compute_preload(self.hints, tx.sender, tx.to, always)
        one_frame = not self.flags_of_entry(tx) & (MANY_FRAMES_OPCODES | CREATE_OPCODES)
        run = self.runner.run(make_message(tx), {tx.sender: start}, preload, one_frame)
        self.hints.record(tx.sender, tx.to, run.dump)
        self.check_run(run)
        gas = compute_gas_use(tx, run.result)
        # Nothing is written before this point: a rejection here leaves the block as it was.
        sender_after = run.dump.accounts[tx.sender].balance
        check_floor_debt(tx, sender_after, gas, price)
        touched = self.touched_accounts(run)
        process_run_writes(self.state, run)
        self.process_fees(tx, gas, price)
        process_touched_clearing(self.state, touched)
        return TxOutcome(
            tx=tx,
            success=run.result.is_success,
            gas_used=gas.receipt,
            cumulative_gas_used=cumulative + gas.receipt,
            logs=tuple(_log_of(entry) for entry in run.result.logs),
            contract_address=compute_contract_address(tx.sender, tx.nonce)
            if tx.to is None and run.result.is_success
            else None,
        )

    def process_failed_create(
        self, tx: FastTx, start: AccountRecord, price: int, cumulative: int
    ) -> TxOutcome:
        used = max(tx.gas, compute_floor_gas(tx.data))
        gas = GasUse(used, used)
        check_floor_debt(tx, start.balance, gas, price)
        set_account(self.state, tx.sender, replace(start, nonce=start.nonce + 1))
        self.process_fees(tx, gas, price)
        process_touched_clearing(self.state, {self.env.coinbase})
        return TxOutcome(tx, False, gas.receipt, cumulative + gas.receipt, (), None)

    def touched_accounts(self, run: Run) -> set[Address]:
        """The accounts EIP-161 clears if empty: what revm's journal left touched (frames
        that reverted untouch theirs, as in py-evm), and the coinbase, which py-evm counts
        as touched by every transaction's fee."""
        touched = {Address(a) for a, t in run.dump.accounts.items() if t.touched}
        touched.add(self.env.coinbase)
        return touched

    def check_init_code(self, code: bytes) -> None:
        if find_opcodes(code, WATCHED_OPCODES):
            raise NeedsReference("init code uses BASEFEE, GASPRICE, CREATE or CREATE2")

    def check_run(self, run: Run) -> None:
        check_call_run(run)
        contracts = {
            address: account
            for address, account in run.loaded.items()
            if account is not None and account.code_hash != EMPTY_CODE_HASH
        }
        flags = frozenset().union(*(self.flags_of(a.code_hash) for a in contracts.values()))
        if DELEGATED in flags:
            raise NeedsReference("executed code reached an EIP-7702 delegated account")
        if flags & FEE_OPCODES:
            raise NeedsReference("executed code may read BASEFEE or GASPRICE")
        if CREATE2 in flags:
            raise NeedsReference("executed code may use CREATE2")
        if CREATE in flags and is_any_created(contracts, run):
            raise NeedsReference("a contract created another during the transaction")

    def flags_of_entry(self, tx: FastTx) -> frozenset[int]:
        """The opcodes of the code the transaction starts in: its init code or its target's."""
        if tx.to is None:
            return find_opcodes(tx.data, INSPECTED_OPCODES)
        target = get_account(self.state, tx.to)
        return frozenset() if target is None else self.flags_of(target.code_hash)

    def flags_of(self, code_hash: bytes) -> frozenset[int]:
        return get_code_flags(self.state, self.code_flags, code_hash)

    def process_fees(self, tx: FastTx, gas: GasUse, price: int) -> None:
        sender = get_account(self.state, tx.sender)
        assert sender is not None
        refund = (tx.gas - gas.charged) * price
        set_account(self.state, tx.sender, with_balance(sender, sender.balance + refund))
        # py-evm pays the coinbase even a zero tip (EIP-161 then clears it if left empty).
        coinbase = get_account(self.state, self.env.coinbase) or EMPTY_ACCOUNT
        tip = gas.charged * (price - self.env.base_fee)
        set_account(self.state, self.env.coinbase, with_balance(coinbase, coinbase.balance + tip))


def get_code_flags(
    state: WorldState, known: dict[bytes, frozenset[int]], code_hash: bytes
) -> frozenset[int]:
    """compute_code_flags of the code with `code_hash`, kept in `known`."""
    flags = known.get(code_hash)
    if flags is None:
        flags = compute_code_flags(get_code(state, code_hash))
        known[code_hash] = flags
    return flags


def check_no_delegation(
    state: WorldState, known: dict[bytes, frozenset[int]], accounts: Iterable[AccountRecord | None]
) -> None:
    for account in accounts:
        if account is None or account.code_hash == EMPTY_CODE_HASH:
            continue
        if DELEGATED in get_code_flags(state, known, account.code_hash):
            raise NeedsReference("an EIP-7702 delegated account: pyrevm 0.3.7 predates them")


def is_any_created(contracts: dict[Address, AccountRecord], run: Run) -> bool:
    """Whether some contract ran CREATE: the first thing a CREATE does, even in a frame that
    later reverts, is load the new address, which derives from the creating contract's nonce
    at the start of the transaction. Any loaded contract may have been the creator, since
    the code with the CREATE may have run in its context (DELEGATECALL)."""
    return any(
        compute_contract_address(address, account.nonce) in run.dump.read_slots
        for address, account in contracts.items()
    )


def with_balance(account: AccountRecord, balance: int) -> AccountRecord:
    return AccountRecord(account.nonce, balance, account.storage_root, account.code_hash)


def check_floor_debt(tx: FastTx, sender_balance: int, gas: GasUse, price: int) -> None:
    # With the EIP-7623 floor above the gas limit py-evm takes the difference from the
    # sender after execution, and fails the transaction if that leaves a debt.
    if sender_balance + (tx.gas - gas.charged) * price < 0:
        raise TxRejected(f"Sender {tx.sender!r} cannot pay the calldata floor of {gas.charged} gas")


def process_run_writes(state: WorldState, run: Run) -> None:
    """Fold what revm's journal holds after the run into the working state."""
    for raw_address, touched in run.dump.accounts.items():
        address = Address(raw_address)
        if touched.destroyed:
            delete_account(state, address)
            continue
        if touched.created:
            clear_storage(state, address)
            if touched.code:
                set_code(state, touched.code)
        wrote = False
        for slot, value in touched.storage.items():
            if value != get_storage(state, address, slot):
                set_storage(state, address, slot, value)
                wrote = True
        before = run.loaded.get(address)
        after = AccountRecord(
            nonce=touched.nonce,
            balance=touched.balance,
            storage_root=before.storage_root if before is not None else EMPTY_ACCOUNT.storage_root,
            code_hash=touched.code_hash,
        )
        if before is None and after.is_empty and not wrote:
            continue  # read or touched, never created
        if after != get_account(state, address):
            set_account(state, address, after)


def process_touched_clearing(state: WorldState, touched: set[Address]) -> None:
    """EIP-161: touched accounts left empty are removed."""
    for address in touched:
        account = get_account(state, address)
        if account is not None and account.is_empty:
            delete_account(state, address)


def _log_of(entry: RevmLog) -> Log:
    topics, data = entry.data
    address = bytes.fromhex(entry.address[2:])
    return Log(Address(address), tuple(bytes(t) for t in topics), bytes(data))


# -- the executor ----------------------------------------------------------------------------


class RevmExecutor:
    name = "revm"

    def __init__(self, reader: NodeReader, verifiers: Verifiers = NO_VERIFIERS) -> None:
        """`verifiers`: the keys the Groth16 precompile accepts proofs under, by vkId; only
        py-evm runs that precompile."""
        self.cache = NodeCache(reader)
        self.trie = TrieReader(self.cache.get)
        self.reference = PyEvmExecutor(reader, verifiers)
        self.reference.cache = self.cache  # one node cache for both
        self.head = StateCache()  # decoded values at the last block's root
        self.code_flags: dict[bytes, frozenset[int]] = {}
        self.hints = ReadHints()
        self.reference_blocks = 0  # blocks py-evm had to run (see the module doc)

    def remember_nodes(self, nodes: dict[bytes, bytes], retired: Set[bytes] = frozenset()) -> None:
        self.reference.remember_nodes(nodes, retired)  # the node cache both executors share
        self.trie.forget(retired)

    def make_genesis(
        self,
        alloc: Mapping[Address, int],
        code: Mapping[Address, bytes] = NO_CODE,
        storage: Sequence[StorageWrite] = (),
    ) -> tuple[Root, dict[bytes, bytes]]:
        # py-evm's genesis includes Prague's system contracts: the same state either way.
        return self.reference.make_genesis(alloc, code, storage)

    def _open(self, root: Root) -> WorldState:
        return open_state(self.trie, root, self.head)

    def apply_block(
        self,
        parent_root: Root,
        env: BlockEnv,
        txs: list[FastTx],
        system: SystemWrites = NO_SYSTEM_WRITES,
    ) -> BlockResult:
        state = self._open(parent_root)
        try:
            process_system_writes(state, system)
            processor = BlockProcessor(state, env, self.code_flags, self.hints)
            result = processor.process_block(txs)
        except PYEVM_DECIDES as exc:
            log.debug("block %d runs on py-evm: %s", env.number, exc)
            self.reference_blocks += 1
            self.head = StateCache()
            # From the parent state: none of this block's writes, system ones included, stay.
            return self.reference.apply_block(parent_root, env, txs, system)
        result.state_root, result.state_nodes, result.retired_nodes = compute_state_update(state)
        self.head = remember_state(state, result.state_root)
        return result

    # -- calls ---------------------------------------------------------------------------

    def _call_message(self, state: WorldState, env: BlockEnv, msg: CallMsg, gas: int) -> Run:
        sender = msg.sender or ZERO_ADDRESS
        validate_call(state, env, msg, gas)
        message = Message(sender, msg.to, msg.value, msg.data, gas)
        always = [sender] + ([msg.to] if msg.to is not None else [])
        run = MessageRunner(state, env).run(
            message, {}, compute_preload(self.hints, sender, msg.to, always)
        )
        check_call_run(run)
        check_no_delegation(state, self.code_flags, run.loaded.values())
        return run

    def _try_revm_call(self, root: Root, env: BlockEnv, msg: CallMsg, gas: int) -> Run | None:
        state = self._open(root)
        try:
            return self._call_message(state, env, msg, gas)
        except PYEVM_DECIDES as exc:
            log.debug("call runs on py-evm: %s", exc)
            return None

    def call(
        self, root: Root, env: BlockEnv, msg: CallMsg, overrides: StateOverrides = NO_OVERRIDES
    ) -> tuple[bytes, int]:
        if overrides:  # py-evm's, the reference's: a developer's call, not a block's
            return self.reference.call(root, env, msg, overrides)
        gas = msg.gas or env.gas_limit
        run = self._try_revm_call(root, env, msg, gas)
        if run is None:
            return self.reference.call(root, env, msg)
        if not run.result.is_success:
            raise compute_call_error(run)
        return compute_call_output(run, msg), run.result.gas_used + run.result.gas_refunded

    def simulate(self, root: Root, env: BlockEnv, msg: CallMsg) -> tuple[Log, ...]:
        run = self._try_revm_call(root, env, msg, msg.gas or env.gas_limit)
        if run is None:
            return self.reference.simulate(root, env, msg)
        if not run.result.is_success:
            raise compute_call_error(run)
        return tuple(_log_of(entry) for entry in run.result.logs)

    def simulate_blocks(
        self,
        root: Root,
        envs: Sequence[BlockEnv],
        blocks: Sequence[Sequence[CallMsg]],
        gas_budget: int,
    ) -> list[list[SimulatedCall]]:
        """py-evm's: one state carried from call to call, which the revm runner does not
        keep between calls."""
        return self.reference.simulate_blocks(root, envs, blocks, gas_budget)

    def trace_call(self, root: Root, env: BlockEnv, msg: CallMsg) -> CallFrame:
        """py-evm's, the reference's, as for access lists: pyrevm 0.3.7 gives no call tree,
        and a trace is a developer's question, not a block's."""
        return self.reference.trace_call(root, env, msg)

    def trace_transaction(
        self,
        parent_root: Root,
        env: BlockEnv,
        system: SystemWrites,
        before: Sequence[FastTx],
        tx: FastTx,
    ) -> CallFrame:
        return self.reference.trace_transaction(parent_root, env, system, before, tx)

    def create_access_list(self, root: Root, env: BlockEnv, msg: CallMsg) -> tuple[AccessList, int]:
        """py-evm's, the reference's: pyrevm 0.3.7 reports no warm set, and this is a
        developer's call, not a block's."""
        return self.reference.create_access_list(root, env, msg)

    def estimate_gas(
        self, root: Root, env: BlockEnv, msg: CallMsg, overrides: StateOverrides = NO_OVERRIDES
    ) -> int:
        if overrides:
            return self.reference.estimate_gas(root, env, msg, overrides)
        cap = msg.gas or env.gas_limit
        state = self._open(root)
        try:
            return self._estimate(state, env, msg, cap)
        except PYEVM_DECIDES as exc:
            log.debug("estimate runs on py-evm: %s", exc)
            return self.reference.estimate_gas(root, env, msg)

    def _estimate(self, state: WorldState, env: BlockEnv, msg: CallMsg, cap: int) -> int:
        def fails(gas: int) -> bool:
            return not self._call_message(state, env, msg, gas).result.is_success

        run = self._call_message(state, env, msg, cap)
        if not run.result.is_success:
            raise compute_call_error(run)
        return search_gas_limit(run.result.gas_used + run.result.gas_refunded, cap, fails)

    # -- reads ---------------------------------------------------------------------------

    def get_account(self, root: Root, address: Address) -> Account:
        state = self._open(root)
        account = get_account(state, address) or EMPTY_ACCOUNT
        return Account(account.nonce, account.balance, get_code(state, account.code_hash))

    def get_storage(self, root: Root, address: Address, slot: int) -> int:
        return get_storage(self._open(root), address, slot)


ESTIMATE_TOLERANCE = 1.0 / 64  # the same search as the reference executor's


def search_gas_limit(used: int, cap: int, fails: Callable[[int], bool]) -> int:
    """The smallest gas limit that succeeds, within 1/64, from the gas a run at `cap` used."""
    # Gas that was consumed is a lower bound; 63/64 forwarding rules and refunds can make
    # the true minimum higher, so search upwards from it.
    if not fails(used):
        return used
    low, high = used, cap
    while high - low > max(1, int(low * ESTIMATE_TOLERANCE)):
        mid = (low + high) // 2
        if fails(mid):
            low = mid
        else:
            high = mid
    return high


def validate_call(state: WorldState, env: BlockEnv, msg: CallMsg, gas: int) -> None:
    """What py-evm checks on the unsigned transaction behind eth_call, in its words."""
    sender = msg.sender or ZERO_ADDRESS
    account = get_account(state, sender) or EMPTY_ACCOUNT
    unsigned = PragueVM.create_unsigned_transaction(
        nonce=account.nonce,
        gas_price=0,
        gas=gas,
        to=msg.to or Address(b""),
        value=msg.value,
        data=msg.data,
    )
    try:
        SpoofTransaction(unsigned, from_=sender).validate()
    except ValidationError as exc:
        raise ExecutionError(str(exc)) from exc
    if account.balance < msg.value:
        raise ExecutionError(
            "Sender does not have enough balance to cover transaction value and gas "
            f" (has {account.balance}, needs {msg.value})"
        )
    if gas > env.gas_limit:
        raise NeedsReference("call gas above the block gas limit")


def compute_call_output(run: Run, msg: CallMsg) -> bytes:
    """What the call returned; for a deployment, as in py-evm, the code it deployed."""
    if msg.to is not None:
        return run.output
    sender = run.loaded.get(msg.sender or ZERO_ADDRESS) or EMPTY_ACCOUNT
    created = run.dump.accounts[compute_contract_address(msg.sender or ZERO_ADDRESS, sender.nonce)]
    return created.code or b""


def compute_call_error(run: Run) -> ExecutionError:
    if run.result.reason == "Revert":
        return ExecutionError("execution reverted", run.dump.revert_output or b"")
    return ExecutionError(f"execution failed: {run.result.reason}")
