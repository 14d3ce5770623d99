"""Dev accounts sign only on a dev node, only for themselves, and only what they can sign."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from eth_account import Account

from chain.fast.genesis import dev_keys
from chain.node import Node, open_node
from chain.rpc.errors import RpcError
from chain.rpc.fast_api import FastApi
from chain.types import Address

DEV = Account.from_key(dev_keys()[3]).address
DEV_ADDRESS = Address(bytes.fromhex(DEV[2:]))


@pytest.fixture
def node(tmp_path: Path) -> Iterator[Node]:
    opened = open_node(tmp_path / "node", executor="pyevm")
    try:
        yield opened
    finally:
        opened.close()


def test_a_node_without_dev_keys_signs_for_nobody(node: Node) -> None:
    api = FastApi(node)
    assert api.methods["eth_accounts"]([]) == []
    for method, params in (
        ("eth_sendTransaction", [{"from": DEV, "to": DEV, "value": "0x1"}]),
        ("eth_signTransaction", [{"from": DEV, "to": DEV}]),
        ("eth_sign", [DEV, "0x00"]),
    ):
        with pytest.raises(RpcError, match="signs for no account"):
            api.methods[method](params)


@pytest.mark.parametrize(
    "call, refusal",
    [
        ({"to": DEV}, "from is required"),
        ({"from": Account.create().address, "to": DEV}, "is not a dev account"),
        ({"from": DEV, "to": DEV, "gasPrice": "0x1"}, "gasPrice: a dev account signs EIP-1559"),
        ({"from": DEV, "to": DEV, "chainId": "0x1"}, "is not this chain's"),
        ({"from": DEV, "to": "0x12"}, "to"),
    ],
)
def test_malformed_transactions_are_refused(node: Node, call: dict[str, str], refusal: str) -> None:
    api = FastApi(node, dev_keys())
    before = node.query.get_pending_nonce(DEV_ADDRESS)
    with pytest.raises(RpcError, match=refusal):
        api.methods["eth_sendTransaction"]([call])
    assert node.query.get_pending_nonce(DEV_ADDRESS) == before


def test_a_dev_node_fills_and_sends(node: Node) -> None:
    api = FastApi(node, dev_keys())
    tx_hash = api.methods["eth_sendTransaction"]([{"from": DEV, "to": DEV, "value": "0x5"}])
    pending = node.query.get_pending_tx(bytes.fromhex(tx_hash[2:]))
    assert pending is not None and pending.value == 5 and pending.gas == 21_000
    assert "0x" + pending.sender.hex() == DEV.lower()


STRANGER = "0x" + "1e" * 20  # no key anyone holds


def test_a_node_without_dev_keys_impersonates_nobody(node: Node) -> None:
    api = FastApi(node)
    for method, params in (
        ("anvil_impersonateAccount", [STRANGER]),
        ("hardhat_impersonateAccount", [STRANGER]),
        ("anvil_stopImpersonatingAccount", [STRANGER]),
        ("anvil_autoImpersonateAccount", [True]),
    ):
        with pytest.raises(RpcError, match="only a dev node"):
            api.methods[method](params)
    with pytest.raises(RpcError, match="signs for no account"):
        api.methods["eth_sendTransaction"]([{"from": STRANGER, "to": DEV, "value": "0x1"}])


def test_an_impersonated_transaction_enters_only_through_the_dev_node(node: Node) -> None:
    """What eth_sendTransaction made for an impersonated account is refused as raw bytes
    (eth_sendRawTransaction, and so every network's node), and cannot be signed out."""
    api = FastApi(node, dev_keys())
    stranger = Address(bytes.fromhex(STRANGER[2:]))
    api.methods["eth_sendTransaction"]([{"from": DEV, "to": STRANGER, "value": hex(10**18)}])
    node.produce_fast_block()
    api.methods["anvil_autoImpersonateAccount"]([True])
    sent = api.methods["eth_sendTransaction"]([{"from": STRANGER, "to": DEV, "gas": "0x5208"}])
    with pytest.raises(RpcError, match="has no key here to sign with"):
        api.methods["eth_signTransaction"]([{"from": STRANGER, "to": DEV}])
    raw = api.methods["eth_getRawTransactionByHash"]([sent])
    with pytest.raises(RpcError, match="unsupported transaction type 160"):
        api.methods["eth_sendRawTransaction"]([raw])
    assert node.query.get_pending_nonce(stranger) == 1
    api.methods["anvil_autoImpersonateAccount"]([False])
    with pytest.raises(RpcError, match="is not a dev account"):
        api.methods["eth_sendTransaction"]([{"from": STRANGER, "to": DEV, "gas": "0x5208"}])
