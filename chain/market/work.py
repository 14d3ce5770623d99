"""A market job as a prover receives it (JSON, the same over WebSocket and in-process), and
doing it: an operation's Groth16 proof, or a block's aggregate.

An operation's witness is built here, when its job is served, from what the node stored
when it committed the operation (chain/prover/witness_source.py): not on the sequencer's
path. `perform_job` runs in a worker process (proving takes about a second of CPU), so it
takes and returns plain data.
"""

from collections import OrderedDict
from typing import Any

from chain.l1.calldata import SettledOp, StateRoot
from chain.ledger.store import Store, ZkOpRecord
from chain.market.aggregate import compute_aggregate, compute_settled_op
from chain.market.book import Job
from chain.prover.groth16 import Proof, load_circuit, prove
from chain.prover.witness import CircuitWitness
from chain.prover.witness_source import compute_served_witness, decode_witness_source
from chain.types import Height, Wei

# Witnesses kept once served: every open job is served again each time its prover reads its
# assignments (each block; the embedded prover's every few milliseconds). Two full blocks'.
WITNESS_CACHE_SIZE = 256


def compute_job_witness(op: ZkOpRecord) -> CircuitWitness:
    """A committed operation's witness, built from what its commit stored. ProverError if
    the stored source does not decode or fit its circuit."""
    source = decode_witness_source(op.witness_source)
    return compute_served_witness(op.circuit, op.public_inputs, source)


class WitnessCache:
    """The served form of the last few witnesses built (`format_witness`), by operation:
    a committed operation's witness never changes. Callers must not modify what it returns."""

    def __init__(self, size: int = WITNESS_CACHE_SIZE) -> None:
        self.size = size
        self.entries: OrderedDict[bytes, dict[str, Any]] = OrderedDict()

    def get(self, op: ZkOpRecord) -> dict[str, Any]:
        served = self.entries.get(op.op_id)
        if served is None:
            served = format_witness(compute_job_witness(op).inputs)
            self.entries[op.op_id] = served
            if len(self.entries) > self.size:
                self.entries.popitem(last=False)
        else:
            self.entries.move_to_end(op.op_id)
        return served


def format_job(
    job: Job, store: Store, bounty: Wei, parent_root: bytes | None, witnesses: WitnessCache
) -> dict[str, Any]:
    """What the assignee needs: for an operation its circuit, witness and public inputs; for
    an aggregation the block's proven operations and its parent's root."""
    out: dict[str, Any] = {
        "jobId": "0x" + job.job_id.hex(),
        "kind": job.kind,
        "height": job.height,
        "assignedAt": job.assigned_at,
        "deadline": job.deadline,
        "attempt": job.attempt,
        "bounty": hex(bounty),
    }
    if job.kind == "op":
        op = store.get_zk_op(job.job_id)
        assert op is not None, "an open operation job names a stored operation"
        out |= {
            "circuit": op.circuit,
            "witness": witnesses.get(op),
            "publicInputs": [hex(x) for x in op.public_inputs],
        }
    else:
        assert parent_root is not None
        ops = [compute_settled_op(r) for r in store.list_zk_ops_at(Height(job.height))]
        out |= {"parentRoot": "0x" + parent_root.hex(), "ops": [format_op(op) for op in ops]}
    return out


def format_witness(value: Any) -> Any:
    """Circuit inputs with every number as a decimal string, as circom's input.json has
    them: field elements do not fit JSON's 64-bit integers."""
    if isinstance(value, dict):
        return {k: format_witness(v) for k, v in value.items()}
    if isinstance(value, list):
        return [format_witness(v) for v in value]
    return str(value)


def parse_witness(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: parse_witness(v) for k, v in value.items()}
    if isinstance(value, list):
        return [parse_witness(v) for v in value]
    return int(value)


def format_op(op: SettledOp) -> dict[str, Any]:
    return {
        "circuit": op.circuit,
        "postRoot": hex(op.post_root),
        "words": [hex(w) for w in op.words],
        "proof": "0x" + op.proof.blob.hex(),
    }


def parse_op(obj: dict[str, Any]) -> SettledOp:
    return SettledOp(
        obj["circuit"],
        StateRoot(int(obj["postRoot"], 16)),
        tuple(int(w, 16) for w in obj["words"]),
        Proof(bytes.fromhex(obj["proof"][2:])),
    )


def perform_job(job: dict[str, Any]) -> bytes:
    """The job's result: a proof (256 bytes) or the block's `ops` calldata. Raises
    ProverError or InvalidAggregate when it cannot be done."""
    if job["kind"] == "op":
        public = [int(x, 16) for x in job["publicInputs"]]
        return prove(load_circuit(job["circuit"]), parse_witness(job["witness"]), public).blob
    parent = StateRoot(int(job["parentRoot"], 16))
    return compute_aggregate(parent, [parse_op(op) for op in job["ops"]])
