"""The ZK chain's state transition.

For now the ZK chain has no operations: each block carries no transactions and keeps the
empty state root, but it is produced on its own cadence and takes its place in the log, so
the braid is real before the assets arrive.
"""

from chain.ledger.blocks import LedgerBlock, seal
from chain.ledger.log import LedgerHeads, compute_next_position
from chain.types import ChainId, Root

EMPTY_STATE_ROOT = Root(b"\x00" * 32)
EMPTY_TRIE_ROOT = Root(
    bytes.fromhex("56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421")
)


def apply_block(heads: LedgerHeads, chain_id: ChainId, timestamp_ms: int) -> LedgerBlock:
    seq, prev_hash, height, parent_hash = compute_next_position(heads, chain_id)
    parent = heads.chains.get(chain_id)
    return seal(
        LedgerBlock(
            seq=seq,
            prev_hash=prev_hash,
            chain_id=chain_id,
            height=height,
            parent_hash=parent_hash,
            state_root=EMPTY_STATE_ROOT if parent is None else parent.state_root,
            transactions_root=EMPTY_TRIE_ROOT,
            receipts_root=EMPTY_TRIE_ROOT,
            timestamp_ms=timestamp_ms if parent is None else max(timestamp_ms, parent.timestamp_ms),
        )
    )
