"""Lockstep chains for the executor conformance suite: every block runs on the executor under
test and on py-evm (the reference), and everything they return must be equal."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from eth_abi import encode as abi_encode
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import keccak, to_checksum_address

from chain.fast.call_trace import CallFrame
from chain.fast.executor import (
    NO_CODE,
    NO_SYSTEM_WRITES,
    BlockEnv,
    BlockResult,
    CallMsg,
    ExecutionError,
    Executor,
    SystemWrites,
    TxOutcome,
)
from chain.fast.groth16_precompile import NO_VERIFIERS, Verifiers
from chain.fast.pyevm_executor import PyEvmExecutor
from chain.fast.txs import FastTx, decode_transaction
from chain.types import Address, ChainId, Hash32, Height, Root

REPO = Path(__file__).resolve().parents[2]
CHAIN_ID = ChainId(7702)
GWEI = 10**9
ETHER = 10**18
BASE_FEE = GWEI
GAS_LIMIT = 30_000_000
COINBASE = Address(bytes.fromhex("c0" * 20))
FUNDED = 10_000 * ETHER


@cache
def artifact(name: str) -> dict[str, Any]:
    """`build/contracts/<name>.json`, compiled by ./demo.sh setup."""
    data: dict[str, Any] = json.loads((REPO / "build" / "contracts" / f"{name}.json").read_text())
    return data


def deploy_data(name: str, *args: Any) -> bytes:
    compiled = artifact(name)
    inputs = next((e["inputs"] for e in compiled["abi"] if e["type"] == "constructor"), [])
    encoded = abi_encode([i["type"] for i in inputs], list(args)) if inputs else b""
    return bytes.fromhex(compiled["bytecode"].removeprefix("0x")) + encoded


def runtime_code(name: str) -> bytes:
    return bytes.fromhex(artifact(name)["deployedBytecode"].removeprefix("0x"))


def calldata(signature: str, *args: Any) -> bytes:
    types = signature[signature.index("(") + 1 : -1]
    encoded = abi_encode([t for t in types.split(",") if t], list(args)) if types else b""
    return keccak(text=signature)[:4] + encoded


def topic(signature: str) -> bytes:
    return keccak(text=signature)


def make_key(n: int) -> LocalAccount:
    return Account.from_key(keccak(b"duet-conformance-%d" % n))


def address_of(account: LocalAccount) -> Address:
    return Address(bytes.fromhex(account.address[2:]))


def sign(account: LocalAccount, nonce: int, **fields: Any) -> FastTx:
    """A signed transaction: EIP-1559 unless `gasPrice` is given; `to` as bytes or None."""
    tx: dict[str, Any] = {"chainId": CHAIN_ID, "nonce": nonce, "value": 0, "gas": 300_000}
    if "gasPrice" not in fields and "accessList" not in fields:
        tx.update(maxFeePerGas=3 * GWEI, maxPriorityFeePerGas=GWEI)
    to = fields.pop("to", None)
    if to is not None:
        tx["to"] = to_checksum_address(to)
    tx.update(fields)
    return decode_transaction(bytes(account.sign_transaction(tx).raw_transaction), CHAIN_ID)


# -- assembling small contracts by hand --------------------------------------------------------

OPCODES = {
    "STOP": 0x00, "ADD": 0x01, "SUB": 0x03, "CALLER": 0x33, "CALLVALUE": 0x34,
    "CALLDATALOAD": 0x35, "GASPRICE": 0x3A, "BLOCKHASH": 0x40, "COINBASE": 0x41,
    "TIMESTAMP": 0x42, "NUMBER": 0x43, "PREVRANDAO": 0x44, "GASLIMIT": 0x45, "CHAINID": 0x46,
    "SELFBALANCE": 0x47, "BASEFEE": 0x48, "BLOBBASEFEE": 0x4A, "POP": 0x50, "MLOAD": 0x51,
    "MSTORE": 0x52, "SLOAD": 0x54, "SSTORE": 0x55, "JUMP": 0x56, "JUMPI": 0x57, "GAS": 0x5A,
    "JUMPDEST": 0x5B, "TLOAD": 0x5C, "TSTORE": 0x5D, "PUSH0": 0x5F, "CODECOPY": 0x39,
    "RETURNDATASIZE": 0x3D, "BALANCE": 0x31, "EXTCODEHASH": 0x3F, "CREATE": 0xF0,
    "CALL": 0xF1, "RETURN": 0xF3, "DELEGATECALL": 0xF4, "CREATE2": 0xF5, "STATICCALL": 0xFA, "REVERT": 0xFD,
    "INVALID": 0xFE, "SELFDESTRUCT": 0xFF,
}  # fmt: skip


def assemble(*items: str | int | bytes) -> bytes:
    """Opcode names, or ints/bytes pushed with the shortest PUSH (0 as PUSH0)."""
    code = bytearray()
    for item in items:
        if isinstance(item, str):
            code.append(OPCODES[item])
            continue
        data = item if isinstance(item, bytes) else item.to_bytes((item.bit_length() + 7) // 8)
        if not data:
            code.append(OPCODES["PUSH0"])
            continue
        code.append(0x5F + len(data))
        code += data
    return bytes(code)


def deployer_of(runtime: bytes) -> bytes:
    """Init code that returns `runtime` as the contract's code."""
    size = len(runtime)
    # PUSH2 size, PUSH1 offset, PUSH0, CODECOPY, PUSH2 size, PUSH0, RETURN: 12 bytes.
    prefix = assemble(size.to_bytes(2), 12, 0, "CODECOPY", size.to_bytes(2), 0, "RETURN")
    assert len(prefix) == 12
    return prefix + runtime


