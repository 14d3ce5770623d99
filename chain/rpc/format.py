"""Ethereum JSON shapes of Duet's blocks and transactions."""

from typing import Any

from chain.encoding import keccak
from chain.fast.call_trace import CallFrame
from chain.fast.executor import Log
from chain.fast.receipts import Receipt
from chain.fast.txs import DYNAMIC_FEE, LEGACY, SET_CODE, FastTx
from chain.ledger.blocks import LedgerBlock
from chain.types import Hash32
from chain.zk.chain import EMPTY_TRIE_ROOT

EMPTY_UNCLES_HASH = "0x1dcc4de8dec75d7aab85b567b6ccd41ad312451b948a7413f0a142fd40d49347"
ZERO32 = "0x" + "00" * 32


def hx(data: bytes) -> str:
    return "0x" + data.hex()


def format_block_header(block: LedgerBlock, prev_randao: bytes) -> dict[str, Any]:
    return {
        "number": hex(block.height),
        "hash": hx(block.hash),
        "parentHash": hx(block.parent_hash),
        "nonce": "0x0000000000000000",
        "sha3Uncles": EMPTY_UNCLES_HASH,
        "logsBloom": hx(block.logs_bloom),
        "transactionsRoot": hx(block.transactions_root),
        "stateRoot": hx(block.state_root),
        "receiptsRoot": hx(block.receipts_root),
        "miner": "0x" + "00" * 20,
        "difficulty": "0x0",
        "totalDifficulty": "0x0",
        "extraData": "0x",
        "size": hex(600 + 110 * len(block.tx_hashes)),
        "gasLimit": hex(block.gas_limit),
        "gasUsed": hex(block.gas_used),
        "timestamp": hex(block.timestamp),
        "baseFeePerGas": hex(block.base_fee),
        "mixHash": hx(prev_randao),
        "withdrawalsRoot": hx(EMPTY_TRIE_ROOT),
        "blobGasUsed": "0x0",
        "excessBlobGas": "0x0",
        "parentBeaconBlockRoot": ZERO32,
        "requestsHash": hx(keccak(b"")),
        # The braided view: where this block sits in the global log.
        "ledgerSeq": hex(block.seq),
        "ledgerPrevHash": hx(block.prev_hash),
    }


def format_block(
    block: LedgerBlock, prev_randao: bytes, transactions: list[dict[str, Any]] | None
) -> dict[str, Any]:
    result = format_block_header(block, prev_randao)
    result["transactions"] = (
        transactions if transactions is not None else [hx(h) for h in block.tx_hashes]
    )
    result["uncles"] = []
    result["withdrawals"] = []
    return result


def format_transaction(
    tx: FastTx, block: LedgerBlock | None = None, index: int | None = None
) -> dict[str, Any]:
    evm = tx.evm
    result: dict[str, Any] = {
        "hash": hx(tx.hash),
        "type": hex(tx.type),
        "chainId": hex(tx.chain_id),
        "nonce": hex(tx.nonce),
        "from": hx(tx.sender),
        "to": None if tx.to is None else hx(tx.to),
        "value": hex(tx.value),
        "gas": hex(tx.gas),
        "input": hx(tx.data),
        "r": hex(evm.r),
        "s": hex(evm.s),
        "blockHash": None if block is None else hx(block.hash),
        "blockNumber": None if block is None else hex(block.height),
        "transactionIndex": None if index is None else hex(index),
    }
    if tx.type == LEGACY:
        result["gasPrice"] = hex(tx.max_fee_per_gas)
        result["v"] = hex(evm.v)
    else:
        result["yParity"] = hex(evm.y_parity)
        result["v"] = hex(evm.y_parity)
        result["accessList"] = [
            {"address": hx(addr), "storageKeys": [f"0x{k:064x}" for k in keys]}
            for addr, keys in evm.access_list
        ]
        result["gasPrice"] = hex(
            tx.max_fee_per_gas if block is None else tx.effective_gas_price(block.base_fee)
        )
    if tx.type in (DYNAMIC_FEE, SET_CODE):
        result["maxFeePerGas"] = hex(tx.max_fee_per_gas)
        result["maxPriorityFeePerGas"] = hex(tx.max_priority_fee_per_gas)
    if tx.type == SET_CODE:
        result["authorizationList"] = [
            {
                "chainId": hex(auth.chain_id),
                "address": hx(auth.address),
                "nonce": hex(auth.nonce),
                "yParity": hex(auth.y_parity),
                "r": hex(auth.r),
                "s": hex(auth.s),
            }
            for auth in evm.authorization_list
        ]
    return result


