"""Stateless rules of the fast chain: transaction decoding, the pool, the base fee."""

from dataclasses import replace

import pytest
import rlp
from eth_account import Account
from eth_keys.datatypes import PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from chain.config import MIN_BASE_FEE_WEI
from chain.fast.chain import compute_base_fee
from chain.fast.executor import Account as State
from chain.fast.pool import TxPool, validate_for_head
from chain.fast.tx_signing import DynamicFeeTx, encode_impersonated
from chain.fast.txs import (
    _BUILDER,
    IMPERSONATED,
    InvalidTransaction,
    decode_impersonated,
    decode_stored_transaction,
    decode_transaction,
    recover_sender,
)
from chain.ledger.blocks import LedgerBlock
from chain.types import Address, ChainId, Hash32, Height, Root, Seq

FAST = ChainId(7702)
KEY = Account.from_key(b"\x11" * 32)
RICH = State(nonce=0, balance=10**21, code=b"")
GWEI = 10**9


SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


def signed(nonce: int = 0, chain_id: int = FAST, **fields: object) -> bytes:
    tx = {
        "nonce": nonce,
        "gas": 21_000,
        "maxFeePerGas": 2 * GWEI,
        "maxPriorityFeePerGas": 1,
        "to": "0x" + "22" * 20,
        "value": 1,
        "chainId": chain_id,
    }
    if "gasPrice" in fields:
        del tx["maxFeePerGas"], tx["maxPriorityFeePerGas"]
    tx.update(fields)
    return bytes(KEY.sign_transaction(tx).raw_transaction)


def test_decodes_sender_and_fields_of_an_eip1559_transaction() -> None:
    tx = decode_transaction(signed(nonce=3), FAST)
    assert tx.sender.hex() == KEY.address[2:].lower()
    assert (tx.type, tx.nonce, tx.value, tx.gas, tx.chain_id) == (2, 3, 1, 21_000, FAST)


def test_decodes_a_legacy_eip155_transaction() -> None:
    raw = signed(gasPrice=2 * GWEI)
    tx = decode_transaction(raw, FAST)
    assert tx.type == 0 and tx.max_fee_per_gas == 2 * GWEI


@pytest.mark.parametrize("other_chain", [7701, 1])
def test_rejects_a_transaction_signed_for_another_chain(other_chain: int) -> None:
    with pytest.raises(InvalidTransaction, match=f"signed for chain ID {other_chain}"):
        decode_transaction(signed(chain_id=other_chain), FAST)


def test_rejects_a_malleated_high_s_signature() -> None:
    # (r, n - s) verifies for the same key, so EIP-2 forbids the upper half of s.
    fields = rlp.decode(signed()[1:])
    fields[-1] = (SECP256K1_N - int.from_bytes(fields[-1], "big")).to_bytes(32, "big")
    fields[-3] = b"" if fields[-3] == b"\x01" else b"\x01"
    with pytest.raises(InvalidTransaction, match="signature"):
        decode_transaction(b"\x02" + rlp.encode(fields), FAST)


def test_rejects_a_zero_signature() -> None:
    fields = rlp.decode(signed()[1:])
    fields[-1] = fields[-2] = b""
    with pytest.raises(InvalidTransaction, match="signature"):
        decode_transaction(b"\x02" + rlp.encode(fields), FAST)


def test_rejects_garbage_bytes() -> None:
    with pytest.raises(InvalidTransaction, match=r"malformed|unsupported"):
        decode_transaction(b"\xc3\x01\x02\x03", FAST)


def test_rejects_unsupported_blob_transactions() -> None:
    with pytest.raises(InvalidTransaction, match="unsupported transaction type 3"):
        decode_transaction(b"\x03" + signed()[1:], FAST)


def set_code_tx(authorizations: list[object]) -> bytes:
    """An EIP-7702 transaction as py-evm builds it, whatever eth-account would refuse."""
    unsigned = _BUILDER.new_unsigned_set_code_transaction(
        FAST,
        0,
        1,
        2 * GWEI,
        100_000,
        b"\x22" * 20,
        0,
        b"",
        [],
        authorizations,  # type: ignore[arg-type]
    )
    return bytes(unsigned.as_signed_transaction(PrivateKey(KEY.key)).encode())


