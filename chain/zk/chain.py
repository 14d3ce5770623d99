"""The ZK chain's state transition: `apply_block` turns ordered operations into a block.

Execution is a pure function of the parent state, the operations in their order and the
timestamp handed in by the sequencer, so any node (or anyone reading L1) recomputes it.
An operation that breaks a rule when its turn comes is left out and reported, never half
applied; the block's state root is the root after its last operation.
"""

from dataclasses import dataclass

from chain.fast.mpt import compute_ordered_root
from chain.ledger.blocks import LedgerBlock, seal
from chain.ledger.log import LedgerHeads, compute_next_position
from chain.ledger.messages import CreditMessage, encode_credit
from chain.types import Address, ChainId, Hash32, Root
from chain.zk.ops import BlockContext, InvalidOp, ToFast, apply_operation
from chain.zk.signing import SignedOperation
from chain.zk.state import Touch, ZkState, compute_state_root

EMPTY_TRIE_ROOT = Root(
    bytes.fromhex("56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421")
)
EPOCH_BLOCKS = 600  # mint caps per epoch: 10 minutes of ZK blocks at the default 1 s


@dataclass(frozen=True)
class AppliedOp:
    """One operation as the block applied it: what its proof will be about."""

    signed: SignedOperation
    pre_state: ZkState
    post_state: ZkState
    trace: list[Touch]
    pre_root: int
    post_root: int


@dataclass(frozen=True)
class ZkBlock:
    block: LedgerBlock
    state: ZkState
    ctx: BlockContext
    applied: list[AppliedOp]
    rejected: list[tuple[SignedOperation, str]]


def compute_epoch(height: int) -> int:
    return height // EPOCH_BLOCKS


def compute_root_bytes(state: ZkState) -> Root:
    return Root(compute_state_root(state).to_bytes(32, "big"))


def compute_block_context(height: int, min_fee: int) -> BlockContext:
    return BlockContext(height=height, epoch=compute_epoch(height), min_fee=min_fee)


def compute_receipt(applied: AppliedOp) -> bytes:
    """What the receipts root commits to per operation: its ID and the roots around it."""
    return (
        applied.signed.op_id
        + applied.pre_root.to_bytes(32, "big")
        + applied.post_root.to_bytes(32, "big")
    )


def compute_messages(applied: list[AppliedOp]) -> list[bytes]:
    """What the block sends the fast chain: a credit per ZKPoW lock, in operation order."""
    return [
        encode_credit(
            CreditMessage(Address(a.signed.op.body.to.to_bytes(20, "big")), a.signed.op.body.amount)
        )
        for a in applied
        if isinstance(a.signed.op.body, ToFast)
    ]


def apply_block(
    state: ZkState,
    heads: LedgerHeads,
    chain_id: ChainId,
    timestamp_ms: int,
    ops: list[SignedOperation],
    min_fee: int,
) -> ZkBlock:
    seq, prev_hash, height, parent_hash = compute_next_position(heads, chain_id)
    parent = heads.chains.get(chain_id)
    ctx = compute_block_context(height, min_fee)
    applied: list[AppliedOp] = []
    rejected: list[tuple[SignedOperation, str]] = []
    root = compute_state_root(state)
    for signed in ops:
        try:
            post, trace = apply_operation(state, signed.op, ctx)
        except InvalidOp as exc:
            rejected.append((signed, str(exc)))
            continue
        post_root = compute_state_root(post)
        applied.append(AppliedOp(signed, state, post, trace, root, post_root))
        state, root = post, post_root
    block = seal(
        LedgerBlock(
            seq=seq,
            prev_hash=prev_hash,
            chain_id=chain_id,
            height=height,
            parent_hash=parent_hash,
            state_root=Root(root.to_bytes(32, "big")),
            transactions_root=Root(compute_ordered_root([a.signed.op_id for a in applied])),
            receipts_root=Root(compute_ordered_root([compute_receipt(a) for a in applied])),
            timestamp_ms=timestamp_ms if parent is None else max(timestamp_ms, parent.timestamp_ms),
            tx_hashes=tuple(Hash32(a.signed.op_id) for a in applied),
            messages=tuple(compute_messages(applied)),
        )
    )
    return ZkBlock(block, state, ctx, applied, rejected)
