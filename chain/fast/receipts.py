"""Receipts, blooms and the Ethereum trie roots of a block's transactions and receipts.

The node keeps a `Receipt` in its compact encoding (`encode_stored_receipt`, RLP); the
JSON-RPC shape is chain/rpc/format.py's.
"""

from dataclasses import dataclass
from typing import Any

import rlp

from chain.encoding import encode_rlp, encode_uint, keccak
from chain.fast.executor import Log, TxOutcome
from chain.fast.txs import LEGACY
from chain.trie import compute_ordered_root
from chain.types import Address, Root

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
            encode_uint(cumulative),
            bloom.to_bytes(BLOOM_BYTES, "big"),
            [encode_log_fields(log) for log in outcome.logs],
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


@dataclass(frozen=True)
class Receipt:
    """What executing one transaction made, as the node keeps it. The JSON-RPC receipt adds
    what its transaction and block say (chain/rpc/format.py)."""

    success: bool
    cumulative_gas_used: int
    gas_used: int
    logs: tuple[Log, ...]
    contract_address: Address | None
    first_log_index: int  # the block's number of the transaction's first log
    # What the JSON-RPC receipt shows of its transaction, kept so a read decodes no transaction
    # (a decode recovers the signer, most of a read's cost).
    sender: Address
    to: Address | None
    tx_type: int
    effective_gas_price: int

    @property
    def bloom(self) -> bytes:
        return compute_log_bloom(self.logs).to_bytes(BLOOM_BYTES, "big")


def compute_receipts(outcomes: list[TxOutcome], base_fee: int) -> list[Receipt]:
    receipts: list[Receipt] = []
    first = 0
    for o in outcomes:
        tx = o.tx
        receipts.append(
            Receipt(
                o.success,
                o.cumulative_gas_used,
                o.gas_used,
                o.logs,
                o.contract_address,
                first,
                tx.sender,
                tx.to,
                tx.type,
                tx.effective_gas_price(base_fee),
            )
        )
        first += len(o.logs)
    return receipts


def encode_stored_receipt(receipt: Receipt) -> bytes:
    """RLP: [status, cumulative gas, gas used, logs, contract address, first log index,
    sender, recipient, transaction type, effective gas price]."""
    return encode_rlp(
        [
            STATUS_SUCCESS if receipt.success else STATUS_FAILURE,
            encode_uint(receipt.cumulative_gas_used),
            encode_uint(receipt.gas_used),
            [encode_log_fields(log) for log in receipt.logs],
            receipt.contract_address or b"",
            encode_uint(receipt.first_log_index),
            receipt.sender,
            receipt.to or b"",
            encode_uint(receipt.tx_type),
            encode_uint(receipt.effective_gas_price),
        ]
    )


def decode_stored_receipt(raw: bytes) -> Receipt:
    status, cumulative, gas_used, logs, contract, first, sender, to, tx_type, price = rlp.decode(
        raw
    )
    return Receipt(
        status == STATUS_SUCCESS,
        _int(cumulative),
        _int(gas_used),
        tuple(decode_log_fields(log) for log in logs),
        Address(contract) if contract else None,
        _int(first),
        Address(sender),
        Address(to) if to else None,
        _int(tx_type),
        _int(price),
    )


@dataclass(frozen=True)
class StoredLog:
    """A log as the node keeps it for eth_getLogs: with the transaction that emitted it."""

    tx_index: int
    tx_hash: bytes
    log: Log


def list_stored_logs(
    outcomes: list[TxOutcome], receipts: list[Receipt]
) -> list[tuple[int, bytes, bytes]]:
    """(log index, emitter, compact log) of each of a block's logs, as the store keeps them."""
    return [
        (
            receipt.first_log_index + i,
            bytes(log.address),
            encode_stored_log(StoredLog(index, outcome.tx.hash, log)),
        )
        for index, (outcome, receipt) in enumerate(zip(outcomes, receipts, strict=True))
        for i, log in enumerate(receipt.logs)
    ]


def encode_stored_log(stored: StoredLog) -> bytes:
    return encode_rlp([encode_uint(stored.tx_index), stored.tx_hash, encode_log_fields(stored.log)])


def decode_stored_log(raw: bytes) -> StoredLog:
    tx_index, tx_hash, fields = rlp.decode(raw)
    return StoredLog(_int(tx_index), tx_hash, decode_log_fields(fields))


def encode_log_fields(log: Log) -> list[Any]:
    return [log.address, list(log.topics), log.data]


def decode_log_fields(fields: Any) -> Log:
    address, topics, data = fields
    return Log(Address(address), tuple(topics), data)


def _int(raw: bytes) -> int:
    return int.from_bytes(raw, "big")
