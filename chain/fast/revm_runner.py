"""Messages in revm through pyrevm 0.3.7, loaded with exactly the state they read.

pyrevm 0.3.7 wraps revm 8 (Cancun rules) over an in-memory database and gives no database
callback: what revm reads must be inserted before it runs, and whatever was not inserted
reads as empty. So every message runs in a fresh EVM loaded with what it is expected to
read (`ReadHints`: what similar messages read last), and the run's dump (`revm_dump`) tells
which accounts and slots execution asked for that were not loaded, even from frames that
later reverted; those are loaded and the message runs again, until nothing is missing. A
fresh EVM per message also gives each one its own warm/cold accounting, transient storage
and EIP-6780 "created in this transaction" flags, as a transaction should have.

A message whose code can neither call nor create runs in one frame; when it succeeds, its
journal alone holds everything it read, and the much shorter journal dump suffices.

What pyrevm cannot run exactly raises `NeedsReference`, for py-evm to run instead:
reading a block hash (pyrevm cannot be given any; its database answers keccak(number)),
touching Prague's BLS12-381 precompiles (0x0b..0x11, not in revm 8), and touching Duet's
Groth16-verify precompile (chain/fast/groth16_precompile.py: pyrevm cannot be given a
precompile). "Touching" is any load of the address, a call or a BALANCE alike: to revm it
is an empty account, cold, where py-evm has a warm precompile.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from pyrevm import EVM, AccountInfo, CfgEnv, Env, ExecutionResult, TxEnv
from pyrevm import BlockEnv as RevmBlockEnv

from chain.fast.executor import BlockEnv
from chain.fast.groth16_precompile import GROTH16_VERIFY_ADDRESS
from chain.fast.revm_dump import RevmDump, parse_dump, parse_journal_dump
from chain.fast.worldstate import AccountRecord, WorldState, get_account, get_code, get_storage
from chain.types import Address

REVM_SPEC = "LATEST"  # revm 8's newest rules: Cancun
MAX_RUNS_PER_MESSAGE = 32  # runs that may each discover more state; beyond, py-evm decides
READ_HINTS_MAX = 100_000  # (sender, target) pairs whose last reads are remembered
BLS_PRECOMPILES = frozenset(Address(n.to_bytes(20, "big")) for n in range(0x0B, 0x12))

GASPRICE, BASEFEE, BLOCKHASH = 0x3A, 0x48, 0x40
CALL, CALLCODE, DELEGATECALL, STATICCALL, CREATE, CREATE2 = 0xF1, 0xF2, 0xF4, 0xFA, 0xF0, 0xF5
PUSH1, PUSH32, JUMPDEST = 0x60, 0x7F, 0x5B
# STOP, JUMP, RETURN, REVERT, INVALID, SELFDESTRUCT: the next instruction runs only if it is
# a JUMPDEST that something jumps to.
ENDS_FLOW = frozenset({0x00, 0x56, 0xF3, 0xFD, 0xFE, 0xFF})
FEE_OPCODES = frozenset({GASPRICE, BASEFEE})
CREATE_OPCODES = frozenset({CREATE, CREATE2})
WATCHED_OPCODES = FEE_OPCODES | CREATE_OPCODES
# Code without these runs in one frame, and cannot ask the database for a block hash.
MANY_FRAMES_OPCODES = frozenset({CALL, CALLCODE, DELEGATECALL, STATICCALL, BLOCKHASH})
INSPECTED_OPCODES = WATCHED_OPCODES | MANY_FRAMES_OPCODES
# EIP-7702: an account's code that says "run the code at this address", which pyrevm 0.3.7
# (revm 8, before Prague) would run as the invalid opcode 0xEF. Its flag is no opcode.
DELEGATION_PREFIX = b"\xef\x01\x00"
DELEGATED = 0x100


def compute_code_flags(code: bytes) -> frozenset[int]:
    """What of `code` decides how the revm executor runs it: the INSPECTED_OPCODES it may
    execute, and DELEGATED for an EIP-7702 delegation."""
    if len(code) == 23 and code.startswith(DELEGATION_PREFIX):
        return frozenset({DELEGATED})
    return find_opcodes(code, INSPECTED_OPCODES)


class NeedsReference(Exception):
    """pyrevm cannot run this exactly; the reference executor (py-evm) must."""


# -- code inspection -----------------------------------------------------------------------


def find_opcodes(code: bytes, wanted: frozenset[int]) -> frozenset[int]:
    """Which of `wanted` may execute in `code`: instructions (push data skipped) that are not
    dead, dead meaning after a halt or jump and before the next JUMPDEST, the only place
    execution can come back in (this skips Solidity's metadata trailer, for one)."""
    if not any(bytes((op,)) in code for op in wanted):
        return frozenset()
    found = set()
    live = True
    i, n = 0, len(code)
    while i < n:
        op = code[i]
        if op == JUMPDEST:
            live = True
        elif live and op in wanted:
            found.add(op)
        if op in ENDS_FLOW:
            live = False
        i += op - PUSH1 + 2 if PUSH1 <= op <= PUSH32 else 1
    return frozenset(found)


# -- one message ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Message:
    sender: Address
    to: Address | None
    value: int
    data: bytes
    gas: int
    access_list: tuple[tuple[Address, tuple[int, ...]], ...] = ()


@dataclass(frozen=True)
class Run:
    """A message's execution, once revm had every account and slot it read."""

    result: ExecutionResult
    output: bytes
    dump: RevmDump
    loaded: dict[Address, AccountRecord | None]  # as the run started, by address


def _hex(address: bytes) -> str:
    return "0x" + address.hex()


def make_revm_env(env: BlockEnv) -> Env:
    block = RevmBlockEnv(
        number=env.number,
        coinbase=_hex(env.coinbase),
        timestamp=env.timestamp,
        difficulty=0,
        prevrandao=env.prev_randao,
        basefee=env.base_fee,  # pyrevm replaces it by 0 for every message (see module doc)
        gas_limit=env.gas_limit,
        excess_blob_gas=0,
    )
    return Env(cfg=CfgEnv(chain_id=env.chain_id, perf_analyse_created_bytecodes="raw"), block=block)


class ReadHints:
    """What the last message between the same sender and target read, and the last message
    to the same target: most messages read what their predecessors did (a player's own
    slots, a game's shared ones), so loading that up front lets them run once."""

    def __init__(self, capacity: int = READ_HINTS_MAX) -> None:
        self.capacity = capacity
        self.reads: dict[bytes, dict[Address, set[int]]] = {}

    def predict(self, sender: Address, to: Address | None) -> dict[Address, set[int]]:
        guess: dict[Address, set[int]] = {}
        for key in (sender + (to or b""), to or b""):
            for address, slots in self.reads.get(key, {}).items():
                guess.setdefault(address, set()).update(slots)
        return guess

    def record(self, sender: Address, to: Address | None, dump: RevmDump) -> None:
        """Remember what execution itself used (the journal), not what was loaded for it."""
        if len(self.reads) > self.capacity:
            self.reads.clear()
        known = {Address(a): set(touched.storage) for a, touched in dump.accounts.items()}
        self.reads[sender + (to or b"")] = known
        self.reads[to or b""] = known


def compute_preload(
    hints: ReadHints, sender: Address, to: Address | None, always: Iterable[Address]
) -> dict[Address, set[int]]:
    preload = hints.predict(sender, to)
    for address in always:
        preload.setdefault(address, set())
    return preload


class MessageRunner:
    """Runs messages against a working state, loading into revm what each one reads."""

    def __init__(self, state: WorldState, env: BlockEnv) -> None:
        self.state = state
        self.env = env
        self.revm_env = make_revm_env(env)

    def run(
        self,
        msg: Message,
        overrides: dict[Address, AccountRecord],
        preload: dict[Address, set[int]],
        one_frame: bool = False,
    ) -> Run:
        """Run `msg` with `overrides` in place of the state's accounts; `preload` is a guess
        of what it reads (accounts and their slots), which saves runs when right.
        `one_frame`: the code that runs can neither call, create nor ask for a block hash."""
        accounts = {a: self._account(a, overrides) for a in preload}
        slots = {a: set(wanted) for a, wanted in preload.items()}
        for _ in range(MAX_RUNS_PER_MESSAGE):
            evm = self._load(accounts, slots)
            result, output = self._execute(evm, msg)
            if one_frame and result.is_success:
                dump = parse_journal_dump(evm.journal_str)
            else:
                dump = parse_dump(str(evm))
            if not self._learn(dump, accounts, slots, overrides):
                return Run(result, output, dump, accounts)
        raise NeedsReference(f"message still reads new state after {MAX_RUNS_PER_MESSAGE} runs")

    def _account(
        self, address: Address, overrides: dict[Address, AccountRecord]
    ) -> AccountRecord | None:
        if address in overrides:
            return overrides[address]
        return get_account(self.state, address)

    def _learn(
        self,
        dump: RevmDump,
        accounts: dict[Address, AccountRecord | None],
        slots: dict[Address, set[int]],
        overrides: dict[Address, AccountRecord],
    ) -> bool:
        """Add what the run read but was not loaded; False if there was nothing."""
        learned = False
        for raw_address, read in dump.read_slots.items():
            address = Address(raw_address)
            if address not in accounts:
                accounts[address] = self._account(address, overrides)
                learned = True
            missing = read - slots.setdefault(address, set())
            if missing:
                slots[address] |= missing
                learned = True
        return learned

    def _load(
        self, accounts: dict[Address, AccountRecord | None], slots: dict[Address, set[int]]
    ) -> EVM:
        evm = EVM(env=self.revm_env, gas_limit=self.env.gas_limit, spec_id=REVM_SPEC)
        for address, account in accounts.items():
            if account is not None:
                code = get_code(self.state, account.code_hash)
                info = AccountInfo(  # type: ignore[call-arg]  # the stub omits `balance`
                    balance=account.balance,
                    nonce=account.nonce,
                    code_hash=account.code_hash,
                    code=code or None,
                )
                evm.insert_account_info(_hex(address), info)
        for address, wanted in slots.items():
            if accounts.get(address) is None:
                continue  # no account, no storage: revm reads zeros
            for slot in wanted:
                value = get_storage(self.state, address, slot)
                if value:
                    _insert_slot(evm, _hex(address), slot, value)
        return evm

    def _execute(self, evm: EVM, msg: Message) -> tuple[ExecutionResult, bytes]:
        if msg.access_list:
            evm.set_tx_env(
                TxEnv(access_list=[(_hex(a), list(slots)) for a, slots in msg.access_list])
            )
        output = b""
        try:
            if msg.to is None:
                evm.deploy(_hex(msg.sender), msg.data, msg.value, msg.gas)
            else:
                output = evm.message_call(
                    _hex(msg.sender), _hex(msg.to), msg.data, msg.value, msg.gas, 0
                )
        except RuntimeError as exc:
            if evm.result is None:  # revm refused the message before running it
                raise NeedsReference(f"revm refused the message: {exc}") from exc
        result = evm.result
        assert result is not None
        return result, bytes(output)


def _insert_slot(evm: EVM, address: str, slot: int, value: int) -> None:
    # pyrevm warms the account when it inserts a slot; reverting the checkpoint cools it
    # again (EIP-2929 accounting) while the value stays in the database.
    checkpoint = evm.snapshot()
    evm.insert_account_storage(address, slot, value)
    evm.revert(checkpoint)


def check_call_run(run: Run) -> None:
    if run.dump.read_block_hash:
        raise NeedsReference("BLOCKHASH: pyrevm 0.3.7 cannot be given block hashes")
    if not BLS_PRECOMPILES.isdisjoint(run.dump.read_slots):
        raise NeedsReference("Prague's BLS12-381 precompiles are not in revm 8")
    if GROTH16_VERIFY_ADDRESS in run.dump.read_slots:
        raise NeedsReference("the Groth16-verify precompile is not in revm")
