"""Ethereum JSON-RPC reads of the ZK chain (its operations come with the ZK chain itself)."""

from collections.abc import Callable
from typing import Any

from chain.config import CLIENT_VERSION
from chain.fast.chain import compute_prev_randao
from chain.ledger.blocks import LedgerBlock
from chain.node import Node
from chain.rpc.format import format_block
from chain.rpc.params import expect_params, parse_bool, parse_hash, parse_quantity


class ZkApi:
    def __init__(self, node: Node) -> None:
        self.node = node
        self.chain_id = node.config.zk_chain_id
        self.methods: dict[str, Callable[[list[Any]], Any]] = {
            "web3_clientVersion": lambda p: self._noargs(p, CLIENT_VERSION),
            "net_version": lambda p: self._noargs(p, str(self.chain_id)),
            "eth_chainId": lambda p: self._noargs(p, hex(self.chain_id)),
            "eth_syncing": lambda p: self._noargs(p, False),
            "eth_blockNumber": lambda p: self._noargs(p, hex(self.node.zk_head.height)),
            "eth_getBlockByNumber": self.get_block_by_number,
            "eth_getBlockByHash": self.get_block_by_hash,
        }

    @staticmethod
    def _noargs(params: Any, value: Any) -> Any:
        expect_params(params, 0, 0)
        return value

    def _format(self, block: LedgerBlock | None, full: Any) -> Any:
        if full is not None:
            parse_bool(full, "full transactions")
        return (
            None
            if block is None
            else format_block(block, compute_prev_randao(block.prev_hash), [] if full else None)
        )

    def get_block_by_number(self, params: Any) -> Any:
        tag, full = expect_params(params, 1, 2)
        head = self.node.zk_head
        if tag in (None, "latest", "pending", "safe", "finalized"):
            return self._format(head, full)
        height = 0 if tag == "earliest" else parse_quantity(tag, "block")
        return self._format(self.node.get_block(self.chain_id, height), full)

    def get_block_by_hash(self, params: Any) -> Any:
        block_hash, full = expect_params(params, 1, 2)
        block = self.node.store.get_block_by_hash(parse_hash(block_hash, "block hash"))
        if block is not None and block.chain_id != self.chain_id:
            block = None
        return self._format(block, full)
