"""ZKPoW between L1 and the ZK chain on a real stack (`duet node --dev`: its anvil, rollup,
embedded prover and agent): an L1 deposit shows up as a ZK balance and is settled; a ZK
withdrawal is paid on L1 once its block is settled, once; a deposit is credited once across
a kill -9 of the whole stack."""

from __future__ import annotations

import subprocess

import pytest
from eth_account import Account
from web3 import Web3

from chain.client.l1_bridge import claim_withdrawal, list_settled_withdrawals
from chain.client.zk import ZkClient
from chain.config import ZK_MIN_FEE_WEI
from chain.l1.config import DEV_L1_GRANT_WEI
from chain.l1.contracts import L1Revert
from chain.l1.errors import L1Error
from chain.l1.rollup import RollupClient
from chain.l1.withdrawals import compute_withdrawal_leaf, compute_withdrawal_proof
from chain.launcher import duet_command
from chain.testing.node_process import NodeProcess
from chain.types import Height
from tests.conftest import NodeFactory
from tests.integration.support import ETHER, dev_account, wait_until

SETTLED_TIMEOUT_S = 240.0  # proofs at about a second each, on two busy cores
CREDIT_TIMEOUT_S = 30.0  # a deposit waits for two L1 blocks and two seconds, then a ZK block
DEPOSITOR = 3  # dev accounts, each granted L1 ZKPoW at deployment
WITHDRAWER = 4
CLI_USER = 5


def rollup_of(node: NodeProcess, index: int | None = None) -> RollupClient:
    w3 = Web3(Web3.HTTPProvider(node.l1_http, request_kwargs={"timeout": 30}))
    sender = None if index is None else dev_account(index)
    return RollupClient(w3, node.status["l1"]["rollup"], sender)


def zk_balance(node: NodeProcess, address: str) -> int:
    return ZkClient(node.zk_http, dev_account(0).key).balance(address)


def wait_zk_balance(node: NodeProcess, address: str, expected: int) -> None:
    wait_until(
        lambda: zk_balance(node, address) == expected,
        CREDIT_TIMEOUT_S,
        what=f"{address}'s ZK balance to reach {expected}",
    )


def wait_credited_on_l1(node: NodeProcess, count: int) -> None:
    """The rollup has settled blocks crediting its first `count` deposits."""
    wait_until(
        lambda: rollup_of(node).get_deposits_credited() == count,
        SETTLED_TIMEOUT_S,
        what=f"L1 to settle the credit of {count} deposits",
    )


def test_a_deposit_becomes_a_zk_balance_and_settles(node_factory: NodeFactory) -> None:
    node = node_factory()
    depositor = rollup_of(node, DEPOSITOR)
    address = dev_account(DEPOSITOR).address
    newcomer = Account.create().address  # no ZK account yet: the deposit opens one
    assert depositor.get_token_balance(address) == DEV_L1_GRANT_WEI
    locked = depositor.get_token_balance(depositor.address)
    before = zk_balance(node, address)

    assert depositor.deposit(newcomer, 5 * ETHER) == 0
    assert depositor.deposit(address, 2 * ETHER) == 1

    wait_zk_balance(node, newcomer, 5 * ETHER)
    wait_zk_balance(node, address, before + 2 * ETHER)
    assert depositor.get_token_balance(address) == DEV_L1_GRANT_WEI - 7 * ETHER
    assert depositor.get_token_balance(depositor.address) == locked + 7 * ETHER
    wait_credited_on_l1(node, 2)


def test_a_withdrawal_is_paid_on_l1_after_settlement_once(node_factory: NodeFactory) -> None:
    node = node_factory()
    client = ZkClient(node.zk_http, dev_account(WITHDRAWER).key)
    recipient = Account.create().address  # an L1 address with nothing
    rollup = rollup_of(node, WITHDRAWER)
    before = client.balance()

    op = client.withdraw(recipient, 3 * ETHER)
    status = client.wait(op, "settled", timeout_s=SETTLED_TIMEOUT_S)
    height = Height(int(status["height"], 16))
    assert client.balance() == before - 3 * ETHER - ZK_MIN_FEE_WEI
    assert rollup.get_token_balance(recipient) == 0, "nothing is paid before the claim"

    claim = claim_withdrawal(rollup, height, recipient, 3 * ETHER)
    assert claim.withdrawal.position == 0
    assert rollup.get_token_balance(recipient) == 3 * ETHER
    assert rollup.is_withdrawal_claimed(height, 0)

    with pytest.raises(L1Error, match="is claimed"):
        claim_withdrawal(rollup, height, recipient, 3 * ETHER)
    leaves = [compute_withdrawal_leaf(w) for w in list_settled_withdrawals(rollup, height)]
    proof = compute_withdrawal_proof(leaves, 0)
    with pytest.raises(L1Revert, match="WithdrawalAlreadyClaimed"):
        rollup.claim_withdrawal(claim.withdrawal, proof)
    assert rollup.get_token_balance(recipient) == 3 * ETHER


def test_a_deposit_is_credited_once_across_a_kill_of_the_stack(node_factory: NodeFactory) -> None:
    node = node_factory()
    depositor = rollup_of(node, DEPOSITOR)
    newcomer = Account.create().address
    depositor.deposit(newcomer, ETHER)
    wait_zk_balance(node, newcomer, ETHER)

    node.kill9()
    node.start()
    depositor = rollup_of(node, DEPOSITOR)
    depositor.deposit(newcomer, 2 * ETHER)
    wait_zk_balance(node, newcomer, 3 * ETHER)
    wait_credited_on_l1(node, 2)
    assert zk_balance(node, newcomer) == 3 * ETHER, "a deposit was credited twice"


def run_duet(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*duet_command(), *args], capture_output=True, text=True, timeout=SETTLED_TIMEOUT_S
    )


def test_duet_deposit_and_withdraw_follow_each_transfer_to_its_end(
    node_factory: NodeFactory,
) -> None:
    node = node_factory()
    where = ("--data-dir", str(node.data_dir))
    address = dev_account(CLI_USER).address
    recipient = Account.create().address
    before = zk_balance(node, address)

    deposit = run_duet("deposit", "1.5", "--dev-account", str(CLI_USER), *where)
    assert deposit.returncode == 0, deposit.stderr
    assert "credited in ZK block" in deposit.stderr
    assert zk_balance(node, address) == before + 3 * ETHER // 2

    withdraw = run_duet(
        "withdraw", "0.25", "--to", recipient, "--dev-account", str(CLI_USER), *where
    )
    assert withdraw.returncode == 0, withdraw.stderr
    assert "claimed on L1" in withdraw.stderr
    assert rollup_of(node).get_token_balance(recipient) == ETHER // 4

    too_much = run_duet("deposit", "5000", "--dev-account", str(CLI_USER), *where)
    assert too_much.returncode == 1
    assert "InsufficientBalance" in too_much.stderr
    nothing = run_duet("deposit", "0", "--dev-account", str(CLI_USER), *where)
    assert nothing.returncode == 2
    assert "not a positive whole number of wei" in nothing.stderr
