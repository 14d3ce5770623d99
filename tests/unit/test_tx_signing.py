"""Our EIP-1559 signer gives eth-account's bytes, and the node decodes what it signs."""

from coincurve import PrivateKey
from eth_account import Account
from eth_utils import to_checksum_address
from hypothesis import given, settings
from hypothesis import strategies as st

from chain.fast.tx_signing import DynamicFeeTx, sign_dynamic_fee_tx
from chain.fast.txs import decode_transaction
from chain.types import Address, ChainId

KEY = bytes.fromhex("4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318")
ACCOUNT = Account.from_key(KEY)
UINT64 = st.integers(0, 2**64 - 1)


@settings(max_examples=60, deadline=None)
@given(
    chain_id=st.integers(1, 2**32),
    nonce=UINT64,
    tip=st.integers(0, 10**12),
    extra=st.integers(0, 10**12),
    gas=st.integers(21_000, 30_000_000),
    to=st.one_of(st.none(), st.binary(min_size=20, max_size=20)),
    value=st.integers(0, 2**128),
    data=st.binary(max_size=200),
)
def test_signature_is_eth_accounts(
    chain_id: int,
    nonce: int,
    tip: int,
    extra: int,
    gas: int,
    to: bytes | None,
    value: int,
    data: bytes,
) -> None:
    tx = DynamicFeeTx(
        chain_id, nonce, tip, tip + extra, gas, Address(to) if to else None, value, data
    )
    fields = {
        "type": 2,
        "chainId": chain_id,
        "nonce": nonce,
        "maxPriorityFeePerGas": tip,
        "maxFeePerGas": tip + extra,
        "gas": gas,
        "value": value,
        "data": data,
    }
    if to is not None:
        fields["to"] = to_checksum_address(to)
    expected = bytes(ACCOUNT.sign_transaction(fields).raw_transaction)
    assert sign_dynamic_fee_tx(tx, PrivateKey(KEY)) == expected


def test_node_recovers_the_signer() -> None:
    tx = DynamicFeeTx(7702, 3, 10**9, 3 * 10**9, 60_000, Address(b"\x11" * 20), 5, b"\x01\x02")
    decoded = decode_transaction(sign_dynamic_fee_tx(tx, PrivateKey(KEY)), ChainId(7702))
    assert "0x" + decoded.sender.hex() == ACCOUNT.address.lower()
    assert (decoded.nonce, decoded.value, decoded.data) == (3, 5, b"\x01\x02")
