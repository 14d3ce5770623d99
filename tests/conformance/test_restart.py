"""A node's database is the same whichever executor wrote it: stop a node, start it on the
other executor, and it carries on to the very state roots a py-evm-only node reaches."""

from __future__ import annotations

from pathlib import Path

import pytest
from eth_account import Account
from eth_utils import to_checksum_address

from chain.config import NetworkConfig
from chain.fast.genesis import dev_keys
from chain.fast.receipts import decode_stored_receipt
from chain.node import Node, open_node
from chain.types import Address, Hash32, Root
from tests.conformance.harness import CHAIN_ID, GWEI, calldata, deploy_data

KEYS = dev_keys(4)
START_MS = 1_700_000_000_000
BLOCK_MS = 1000


def signed(key: bytes, nonce: int, to: Address | None, data: bytes) -> bytes:
    tx = {
        "chainId": CHAIN_ID,
        "nonce": nonce,
        "gas": 2_000_000 if to is None else 120_000,
        "maxFeePerGas": 3 * GWEI,
        "maxPriorityFeePerGas": GWEI,
        "value": 0,
        "data": data,
    }
    if to is not None:
        tx["to"] = to_checksum_address(to)
    return bytes(Account.from_key(key).sign_transaction(tx).raw_transaction)


class Script:
    """The same transactions, block by block, for every node it drives."""

    def __init__(self) -> None:
        self.nonces = [0] * len(KEYS)
        self.bench: Address | None = None
        self.height = 0

    def _send(self, node: Node, who: int, to: Address | None, data: bytes) -> Hash32:
        tx_hash = node.submit_raw(signed(KEYS[who], self.nonces[who], to, data))
        self.nonces[who] += 1
        return tx_hash

    def _produce(self, node: Node) -> Root:
        self.height += 1
        block = node.produce_fast_block(START_MS + self.height * BLOCK_MS)
        assert block is not None
        return block.state_root

    def deploy(self, node: Node) -> Root:
        tx_hash = self._send(node, 0, None, deploy_data("MoveBench"))
        root = self._produce(node)
        record = node.store.get_tx(tx_hash)
        assert record is not None
        receipt = decode_stored_receipt(record.receipt)
        assert receipt.success and receipt.contract_address is not None
        self.bench = receipt.contract_address
        return root

    def moves(self, node: Node, rounds: int) -> list[Root]:
        assert self.bench is not None
        roots = []
        for n in range(rounds):
            for who in range(len(KEYS)):
                self._send(node, who, self.bench, calldata("move(uint8)", n + who))
            roots.append(self._produce(node))
        return roots


def run_node(data_dir: Path, executors: list[str]) -> list[Root]:
    """Deploy, then three rounds of moves per executor, restarting the node in between."""
    script = Script()
    roots: list[Root] = []
    for index, executor in enumerate(executors):
        node = open_node(data_dir, NetworkConfig(), executor=executor)
        try:
            if index == 0:
                roots.append(script.deploy(node))
            roots += script.moves(node, 3)
        finally:
            node.close()
    return roots


@pytest.mark.parametrize("first, second", [("pyevm", "revm"), ("revm", "pyevm")])
def test_node_restarts_on_the_other_executor_with_the_same_roots(
    tmp_path: Path, first: str, second: str
) -> None:
    switched = run_node(tmp_path / "switched", [first, second])
    reference = run_node(tmp_path / "reference", ["pyevm", "pyevm"])
    assert switched == reference
