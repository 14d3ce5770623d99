"""The ZK operation pool (chain/zk/pool.py): one signer may have at most
MAX_PENDING_PER_SENDER operations waiting, so no sender fills the pool that every block
applies again; others still get in, and a block that takes some frees room."""

from __future__ import annotations

import pytest

from chain.zk.ops import InvalidOp, Operation, Transfer
from chain.zk.pool import MAX_PENDING_PER_SENDER, OpPool
from chain.zk.registry import apply_operation
from chain.zk.signing import SignedOperation
from chain.zk.state import ZkState
from tests.circuits.scenarios import ALICE, BOB, CAROL, CTX, FEE, compute_test_genesis


def signed(signer: int, nonce: int) -> SignedOperation:
    op = Operation(Transfer(CAROL, 1), signer, FEE, nonce)
    return SignedOperation(op, signature=b"", op_id=bytes([signer % 256, nonce % 256, nonce >> 8]))


def fill(pool: OpPool, signer: int, count: int) -> None:
    for nonce in range(count):
        pool.admit(signed(signer, nonce), CTX)


def test_rejects_an_operation_over_the_signers_share() -> None:
    pool = OpPool(compute_test_genesis())
    fill(pool, ALICE, MAX_PENDING_PER_SENDER)
    with pytest.raises(InvalidOp, match=f"at most {MAX_PENDING_PER_SENDER}"):
        pool.admit(signed(ALICE, MAX_PENDING_PER_SENDER), CTX)
    assert len(pool.ops) == MAX_PENDING_PER_SENDER
    pool.admit(signed(BOB, 0), CTX)  # another signer is not held up
    assert pool.pending_nonce(ALICE, 0) == MAX_PENDING_PER_SENDER
    assert pool.pending_nonce(BOB, 0) == 1


def test_a_block_that_takes_some_frees_room() -> None:
    genesis = compute_test_genesis()
    pool = OpPool(genesis)
    fill(pool, ALICE, MAX_PENDING_PER_SENDER)
    head: ZkState = genesis
    taken = pool.ops[:10]
    for op in taken:
        head, _ = apply_operation(head, op.op, CTX)
    assert pool.reset(head, {s.op_id for s in taken}, CTX) == []
    assert pool.pending_nonce(ALICE, 10) == MAX_PENDING_PER_SENDER
    fill_from = MAX_PENDING_PER_SENDER
    for nonce in range(fill_from, fill_from + 10):
        pool.admit(signed(ALICE, nonce), CTX)
    with pytest.raises(InvalidOp, match="wait already"):
        pool.admit(signed(ALICE, fill_from + 10), CTX)
