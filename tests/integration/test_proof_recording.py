"""The node records a proof only if it proves the statement stored with the operation."""

from __future__ import annotations

from pathlib import Path

from chain.config import ZK_CHAIN_ID
from chain.fast.genesis import dev_keys
from chain.node import Node
from chain.prover.groth16 import load_circuit, prove
from chain.zk.ops import Transfer
from chain.zk.signing import format_signed_operation, sign_operation


def test_rejects_proof_that_does_not_prove_the_stored_statement(tmp_path: Path) -> None:
    node = Node(tmp_path / "node")
    try:
        signed = sign_operation(Transfer(0xB0B, 10**18), 10**15, 0, ZK_CHAIN_ID, dev_keys()[1])
        op_id = node.submit_operation(format_signed_operation(signed))
        node.produce_zk_block()
        record = node.store.get_zk_op(op_id)
        assert record is not None and record.status == "committed"
        honest = prove(load_circuit(record.circuit), record.witness, record.public_inputs)
        forged = honest.blob[:32] + bytes(32) + honest.blob[64:]
        assert not node.record_proof(op_id, forged)
        assert not node.record_proof(op_id, b"\x00" * 256)
        assert node.store.get_zk_op(op_id).status == "committed"  # type: ignore[union-attr]
        assert node.record_proof(op_id, honest.blob)
        assert node.store.get_zk_op(op_id).status == "proven"  # type: ignore[union-attr]
        assert not node.record_proof(op_id, honest.blob), "a proven operation is proven once"
    finally:
        node.close()
