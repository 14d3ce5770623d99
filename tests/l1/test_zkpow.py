"""ZKPoW on L1 (contracts/l1/ZkPow.sol), a plain ERC-20, on a real anvil."""

from __future__ import annotations

from typing import Any

import pytest
from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.contract import Contract

from chain.l1.contracts import load_artifact, send_transaction
from chain.l1.deploy import L1_SUPPLY_WEI, L1Deployment
from chain.l1.errors import L1Revert
from tests.integration.support import ETHER, dev_account

MAX_UINT = 2**256 - 1
ZERO_ADDRESS = "0x" + "00" * 20


@pytest.fixture
def token(w3: Web3, deployment: L1Deployment) -> Contract:
    return w3.eth.contract(address=deployment.zkpow, abi=load_artifact("ZkPow")["abi"])


def send(w3: Web3, token: Contract, sender: LocalAccount, function: str, *args: Any) -> None:
    data = token.encode_abi(function, args=list(args))
    send_transaction(w3, sender, {"to": token.address, "data": data}, token.abi)


def balances(token: Contract, *accounts: LocalAccount) -> list[int]:
    return [token.functions.balanceOf(a.address).call() for a in accounts]


def test_the_whole_supply_starts_with_the_holder(token: Contract, deployer: LocalAccount) -> None:
    assert token.functions.totalSupply().call() == L1_SUPPLY_WEI
    assert balances(token, deployer) == [L1_SUPPLY_WEI]
    assert (token.functions.symbol().call(), token.functions.decimals().call()) == ("ZKPOW", 18)


def test_transfer_moves_tokens(w3: Web3, token: Contract, deployer: LocalAccount) -> None:
    alice = dev_account(1)
    send(w3, token, deployer, "transfer", alice.address, 5 * ETHER)
    assert balances(token, deployer, alice) == [L1_SUPPLY_WEI - 5 * ETHER, 5 * ETHER]


def test_rejects_a_transfer_beyond_the_balance(w3: Web3, token: Contract) -> None:
    alice, bob = dev_account(1), dev_account(2)
    with pytest.raises(L1Revert) as refused:
        send(w3, token, alice, "transfer", bob.address, 1)
    assert (refused.value.error, refused.value.error_args) == (
        "InsufficientBalance",
        (alice.address, 0, 1),
    )


def test_rejects_a_transfer_to_the_zero_address(
    w3: Web3, token: Contract, deployer: LocalAccount
) -> None:
    with pytest.raises(L1Revert) as refused:
        send(w3, token, deployer, "transfer", ZERO_ADDRESS, 1)
    assert refused.value.error == "TransferToZeroAddress"


def test_transfer_from_spends_the_allowance(
    w3: Web3, token: Contract, deployer: LocalAccount
) -> None:
    spender, bob = dev_account(1), dev_account(2)
    send(w3, token, deployer, "approve", spender.address, 3 * ETHER)
    send(w3, token, spender, "transferFrom", deployer.address, bob.address, 2 * ETHER)
    assert token.functions.allowance(deployer.address, spender.address).call() == ETHER
    assert balances(token, bob) == [2 * ETHER]
    with pytest.raises(L1Revert) as refused:
        send(w3, token, spender, "transferFrom", deployer.address, bob.address, 2 * ETHER)
    assert (refused.value.error, refused.value.error_args) == (
        "InsufficientAllowance",
        (spender.address, ETHER, 2 * ETHER),
    )


def test_an_unlimited_allowance_is_never_spent_down(
    w3: Web3, token: Contract, deployer: LocalAccount
) -> None:
    spender, bob = dev_account(1), dev_account(2)
    send(w3, token, deployer, "approve", spender.address, MAX_UINT)
    send(w3, token, spender, "transferFrom", deployer.address, bob.address, ETHER)
    assert token.functions.allowance(deployer.address, spender.address).call() == MAX_UINT
