"""Helpers shared by the integration tests: raw JSON-RPC, dev accounts, signing, contracts."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

import requests
from eth_abi import encode as abi_encode
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import keccak, to_checksum_address
from web3 import Web3
from web3.contract import Contract
from web3.types import TxReceipt

from chain.l1.anvil import Anvil
from chain.testing.accounts import dev_account

REPO = Path(__file__).resolve().parents[2]
CONTRACTS_DIR = REPO / "build" / "contracts"

FAST_CHAIN_ID = 7702
ZK_CHAIN_ID = 7701
DEV_MNEMONIC = "test test test test test test test test test test test junk"
DEV_ACCOUNT_COUNT = 10
ETHER = 10**18
GWEI = 10**9
RECEIPT_TIMEOUT_S = 30.0
CALL_GAS = 300_000
DEPLOY_GAS = 3_000_000
TRANSFER_GAS = 21_000

Account.enable_unaudited_hdwallet_features()


# -- accounts -------------------------------------------------------------------------------


__all__ = ["dev_account"]  # from chain.testing: the benchmarks use it too


# -- raw JSON-RPC ---------------------------------------------------------------------------


def rpc_raw(url: str, payload: Any, *, timeout: float = 30.0) -> Any:
    """POSTs any JSON value and returns the parsed JSON answer (whatever it is)."""
    body = json.dumps(payload).encode()  # explicit: `json=None` would send no body at all
    headers = {"Content-Type": "application/json"}
    return requests.post(url, data=body, headers=headers, timeout=timeout).json()


def rpc(url: str, method: str, params: list[Any] | None = None, *, id: int = 1) -> dict[str, Any]:
    """One JSON-RPC request; returns the whole response object (result or error)."""
    body = {"jsonrpc": "2.0", "id": id, "method": method, "params": params or []}
    answer = rpc_raw(url, body)
    assert isinstance(answer, dict), f"{method}: expected a response object, got {answer!r}"
    return answer


def rpc_result(url: str, method: str, params: list[Any] | None = None) -> Any:
    answer = rpc(url, method, params)
    assert "error" not in answer, f"{method}{params!r} failed: {answer['error']!r}"
    return answer["result"]


def rpc_error(url: str, method: str, params: list[Any] | None = None) -> dict[str, Any]:
    answer = rpc(url, method, params)
    assert "error" in answer, f"{method}{params!r} should fail, got result {answer.get('result')!r}"
    return answer["error"]


# -- contracts ------------------------------------------------------------------------------


@cache
def compiled(name: str) -> dict[str, Any]:
    """`build/contracts/<name>.json` = {"abi", "bytecode", "deployedBytecode"}."""
    path = CONTRACTS_DIR / f"{name}.json"
    assert path.exists(), f"{path} is missing: the contracts are compiled by the project setup"
    artifact = json.loads(path.read_text())
    for key in ("bytecode", "deployedBytecode"):
        if not artifact[key].startswith("0x"):
            artifact[key] = "0x" + artifact[key]
    return artifact


def deploy_data(name: str, *args: Any) -> str:
    artifact = compiled(name)
    inputs = next((e["inputs"] for e in artifact["abi"] if e["type"] == "constructor"), [])
    encoded = abi_encode([i["type"] for i in inputs], list(args)) if inputs else b""
    return artifact["bytecode"] + encoded.hex()


def selector(signature: str) -> str:
    return "0x" + keccak(text=signature)[:4].hex()


def event_topic(signature: str) -> str:
    return "0x" + keccak(text=signature).hex()


def word(value: int | str) -> str:
    """A 32-byte topic for an indexed uint or address."""
    as_int = int(value, 16) if isinstance(value, str) else value
    return "0x" + as_int.to_bytes(32, "big").hex()


# -- signing and sending --------------------------------------------------------------------


def fee_fields(w3: Web3) -> dict[str, int]:
    base_fee = int(w3.eth.get_block("latest").get("baseFeePerGas", 0))
    tip = int(w3.eth.max_priority_fee)
    # Twice the base fee survives several full blocks of base-fee growth.
    return {"maxFeePerGas": 2 * base_fee + tip + GWEI, "maxPriorityFeePerGas": tip}


def sign(w3: Web3, account: LocalAccount, tx: dict[str, Any], *, nonce: int | None = None) -> bytes:
    """Fills the fields a wallet would (EIP-1559 unless gasPrice is given) and signs locally."""
    full = {"chainId": FAST_CHAIN_ID, "value": 0, "data": "0x", **tx}
    if nonce is not None:
        full["nonce"] = nonce
    full.setdefault("nonce", w3.eth.get_transaction_count(account.address, "pending"))
    full.setdefault("gas", CALL_GAS)
    if "gasPrice" not in full:
        for key, value in fee_fields(w3).items():
            full.setdefault(key, value)
    return bytes(account.sign_transaction(full).raw_transaction)


def wait_receipt(w3: Web3, tx_hash: Any, timeout: float = RECEIPT_TIMEOUT_S) -> TxReceipt:
    return w3.eth.wait_for_transaction_receipt(tx_hash, timeout=timeout, poll_latency=0.05)


def transact(w3: Web3, account: LocalAccount, tx: dict[str, Any]) -> TxReceipt:
    """Signs, sends and waits for the receipt (whatever its status)."""
    tx_hash = w3.eth.send_raw_transaction(sign(w3, account, tx))
    return wait_receipt(w3, tx_hash)


def transfer(w3: Web3, account: LocalAccount, to: str, value: int) -> TxReceipt:
    return transact(w3, account, {"to": to, "value": value, "gas": TRANSFER_GAS})


def deploy(w3: Web3, account: LocalAccount, name: str, *args: Any) -> Contract:
    receipt = transact(w3, account, {"data": deploy_data(name, *args), "gas": DEPLOY_GAS})
    assert receipt["status"] == 1, f"deploying {name} failed: {dict(receipt)!r}"
    address = to_checksum_address(receipt["contractAddress"])
    return w3.eth.contract(address=address, abi=compiled(name)["abi"])


def call_data(contract: Contract, fn: str, *args: Any) -> str:
    return contract.encode_abi(fn, args=list(args))


def fund_new_accounts(
    w3: Web3, funder: LocalAccount, count: int, value: int = 100 * ETHER
) -> list[LocalAccount]:
    """Fresh random accounts, funded in one go, so that no two test modules share nonces."""
    accounts = [Account.create() for _ in range(count)]
    first = w3.eth.get_transaction_count(funder.address, "pending")
    hashes = [
        w3.eth.send_raw_transaction(
            sign(
                w3, funder, {"to": a.address, "value": value, "gas": TRANSFER_GAS}, nonce=first + i
            )
        )
        for i, a in enumerate(accounts)
    ]
    for tx_hash in hashes:
        assert wait_receipt(w3, tx_hash)["status"] == 1
    return accounts


def wait_until(predicate: Any, timeout: float, interval: float = 0.05, what: str = "") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what or predicate}")
        time.sleep(interval)


@contextmanager
def open_fast_endpoint(target: str, node_factory: Any) -> Iterator[tuple[str, str]]:
    """The HTTP and WebSocket URLs of a fast chain to run a client session against: a new
    Duet dev node of `node_factory` ("duet"), or an anvil with the fast chain's id ("anvil"),
    so that the same session runs on both."""
    if target == "duet":
        node = node_factory("--no-prover", "--no-l1")
        yield node.fast_http, node.fast_ws
    else:
        with Anvil("--chain-id", str(FAST_CHAIN_ID)) as url:  # the helpers sign for it
            yield url, "ws" + url.removeprefix("http")
