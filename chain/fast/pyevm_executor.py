"""The reference executor: py-evm, newest fork it supports (Prague), plus Duet's Groth16-verify
precompile (chain/fast/groth16_precompile.py), registered for this executor's VM only."""

from collections.abc import Callable, Mapping, Sequence, Set
from typing import Any

from eth._utils.address import generate_contract_address
from eth.abc import ComputationAPI, StateAPI
from eth.constants import BLANK_ROOT_HASH
from eth.db.atomic import AtomicDB
from eth.exceptions import Revert, VMError
from eth.vm.execution_context import ExecutionContext
from eth.vm.forks.prague import PragueVM
from eth.vm.forks.prague.computation import PragueComputation
from eth.vm.opcode_values import JUMP, JUMPI
from eth.vm.spoof import SpoofTransaction
from eth_typing import BlockNumber, Hash32
from eth_utils import ValidationError

from chain.fast.call_trace import (
    CallFrame,
    TracingComputation,
    compute_call_frame,
    describe_error,
)
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
    GasBudgetExhausted,
    Log,
    NodeReader,
    SimulatedCall,
    StateOverrides,
    StorageWrite,
    SystemWrites,
    TxOutcome,
)
from chain.fast.groth16_precompile import (
    GROTH16_VERIFY_ADDRESS,
    NO_VERIFIERS,
    PrecompileFailure,
    Verifiers,
    compute_gas,
    process_verify,
)
from chain.fast.statedb import NodeCache, OverlayDB
from chain.fast.time_limit import with_deadline
from chain.fast.txs import MAX_INITCODE_SIZE, FastTx
from chain.ledger.messages import BalanceSet, NonceSet, StorageSet
from chain.types import Address, Root

VM = PragueVM
STATE_CLASS = VM.get_state_class()
ZERO_ADDRESS = Address(b"\x00" * 20)
MIN_CALL_GAS = 21_000  # a call's intrinsic cost: less left and no call can run
ESTIMATE_TOLERANCE = 1.0 / 64  # stop the binary search within 1/64 of the answer
INITCODE_TOO_LARGE = f"max initcode size exceeded: more than {MAX_INITCODE_SIZE} bytes"


def make_context(env: BlockEnv, base_fee: int | None = None) -> ExecutionContext:
    return ExecutionContext(
        coinbase=env.coinbase,
        timestamp=env.timestamp,
        block_number=BlockNumber(env.number),
        difficulty=0,
        mix_hash=env.prev_randao,
        gas_limit=env.gas_limit,
        prev_hashes=env.prev_hashes,
        chain_id=env.chain_id,
        base_fee_per_gas=env.base_fee if base_fee is None else base_fee,
        excess_blob_gas=0,
    )


def revert_reason(computation: ComputationAPI) -> ExecutionError:
    error = computation.error
    if isinstance(error, Revert):
        data = bytes(computation.output)
        return ExecutionError("execution reverted", data)
    return ExecutionError(f"execution failed: {type(error).__name__} {error}".strip())


def compute_logs(computation: ComputationAPI) -> tuple[Log, ...]:
    """The logs a finished computation emitted, topics as 32-byte words."""
    return tuple(
        Log(Address(a), tuple(t.to_bytes(32, "big") for t in topics), data)
        for a, topics, data in computation.get_log_entries()
    )


def make_groth16_precompile(verifiers: Verifiers) -> Callable[[ComputationAPI], ComputationAPI]:
    """The Groth16-verify precompile over `verifiers`, as py-evm calls a precompile."""

    def groth16_verify(computation: ComputationAPI) -> ComputationAPI:
        data = bytes(computation.msg.data)
        try:
            computation.consume_gas(compute_gas(len(data)), reason="GROTH16_VERIFY precompile")
            computation.output = process_verify(verifiers, data)
        except PrecompileFailure as failure:
            raise VMError(f"GROTH16_VERIFY: {failure}") from failure  # all gas consumed
        return computation

    return groth16_verify


def make_state_class(
    verifiers: Verifiers, base: type[PragueComputation] = PragueComputation
) -> type[StateAPI]:
    """Prague's state class, its computations knowing the Groth16 precompile: a subclass of
    this executor's own, so py-evm's classes (and any other VM in the process) stay as
    they are. Precompiles count as warm (EIP-2929), this one included. `base`: the
    computation class to extend (TracingComputation for call traces)."""
    precompiles = dict(PragueComputation.get_precompiles())
    precompiles[GROTH16_VERIFY_ADDRESS] = make_groth16_precompile(verifiers)
    # Every loop jumps: a read under a time limit (chain/fast/time_limit.py) is stopped there.
    opcodes: dict[int, Any] = dict(base.opcodes)
    for jump in (JUMP, JUMPI):
        opcodes[jump] = with_deadline(opcodes[jump])
    computation = base.configure(
        __name__="DuetComputation", _precompiles=precompiles, opcodes=opcodes
    )
    return STATE_CLASS.configure(__name__="DuetState", computation_class=computation)


