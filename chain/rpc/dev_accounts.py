"""The dev node's accounts, as anvil and Hardhat serve theirs: `eth_accounts` lists the funded
dev accounts of `test test ... junk`, and `eth_sendTransaction`, `eth_signTransaction` and
`eth_sign` sign with their keys, so `w3.eth.send_transaction({"from": w3.eth.accounts[0],
...})` works as on anvil.

A dev node also sends for accounts whose keys it does not hold, once told to impersonate
them (`anvil_impersonateAccount`, or every account after `anvil_autoImpersonateAccount
true`): nobody signs such a transaction, so it carries the sender in an envelope no signed
transaction has (chain/fast/txs.py, decode_impersonated). Only this node admits one, only
through eth_sendTransaction; eth_sendRawTransaction and every network's node refuse it.

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
from chain.fast.tx_signing import DynamicFeeTx, encode_impersonated, sign_dynamic_fee_tx
from chain.fast.txs import InvalidTransaction
from chain.node import Node
from chain.rpc.dev_controls import NOT_A_DEV_NODE
from chain.rpc.errors import TX_REJECTED, RpcError, invalid_params
from chain.rpc.format import hx
from chain.rpc.params import (
    expect_params,
    parse_address,
    parse_bool,
    parse_call_data,
    parse_hex_bytes,
    parse_object,
    parse_optional_address,
    parse_optional_quantity,
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
        submit_impersonated: Callable[[bytes], bytes] | None = None,
    ) -> None:
        """`keys`: the dev accounts' keys, None on a node that is not a dev node;
        `submit_impersonated`: the node's, for accounts it impersonates (a dev node's)."""
        self.node = node
        self.chain_id = node.config.fast_chain_id
        accounts = [Account.from_key(key) for key in keys or []]
        self.addresses = [account.address for account in accounts]  # checksummed, in order
        self.keys = {Address(bytes.fromhex(a.address[2:])): bytes(a.key) for a in accounts}
        self._estimate = estimate
        self._next_base_fee = next_base_fee
        self._submit = submit
        self._submit_impersonated = submit_impersonated
        self.impersonated: set[Address] = set()
        self.auto_impersonate = False  # every account, as anvil_autoImpersonateAccount
        self.methods: dict[str, Handler] = {
            "eth_accounts": self.accounts,
            "eth_sendTransaction": self.send_transaction,
            "eth_signTransaction": self.sign_transaction,
            "eth_sign": self.sign,
            "anvil_impersonateAccount": self.impersonate,
            "hardhat_impersonateAccount": self.impersonate,
            "anvil_stopImpersonatingAccount": self.stop_impersonating,
            "hardhat_stopImpersonatingAccount": self.stop_impersonating,
            "anvil_autoImpersonateAccount": self.set_auto_impersonate,
        }

    def accounts(self, params: Any) -> list[str]:
        expect_params(params, 0, 0)
        return list(self.addresses)

    def send_transaction(self, params: Any) -> str:
        (obj,) = expect_params(params, 1, 1)
        call = parse_object(obj, "transaction")
        sender = self._sender_of(call)
        try:
            if self._sends_unsigned(sender):
                assert self._submit_impersonated is not None
                raw = encode_impersonated(self._make_tx(call, sender), sender)
                return hx(self._submit_impersonated(raw))
            return hx(self._submit(self._sign_call_object(call)))
        except InvalidTransaction as exc:
            raise RpcError(TX_REJECTED, str(exc)) from None

    def sign_transaction(self, params: Any) -> str:
        (obj,) = expect_params(params, 1, 1)
        return hx(self._sign_call_object(parse_object(obj, "transaction")))

    # -- impersonation: sending for an account without its key, as anvil does ---------------

    def impersonate(self, params: Any) -> None:
        """eth_sendTransaction sends for `address` from now on, unsigned; returns null."""
        (address,) = expect_params(params, 1, 1)
        self._check_dev_node("anvil_impersonateAccount")
        self.impersonated.add(parse_address(address))

    def stop_impersonating(self, params: Any) -> None:
        (address,) = expect_params(params, 1, 1)
        self._check_dev_node("anvil_stopImpersonatingAccount")
        self.impersonated.discard(parse_address(address))

    def set_auto_impersonate(self, params: Any) -> None:
        """[true]: eth_sendTransaction sends for any account; [false]: for those named."""
        (enabled,) = expect_params(params, 1, 1)
        self._check_dev_node("anvil_autoImpersonateAccount")
        self.auto_impersonate = parse_bool(enabled, "enabled")

    def _sends_unsigned(self, sender: Address) -> bool:
        """Impersonated, and not a dev account (whose key signs, impersonated or not)."""
        return (self.auto_impersonate or sender in self.impersonated) and sender not in self.keys

    def _check_dev_node(self, method: str) -> None:
        if not self.keys or self._submit_impersonated is None:
            raise RpcError(
                NOT_A_DEV_NODE,
                f"{method}: only a dev node (duet node --dev) takes it; this node admits "
                "only signed transactions",
            )

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

    def _sender_of(self, call: dict[str, Any]) -> Address:
        if "from" not in call:
            raise invalid_params("from is required: the dev account that signs")
        return parse_address(call["from"], "from")

    def _sign_call_object(self, call: dict[str, Any]) -> bytes:
        """A transaction object as wallets send it, its gaps filled as anvil fills them
        (nonce, gas, fees, chain ID), signed as EIP-1559 by the dev account in `from`."""
        sender = self._sender_of(call)
        if self._sends_unsigned(sender):
            raise RpcError(
                TX_REJECTED,
                f"{call['from']} is impersonated: it has no key here to sign with "
                "(eth_sendTransaction sends for it)",
            )
        _, key = self._key_of(call["from"])
        return sign_dynamic_fee_tx(self._make_tx(call, sender), PrivateKey(key))

    def _make_tx(self, call: dict[str, Any], sender: Address) -> DynamicFeeTx:
        """The transaction object's EIP-1559 transaction from `sender`, its gaps filled."""
        given = [name for name in UNSUPPORTED_FIELDS if call.get(name) is not None]
        if given:
            raise invalid_params(
                f"{', '.join(given)}: a dev account signs EIP-1559 transactions without an "
                "access list; sign others locally"
            )
        to = parse_optional_address(call.get("to"), "to")
        payload = parse_call_data(call)
        value = parse_optional_quantity(call.get("value"), "value", 0)
        tip = parse_optional_quantity(
            call.get("maxPriorityFeePerGas"), "maxPriorityFeePerGas", SUGGESTED_TIP_WEI
        )
        if call.get("maxFeePerGas") is not None:
            max_fee = parse_quantity(call["maxFeePerGas"], "maxFeePerGas")
        else:
            max_fee = 2 * self._next_base_fee() + tip  # room for two doublings of the base fee
        if call.get("nonce") is not None:
            nonce = parse_quantity(call["nonce"], "nonce")
        else:
            nonce = self.node.query.get_pending_nonce(sender)
        chain_id = parse_optional_quantity(call.get("chainId"), "chainId", self.chain_id)
        if chain_id != self.chain_id:
            raise invalid_params(f"chainId {call['chainId']} is not this chain's ({self.chain_id})")
        if call.get("gas") is not None:
            gas = parse_quantity(call["gas"], "gas")
        else:  # raises the revert as eth_estimateGas does
            gas = self._estimate(CallMsg(sender, to, value, payload, None))
        return DynamicFeeTx(
            chain_id=self.chain_id,
            nonce=nonce,
            max_priority_fee_per_gas=tip,
            max_fee_per_gas=max_fee,
            gas=gas,
            to=to,
            value=value,
            data=payload,
        )
