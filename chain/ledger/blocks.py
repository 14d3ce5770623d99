"""Ledger blocks: the header every block of either chain carries, and its hash.

A block's hash commits to its place in the log (seq, prev_hash) as well as to its own
chain (height, parent_hash), so reordering the log changes every later hash. The commit
certificate is left out of the hash because it signs the hash.
"""

from dataclasses import dataclass, field, replace
from typing import Any

from chain.encoding import encode_rlp, encode_uint, keccak
from chain.types import ChainId, Hash32, Height, Root, Seq

ZERO_HASH = Hash32(b"\x00" * 32)
EMPTY_BLOOM = b"\x00" * 256


@dataclass(frozen=True)
class LedgerBlock:
    seq: Seq
    prev_hash: Hash32
    chain_id: ChainId
    height: Height
    parent_hash: Hash32
    state_root: Root
    transactions_root: Root
    receipts_root: Root
    timestamp_ms: int
    tx_hashes: tuple[Hash32, ...] = ()
    messages: tuple[bytes, ...] = ()
    gas_used: int = 0
    gas_limit: int = 0
    base_fee: int = 0
    logs_bloom: bytes = EMPTY_BLOOM
    commit_certificate: bytes = b""
    hash: Hash32 = field(default=ZERO_HASH, compare=False)

    @property
    def timestamp(self) -> int:
        """Seconds, as the EVM and Ethereum tools see it."""
        return self.timestamp_ms // 1000


def compute_block_hash(block: LedgerBlock) -> Hash32:
    header = [
        encode_uint(block.seq),
        block.prev_hash,
        encode_uint(block.chain_id),
        encode_uint(block.height),
        block.parent_hash,
        block.state_root,
        block.transactions_root,
        block.receipts_root,
        encode_uint(block.timestamp_ms),
        keccak(encode_rlp(list(block.messages))),
        encode_uint(block.gas_used),
        encode_uint(block.gas_limit),
        encode_uint(block.base_fee),
        block.logs_bloom,
    ]
    return Hash32(keccak(encode_rlp(header)))


def seal(block: LedgerBlock) -> LedgerBlock:
    """The block with its hash filled in."""
    return replace(block, hash=compute_block_hash(block))


def block_to_json(block: LedgerBlock) -> dict[str, Any]:
    return {
        "seq": block.seq,
        "prev_hash": block.prev_hash.hex(),
        "chain_id": block.chain_id,
        "height": block.height,
        "parent_hash": block.parent_hash.hex(),
        "state_root": block.state_root.hex(),
        "transactions_root": block.transactions_root.hex(),
        "receipts_root": block.receipts_root.hex(),
        "timestamp_ms": block.timestamp_ms,
        "tx_hashes": [h.hex() for h in block.tx_hashes],
        "messages": [m.hex() for m in block.messages],
        "gas_used": block.gas_used,
        "gas_limit": block.gas_limit,
        "base_fee": block.base_fee,
        "logs_bloom": block.logs_bloom.hex(),
        "commit_certificate": block.commit_certificate.hex(),
        "hash": block.hash.hex(),
    }


def block_from_json(d: dict[str, Any]) -> LedgerBlock:
    return LedgerBlock(
        seq=Seq(d["seq"]),
        prev_hash=Hash32(bytes.fromhex(d["prev_hash"])),
        chain_id=ChainId(d["chain_id"]),
        height=Height(d["height"]),
        parent_hash=Hash32(bytes.fromhex(d["parent_hash"])),
        state_root=Root(bytes.fromhex(d["state_root"])),
        transactions_root=Root(bytes.fromhex(d["transactions_root"])),
        receipts_root=Root(bytes.fromhex(d["receipts_root"])),
        timestamp_ms=d["timestamp_ms"],
        tx_hashes=tuple(Hash32(bytes.fromhex(h)) for h in d["tx_hashes"]),
        messages=tuple(bytes.fromhex(m) for m in d["messages"]),
        gas_used=d["gas_used"],
        gas_limit=d["gas_limit"],
        base_fee=d["base_fee"],
        logs_bloom=bytes.fromhex(d["logs_bloom"]),
        commit_certificate=bytes.fromhex(d["commit_certificate"]),
        hash=Hash32(bytes.fromhex(d["hash"])),
    )
