"""Dev-mode genesis: the accounts that anvil and Hardhat fund, so habits carry over."""

from eth_account import Account as EthAccount

from chain.config import (
    DEV_ACCOUNT_BALANCE_WEI,
    DEV_ACCOUNT_COUNT,
    DEV_MNEMONIC,
    DEV_SEQUENCER_INDEX,
)
from chain.types import Address

DERIVATION_PATH = "m/44'/60'/0'/0/{}"


def dev_keys(count: int = DEV_ACCOUNT_COUNT) -> list[bytes]:
    """Private keys of the dev accounts, in the order anvil lists them."""
    EthAccount.enable_unaudited_hdwallet_features()
    return [
        bytes(EthAccount.from_mnemonic(DEV_MNEMONIC, account_path=DERIVATION_PATH.format(i)).key)
        for i in range(count)
    ]


def dev_sequencer_key() -> bytes:
    """The dev sequencer's key: the mnemonic's account DEV_SEQUENCER_INDEX, after the funded
    ones. It signs (attests) blocks and never pays for anything, so it holds nothing."""
    EthAccount.enable_unaudited_hdwallet_features()
    path = DERIVATION_PATH.format(DEV_SEQUENCER_INDEX)
    return bytes(EthAccount.from_mnemonic(DEV_MNEMONIC, account_path=path).key)


def dev_alloc(count: int = DEV_ACCOUNT_COUNT) -> dict[Address, int]:
    return {
        Address(bytes.fromhex(EthAccount.from_key(key).address[2:])): DEV_ACCOUNT_BALANCE_WEI
        for key in dev_keys(count)
    }