def _address(a: bytes | None) -> str | None:
    return None if a is None else hx(a)


def format_log(
    log: Log, block: LedgerBlock, tx_hash: bytes, tx_index: int, log_index: int
) -> dict[str, Any]:
    return {
        "address": _address(log.address),
        "topics": [hx(t) for t in log.topics],
        "data": hx(log.data),
        "blockNumber": hex(block.height),
        "blockHash": hx(block.hash),
        "transactionHash": hx(tx_hash),
        "transactionIndex": hex(tx_index),
        "logIndex": hex(log_index),
        "removed": False,
    }


def format_pending_log(log: Log, tx_hash: bytes, log_index: int) -> dict[str, Any]:
    """A log of a transaction not in a block yet: its place is unknown, so the block fields
    and the transaction's index are null, as in a pending transaction's JSON-RPC object, and
    `logIndex` counts within the transaction."""
    return {
        "address": _address(log.address),
        "topics": [hx(t) for t in log.topics],
        "data": hx(log.data),
        "blockNumber": None,
        "blockHash": None,
        "transactionHash": hx(tx_hash),
        "transactionIndex": None,
        "logIndex": hex(log_index),
        "removed": False,
    }


def format_receipt(
    receipt: Receipt, tx_hash: Hash32, block: LedgerBlock, index: int
) -> dict[str, Any]:
    return {
        "transactionHash": hx(tx_hash),
        "transactionIndex": hex(index),
        "blockHash": hx(block.hash),
        "blockNumber": hex(block.height),
        "from": _address(receipt.sender),
        "to": _address(receipt.to),
        "cumulativeGasUsed": hex(receipt.cumulative_gas_used),
        "gasUsed": hex(receipt.gas_used),
        "effectiveGasPrice": hex(receipt.effective_gas_price),
        "contractAddress": _address(receipt.contract_address),
        "logs": [
            format_log(log, block, tx_hash, index, receipt.first_log_index + i)
            for i, log in enumerate(receipt.logs)
        ],
        "logsBloom": hx(receipt.bloom),
        "status": "0x1" if receipt.success else "0x0",
        "type": hex(receipt.tx_type),
    }


def format_block_logs(
    block: LedgerBlock, txs: list[FastTx], receipts: list[Receipt]
) -> list[dict[str, Any]]:
    """Every log of a block, in order, as eth_getLogs and the logs subscription show them."""
    return [
        format_log(log, block, tx.hash, index, receipt.first_log_index + i)
        for index, (tx, receipt) in enumerate(zip(txs, receipts, strict=True))
        for i, log in enumerate(receipt.logs)
    ]


def format_call_frame(frame: CallFrame, only_top: bool = False) -> dict[str, Any]:
    """callTracer's JSON: hex quantities, fields absent where geth and anvil leave them out."""
    out: dict[str, Any] = {
        "type": frame.type,
        "from": "0x" + frame.sender.hex(),
        "to": "0x" + frame.to.hex(),
        "gas": hex(frame.gas),
        "gasUsed": hex(frame.gas_used),
        "input": "0x" + frame.input.hex(),
    }
    if frame.value is not None:
        out["value"] = hex(frame.value)
    if frame.output:
        out["output"] = "0x" + frame.output.hex()
    if frame.error is not None:
        out["error"] = frame.error
    if frame.revert_reason is not None:
        out["revertReason"] = frame.revert_reason
    if frame.calls and not only_top:
        out["calls"] = [format_call_frame(child) for child in frame.calls]
    return out
