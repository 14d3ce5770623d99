"""A proof's whole witness for a ZK operation (docs/zk-state.md, "Public inputs", "Circuits").

After `apply_operation(pre, op, ctx)` returns `(post, trace)`, `compute_witness(pre, op, ctx,
post, trace)` gives what the operation's circuit (`contracts/circuits/<name>.circom`) takes:
every input signal by name, and the public inputs in the verifier's order. It assembles what
every circuit shares (the roots, the words, the global counters, a signed operation's header)
with the operation's own inputs, which its `OpSpec` (chain/zk/registry.py) computes. Pure:
the trace already holds each touched leaf's record and path, so no tree is walked again.

Of the whole state before the operation a circuit reads only its roots and counters (a
`StateSummary`): so the node computes the public inputs when it commits an operation, keeps
that summary and the trace (a `WitnessSource`), and builds the witness from them with
`compute_op_witness` when a prover is served the job (chain/prover/witness_source.py).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, get_args

from chain.prover.errors import ProverError
from chain.zk.op_inputs import (
    CircuitInputs,
    StateSummary,
    compute_state_summary,
    get_account_record,
)
from chain.zk.ops import BlockContext, Operation
from chain.zk.registry import (
    CircuitName,
    OpSpec,
    check_trace,
    circuit_name,
    compute_op_words,
    get_circuit_spec,
)
from chain.zk.state import Touch, ZkState, compute_state_root
from chain.zk.words import HEADER_LAYOUT, InvalidWitness, unpack_word

# Circuits that prove a statement about one state rather than an operation: the ceremony
# builds them beside the operations', but no `OpSpec` defines them. `exit` and
# `refuse_withdraw` are L1's escape hatch and forced inclusion (chain/prover/escape.py).
StatementName = Literal["ownership", "exit", "refuse_withdraw"]
STATEMENT_NAMES: tuple[StatementName, ...] = get_args(StatementName)
# The node reads a header back from these (chain/node.py).
__all__ = ["HEADER_LAYOUT", "CircuitWitness", "WitnessSource", "compute_witness", "unpack_word"]


@dataclass(frozen=True)
class CircuitWitness:
    """What one proof takes: the circuit, its inputs, and its public inputs."""

    circuit: CircuitName | StatementName
    inputs: CircuitInputs  # every input signal by name, public ones included
    # In the verifier's order: [preRoot, postRoot, w1, w2, ...] for an operation.
    public_inputs: list[int]


@dataclass(frozen=True)
class WitnessSource:
    """What a committed operation's witness is built from, besides its circuit and public
    inputs: the summary of the state before it, and the leaves its circuit reads, each with
    its record and path (an operation's trace; for a refused Withdraw, the leaf it names)."""

    pre: StateSummary
    trace: tuple[Touch, ...]


def compute_public_inputs(
    pre_state: ZkState,
    op: Operation,
    ctx: BlockContext,
    post_state: ZkState,
    trace: Sequence[Touch],
) -> list[int]:
    """[preRoot, postRoot, w1, w2, ...]: the statement that `op` takes pre_state to post_state."""
    pre_root, post_root = compute_state_root(pre_state), compute_state_root(post_state)
    return compute_op_public_inputs(pre_root, post_root, op, ctx, trace)


def compute_op_public_inputs(
    pre_root: int, post_root: int, op: Operation, ctx: BlockContext, trace: Sequence[Touch]
) -> list[int]:
    """The same from the two roots, which the block's execution computed already.
    InvalidWitness if the trace is not one of `op`'s or a field does not fit its word."""
    return [pre_root, post_root, *compute_op_words(op, ctx, trace)]


def compute_witness(
    pre_state: ZkState,
    op: Operation,
    ctx: BlockContext,
    post_state: ZkState,
    trace: Sequence[Touch],
) -> CircuitWitness:
    """The inputs of `op`'s circuit, from the transition that `apply_operation` made.
    ProverError if the trace is not one of `op`'s or a field does not fit its word."""
    try:  # UnknownOperation is an InvalidOp: the caller's to catch
        public_inputs = compute_public_inputs(pre_state, op, ctx, post_state, trace)
    except InvalidWitness as exc:
        raise ProverError(str(exc)) from None
    pre = compute_state_summary(pre_state)
    return compute_op_witness(circuit_name(op), public_inputs, WitnessSource(pre, tuple(trace)))


def compute_op_witness(
    circuit: str, public_inputs: Sequence[int], source: WitnessSource
) -> CircuitWitness:
    """The inputs of an operation's `circuit` from its public inputs and what its commit kept.
    ProverError if the trace is not one of the circuit's; UnknownOperation for a circuit that
    no operation has."""
    try:
        return assemble_witness(get_circuit_spec(circuit), public_inputs, source)
    except InvalidWitness as exc:
        raise ProverError(str(exc)) from None


def assemble_witness(
    spec: OpSpec[Any], public_inputs: Sequence[int], source: WitnessSource
) -> CircuitWitness:
    pre, trace = source.pre, source.trace
    check_trace(spec, trace)
    public_names = ["preRoot", "postRoot"] + [f"w{i + 1}" for i in range(len(public_inputs) - 2)]
    inputs: CircuitInputs = dict(zip(public_names, public_inputs, strict=True))
    inputs.update(compute_globals_inputs(pre))
    if "provers" not in spec.trees:  # the circuit passes the provers root through
        inputs["proversRoot"] = pre.provers_root
    if spec.signed is not None:  # a signed operation: the header's inputs
        inputs.update(compute_signer_inputs(trace[0]))
    inputs.update(spec.inputs(pre, trace))
    return CircuitWitness(spec.circuit, inputs, list(public_inputs))


def compute_globals_inputs(pre: StateSummary) -> CircuitInputs:
    """The global counters before the operation, which every circuit hashes into its roots."""
    return {"feePool": pre.fee_pool, "escrow": pre.escrow, "inbox": pre.inbox}


def compute_signer_inputs(signer: Touch) -> CircuitInputs:
    """The header's private inputs, which every signed operation's circuit has."""
    account = get_account_record(signer, "before")
    return {
        "signerBalance": account.balance,
        "signerKeyHash": account.key_hash,
        "signerPath": signer.path,
    }
