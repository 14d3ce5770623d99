"""The rules for appending to the braided ledger, as pure functions over block headers."""

from dataclasses import dataclass

from chain.ensure import ensure
from chain.ledger.blocks import ZERO_HASH, LedgerBlock, compute_block_hash
from chain.types import ChainId, Hash32, Height, Seq


class InvalidBlock(Exception):
    """A block that may not be appended to the ledger."""


class WrongLedgerPosition(InvalidBlock):
    """The header's seq, prev_hash, height or parent_hash is not the next place in the log."""


class WrongBlockHash(InvalidBlock):
    """The header's hash is not the hash of its fields."""


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
    position = WrongLedgerPosition
    ensure(
        block.seq == seq, position, f"seq {block.seq} does not follow the log head (expected {seq})"
    )
    ensure(block.prev_hash == prev_hash, position, "prev_hash is not the hash of the log head")
    ensure(block.height == height, position, f"height {block.height} is not {height}")
    ensure(block.parent_hash == parent_hash, position, "parent_hash is not the chain head's hash")
    ensure(
        block.hash == compute_block_hash(block), WrongBlockHash, "hash does not match the header"
    )


def process_append(heads: LedgerHeads, block: LedgerBlock) -> LedgerHeads:
    validate_append(heads, block)
    return LedgerHeads(log=block, chains={**heads.chains, block.chain_id: block})
