"""Signing an EIP-1559 (type 2) fast-chain transaction with our own RLP and one coincurve
call: the same bytes as eth-account's `sign_transaction`, at about a tenth of its cost (a
load generator that signs with eth-account spends more CPU signing than the node spends
executing, and on a small machine takes it from the node it measures)."""

from dataclasses import dataclass

from coincurve import PrivateKey

from chain.encoding import encode_rlp, encode_uint, keccak
from chain.fast.txs import IMPERSONATED, PLACEHOLDER_SIGNATURE
from chain.types import Address

DYNAMIC_FEE_TYPE = b"\x02"


@dataclass(frozen=True)
class DynamicFeeTx:
    chain_id: int
    nonce: int
    max_priority_fee_per_gas: int
    max_fee_per_gas: int
    gas: int
    to: Address | None  # None: a deployment
    value: int
    data: bytes


def sign_dynamic_fee_tx(tx: DynamicFeeTx, key: PrivateKey) -> bytes:
    """The signed transaction as `eth_sendRawTransaction` takes it (no access list)."""
    fields = _fields(tx)
    digest = keccak(DYNAMIC_FEE_TYPE + encode_rlp(fields))
    signature = key.sign_recoverable(digest, hasher=None)  # r ‖ s ‖ recovery id, low s
    r, s, y_parity = signature[:32], signature[32:64], signature[64]
    signed = [*fields, encode_uint(y_parity), r.lstrip(b"\x00"), s.lstrip(b"\x00")]
    return DYNAMIC_FEE_TYPE + encode_rlp(signed)


def encode_impersonated(tx: DynamicFeeTx, sender: Address) -> bytes:
    """A dev node's transaction from an account it impersonates (chain/fast/txs.py,
    decode_impersonated): nobody signs it; the placeholder signature stands in."""
    y_parity, r, s = PLACEHOLDER_SIGNATURE
    placeholder = [encode_uint(y_parity), encode_uint(r), encode_uint(s)]
    inner = DYNAMIC_FEE_TYPE + encode_rlp([*_fields(tx), *placeholder])
    return bytes([IMPERSONATED]) + bytes(sender) + inner


def _fields(tx: DynamicFeeTx) -> list[bytes | list[bytes]]:
    return [
        encode_uint(tx.chain_id),
        encode_uint(tx.nonce),
        encode_uint(tx.max_priority_fee_per_gas),
        encode_uint(tx.max_fee_per_gas),
        encode_uint(tx.gas),
        b"" if tx.to is None else bytes(tx.to),
        encode_uint(tx.value),
        tx.data,
        [],
    ]
