"""Talking to L1 contracts with web3.py: compiled artifacts, signed transactions, named errors.

Artifacts come from `scripts/compile_contracts.mjs` (build/contracts/<Name>.json, made by
./demo.sh setup). A refused call surfaces as L1Revert with the Solidity error's name and
arguments, decoded with the artifact's ABI.
"""

from typing import Any, cast

from eth_abi import decode as abi_decode
from eth_account.signers.local import LocalAccount
from eth_utils import keccak, to_checksum_address
from web3 import Web3
from web3.exceptions import ContractLogicError
from web3.types import TxParams, TxReceipt, Wei

from chain import artifacts
from chain.artifacts import ArtifactMissing
from chain.l1.errors import L1Error, L1Revert

GWEI = 10**9
RECEIPT_TIMEOUT_S = 60.0
GAS_MARGIN = 1.1  # over the estimate: the state may move between estimate and inclusion
SELECTOR_BYTES = 4
PANIC_SELECTOR = keccak(text="Panic(uint256)")[:SELECTOR_BYTES]
ERROR_SELECTOR = keccak(text="Error(string)")[:SELECTOR_BYTES]


def load_artifact(name: str) -> dict[str, Any]:
    """chain/artifacts.py's, with a missing contract reported as an L1 failure."""
    try:
        return artifacts.load_artifact(name)
    except ArtifactMissing as missing:
        raise L1Error(str(missing)) from None


def compute_fee_fields(w3: Web3) -> TxParams:
    base_fee = int(w3.eth.get_block("latest").get("baseFeePerGas", 0))
    tip = w3.eth.max_priority_fee
    # Twice the base fee survives several full blocks of base-fee growth.
    return {"maxFeePerGas": Wei(2 * base_fee + tip + GWEI), "maxPriorityFeePerGas": tip}


def send_transaction(
    w3: Web3, sender: LocalAccount, tx: TxParams, abi: list[Any], gas: int | None = None
) -> TxReceipt:
    """Estimate (a refusal raises L1Revert, decoded with `abi`), sign, send, wait. With
    `gas`, no estimate: for a callee whose failures do not revert, which fools an estimate."""
    tx = {**tx, "from": sender.address}
    if gas is None:
        try:
            # In the pending block: the one the transaction will join, whose number a rule
            # such as the rollup's slots reads (the latest block's would be one behind).
            gas = int(w3.eth.estimate_gas(tx, block_identifier="pending") * GAS_MARGIN)
        except ContractLogicError as error:
            raise decode_revert(abi, error.data) from error
    tx = {
        **tx,
        **compute_fee_fields(w3),
        "gas": gas,
        "nonce": w3.eth.get_transaction_count(sender.address, "pending"),
        "chainId": w3.eth.chain_id,
    }
    signed = sender.sign_transaction(cast(dict[str, Any], tx))
    tx_hash = w3.eth.send_raw_transaction(signed.raw_transaction)
    receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=RECEIPT_TIMEOUT_S)
    if receipt["status"] != 1:
        raise L1Error(f"transaction {tx_hash.hex()} reverted on chain (raced by another?)")
    return receipt


def decode_revert(abi: list[Any], data: object) -> L1Revert:
    """The named error in a call's revert data (hex), by the custom errors of `abi`."""
    raw = bytes.fromhex(data[2:]) if isinstance(data, str) and data.startswith("0x") else b""
    selector, body = raw[:SELECTOR_BYTES], raw[SELECTOR_BYTES:]
    if selector == PANIC_SELECTOR:
        return L1Revert("Panic", tuple(abi_decode(["uint256"], body)))
    if selector == ERROR_SELECTOR:
        return L1Revert("Error", tuple(abi_decode(["string"], body)))
    for entry in abi:
        if entry["type"] != "error":
            continue
        types = [item["type"] for item in entry["inputs"]]
        if keccak(text=f"{entry['name']}({','.join(types)})")[:SELECTOR_BYTES] == selector:
            values = abi_decode(types, body)
            # eth_abi gives addresses in lower case; web3 everywhere else checksums them.
            return L1Revert(
                entry["name"],
                tuple(
                    to_checksum_address(v) if t == "address" else v
                    for t, v in zip(types, values, strict=True)
                ),
            )
    return L1Revert("UnknownRevert", (data,))
