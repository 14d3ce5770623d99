"""A committed operation's proving inputs: computed when its block commits, built into a
witness when a prover is served its job.

Committing keeps the sequencer's hot path short: the public inputs (which the attestation
and the market's proof check need at once) come from the roots the block's execution
computed and the operation's words, and what the witness is built from is the operation's
trace with a summary of the state before it (a `WitnessSource`), stored as it is. Serving a
job (chain/market/work.py) builds the witness from these with `compute_served_witness`: the
same inputs that `compute_witness` gives from the whole states (a test keeps it so).
"""

import json
from dataclasses import astuple, dataclass
from typing import Any

from chain.prover.errors import ProverError
from chain.prover.escape import (
    REFUSAL_CIRCUIT,
    compute_refusal_statement,
    compute_refusal_witness,
)
from chain.prover.witness import (
    CircuitWitness,
    StatementName,
    WitnessSource,
    compute_op_public_inputs,
    compute_op_witness,
)
from chain.zk.chain import AppliedOp
from chain.zk.op_inputs import StateSummary, compute_state_summary
from chain.zk.ops import BlockContext
from chain.zk.registry import CircuitName, circuit_name
from chain.zk.state import RECORD_TYPES, Touch, TreeName
from chain.zk.words import InvalidWitness


@dataclass(frozen=True)
class ProvingInputs:
    """What the node stores of a committed operation for its proof."""

    circuit: CircuitName | StatementName
    public_inputs: list[int]  # in the verifier's order
    source: WitnessSource


def compute_proving_inputs(applied: AppliedOp, ctx: BlockContext) -> ProvingInputs:
    """An applied operation's circuit, public inputs and witness source; a Withdraw queued on
    L1 that the block refused is proved by refuse_withdraw. ProverError if the operation has
    no words (a field does not fit) or a refusal has no proof."""
    if applied.forced_words is not None:
        public_inputs, source = compute_refusal_statement(applied.pre_state, applied.forced_words)
        return ProvingInputs(REFUSAL_CIRCUIT, public_inputs, source)
    op, trace = applied.op, applied.trace
    try:
        public_inputs = compute_op_public_inputs(
            applied.pre_root, applied.post_root, op, ctx, trace
        )
    except InvalidWitness as exc:
        raise ProverError(str(exc)) from None
    source = WitnessSource(compute_state_summary(applied.pre_state), tuple(trace))
    return ProvingInputs(circuit_name(op), public_inputs, source)


def compute_served_witness(
    circuit: str, public_inputs: list[int], source: WitnessSource
) -> CircuitWitness:
    """The witness of a committed operation, from what its commit stored. ProverError if
    the source does not fit the circuit; UnknownOperation for a circuit nothing commits."""
    if circuit == REFUSAL_CIRCUIT:
        return compute_refusal_witness(public_inputs, source)
    return compute_op_witness(circuit, public_inputs, source)


# -- stored form: JSON, numbers as JSON numbers (a prover's balance may be negative) -----------


def encode_witness_source(source: WitnessSource) -> str:
    trace = [
        [touch.tree, touch.index, astuple(touch.before), astuple(touch.after), touch.path]
        for touch in source.trace
    ]
    return json.dumps({"pre": astuple(source.pre), "trace": trace}, separators=(",", ":"))


def decode_witness_source(raw: str) -> WitnessSource:
    """The inverse of `encode_witness_source`. ProverError if `raw` is not one."""
    try:
        obj = json.loads(raw)
        pre = StateSummary(*(check_int(x) for x in obj["pre"]))
        trace = tuple(decode_touch(entry) for entry in obj["trace"])
    except (ValueError, KeyError, TypeError) as exc:
        raise ProverError(f"stored witness source does not decode: {exc}") from None
    return WitnessSource(pre, trace)


def decode_touch(entry: list[Any]) -> Touch:
    tree, index, before, after, path = entry
    record = RECORD_TYPES[tree]
    name: TreeName = tree
    return Touch(
        name,
        check_int(index),
        record(*(check_int(x) for x in before)),
        record(*(check_int(x) for x in after)),
        [[check_int(x) for x in level] for level in path],
    )


def check_int(value: Any) -> int:
    if type(value) is not int:
        raise TypeError(f"expected an integer, got {value!r}")
    return value