MAX_ACCESS_LIST_ROUNDS = 10  # geth's CreateAccessList loop stops when the list is stable


def compute_access_list(computation: ComputationAPI, msg: CallMsg, env: BlockEnv) -> AccessList:
    """What a finished call touched, from py-evm's EIP-2929 warm set, as geth's access-list
    tracer reports it: every account touched but the sender, the recipient (or the created
    contract), the precompiles and the coinbase (warm from the start), and every slot read
    or written, the recipient's included; in the order first touched."""
    state = computation.state
    sender = msg.sender or ZERO_ADDRESS
    if msg.to is not None:
        recipient = msg.to
    else:
        recipient = Address(generate_contract_address(sender, state.get_nonce(sender) - 1))
    excluded = {sender, recipient, env.coinbase, *computation.precompiles}
    touched = state._account_db._journal_accessed_state.diff().pending_keys()  # type: ignore[attr-defined]
    slots: dict[Address, list[int]] = {}
    for key in touched:
        if len(key) == 20:
            if key not in excluded:
                slots.setdefault(Address(key), [])
        else:
            slots.setdefault(Address(key[:20]), []).append(int.from_bytes(key[20:], "big"))
    return tuple((address, tuple(found)) for address, found in slots.items())


def process_system_writes(state: StateAPI, system: SystemWrites) -> None:
    """The ledger's writes before the block's transactions: credits, storage, a dev node's."""
    for address, amount in system.credits:
        state.delta_balance(address, amount)
    process_storage_writes(state, system.storage)
    for write in system.dev:
        if isinstance(write, BalanceSet):
            state.set_balance(write.address, write.balance)
        elif isinstance(write, NonceSet):
            state.set_nonce(write.address, write.nonce)
        elif isinstance(write, StorageSet):
            state.set_storage(write.address, write.slot, write.value)
        else:
            state.set_code(write.address, write.code)


def process_overrides(state: StateAPI, overrides: StateOverrides) -> None:
    """A call's state overrides, written into its own state (dropped with it)."""
    for address, override in overrides:
        if override.balance is not None:
            state.set_balance(address, override.balance)
        if override.nonce is not None:
            state.set_nonce(address, override.nonce)
        if override.code is not None:
            state.set_code(address, override.code)
        if override.state is not None:
            state.delete_storage(address)
        for slot, value in (*(override.state or ()), *override.state_diff):
            state.set_storage(address, slot, value)


def process_storage_writes(state: StateAPI, writes: Sequence[StorageWrite]) -> None:
    for write in writes:
        state.set_storage(write.address, write.slot, write.value)