def test_takes_a_set_code_transaction() -> None:
    auth = KEY.sign_authorization({"chainId": FAST, "address": "0x" + "ab" * 20, "nonce": 1})
    tx = decode_transaction(signed(gas=60_000, authorizationList=[auth]), FAST)
    assert (tx.type, tx.sender, tx.max_fee_per_gas) == (4, bytes.fromhex(KEY.address[2:]), 2 * GWEI)
    assert tx.evm.authorization_list[0].address == b"\xab" * 20


def test_rejects_a_set_code_transaction_without_authorizations() -> None:
    with pytest.raises(InvalidTransaction, match="at least one authorization"):
        decode_transaction(set_code_tx([]), FAST)


def admit(pool: TxPool, raw: bytes, state: State = RICH) -> None:
    tx = decode_transaction(raw, FAST)
    pool.validate(tx, state, MIN_BASE_FEE_WEI, 30_000_000)
    pool.add(tx)


def test_pool_orders_out_of_order_nonces_of_one_sender() -> None:
    pool = TxPool()
    for nonce in (2, 0, 1):
        admit(pool, signed(nonce=nonce))
    chosen = pool.select({decode_transaction(signed(), FAST).sender: 0}, 10)
    assert [tx.nonce for tx in chosen] == [0, 1, 2]


def test_pool_holds_back_transactions_behind_a_nonce_gap() -> None:
    pool = TxPool()
    admit(pool, signed(nonce=0))
    admit(pool, signed(nonce=2))
    chosen = pool.select({decode_transaction(signed(), FAST).sender: 0}, 10)
    assert [tx.nonce for tx in chosen] == [0]


def test_pool_rejects_a_replayed_transaction() -> None:
    pool = TxPool()
    admit(pool, signed())
    with pytest.raises(InvalidTransaction, match="already known"):
        admit(pool, signed())


def test_pool_rejects_a_second_transaction_for_a_pending_nonce() -> None:
    pool = TxPool()
    admit(pool, signed(nonce=0))
    with pytest.raises(InvalidTransaction, match="replacement transaction not supported"):
        admit(pool, signed(nonce=0, value=2))


def test_head_rules_ignore_what_a_pool_holds() -> None:
    """CometBFT's CheckTx: the same rules against the head state, no pool's."""
    pool = TxPool()
    admit(pool, signed(nonce=0))
    validate_for_head(decode_transaction(signed(nonce=0), FAST), RICH, MIN_BASE_FEE_WEI, 10**7)
    with pytest.raises(InvalidTransaction, match="nonce too low"):
        tx = decode_transaction(signed(nonce=0), FAST)
        validate_for_head(tx, replace(RICH, nonce=1), MIN_BASE_FEE_WEI, 10**7)


def test_pool_rejects_a_nonce_below_the_account_nonce() -> None:
    with pytest.raises(InvalidTransaction, match="nonce too low: next nonce 5"):
        admit(TxPool(), signed(nonce=4), replace(RICH, nonce=5))


def test_pool_rejects_insufficient_funds() -> None:
    with pytest.raises(InvalidTransaction, match="insufficient funds"):
        admit(TxPool(), signed(), replace(RICH, balance=1000))