# -- lockstep execution ------------------------------------------------------------------------


@dataclass
class ExecutorChain:
    """One executor's chain: a node store, the head root, the recent block hashes."""

    executor: Executor
    store: dict[bytes, bytes]
    root: Root

    @classmethod
    def start(
        cls,
        executor_class: type,
        alloc: dict[Address, int],
        code: Mapping[Address, bytes],
        verifiers: Verifiers = NO_VERIFIERS,
    ) -> ExecutorChain:
        store: dict[bytes, bytes] = {}
        executor = executor_class(store.get, verifiers=verifiers)
        root, nodes = executor.make_genesis(alloc, code)
        store.update(nodes)
        return cls(executor, store, root)

    def apply(
        self, env: BlockEnv, txs: list[FastTx], system: SystemWrites = NO_SYSTEM_WRITES
    ) -> BlockResult:
        result = self.executor.apply_block(self.root, env, txs, system)
        self.store.update(result.state_nodes)
        self.executor.remember_nodes(result.state_nodes, result.retired_nodes)
        self.root = result.state_root
        return result


def outcome_summary(outcome: TxOutcome) -> tuple[Any, ...]:
    return (
        outcome.tx.hash,
        outcome.success,
        outcome.gas_used,
        outcome.cumulative_gas_used,
        outcome.logs,
        outcome.contract_address,
    )


def result_summary(result: BlockResult) -> dict[str, Any]:
    return {
        "state_root": result.state_root,
        "outcomes": [outcome_summary(o) for o in result.outcomes],
        "rejected": [tx.hash for tx, _ in result.rejected],
        "deferred": [tx.hash for tx in result.deferred],
    }


