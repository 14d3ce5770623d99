"""A ZK block's operations as the rollup takes them: `Rollup.submitBlock(header, ops, ...)`.

`ops` is, per operation and with nothing between: its circuit id (1 byte, the index of its
circuit in L1_CIRCUIT_NAMES: CIRCUIT_NAMES, then the escape statements), its post-root (32
bytes), its words w1..wk (32 bytes each, k fixed by the circuit: WORD_LAYOUTS), and its
proof (256 bytes, the Ethereum blob of `chain.prover.groth16.Proof`). Every number is
big-endian. Pre-roots are not sent: the contract chains the statements itself, pre_0 = the
settled root and pre_{j+1} = post_j, which `compute_statements` mirrors. docs/l1.md has the
layout and the batch check.

Pure: anyone can `decode_ops` a settled block's calldata and rebuild the state from it.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, NewType, TypeAlias

from eth_abi import encode as abi_encode
from eth_utils import keccak

from chain.l1.errors import L1Error
from chain.prover.groth16 import PROOF_BYTES, Proof
from chain.zk.poseidon import FIELD_MODULUS
from chain.zk.registry import CIRCUIT_NAMES, WORD_LAYOUTS, CircuitName

StateRoot = NewType("StateRoot", int)  # a ZK state root: a BN254 scalar field element

CIRCUIT_ID_BYTES = 1
WORD_BYTES = 32
OP_FIXED_BYTES = CIRCUIT_ID_BYTES + WORD_BYTES + PROOF_BYTES  # id, post-root, proof

# The circuits the rollup verifies besides the operations', with ids after theirs: a queued
# Withdraw proven refused (post-root = pre-root, the withdraw circuit's words), and an exit
# (root, account, balance: as an op, "post-root" = account and one word, never in a block).
EscapeName = Literal["refuse_withdraw", "exit"]
L1CircuitName: TypeAlias = CircuitName | EscapeName
ESCAPE_WORDS: dict[str, int] = {"refuse_withdraw": len(WORD_LAYOUTS["withdraw"]), "exit": 1}
L1_CIRCUIT_NAMES: tuple[L1CircuitName, ...] = (*CIRCUIT_NAMES, "refuse_withdraw", "exit")


@dataclass(frozen=True)
class SettledOp:
    """One operation as L1 sees it: its circuit, the root after it, its words, its proof."""

    circuit: L1CircuitName
    post_root: StateRoot
    words: tuple[int, ...]
    proof: Proof


def get_circuit_id(circuit: L1CircuitName) -> int:
    return L1_CIRCUIT_NAMES.index(circuit)


def get_circuit_of_id(circuit_id: int) -> L1CircuitName:
    if not 0 <= circuit_id < len(L1_CIRCUIT_NAMES):
        raise L1Error(f"no circuit has id {circuit_id}")
    return L1_CIRCUIT_NAMES[circuit_id]


def count_words(circuit: L1CircuitName) -> int:
    """The words after the two roots of `circuit`'s statement."""
    if circuit in ESCAPE_WORDS:
        return ESCAPE_WORDS[circuit]
    return len(WORD_LAYOUTS[circuit])


def compute_op_bytes(circuit: L1CircuitName) -> int:
    return OP_FIXED_BYTES + WORD_BYTES * count_words(circuit)


def encode_ops(ops: Sequence[SettledOp]) -> bytes:
    """The `ops` argument of submitBlock. Refuses what the contract would refuse for its shape:
    a wrong word count, a root or word outside the field."""
    return b"".join(encode_op(op) for op in ops)


def encode_op(op: SettledOp) -> bytes:
    expected = count_words(op.circuit)
    if len(op.words) != expected:
        raise L1Error(f"{op.circuit} takes {expected} words, got {len(op.words)}")
    for value in (op.post_root, *op.words):
        if not 0 <= value < FIELD_MODULUS:
            raise L1Error(f"{op.circuit}: {value:#x} is not a field element")
    fields = [op.post_root, *op.words]
    return (
        get_circuit_id(op.circuit).to_bytes(CIRCUIT_ID_BYTES, "big")
        + b"".join(value.to_bytes(WORD_BYTES, "big") for value in fields)
        + op.proof.blob
    )


def decode_ops(data: bytes) -> list[SettledOp]:
    """The operations of a submitBlock `ops` argument; L1Error where the contract would revert
    for its shape (an unknown circuit id, a truncated op, an input outside the field)."""
    ops: list[SettledOp] = []
    offset = 0
    while offset < len(data):
        circuit = get_circuit_of_id(data[offset])
        end = offset + compute_op_bytes(circuit)
        if end > len(data):
            raise L1Error(f"op {len(ops)} ({circuit}) is truncated: {len(data) - offset} bytes")
        values = [
            int.from_bytes(data[start : start + WORD_BYTES], "big")
            for start in range(offset + CIRCUIT_ID_BYTES, end - PROOF_BYTES, WORD_BYTES)
        ]
        if any(value >= FIELD_MODULUS for value in values):
            raise L1Error(f"op {len(ops)} ({circuit}) has an input outside the field")
        proof = Proof(data[end - PROOF_BYTES : end])
        ops.append(SettledOp(circuit, StateRoot(values[0]), tuple(values[1:]), proof))
        offset = end
    return ops


def compute_statements(pre_root: StateRoot, ops: Sequence[SettledOp]) -> list[list[int]]:
    """Each op's public inputs [pre, post, w1..wk], chained as the contract chains them."""
    statements = []
    for op in ops:
        statements.append([pre_root, op.post_root, *op.words])
        pre_root = op.post_root
    return statements


def compute_block_commitment(pre_root: StateRoot, post_root: StateRoot, ops_bytes: bytes) -> bytes:
    """What the rollup keeps per settled height: keccak256(abi.encode(pre, post, keccak(ops)))."""
    return keccak(
        abi_encode(["uint256", "uint256", "bytes32"], [pre_root, post_root, keccak(ops_bytes)])
    )
