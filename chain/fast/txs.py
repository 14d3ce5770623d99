"""Decoding and stateless checks of signed fast-chain transactions."""

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import rlp
from coincurve import PublicKey
from eth.vm.forks.prague import PragueVM

from chain.encoding import decode_rlp, encode_rlp, encode_uint, keccak
from chain.ensure import ensure
from chain.types import Address, ChainId, Hash32

LEGACY, ACCESS_LIST, DYNAMIC_FEE, SET_CODE = 0, 1, 2, 4  # 3, blobs, are not carried
SUPPORTED_TYPES = (LEGACY, ACCESS_LIST, DYNAMIC_FEE, SET_CODE)
MAX_TX_BYTES = 128 * 1024
# A dev node's transactions from impersonated accounts: a first byte no transaction has
# (0x00-0x7f are EIP-2718 types, 0xc0-0xff legacy RLP lists), then the sender.
IMPERSONATED = 0xA0
PLACEHOLDER_SIGNATURE = (0, 1, 1)  # y parity, r, s: in range, and no key of the sender's
MAX_INITCODE_SIZE = 2 * 24_576  # EIP-3860: twice EIP-170's limit on deployed code

_BUILDER = PragueVM.get_transaction_builder()
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
EIP155_V_OFFSET = 35  # v = chain ID * 2 + 35 + recovery id
PRE_EIP155_V = (27, 28)


class InvalidTransaction(Exception):
    """A transaction that cannot enter the pool; the message says why."""


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


# The decentralized mode decodes one transaction many times: at admission, at CheckTx and its
# recheck after every height, in each proposal that holds it and at FinalizeBlock. Recovering
# the signer is most of that cost and its answer never changes for the same bytes, so the
# decoded transactions are kept (a refusal is not: it is cheap to reach again).
DECODED_TXS_KEPT = 8192


@lru_cache(maxsize=DECODED_TXS_KEPT)
def decode_transaction(raw: bytes, chain_id: ChainId) -> FastTx:
    """Decode `raw`, check its form and signature, and that it is signed for `chain_id`."""
    ensure(
        0 < len(raw) <= MAX_TX_BYTES,
        InvalidTransaction,
        f"transaction must be 1..{MAX_TX_BYTES} bytes",
    )
    ensure(
        raw[0] >= 0xC0 or raw[0] in SUPPORTED_TYPES,
        InvalidTransaction,
        f"unsupported transaction type {raw[0]}",
    )
    try:
        tx = _BUILDER.decode(raw)
    except (rlp.DecodingError, rlp.DeserializationError) as exc:
        raise InvalidTransaction(f"malformed transaction: {exc}") from exc
    except Exception as exc:  # py-evm validates fields as it decodes
        raise InvalidTransaction(f"invalid transaction: {exc}") from exc
    sender = recover_sender(raw)
    # py-evm's `sender` is a cached property; seeding it spares the py-evm executor a second
    # recovery (were the cache to change shape, py-evm would recover the same address).
    tx.__dict__["sender"] = sender
    # (r, n - s) is a second valid signature of the same transaction; EIP-2 allows one.
    ensure(
        tx.s <= SECP256K1_N // 2,
        InvalidTransaction,
        "invalid transaction signature: s is in the upper half (EIP-2)",
    )
    tx_type = raw[0] if raw[0] < 0xC0 else LEGACY
    tx_chain_id: int | None = tx.chain_id
    if tx_chain_id is None:
        raise InvalidTransaction(
            f"legacy transaction without EIP-155 replay protection; sign it for chain {chain_id}"
        )
    ensure(
        tx_chain_id == chain_id,
        InvalidTransaction,
        f"transaction is signed for chain ID {tx_chain_id}, this chain's ID is {chain_id}",
    )
    if tx_type == SET_CODE:
        # EIP-7702: a call (never a creation) with at least one authorization; each one is
        # checked when the transaction runs, and one that fails is skipped, not fatal.
        ensure(bool(tx.to), InvalidTransaction, "an EIP-7702 transaction must have a recipient")
        ensure(
            len(tx.authorization_list) > 0,
            InvalidTransaction,
            "an EIP-7702 transaction must carry at least one authorization",
        )
    return _make_fast_tx(raw, tx, tx_type, Address(sender))