@dataclass
class Lockstep:
    """The executor under test and the reference, fed the same blocks."""

    tested: ExecutorChain
    reference: ExecutorChain
    height: int = 0
    timestamp: int = 1_700_000_000
    hashes: list[Hash32] = field(default_factory=list)
    base_fee: int = BASE_FEE
    gas_limit: int = GAS_LIMIT
    nonces: dict[Address, int] = field(default_factory=dict)

    @classmethod
    def start(
        cls,
        executor_class: type,
        alloc: dict[Address, int],
        code: Mapping[Address, bytes] = NO_CODE,
        verifiers: Verifiers = NO_VERIFIERS,
    ) -> Lockstep:
        """Both chains from the same genesis: `alloc`'s balances, and `code` deployed; the
        Groth16 precompile knows `verifiers` on both."""
        return cls(
            ExecutorChain.start(executor_class, alloc, code, verifiers),
            ExecutorChain.start(PyEvmExecutor, alloc, code, verifiers),
        )

    @property
    def root(self) -> Root:
        return self.tested.root

    @property
    def executor(self) -> Executor:
        return self.tested.executor

    def next_env(self) -> BlockEnv:
        return BlockEnv(
            number=Height(self.height + 1),
            timestamp=self.timestamp + self.height + 1,
            coinbase=COINBASE,
            gas_limit=self.gas_limit,
            base_fee=self.base_fee,
            prev_randao=Hash32(keccak(b"randao%d" % self.height)),
            prev_hashes=tuple(reversed(self.hashes[-256:])),
            chain_id=CHAIN_ID,
        )

    def head_env(self) -> BlockEnv:
        """The environment eth_call uses at the head: the last block's."""
        env = self.next_env()
        return BlockEnv(
            number=Height(self.height),
            timestamp=env.timestamp - 1,
            coinbase=env.coinbase,
            gas_limit=env.gas_limit,
            base_fee=env.base_fee,
            prev_randao=env.prev_randao,
            prev_hashes=env.prev_hashes[1:],
            chain_id=env.chain_id,
        )

    def apply(self, txs: list[FastTx], system: SystemWrites = NO_SYSTEM_WRITES) -> BlockResult:
        """One block on both chains: `system` written, then `txs` run."""
        env = self.next_env()
        result = self.tested.apply(env, txs, system)
        expected = self.reference.apply(env, txs, system)
        assert result_summary(result) == result_summary(expected)
        assert [r for _, r in result.rejected] == [r for _, r in expected.rejected]
        assert result.state_nodes == expected.state_nodes, "the nodes to store differ"
        self.height += 1
        for tx in txs:  # what a wallet would read back before signing the next one
            self.nonces[tx.sender] = self.tested.executor.get_account(self.root, tx.sender).nonce
        self.hashes.append(Hash32(keccak(b"block%d" % self.height + result.state_root)))
        return result

    def account(self, address: Address) -> Any:
        mine = self.tested.executor.get_account(self.root, address)
        assert mine == self.reference.executor.get_account(self.reference.root, address)
        return mine

    def storage(self, address: Address, slot: int) -> int:
        mine = self.tested.executor.get_storage(self.root, address, slot)
        assert mine == self.reference.executor.get_storage(self.reference.root, address, slot)
        return mine

    def send(self, account: LocalAccount, **fields: Any) -> FastTx:
        """A transaction from `account` with its next nonce (counted here, not read)."""
        sender = address_of(account)
        nonce = self.nonces.get(sender, 0)
        self.nonces[sender] = nonce + 1
        return sign(account, nonce, **fields)

    def call(self, msg: CallMsg) -> tuple[str, Any]:
        """("ok", (output, gas)) or ("error", (message kind, revert data)), equal on both."""
        env = self.head_env()
        mine = _attempt(lambda: self.tested.executor.call(self.root, env, msg))
        reference = self.reference
        assert mine == _attempt(lambda: reference.executor.call(reference.root, env, msg))
        return mine

    def access_list(self, msg: CallMsg) -> tuple[str, Any]:
        """("ok", (access list, gas)) or ("error", (message kind, revert data)), equal on
        both."""
        env = self.head_env()
        executor, reference = self.tested.executor, self.reference
        mine = _attempt(lambda: executor.create_access_list(self.root, env, msg))
        assert mine == _attempt(
            lambda: reference.executor.create_access_list(reference.root, env, msg)
        )
        return mine

    def simulate(self, msg: CallMsg) -> tuple[str, Any]:
        """("ok", logs) or ("error", (message kind, revert data)), equal on both."""
        env = self.head_env()
        mine = _attempt(lambda: self.tested.executor.simulate(self.root, env, msg))
        reference = self.reference
        assert mine == _attempt(lambda: reference.executor.simulate(reference.root, env, msg))
        return mine

    def trace_call(self, msg: CallMsg) -> CallFrame:
        """`msg`'s call tree at the head, equal on both."""
        env = self.head_env()
        mine = self.tested.executor.trace_call(self.root, env, msg)
        reference = self.reference
        assert mine == reference.executor.trace_call(reference.root, env, msg)
        return mine

    def apply_traced(self, txs: list[FastTx]) -> tuple[BlockResult, list[CallFrame]]:
        """One block, then each of its transactions' call trees as the block ran them,
        equal on both."""
        parent, env = self.root, self.next_env()
        result = self.apply(txs)
        frames = []
        for i, tx in enumerate(txs):
            mine = self.tested.executor.trace_transaction(
                parent, env, NO_SYSTEM_WRITES, txs[:i], tx
            )
            expected = self.reference.executor.trace_transaction(
                parent, env, NO_SYSTEM_WRITES, txs[:i], tx
            )
            assert mine == expected
            frames.append(mine)
        return result, frames

    def estimate(self, msg: CallMsg) -> tuple[str, Any]:
        env = self.head_env()
        mine = _attempt(lambda: self.tested.executor.estimate_gas(self.root, env, msg))
        reference = self.reference
        expected = _attempt(lambda: reference.executor.estimate_gas(reference.root, env, msg))
        assert mine == expected
        return mine


def _attempt(run: Any) -> tuple[str, Any]:
    try:
        return "ok", run()
    except ExecutionError as exc:
        return "error", (str(exc).split(":")[0], exc.data)
