"""The dev accounts (the anvil mnemonic's first ten) as signers, for tests and benchmarks."""

from functools import cache
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount

from chain.config import DEV_ACCOUNT_COUNT, FAST_CHAIN_ID, MIN_BASE_FEE_WEI
from chain.fast.genesis import dev_keys

TRANSFER_GAS = 21_000


@cache
def dev_account(index: int) -> LocalAccount:
    assert 0 <= index < DEV_ACCOUNT_COUNT
    return Account.from_key(dev_keys(index + 1)[index])


def sign_transfer(
    nonce: int,
    *,
    sender: int = 0,
    to: str = "0x" + "22" * 20,
    value: int = 1,
    chain_id: int = FAST_CHAIN_ID,
) -> bytes:
    """A plain EIP-1559 transfer from dev account `sender`, signed, as raw bytes."""
    tx: dict[str, Any] = {
        "nonce": nonce,
        "gas": TRANSFER_GAS,
        "maxFeePerGas": 10 * MIN_BASE_FEE_WEI,
        "maxPriorityFeePerGas": 1,
        "to": to,
        "value": value,
        "chainId": chain_id,
    }
    return bytes(dev_account(sender).sign_transaction(tx).raw_transaction)
