"""The rules for appending to the braided ledger, as pure functions over block headers."""

from dataclasses import dataclass

from chain.ensure import ensure
from chain.ledger.blocks import ZERO_HASH, LedgerBlock, compute_block_hash
from chain.types import ChainId, Hash32, Height, Seq


class InvalidBlock(Exception):
    """A block that may not be appended to the ledger."""


@dataclass(frozen=True)
class LedgerHeads:
    """The newest block of the log and of each chain; None before the first."""

    log: LedgerBlock | None
    chains: dict[ChainId, LedgerBlock]


def compute_next_position(
    heads: LedgerHeads, chain_id: ChainId
) -> tuple[Seq, Hash32, Height, Hash32]:
    """(seq, prev_hash, height, parent_hash) for the next block of `chain_id`."""
    seq = Seq(0 if heads.log is None else heads.log.seq + 1)
    prev_hash = ZERO_HASH if heads.log is None else heads.log.hash
    parent = heads.chains.get(chain_id)
    height = Height(0 if parent is None else parent.height + 1)
    parent_hash = ZERO_HASH if parent is None else parent.hash
    return seq, prev_hash, height, parent_hash


def validate_append(heads: LedgerHeads, block: LedgerBlock) -> None:
    seq, prev_hash, height, parent_hash = compute_next_position(heads, block.chain_id)
    ensure(
        block.seq == seq,
        InvalidBlock,
        f"seq {block.seq} does not follow the log head (expected {seq})",
    )
    ensure(block.prev_hash == prev_hash, InvalidBlock, "prev_hash is not the hash of the log head")
    ensure(block.height == height, InvalidBlock, f"height {block.height} is not {height}")
    ensure(
        block.parent_hash == parent_hash, InvalidBlock, "parent_hash is not the chain head's hash"
    )
    ensure(block.hash == compute_block_hash(block), InvalidBlock, "hash does not match the header")


def process_append(heads: LedgerHeads, block: LedgerBlock) -> LedgerHeads:
    validate_append(heads, block)
    return LedgerHeads(log=block, chains={**heads.chains, block.chain_id: block})
