"""Receipts, blooms and the Ethereum trie roots of a block's transactions and receipts."""

from typing import Any

from chain.fast.encoding import encode_rlp, keccak
from chain.fast.executor import Log, TxOutcome
from chain.fast.mpt import compute_ordered_root
from chain.fast.txs import LEGACY
from chain.types import Root

BLOOM_BYTES = 256
BLOOM_BITS_MASK = 2047  # each item sets three of the 2048 bits
STATUS_SUCCESS, STATUS_FAILURE = b"\x01", b""  # EIP-658


def compute_log_bloom(logs: tuple[Log, ...]) -> int:
    """The 2048-bit filter (yellow paper, eq. 26): three bits per address and per topic."""
    bloom = 0
    for log in logs:
        for item in (log.address, *log.topics):
            digest = keccak(item)
            for i in (0, 2, 4):
                bloom |= 1 << ((digest[i] << 8 | digest[i + 1]) & BLOOM_BITS_MASK)
    return bloom


def encode_receipt(outcome: TxOutcome, bloom: int) -> bytes:
    """The receipt as the receipts trie holds it (EIP-2718: typed ones behind their type)."""
    cumulative = outcome.cumulative_gas_used
    encoded = encode_rlp(
        [
            STATUS_SUCCESS if outcome.success else STATUS_FAILURE,
            cumulative.to_bytes((cumulative.bit_length() + 7) // 8, "big"),
            bloom.to_bytes(BLOOM_BYTES, "big"),
            [[log.address, list(log.topics), log.data] for log in outcome.logs],
        ]
    )
    return encoded if outcome.tx.type == LEGACY else bytes((outcome.tx.type,)) + encoded


def compute_block_commitments(outcomes: list[TxOutcome]) -> tuple[Root, Root, bytes, list[bytes]]:
    """(transactions root, receipts root, block bloom, bloom of each receipt), as Ethereum."""
    blooms = [compute_log_bloom(o.logs) for o in outcomes]
    receipts = [encode_receipt(o, bloom) for o, bloom in zip(outcomes, blooms, strict=True)]
    block_bloom = 0
    for bloom in blooms:
        block_bloom |= bloom
    return (
        # A decoded transaction's raw bytes are its canonical encoding (EIP-2718 envelope).
        Root(compute_ordered_root([o.tx.raw for o in outcomes])),
        Root(compute_ordered_root(receipts)),
        block_bloom.to_bytes(BLOOM_BYTES, "big"),
        [b.to_bytes(BLOOM_BYTES, "big") for b in blooms],
    )


def _hex(n: int) -> str:
    return hex(n)


def _addr(a: bytes | None) -> str | None:
    return None if a is None else "0x" + a.hex()


def compute_log_json(
    block_hash: bytes, height: int, tx_hash: bytes, tx_index: int, log_index: int, log: Any
) -> dict[str, Any]:
    return {
        "address": _addr(log.address),
        "topics": ["0x" + t.hex() for t in log.topics],
        "data": "0x" + log.data.hex(),
        "blockNumber": _hex(height),
        "blockHash": "0x" + block_hash.hex(),
        "transactionHash": "0x" + tx_hash.hex(),
        "transactionIndex": _hex(tx_index),
        "logIndex": _hex(log_index),
        "removed": False,
    }


def compute_receipt_json(
    block_hash: bytes,
    height: int,
    base_fee: int,
    index: int,
    first_log_index: int,
    outcome: TxOutcome,
    bloom: bytes,
) -> dict[str, Any]:
    tx = outcome.tx
    return {
        "transactionHash": "0x" + tx.hash.hex(),
        "transactionIndex": _hex(index),
        "blockHash": "0x" + block_hash.hex(),
        "blockNumber": _hex(height),
        "from": _addr(tx.sender),
        "to": _addr(tx.to),
        "cumulativeGasUsed": _hex(outcome.cumulative_gas_used),
        "gasUsed": _hex(outcome.gas_used),
        "effectiveGasPrice": _hex(tx.effective_gas_price(base_fee)),
        "contractAddress": _addr(outcome.contract_address),
        "logs": [
            compute_log_json(block_hash, height, tx.hash, index, first_log_index + i, log)
            for i, log in enumerate(outcome.logs)
        ],
        "logsBloom": "0x" + bloom.hex(),
        "status": "0x1" if outcome.success else "0x0",
        "type": _hex(tx.type),
    }
