"""Dev mode shows each fast block soft as soon as it is made, before it is stored, and shows
it again as removed when storing it fails."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest
from eth_account import Account

from chain.consensus.dev import DevSequencer
from chain.fast.chain import FastBlock
from chain.fast.genesis import dev_keys
from chain.node import open_node

KEY = dev_keys()[4]


def signed_transfer(chain_id: int, nonce: int, base_fee: int) -> bytes:
    tx = {
        "type": 2,
        "chainId": chain_id,
        "nonce": nonce,
        "to": Account.create().address,
        "value": 1,
        "gas": 21_000,
        "maxFeePerGas": 2 * base_fee + 10**9,
        "maxPriorityFeePerGas": 10**9,
    }
    return bytes(Account.sign_transaction(tx, KEY).raw_transaction)


def test_a_block_is_shown_soft_before_it_is_stored(tmp_path: Path) -> None:
    async def run() -> None:
        node = open_node(tmp_path / "node", executor="pyevm")
        try:
            sequencer = DevSequencer(node, block_window_ms=0, zk_interval_s=3600)
            seen: list[tuple[int, bool, int]] = []

            def on_soft(fast: FastBlock, removed: bool) -> None:
                seen.append((fast.block.height, removed, node.query.fast_head.height))

            sequencer.soft_listeners.append(on_soft)
            head = node.query.fast_head
            node.submit_raw(signed_transfer(node.config.fast_chain_id, 0, head.base_fee))
            block = sequencer._produce_fast_block()
            assert block is not None and block.height == head.height + 1
            # Shown once, not as removed, while the head was still the block before it.
            assert seen == [(block.height, False, head.height)]
            assert node.query.fast_head.hash == block.hash
        finally:
            node.close()

    asyncio.run(run())


def test_a_block_the_disk_refuses_is_shown_again_as_removed(tmp_path: Path) -> None:
    async def run() -> None:
        node = open_node(tmp_path / "node", executor="pyevm")
        try:
            sequencer = DevSequencer(node, block_window_ms=0, zk_interval_s=3600)
            seen: list[tuple[bytes, bool]] = []
            sequencer.soft_listeners.append(
                lambda fast, removed: seen.append((fast.block.hash, removed))
            )
            head = node.query.fast_head
            node.submit_raw(signed_transfer(node.config.fast_chain_id, 0, head.base_fee))
            node.store.db.execute("PRAGMA query_only=1")  # every write is refused from here
            with pytest.raises(sqlite3.OperationalError, match="readonly"):
                sequencer._produce_fast_block()
            assert [removed for _, removed in seen] == [False, True]
            assert seen[0][0] == seen[1][0]
            assert node.query.fast_head.hash == head.hash  # nothing was stored

            node.store.db.execute("PRAGMA query_only=0")  # space again: the move is not lost
            block = sequencer._produce_fast_block()
            assert block is not None and len(block.tx_hashes) == 1
            assert seen[-1] == (block.hash, False)
        finally:
            node.close()

    asyncio.run(run())
