"""The owner's secret for ownership proofs: reproducible from the Ethereum key alone, bound to
its chain, and recoverable from what any wallet's personal_sign returns."""

import pytest
from eth_account import Account
from eth_account.messages import encode_defunct

from chain.types import ChainId
from chain.zk.ownership import (
    compute_key_hash,
    compute_key_message,
    compute_owner_secret,
    derive_owner_secret,
)
from chain.zk.poseidon import FIELD_MODULUS, poseidon

KEY = bytes.fromhex("59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d")
ZK_CHAIN = ChainId(7701)


def test_secret_is_the_same_every_time() -> None:
    assert derive_owner_secret(KEY, ZK_CHAIN) == derive_owner_secret(KEY, ZK_CHAIN)


def test_secret_differs_per_chain_and_per_key() -> None:
    other_key = bytes.fromhex("5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a")
    secret = derive_owner_secret(KEY, ZK_CHAIN)
    assert secret != derive_owner_secret(KEY, ChainId(7702))
    assert secret != derive_owner_secret(other_key, ZK_CHAIN)


def test_secret_comes_from_a_personal_sign_signature() -> None:
    # What a wallet returns for personal_sign of the key message, signed by the owner.
    message = encode_defunct(text=compute_key_message(ZK_CHAIN))
    signature = bytes(Account.sign_message(message, KEY).signature)
    assert Account.recover_message(message, signature=signature) == Account.from_key(KEY).address
    assert compute_owner_secret(signature) == derive_owner_secret(KEY, ZK_CHAIN)
    assert 0 <= compute_owner_secret(signature) < FIELD_MODULUS


def test_rejects_a_signature_of_the_wrong_length() -> None:
    with pytest.raises(ValueError, match="65-byte signature"):
        compute_owner_secret(b"\x01" * 64)


def test_key_hash_is_poseidon_of_the_secret() -> None:
    secret = derive_owner_secret(KEY, ZK_CHAIN)
    assert compute_key_hash(secret) == poseidon(secret)
    assert compute_key_hash(secret) != compute_key_hash(secret + 1)
