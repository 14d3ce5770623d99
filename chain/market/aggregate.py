"""An aggregation job: a ZK block's proofs assembled into what `Rollup.submitBlock` takes.

Groth16 has no cheap recursion here, so the aggregate is the block's `ops` calldata
(chain/l1/calldata.py) with its statement chain checked (the first pre-root is the parent
block's root, each post-root the next pre-root) and every proof verified: the rollup then
checks them all in one batched pairing. The aggregator does this work; the node checks its
result by building the same bytes from what it stored.
"""

from collections.abc import Sequence

from chain.l1.calldata import SettledOp, StateRoot, compute_statements, encode_ops
from chain.ledger.store import ZkOpRecord
from chain.prover.groth16 import Proof
from chain.prover.worker import is_valid_proof
from chain.zk.registry import CircuitName


class InvalidAggregate(Exception):
    pass


def compute_settled_op(record: ZkOpRecord) -> SettledOp:
    """A stored, proven operation as L1 takes it."""
    if record.proof is None:
        raise InvalidAggregate(f"operation 0x{record.op_id.hex()} has no proof")
    _, post_root, *words = record.public_inputs
    circuit: CircuitName = record.circuit
    return SettledOp(circuit, StateRoot(post_root), tuple(words), Proof(record.proof))


def compute_aggregate(parent_root: StateRoot, ops: Sequence[SettledOp]) -> bytes:
    """The block's `ops` calldata once its statements chain from `parent_root` and every
    proof verifies; raises InvalidAggregate saying which does not."""
    if not ops:
        raise InvalidAggregate("a block without operations is not aggregated")
    for position, (op, statement) in enumerate(
        zip(ops, compute_statements(parent_root, ops), strict=True)
    ):
        if not is_valid_proof(op.circuit, op.proof.blob, statement):
            raise InvalidAggregate(
                f"operation {position} ({op.circuit}): the proof does not verify"
            )
    return encode_ops(ops)


def compute_expected_aggregate(records: Sequence[ZkOpRecord]) -> bytes:
    """What the node accepts as block's aggregate: its own stored operations, encoded. Their
    proofs were verified as they arrived and their statements chain by construction."""
    return encode_ops([compute_settled_op(r) for r in records])
