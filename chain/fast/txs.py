"""Decoding and stateless checks of signed fast-chain transactions."""

from dataclasses import dataclass
from typing import Any

import rlp
from eth.vm.forks.prague import PragueVM
from eth_utils import keccak

from chain.types import Address, ChainId, Hash32

LEGACY, ACCESS_LIST, DYNAMIC_FEE = 0, 1, 2
SUPPORTED_TYPES = (LEGACY, ACCESS_LIST, DYNAMIC_FEE)
MAX_TX_BYTES = 128 * 1024

_BUILDER = PragueVM.get_transaction_builder()
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


class InvalidTransaction(Exception):
    """A transaction that cannot enter the pool; the message says why."""


def ensure(condition: bool, message: str) -> None:
    if not condition:
        raise InvalidTransaction(message)


@dataclass(frozen=True)
class FastTx:
    """A decoded, signature-checked transaction. `evm` is py-evm's object for it."""

    hash: Hash32
    raw: bytes
    sender: Address
    type: int
    chain_id: ChainId
    nonce: int
    to: Address | None
    value: int
    data: bytes
    gas: int
    max_fee_per_gas: int  # gas_price for legacy and access-list transactions
    max_priority_fee_per_gas: int  # gas_price for legacy and access-list transactions
    evm: Any

    def effective_gas_price(self, base_fee: int) -> int:
        return min(self.max_fee_per_gas, base_fee + self.max_priority_fee_per_gas)

    def max_cost(self) -> int:
        return self.gas * self.max_fee_per_gas + self.value


def decode_transaction(raw: bytes, chain_id: ChainId) -> FastTx:
    """Decode `raw`, check its form and signature, and that it is signed for `chain_id`."""
    ensure(0 < len(raw) <= MAX_TX_BYTES, f"transaction must be 1..{MAX_TX_BYTES} bytes")
    ensure(raw[0] >= 0xC0 or raw[0] in SUPPORTED_TYPES, f"unsupported transaction type {raw[0]}")
    try:
        tx = _BUILDER.decode(raw)
        tx.check_signature_validity()
        sender = tx.sender
    except (rlp.DecodingError, rlp.DeserializationError) as exc:
        raise InvalidTransaction(f"malformed transaction: {exc}") from exc
    except Exception as exc:  # py-evm raises ValidationError or BadSignature subclasses
        raise InvalidTransaction(f"invalid transaction signature: {exc}") from exc
    # (r, n - s) is a second valid signature of the same transaction; EIP-2 allows one.
    ensure(
        tx.s <= SECP256K1_N // 2, "invalid transaction signature: s is in the upper half (EIP-2)"
    )
    tx_type = raw[0] if raw[0] < 0xC0 else LEGACY
    tx_chain_id: int | None = tx.chain_id
    if tx_chain_id is None:
        raise InvalidTransaction(
            f"legacy transaction without EIP-155 replay protection; sign it for chain {chain_id}"
        )
    ensure(
        tx_chain_id == chain_id,
        f"transaction is signed for chain ID {tx_chain_id}, this chain's ID is {chain_id}",
    )
    if tx_type == DYNAMIC_FEE:
        max_fee, priority = tx.max_fee_per_gas, tx.max_priority_fee_per_gas
        ensure(priority <= max_fee, "maxPriorityFeePerGas is higher than maxFeePerGas")
    else:
        max_fee = priority = tx.gas_price
    return FastTx(
        hash=Hash32(keccak(raw)),
        raw=raw,
        sender=Address(sender),
        type=tx_type,
        chain_id=ChainId(tx_chain_id),
        nonce=tx.nonce,
        to=Address(tx.to) if tx.to else None,
        value=tx.value,
        data=tx.data,
        gas=tx.gas,
        max_fee_per_gas=max_fee,
        max_priority_fee_per_gas=priority,
        evm=tx,
    )


def compute_intrinsic_gas(tx: FastTx) -> int:
    return int(tx.evm.intrinsic_gas)
