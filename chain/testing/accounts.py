"""The dev accounts (the anvil mnemonic's first ten) as signers, for tests and benchmarks."""

from functools import cache

from eth_account import Account
from eth_account.signers.local import LocalAccount

from chain.config import DEV_ACCOUNT_COUNT
from chain.fast.genesis import dev_keys


@cache
def dev_account(index: int) -> LocalAccount:
    assert 0 <= index < DEV_ACCOUNT_COUNT
    return Account.from_key(dev_keys(index + 1)[index])