def _make_fast_tx(raw: bytes, tx: Any, tx_type: int, sender: Address) -> FastTx:
    if tx_type in (DYNAMIC_FEE, SET_CODE):
        max_fee, priority = tx.max_fee_per_gas, tx.max_priority_fee_per_gas
        ensure(
            priority <= max_fee,
            InvalidTransaction,
            "maxPriorityFeePerGas is higher than maxFeePerGas",
        )
    else:
        max_fee = priority = tx.gas_price
    return FastTx(
        hash=Hash32(keccak(raw)),
        raw=raw,
        sender=sender,
        type=tx_type,
        chain_id=ChainId(tx.chain_id),
        nonce=tx.nonce,
        to=Address(tx.to) if tx.to else None,
        value=tx.value,
        data=tx.data,
        gas=tx.gas,
        max_fee_per_gas=max_fee,
        max_priority_fee_per_gas=priority,
        evm=tx,
    )


def decode_impersonated(raw: bytes, chain_id: ChainId) -> FastTx:
    """A dev node's transaction from an impersonated account (anvil_impersonateAccount):
    IMPERSONATED, the sender's 20 bytes, then an EIP-1559 transaction whose signature is
    the placeholder (y 0, r 1, s 1), since nobody signed it. Its hash covers the sender.
    Only a dev node admits one, for an account it was told to impersonate; decode_transaction
    refuses it, so no network's node takes one in a block."""
    ensure(
        len(raw) > 21 and raw[0] == IMPERSONATED and raw[21] == DYNAMIC_FEE,
        InvalidTransaction,
        "not an impersonated transaction",
    )
    sender, inner = Address(raw[1:21]), raw[21:]
    ensure(len(raw) <= MAX_TX_BYTES, InvalidTransaction, f"at most {MAX_TX_BYTES} bytes")
    try:
        tx = _BUILDER.decode(inner)
    except Exception as exc:
        raise InvalidTransaction(f"malformed impersonated transaction: {exc}") from exc
    ensure(
        (tx.y_parity, tx.r, tx.s) == PLACEHOLDER_SIGNATURE,
        InvalidTransaction,
        "an impersonated transaction carries the placeholder signature",
    )
    ensure(tx.chain_id == chain_id, InvalidTransaction, f"not for chain ID {chain_id}")
    tx.__dict__["sender"] = sender
    return _make_fast_tx(raw, tx, DYNAMIC_FEE, sender)


def decode_stored_transaction(raw: bytes, chain_id: ChainId) -> FastTx:
    """A transaction a block or this node's pool holds: signed, or a dev node's
    impersonated one (admitted only by that node, as decode_impersonated says)."""
    if raw and raw[0] == IMPERSONATED:
        return decode_impersonated(raw, chain_id)
    return decode_transaction(raw, chain_id)


def compute_signing_hash(raw: bytes) -> tuple[bytes, bytes]:
    """(hash the sender signed, 65-byte r || s || recovery id) of a canonically encoded
    transaction: for typed ones (EIP-2718) the type byte and the fields before the
    signature; for legacy ones (EIP-155) the fields before it and (chain ID, 0, 0)."""
    if raw[0] < 0xC0:
        fields = decode_rlp(raw[1:])
        *unsigned, y_parity, r, s = fields
        return keccak(raw[:1] + encode_rlp(unsigned)), _signature(r, s, _to_int(y_parity))
    *unsigned, v, r, s = decode_rlp(raw)
    v_int = _to_int(v)
    if v_int in PRE_EIP155_V:  # refused later, with a message that says why
        return keccak(encode_rlp(unsigned)), _signature(r, s, v_int - PRE_EIP155_V[0])
    ensure(
        v_int >= EIP155_V_OFFSET, InvalidTransaction, f"invalid transaction signature: v = {v_int}"
    )
    chain_id, parity = divmod(v_int - EIP155_V_OFFSET, 2)
    payload = encode_rlp([*unsigned, encode_uint(chain_id), b"", b""])
    return keccak(payload), _signature(r, s, parity)


def _signature(r: bytes, s: bytes, recovery_id: int) -> bytes:
    ensure(
        recovery_id in (0, 1) and len(r) <= 32 and len(s) <= 32,
        InvalidTransaction,
        "invalid transaction signature",
    )
    return r.rjust(32, b"\x00") + s.rjust(32, b"\x00") + bytes((recovery_id,))


def _to_int(value: bytes) -> int:
    return int.from_bytes(value, "big")


def recover_sender(raw: bytes) -> Address:
    """The signer's address: one public-key recovery (coincurve), which fails unless the
    signature is valid for the signed hash."""
    message_hash, signature = compute_signing_hash(raw)
    try:
        public_key = PublicKey.from_signature_and_message(signature, message_hash, hasher=None)
    except Exception as exc:  # coincurve raises ValueError or its own errors
        raise InvalidTransaction(f"invalid transaction signature: {exc}") from exc
    return Address(keccak(public_key.format(compressed=False)[1:])[12:])


def compute_intrinsic_gas(tx: FastTx) -> int:
    return int(tx.evm.intrinsic_gas)
