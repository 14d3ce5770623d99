"""The append rules of the braided ledger, on headers alone."""

from dataclasses import replace
from itertools import pairwise

import pytest

from chain.ledger.blocks import (
    LedgerBlock,
    block_from_json,
    block_to_json,
    compute_block_hash,
    seal,
)
from chain.ledger.log import InvalidBlock, LedgerHeads, compute_next_position, process_append
from chain.types import ChainId, Hash32, Height, Root

FAST, ZK = ChainId(7702), ChainId(7701)
EMPTY = LedgerHeads(log=None, chains={})


def next_block(heads: LedgerHeads, chain_id: ChainId, ts: int = 1000) -> LedgerBlock:
    seq, prev_hash, height, parent_hash = compute_next_position(heads, chain_id)
    return seal(
        LedgerBlock(
            seq=seq,
            prev_hash=prev_hash,
            chain_id=chain_id,
            height=height,
            parent_hash=parent_hash,
            state_root=Root(b"\x01" * 32),
            transactions_root=Root(b"\x02" * 32),
            receipts_root=Root(b"\x03" * 32),
            timestamp_ms=ts,
        )
    )


def build(order: list[ChainId]) -> tuple[LedgerHeads, list[LedgerBlock]]:
    heads, blocks = EMPTY, []
    for chain_id in order:
        block = next_block(heads, chain_id)
        heads = process_append(heads, block)
        blocks.append(block)
    return heads, blocks


def test_interleaved_chains_link_both_in_the_log_and_per_chain() -> None:
    heads, blocks = build([FAST, ZK, FAST, FAST, ZK])
    assert [b.seq for b in blocks] == [0, 1, 2, 3, 4]
    assert all(b.prev_hash == a.hash for a, b in pairwise(blocks))
    fast = [b for b in blocks if b.chain_id == FAST]
    assert [b.height for b in fast] == [0, 1, 2]
    assert fast[2].parent_hash == fast[1].hash and fast[1].parent_hash == fast[0].hash
    assert heads.chains[ZK].height == 1 and heads.log == blocks[-1]


def test_block_hash_commits_to_position_in_the_log() -> None:
    _, blocks = build([FAST, ZK])
    moved = replace(blocks[1], seq=5)
    assert compute_block_hash(moved) != blocks[1].hash


def test_block_json_round_trip_keeps_the_hash() -> None:
    _, blocks = build([FAST, ZK, FAST])
    for block in blocks:
        assert block_from_json(block_to_json(block)) == block
        assert block_from_json(block_to_json(block)).hash == block.hash


def test_rejects_a_skipped_sequence_number() -> None:
    heads, _ = build([FAST])
    block = seal(replace(next_block(heads, ZK), seq=5))
    with pytest.raises(InvalidBlock, match="seq 5 does not follow"):
        process_append(heads, block)


def test_rejects_a_wrong_prev_hash() -> None:
    heads, _ = build([FAST, ZK])
    block = seal(replace(next_block(heads, FAST), prev_hash=Hash32(b"\x09" * 32)))
    with pytest.raises(InvalidBlock, match="prev_hash"):
        process_append(heads, block)


def test_rejects_a_wrong_parent_in_its_own_chain() -> None:
    heads, _ = build([FAST, ZK, FAST])
    block = seal(replace(next_block(heads, FAST), parent_hash=Hash32(b"\x09" * 32)))
    with pytest.raises(InvalidBlock, match="parent_hash"):
        process_append(heads, block)


def test_rejects_a_wrong_height() -> None:
    heads, _ = build([FAST, ZK])
    block = seal(replace(next_block(heads, FAST), height=Height(7)))
    with pytest.raises(InvalidBlock, match="height 7"):
        process_append(heads, block)


def test_rejects_a_hash_that_does_not_match_the_header() -> None:
    heads, _ = build([FAST])
    block = replace(next_block(heads, ZK), state_root=Root(b"\x07" * 32))  # not resealed
    with pytest.raises(InvalidBlock, match="hash does not match"):
        process_append(heads, block)
