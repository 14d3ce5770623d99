"""The forced queue on a real stack (`duet node --dev`: its anvil, rollup, embedded prover and
agent): a Withdraw queued on L1 with `forceWithdraw` is read by the node, which takes it first
in a ZK block; a valid one executes, settles and is paid on L1, an invalid one (more than the
balance) is recorded as refused with a refuse_withdraw proof and changes nothing; either way
the rollup counts it included (docs/l1.md, "Forced withdrawals and the escape hatch")."""

from __future__ import annotations

import subprocess

from eth_account import Account
from web3 import Web3

from chain.client.l1_bridge import claim_withdrawal, find_withdrawal_height, force_withdraw
from chain.client.zk import ZkClient
from chain.l1.calldata import SettledOp
from chain.l1.reconstruct import compute_settled_block
from chain.l1.rollup import RollupClient
from chain.testing.node_process import NodeProcess, duet_command
from chain.types import Hash32
from tests.conftest import NodeFactory
from tests.integration.support import ETHER, dev_account, wait_until

SETTLED_TIMEOUT_S = 240.0  # proofs at about a second each, on two busy cores
FORCER = 6  # a dev account: funded on the ZK chain and with ETH on L1 for the force fee
TOO_MUCH = 10**6 * ETHER  # far beyond any dev balance, below 2^96


def rollup_of(node: NodeProcess, index: int) -> RollupClient:
    w3 = Web3(Web3.HTTPProvider(node.l1_http, request_kwargs={"timeout": 30}))
    return RollupClient(w3, node.status["l1"]["rollup"], dev_account(index))


def list_settled_ops(rollup: RollupClient) -> list[SettledOp]:
    """Every op L1 has settled, from the settling transactions' calldata."""
    ops = []
    for settlement in rollup.list_settlements():
        tx = rollup.w3.eth.get_transaction(Hash32(settlement.tx_hash))
        ops.extend(compute_settled_block(rollup, settlement, tx).ops)
    return ops


def test_queued_withdraws_are_taken_first_executed_or_refused(node_factory: NodeFactory) -> None:
    node = node_factory()
    rollup = rollup_of(node, FORCER)
    zk = ZkClient(node.zk_http, dev_account(FORCER).key)
    to = Account.create().address
    before = zk.balance()

    assert force_withdraw(zk, rollup, to, ETHER) == 0
    wait_until(
        lambda: rollup.get_forced_queue() == (1, 1),
        SETTLED_TIMEOUT_S,
        what="L1 to settle the queued Withdraw",
    )
    assert zk.balance() == before - ETHER - zk.fee
    height = find_withdrawal_height(rollup, to, ETHER)
    assert height is not None
    claim_withdrawal(rollup, height, to, ETHER)  # type: ignore[arg-type]
    assert rollup.get_token_balance(to) == ETHER  # type: ignore[arg-type]

    assert force_withdraw(zk, rollup, to, TOO_MUCH) == 1
    wait_until(
        lambda: rollup.get_forced_queue() == (2, 2),
        SETTLED_TIMEOUT_S,
        what="L1 to settle the refusal of the queued Withdraw",
    )
    assert zk.balance() == before - ETHER - zk.fee  # the refusal changed nothing
    assert find_withdrawal_height(rollup, to, TOO_MUCH) is None
    refusals = [op for op in list_settled_ops(rollup) if op.circuit == "refuse_withdraw"]
    assert [op.words[1:] for op in refusals] == [(int(to, 16), TOO_MUCH)]


def test_duet_withdraw_force_queues_on_l1_and_claims(node_factory: NodeFactory) -> None:
    node = node_factory()
    recipient = Account.create().address
    command = [*duet_command(), "withdraw", "0.5", "--force", "--to", recipient]
    done = subprocess.run(
        [*command, "--dev-account", str(FORCER), "--data-dir", str(node.data_dir)],
        capture_output=True,
        text=True,
        timeout=SETTLED_TIMEOUT_S,
    )
    assert done.returncode == 0, done.stderr
    assert "queued on L1 as forced Withdraw 0" in done.stderr
    assert "claimed on L1" in done.stderr
    assert rollup_of(node, FORCER).get_token_balance(recipient) == ETHER // 2  # type: ignore[arg-type]
