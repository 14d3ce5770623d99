"""The dev node's accounts, as anvil and Hardhat serve theirs: `eth_accounts` lists the funded
dev accounts of `test test ... junk`, and `eth_sendTransaction`, `eth_signTransaction` and
`eth_sign` sign with their keys, so `w3.eth.send_transaction({"from": w3.eth.accounts[0],
...})` works as on anvil.

Only `duet node --dev` holds those keys; on any other node `eth_accounts` is empty (a node
that signs for nobody, as geth without a keystore) and the signing methods are refused with
an error that says so. The keys are public by design: a dev chain's accounts guard nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from coincurve import PrivateKey
from eth_account import Account
from eth_account.messages import encode_defunct

from chain.config import SUGGESTED_TIP_WEI
from chain.fast.executor import CallMsg
from chain.fast.tx_signing import DynamicFeeTx, sign_dynamic_fee_tx
from chain.fast.txs import InvalidTransaction
from chain.node import Node
from chain.rpc.errors import TX_REJECTED, RpcError, invalid_params
from chain.rpc.format import hx
from chain.rpc.params import (
    expect_params,
    parse_address,
    parse_hex_bytes,
    parse_object,
    parse_quantity,
)
from chain.types import Address

Handler = Callable[[list[Any]], Any]
UNSUPPORTED_FIELDS = ("gasPrice", "accessList", "authorizationList", "blobVersionedHashes")


class DevAccountsApi:
    def __init__(
        self,
        node: Node,
        keys: list[bytes] | None,
        estimate: Callable[[CallMsg], int],  # raises an RpcError as eth_estimateGas does
        next_base_fee: Callable[[], int],
        submit: Callable[[bytes], bytes],
    ) -> None:
        """`keys`: the dev accounts' keys, None on a node that is not a dev node."""
        self.node = node
        self.chain_id = node.config.fast_chain_id
        accounts = [Account.from_key(key) for key in keys or []]
        self.addresses = [account.address for account in accounts]  # checksummed, in order
        self.keys = {Address(bytes.fromhex(a.address[2:])): bytes(a.key) for a in accounts}
        self._estimate = estimate
        self._next_base_fee = next_base_fee
        self._submit = submit
        self.methods: dict[str, Handler] = {
            "eth_accounts": self.accounts,
            "eth_sendTransaction": self.send_transaction,
            "eth_signTransaction": self.sign_transaction,
            "eth_sign": self.sign,
        }

    def accounts(self, params: Any) -> list[str]:
        expect_params(params, 0, 0)
        return list(self.addresses)

    def send_transaction(self, params: Any) -> str:
        (obj,) = expect_params(params, 1, 1)
        raw = self._sign_call_object(obj)
        try:
            return hx(self._submit(raw))
        except InvalidTransaction as exc:
            raise RpcError(TX_REJECTED, str(exc)) from None

    def sign_transaction(self, params: Any) -> str:
        (obj,) = expect_params(params, 1, 1)
        return hx(self._sign_call_object(obj))

    def sign(self, params: Any) -> str:
        """EIP-191 `personal_sign` of the message, as geth's and anvil's `eth_sign`."""
        address, message = expect_params(params, 2, 2)
        _, key = self._key_of(address)
        data = parse_hex_bytes(message, "message")
        signed = Account.sign_message(encode_defunct(primitive=data), key)
        return hx(bytes(signed.signature))

    def _key_of(self, address: Any) -> tuple[Address, bytes]:
        """The dev account `address` names, and its key."""
        if not self.keys:
            raise RpcError(
                TX_REJECTED,
                "this node signs for no account: eth_sendTransaction, eth_signTransaction and "
                "eth_sign are served by a dev node (duet node --dev); sign locally and use "
                "eth_sendRawTransaction",
            )
        sender = parse_address(address, "from")
        key = self.keys.get(sender)
        if key is None:
            raise RpcError(TX_REJECTED, f"{address} is not a dev account of this node")
        return sender, key

    def _sign_call_object(self, obj: Any) -> bytes:
        """A transaction object as wallets send it, its gaps filled as anvil fills them
        (nonce, gas, fees, chain ID), signed as EIP-1559 by the dev account in `from`."""
        call = parse_object(obj, "transaction")
        if "from" not in call:
            raise invalid_params("from is required: the dev account that signs")
        sender, key = self._key_of(call["from"])
        given = [name for name in UNSUPPORTED_FIELDS if call.get(name) is not None]
        if given:
            raise invalid_params(
                f"{', '.join(given)}: a dev account signs EIP-1559 transactions without an "
                "access list; sign others locally"
            )
        to = parse_address(call["to"], "to") if call.get("to") else None
        data = call.get("input", call.get("data"))
        payload = parse_hex_bytes(data, "input") if data else b""
        value = parse_quantity(call.get("value", "0x0"), "value")
        tip = SUGGESTED_TIP_WEI
        if call.get("maxPriorityFeePerGas"):
            tip = parse_quantity(call["maxPriorityFeePerGas"], "maxPriorityFeePerGas")
        if call.get("maxFeePerGas"):
            max_fee = parse_quantity(call["maxFeePerGas"], "maxFeePerGas")
        else:
            max_fee = 2 * self._next_base_fee() + tip  # room for two doublings of the base fee
        if call.get("nonce") is not None:
            nonce = parse_quantity(call["nonce"], "nonce")
        else:
            nonce = self.node.query.get_pending_nonce(sender)
        if call.get("chainId") and parse_quantity(call["chainId"], "chainId") != self.chain_id:
            raise invalid_params(f"chainId {call['chainId']} is not this chain's ({self.chain_id})")
        if call.get("gas"):
            gas = parse_quantity(call["gas"], "gas")
        else:  # raises the revert as eth_estimateGas does
            gas = self._estimate(CallMsg(sender, to, value, payload, None))
        tx = DynamicFeeTx(
            chain_id=self.chain_id,
            nonce=nonce,
            max_priority_fee_per_gas=tip,
            max_fee_per_gas=max_fee,
            gas=gas,
            to=to,
            value=value,
            data=payload,
        )
        return sign_dynamic_fee_tx(tx, PrivateKey(key))