class PyEvmExecutor:
    name = "pyevm"

    def __init__(self, reader: NodeReader, verifiers: Verifiers = NO_VERIFIERS) -> None:
        """`verifiers`: the keys the Groth16 precompile accepts proofs under, by vkId."""
        self.cache = NodeCache(reader)
        self.state_class = make_state_class(verifiers)
        self.tracing_state_class = make_state_class(verifiers, TracingComputation)

    def _open(
        self, root: Root, context: ExecutionContext, tracing: bool = False
    ) -> tuple[StateAPI, OverlayDB]:
        """A py-evm state over `root`, and the overlay that collects what it writes."""
        overlay = OverlayDB(self.cache)
        state_class = self.tracing_state_class if tracing else self.state_class
        return state_class(AtomicDB(overlay), context, root), overlay

    def remember_nodes(self, nodes: dict[bytes, bytes], retired: Set[bytes] = frozenset()) -> None:
        self.cache.forget(retired)
        for key, value in nodes.items():
            self.cache.put(key, value)

    def make_genesis(
        self,
        alloc: Mapping[Address, int],
        code: Mapping[Address, bytes] = NO_CODE,
        storage: Sequence[StorageWrite] = (),
    ) -> tuple[Root, dict[bytes, bytes]]:
        state, overlay = self._open(Root(BLANK_ROOT_HASH), _READ_CONTEXT)
        for address, balance in alloc.items():
            state.set_balance(address, balance)
        for address, runtime in code.items():
            state.set_code(address, runtime)
        process_storage_writes(state, storage)
        state.persist()
        return Root(state.state_root), overlay.writes

    def apply_block(
        self,
        parent_root: Root,
        env: BlockEnv,
        txs: list[FastTx],
        system: SystemWrites = NO_SYSTEM_WRITES,
    ) -> BlockResult:
        state, overlay = self._open(parent_root, make_context(env))
        process_system_writes(state, system)
        result = BlockResult(state_root=parent_root)
        cumulative = 0
        for tx in txs:
            if cumulative + tx.gas > env.gas_limit:
                result.deferred.append(tx)
                continue
            if tx.to is None and len(tx.data) > MAX_INITCODE_SIZE:
                # EIP-3860 makes it invalid; py-evm would raise OutOfGas out of the block.
                result.rejected.append((tx, INITCODE_TOO_LARGE))
                continue
            # lock_changes ends the previous transaction (EIP-2200's original values) and
            # drops every checkpoint, so the snapshot comes after it.
            state.lock_changes()
            snapshot = state.snapshot()
            try:
                computation = state.apply_transaction(tx.evm)
            except ValidationError as exc:
                state.revert(snapshot)
                result.rejected.append((tx, str(exc)))
                continue
            gas_used = VM.finalize_gas_used(tx.evm, computation)
            cumulative += gas_used
            created = generate_contract_address(tx.sender, tx.nonce) if tx.to is None else None
            result.outcomes.append(
                TxOutcome(
                    tx=tx,
                    success=computation.is_success,
                    gas_used=gas_used,
                    cumulative_gas_used=cumulative,
                    logs=compute_logs(computation),
                    contract_address=Address(created)
                    if created and computation.is_success
                    else None,
                )
            )
        state.persist()
        result.state_root = Root(state.state_root)
        result.state_nodes = overlay.writes
        return result

    def _run_call(
        self,
        root: Root,
        env: BlockEnv,
        msg: CallMsg,
        gas: int,
        access_list: AccessList | None = None,
        tracing: bool = False,
        overrides: StateOverrides = NO_OVERRIDES,
    ) -> ComputationAPI:
        state, _ = self._open(root, make_context(env, base_fee=0), tracing)
        process_overrides(state, overrides)
        return self._apply_call(state, env, msg, gas, access_list)

    def _apply_call(
        self,
        state: StateAPI,
        env: BlockEnv,
        msg: CallMsg,
        gas: int,
        access_list: AccessList | None = None,
    ) -> ComputationAPI:
        """`msg` as a transaction of its sender's next nonce at gas price 0, on `state`."""
        sender = msg.sender or ZERO_ADDRESS
        fields: dict[str, Any] = {
            "nonce": state.get_nonce(sender),
            "gas_price": 0,
            "gas": gas,
            "to": msg.to or Address(b""),
            "value": msg.value,
            "data": msg.data,
        }
        if access_list is None:
            unsigned = VM.create_unsigned_transaction(**fields)
        else:
            builder: Any = VM.get_transaction_builder()  # Prague's, typed transactions
            unsigned = builder.new_unsigned_access_list_transaction(
                chain_id=env.chain_id, access_list=access_list, **fields
            )
        state.lock_changes()
        try:
            spoof = SpoofTransaction(unsigned, from_=sender)
            return state.apply_transaction(spoof)  # type: ignore[arg-type]
        except ValidationError as exc:
            raise ExecutionError(str(exc)) from exc

    def call(
        self, root: Root, env: BlockEnv, msg: CallMsg, overrides: StateOverrides = NO_OVERRIDES
    ) -> tuple[bytes, int]:
        gas = msg.gas or env.gas_limit
        computation = self._run_call(root, env, msg, gas, overrides=overrides)
        if computation.is_error:
            raise revert_reason(computation)
        return bytes(computation.output), gas - computation.get_gas_remaining()

    def create_access_list(self, root: Root, env: BlockEnv, msg: CallMsg) -> tuple[AccessList, int]:
        """The accounts and slots `msg` touches, as an EIP-2930 access list, and the gas it
        uses with that list; raises ExecutionError if it fails. Run again with each list
        until the list stays the same (warming a slot can change the path, as in geth)."""
        gas = msg.gas or env.gas_limit
        access: AccessList = ()
        for _ in range(MAX_ACCESS_LIST_ROUNDS):
            computation = self._run_call(root, env, msg, gas, access)
            if computation.is_error:
                raise revert_reason(computation)
            found = compute_access_list(computation, msg, env)
            if found == access:
                break
            access = found
        else:  # still moving after the last round: the gas is the last list's
            computation = self._run_call(root, env, msg, gas, access)
            if computation.is_error:
                raise revert_reason(computation)
        return access, gas - computation.get_gas_remaining()

    def simulate_blocks(
        self,
        root: Root,
        envs: Sequence[BlockEnv],
        blocks: Sequence[Sequence[CallMsg]],
        gas_budget: int,
    ) -> list[list[SimulatedCall]]:
        state, _ = self._open(root, make_context(envs[0], base_fee=0))
        answer = []
        left = gas_budget
        for env, calls in zip(envs, blocks, strict=True):
            state.execution_context = make_context(env, base_fee=0)
            results = []
            for msg in calls:
                gas = min(msg.gas or env.gas_limit, left)
                if gas < MIN_CALL_GAS:
                    raise GasBudgetExhausted(
                        f"the calls may spend {gas_budget} gas in all; {left} is left"
                    )
                computation = self._apply_call(state, env, msg, gas)
                left -= gas - computation.get_gas_remaining()
                state.lock_changes()
                error = computation.error if computation.is_error else None
                results.append(
                    SimulatedCall(
                        success=error is None,
                        output=bytes(computation.output),
                        gas_used=gas - computation.get_gas_remaining(),
                        logs=compute_logs(computation),
                        error=None if error is None else describe_error(error),
                        reverted=isinstance(error, Revert),
                    )
                )
            answer.append(results)
        return answer

    def trace_call(self, root: Root, env: BlockEnv, msg: CallMsg) -> CallFrame:
        """`msg`'s call tree on `root`, changing nothing (a failed call is traced too)."""
        gas = msg.gas or env.gas_limit
        computation = self._run_call(root, env, msg, gas, tracing=True)
        sender = msg.sender or ZERO_ADDRESS
        kind = "CREATE" if msg.to is None else "CALL"
        return compute_call_frame(computation, sender, kind, gas - computation.get_gas_remaining())

    def trace_transaction(
        self,
        parent_root: Root,
        env: BlockEnv,
        system: SystemWrites,
        before: Sequence[FastTx],
        tx: FastTx,
    ) -> CallFrame:
        """`tx`'s call tree as its block ran it: on `parent_root`, after the block's system
        writes and the transactions `before` it."""
        state, _ = self._open(parent_root, make_context(env), tracing=True)
        process_system_writes(state, system)
        for earlier in before:
            state.lock_changes()
            state.apply_transaction(earlier.evm)
        state.lock_changes()
        computation = state.apply_transaction(tx.evm)
        gas_used = VM.finalize_gas_used(tx.evm, computation)
        kind = "CREATE" if tx.to is None else "CALL"
        return compute_call_frame(computation, tx.sender, kind, gas_used)

    def simulate(self, root: Root, env: BlockEnv, msg: CallMsg) -> tuple[Log, ...]:
        computation = self._run_call(root, env, msg, msg.gas or env.gas_limit)
        if computation.is_error:
            raise revert_reason(computation)
        return compute_logs(computation)

    def estimate_gas(
        self, root: Root, env: BlockEnv, msg: CallMsg, overrides: StateOverrides = NO_OVERRIDES
    ) -> int:
        cap = msg.gas or env.gas_limit

        def run(gas: int) -> ComputationAPI:
            return self._run_call(root, env, msg, gas, overrides=overrides)

        computation = run(cap)
        if computation.is_error:
            raise revert_reason(computation)
        # Gas that was consumed is a lower bound; 63/64 forwarding rules and refunds can make
        # the true minimum higher, so search upwards from it.
        low = cap - computation.get_gas_remaining() - 1
        high = cap
        first = low + 1
        if not run(first).is_error:
            return first
        low = first
        while high - low > max(1, int(low * ESTIMATE_TOLERANCE)):
            mid = (low + high) // 2
            if run(mid).is_error:
                low = mid
            else:
                high = mid
        return high

    def get_account(self, root: Root, address: Address) -> Account:
        state, _ = self._open(root, _READ_CONTEXT)
        return Account(
            nonce=state.get_nonce(address),
            balance=state.get_balance(address),
            code=bytes(state.get_code(address)),
        )

    def get_storage(self, root: Root, address: Address, slot: int) -> int:
        state, _ = self._open(root, _READ_CONTEXT)
        return int(state.get_storage(address, slot))


_READ_CONTEXT = ExecutionContext(
    coinbase=ZERO_ADDRESS,
    timestamp=0,
    block_number=BlockNumber(0),
    difficulty=0,
    mix_hash=Hash32(b"\x00" * 32),
    gas_limit=0,
    prev_hashes=(),
    chain_id=0,
    base_fee_per_gas=0,
    excess_blob_gas=0,
)