def test_pool_rejects_a_fee_below_the_minimum_base_fee() -> None:
    with pytest.raises(InvalidTransaction, match="below the minimum base fee"):
        admit(TxPool(), signed(maxFeePerGas=GWEI // 2, maxPriorityFeePerGas=0))


def test_pool_rejects_gas_below_the_intrinsic_cost() -> None:
    with pytest.raises(InvalidTransaction, match="intrinsic gas too low"):
        admit(TxPool(), signed(gas=20_000))


def test_pool_rejects_oversized_init_code() -> None:
    raw = signed(to=None, data=b"\x00" * (2 * 24_576 + 1), gas=1_000_000)
    with pytest.raises(InvalidTransaction, match="max initcode size exceeded: 49153 bytes"):
        admit(TxPool(), raw)


def parent(gas_used: int, base_fee: int = 10 * GWEI) -> LedgerBlock:
    zero = Root(b"\x00" * 32)
    return LedgerBlock(
        seq=Seq(1),
        prev_hash=Hash32(zero),
        chain_id=FAST,
        height=Height(1),
        parent_hash=Hash32(zero),
        state_root=zero,
        transactions_root=zero,
        receipts_root=zero,
        timestamp_ms=0,
        gas_used=gas_used,
        gas_limit=30_000_000,
        base_fee=base_fee,
    )


def test_base_fee_follows_eip1559_above_and_below_target() -> None:
    assert compute_base_fee(parent(15_000_000), GWEI) == 10 * GWEI
    assert compute_base_fee(parent(30_000_000), GWEI) == 10 * GWEI * 9 // 8
    assert compute_base_fee(parent(0), GWEI) == 10 * GWEI * 7 // 8


def test_base_fee_never_falls_below_the_floor() -> None:
    assert compute_base_fee(parent(0, base_fee=GWEI), GWEI) == GWEI


@settings(max_examples=60, deadline=None)
@given(
    key=st.binary(min_size=32, max_size=32).filter(lambda k: 0 < int.from_bytes(k) < SECP256K1_N),
    kind=st.sampled_from(["legacy", "access list", "dynamic fee", "create"]),
    nonce=st.integers(0, 2**40),
    data=st.binary(max_size=80),
)
def test_recovers_the_sender_py_evm_recovers(
    key: bytes, kind: str, nonce: int, data: bytes
) -> None:
    fields: dict[str, object] = {"nonce": nonce, "data": data, "gas": 100_000}
    if kind in ("legacy", "access list"):
        fields["gasPrice"] = 2 * GWEI
    if kind == "access list":
        fields["accessList"] = [{"address": "0x" + "33" * 20, "storageKeys": ["0x" + "00" * 32]}]
    if kind == "create":
        fields["to"] = None
    base = {"chainId": FAST, "value": 0, "to": "0x" + "22" * 20}
    if "gasPrice" not in fields:
        base.update(maxFeePerGas=2 * GWEI, maxPriorityFeePerGas=1)
    raw = bytes(Account.from_key(key).sign_transaction({**base, **fields}).raw_transaction)
    assert recover_sender(raw) == _BUILDER.decode(raw).sender


def test_decoding_the_same_bytes_again_reuses_the_checked_transaction() -> None:
    # CheckTx, its recheck, every proposal and FinalizeBlock decode one transaction: the
    # signature is recovered once.
    raw = signed(nonce=7)
    first = decode_transaction(raw, FAST)
    assert decode_transaction(bytes(raw), FAST) is first
    with pytest.raises(InvalidTransaction, match="signed for chain ID"):
        decode_transaction(raw, ChainId(FAST + 1))  # the chain is part of the answer
    assert decode_transaction(raw, FAST) is first


def test_a_refused_transaction_is_refused_again() -> None:
    raw = signed(chain_id=FAST + 1)
    for _ in range(2):
        with pytest.raises(InvalidTransaction, match="signed for chain ID"):
            decode_transaction(raw, FAST)


STRANGER = Address(b"\x1e" * 20)
UNSIGNED = DynamicFeeTx(FAST, 0, 1, 2 * GWEI, 21_000, Address(b"\x22" * 20), 1, b"")


def test_an_impersonated_transaction_names_its_sender_and_its_hash_covers_it() -> None:
    raw = encode_impersonated(UNSIGNED, STRANGER)
    tx = decode_impersonated(raw, FAST)
    assert (tx.sender, tx.nonce, tx.value, tx.type) == (STRANGER, 0, 1, 2)
    other = decode_impersonated(encode_impersonated(UNSIGNED, Address(b"\x1f" * 20)), FAST)
    assert other.hash != tx.hash  # the same fields from another account: another transaction
    assert decode_stored_transaction(raw, FAST) == tx


def test_only_the_dev_node_path_takes_an_impersonated_transaction() -> None:
    """decode_transaction (eth_sendRawTransaction, CheckTx, a proposal) refuses it."""
    with pytest.raises(InvalidTransaction, match="unsupported transaction type 160"):
        decode_transaction(encode_impersonated(UNSIGNED, STRANGER), FAST)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (bytes([IMPERSONATED]) + STRANGER + signed(), "the placeholder signature"),
        (encode_impersonated(replace(UNSIGNED, chain_id=1), STRANGER), "not for chain ID"),
        (encode_impersonated(UNSIGNED, STRANGER)[:-3], "malformed"),
        (bytes([IMPERSONATED]) + STRANGER, "not an impersonated transaction"),
        (signed(), "not an impersonated transaction"),
    ],
)
def test_refuses_what_is_not_an_impersonated_transaction(raw: bytes, reason: str) -> None:
    with pytest.raises(InvalidTransaction, match=reason):
        decode_impersonated(raw, FAST)
