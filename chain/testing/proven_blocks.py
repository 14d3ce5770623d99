"""Proven ZK blocks from a small test genesis, for the settlement tests and benchmark.

Operations come from the real state machine (`chain.zk.registry.apply_operation`) and proofs
from the ceremony's keys (`chain.prover.groth16`); each op becomes a `SettledOp`, as a
submission agent will send it. Proving takes about half a second an op, so the chains are
built once per process (`functools.cache`).

The genesis holds four signers whose addresses are real keys' (L1 checks each signed
operation's signature against its `from`, chain/l1/op_signing.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

from eth_account import Account as EthAccount
from eth_utils import keccak

from chain.l1.calldata import SettledOp, StateRoot, encode_ops
from chain.prover.groth16 import load_circuit, prove
from chain.prover.witness import CircuitWitness, compute_witness
from chain.zk.genesis import compute_genesis_state
from chain.zk.ops import GWEI, BlockContext, OpBody, Operation, Transfer
from chain.zk.registry import apply_operation, is_unsigned
from chain.zk.state import (
    Collection,
    Touch,
    ZkState,
    compute_state_root,
    get_account,
    get_total_supply,
    put_collection,
)

ETHER = 10**18
FEE = 2 * GWEI
SIGNER_KEYS: dict[int, bytes] = {
    int(EthAccount.from_key(key).address, 16): key
    for key in (keccak(name.encode()) for name in ("alice", "bob", "carol", "minter"))
}
ALICE, BOB, CAROL, MINTER = SIGNER_KEYS  # Carol has no account at genesis
EPOCH_CAPPED_COLLECTION = 2  # a test collection: 10 a round, but only 2 an epoch
CTX = BlockContext(height=1_000, epoch=1, min_fee=GWEI)
# Fast-chain messages 0 and 1 applied before the tests start: every circuit then hashes a
# non-zero inbox into its roots, so one that dropped it would not prove.
FIRST_SEQ = 2
NO_SIGNER = 0  # the signer of an unsigned body (a deposit, a fast-chain message)

Step = tuple[int, OpBody]  # (signer, body)


@dataclass(frozen=True)
class Transition:
    pre: ZkState
    op: Operation
    ctx: BlockContext
    post: ZkState
    trace: list[Touch]

    @property
    def witness(self) -> CircuitWitness:
        return compute_witness(self.pre, self.op, self.ctx, self.post, self.trace)


@dataclass(frozen=True)
class ProvenBlock:
    pre_root: StateRoot
    ops: tuple[SettledOp, ...]
    post: ZkState

    @property
    def post_root(self) -> StateRoot:
        return self.ops[-1].post_root

    @property
    def calldata(self) -> bytes:
        return encode_ops(self.ops)


def compute_test_genesis() -> ZkState:
    state = compute_genesis_state(
        {ALICE: 100 * ETHER, BOB: 50 * ETHER, MINTER: 10 * ETHER}, MINTER, 7 * ETHER
    )
    capped = Collection(minter=MINTER, round_cap=10, epoch_cap=2)
    put_collection(state, EPOCH_CAPPED_COLLECTION, capped)
    state.inbox = FIRST_SEQ
    return state


@cache
def compute_genesis_root() -> StateRoot:
    return StateRoot(compute_state_root(compute_test_genesis()))


def compute_genesis_supply() -> int:
    """The ZKPoW of the test genesis: what a rollup of it holds as backing on L1."""
    return get_total_supply(compute_test_genesis())


def make_op(state: ZkState, signer: int, body: OpBody, fee: int = FEE) -> Operation:
    """`body` signed by `signer` with the account's current nonce."""
    return Operation(body, signer, fee, get_account(state, signer).nonce)


def make_operation(state: ZkState, signer: int, body: OpBody) -> Operation:
    """`body` signed by `signer`, or, for a deposit or a fast-chain message, by nobody."""
    return Operation(body, 0, 0, 0) if is_unsigned(body) else make_op(state, signer, body)


def run(state: ZkState, op: Operation, ctx: BlockContext = CTX) -> Transition:
    post, trace = apply_operation(state, op, ctx)
    return Transition(state, op, ctx, post, trace)


def prove_transition(transition: Transition) -> SettledOp:
    witness = transition.witness
    assert witness.circuit != "ownership"  # a statement, not an operation
    proof = prove(load_circuit(witness.circuit), witness.inputs, witness.public_inputs)
    post_root, *words = witness.public_inputs[1:]
    return SettledOp(witness.circuit, StateRoot(post_root), tuple(words), proof)


def prove_block(state: ZkState, steps: Sequence[Step]) -> ProvenBlock:
    """`steps` applied to `state` in order, each proven."""
    pre_root = StateRoot(compute_state_root(state))
    ops = []
    for signer, body in steps:
        transition = run(state, make_operation(state, signer, body))
        ops.append(prove_transition(transition))
        state = transition.post
    return ProvenBlock(pre_root, tuple(ops), state)


def get_transfer_steps(count: int) -> list[Step]:
    """`count` transfers, Alice and Bob paying each other in turn."""
    return [
        (ALICE, Transfer(BOB, ETHER)) if i % 2 == 0 else (BOB, Transfer(ALICE, ETHER))
        for i in range(count)
    ]


@cache
def get_transfer_chain(count: int) -> ProvenBlock:
    """`count` proven transfers from genesis (callers cut blocks out of it)."""
    return prove_block(compute_test_genesis(), get_transfer_steps(count))


def get_pre_root(chain: ProvenBlock, start: int) -> StateRoot:
    """The root before op `start` of a chain of ops."""
    return chain.pre_root if start == 0 else chain.ops[start - 1].post_root
