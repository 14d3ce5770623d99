"""The rollup's calldata in Python (chain/l1/calldata.py), without an L1: the layout, the
round trip that reconstruction relies on, and the same refusals as the contract's."""

from __future__ import annotations

import pytest

from chain.l1.calldata import (
    L1_CIRCUIT_NAMES,
    OP_FIXED_BYTES,
    SettledOp,
    StateRoot,
    compute_op_bytes,
    compute_statements,
    decode_ops,
    encode_ops,
    get_circuit_id,
)
from chain.l1.errors import L1Error
from chain.prover.groth16 import PROOF_BYTES, Proof
from chain.zk.poseidon import FIELD_MODULUS
from chain.zk.registry import CIRCUIT_NAMES, WORD_LAYOUTS

PRE = StateRoot(0x1234)


def make_op(circuit: str, post: int, seed: int) -> SettledOp:
    words = tuple(seed * 100 + i for i in range(len(WORD_LAYOUTS[circuit])))  # type: ignore[index]
    proof = Proof(bytes((seed + i) % 256 for i in range(PROOF_BYTES)))
    return SettledOp(circuit, StateRoot(post), words, proof)  # type: ignore[arg-type]


OPS = [make_op("transfer", 11, 1), make_op("mint", 22, 2), make_op("cancel", 33, 3)]


def test_each_op_is_id_post_root_words_then_proof() -> None:
    op = OPS[1]
    data = encode_ops([op])
    assert len(data) == OP_FIXED_BYTES + 32 * len(op.words) == compute_op_bytes("mint")
    assert data[0] == get_circuit_id("mint") == CIRCUIT_NAMES.index("mint")
    assert data[1:33] == (22).to_bytes(32, "big")
    assert data[33:65] == op.words[0].to_bytes(32, "big")
    assert data[-PROOF_BYTES:] == op.proof.blob


def test_decode_inverts_encode() -> None:
    assert decode_ops(encode_ops(OPS)) == OPS
    assert decode_ops(b"") == []


def test_statements_chain_from_the_pre_root() -> None:
    assert compute_statements(PRE, OPS) == [
        [PRE, 11, *OPS[0].words],
        [11, 22, *OPS[1].words],
        [22, 33, *OPS[2].words],
    ]


def test_rejects_ops_of_the_wrong_length() -> None:
    data = encode_ops(OPS)
    with pytest.raises(L1Error, match=r"op 2 .* truncated"):
        decode_ops(data[:-1])
    with pytest.raises(L1Error, match=r"op 3 .* truncated"):
        decode_ops(data + b"\x00")


def test_rejects_an_unknown_circuit_id() -> None:
    with pytest.raises(L1Error, match="no circuit has id"):
        decode_ops(bytes([len(L1_CIRCUIT_NAMES)]) + encode_ops(OPS)[1:])


def test_rejects_inputs_outside_the_field() -> None:
    data = bytearray(encode_ops(OPS[:1]))
    data[1:33] = FIELD_MODULUS.to_bytes(32, "big")
    with pytest.raises(L1Error, match="outside the field"):
        decode_ops(bytes(data))
    with pytest.raises(L1Error, match="not a field element"):
        encode_ops([SettledOp("transfer", StateRoot(FIELD_MODULUS), OPS[0].words, OPS[0].proof)])


def test_rejects_a_wrong_word_count() -> None:
    with pytest.raises(L1Error, match="transfer takes 3 words"):
        encode_ops([SettledOp("transfer", StateRoot(1), (1, 2), OPS[0].proof)])
