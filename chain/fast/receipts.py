"""Receipts, blooms and the Ethereum trie roots of a block's transactions and receipts."""

from typing import Any

from eth.vm.forks.byzantium.constants import EIP658_TRANSACTION_STATUS_CODE_FAILURE as FAILURE
from eth.vm.forks.byzantium.constants import EIP658_TRANSACTION_STATUS_CODE_SUCCESS as SUCCESS

from chain.fast.executor import TxOutcome
from chain.fast.trie_root import compute_ordered_root
from chain.types import Root


def compute_receipt_objects(outcomes: list[TxOutcome]) -> list[Any]:
    return [
        o.tx.evm.make_receipt(
            SUCCESS if o.success else FAILURE,
            o.cumulative_gas_used,
            tuple(
                (log.address, tuple(int.from_bytes(t, "big") for t in log.topics), log.data)
                for log in o.logs
            ),
        )
        for o in outcomes
    ]


def compute_block_commitments(outcomes: list[TxOutcome]) -> tuple[Root, Root, bytes, list[bytes]]:
    """(transactions root, receipts root, block bloom, bloom of each receipt), as Ethereum."""
    receipts = compute_receipt_objects(outcomes)
    tx_root = compute_ordered_root([o.tx.evm.encode() for o in outcomes])
    receipts_root = compute_ordered_root([r.encode() for r in receipts])
    blooms = [r.bloom for r in receipts]
    block_bloom = 0
    for bloom in blooms:
        block_bloom |= bloom
    return (
        Root(tx_root),
        Root(receipts_root),
        block_bloom.to_bytes(256, "big"),
        [b.to_bytes(256, "big") for b in blooms],
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
