"""L1 gas of settlement (bench/settlement.py prints the same as JSON): per operation in
blocks of 1 and 8 transfers (and 32 with --slow), against one call of the snarkjs-exported
Solidity verifier per proof; batching must cut the gas per operation, the figures are
reported. Issue 5's targets, to report: ≤ 60k gas per operation at 32 operations, ≤ 0.3× the
unbatched verifier. Besides: a block of six circuits, the bridge's blocks (deposits,
withdrawals), a deposit and a claim."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from eth_account.signers.local import LocalAccount
from eth_typing import ChecksumAddress
from eth_utils import to_checksum_address
from web3 import Web3

from chain.l1.deploy import deploy_contracts
from chain.l1.rollup import RollupClient
from chain.l1.withdrawals import (
    compute_withdrawal_leaf,
    compute_withdrawal_proof,
    list_withdrawals,
)
from chain.testing.proven_blocks import compute_genesis_root, compute_genesis_supply
from chain.testing.settlement_gas import measure_settlement, settle
from chain.types import Height
from tests.integration.support import ETHER, dev_account
from tests.l1.harness import (
    DEPOSIT_BLOCK_STEPS,
    L1_DEPOSITS,
    WITHDRAW_BLOCK_STEPS,
    get_first_block,
    get_mixed_block,
    prove_from_genesis,
)

QUICK_SIZES = (1, 8)
FULL_SIZES = (1, 8, 32)  # 33 proofs: a few minutes on two busy cores


def test_batching_cuts_the_gas_per_operation(
    w3: Web3, deployer: LocalAccount, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = measure_settlement(w3, deployer, QUICK_SIZES, tmp_path)
    per_op = report["gas_per_op"]
    # A batch shares one pairing check: each operation adds about one pairing and two ecMuls.
    assert per_op["8"] < per_op["1"]
    assert per_op["8"] < report["gas_per_op_unbatched"]
    report["gas_per_op_mixed_6_circuits"] = measure_mixed_block_gas(w3, deployer)
    report |= measure_bridge_gas(w3, deployer)
    with capsys.disabled():
        print(f"\nsettlement gas: {json.dumps(report)}")


@pytest.mark.slow
def test_reports_settlement_gas_at_32_operations(
    w3: Web3, deployer: LocalAccount, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = measure_settlement(w3, deployer, FULL_SIZES, tmp_path)
    assert report["gas_per_op"]["32"] < report["gas_per_op"]["8"]
    with capsys.disabled():
        print(f"\nsettlement gas: {json.dumps(report)}")


def measure_mixed_block_gas(w3: Web3, deployer: LocalAccount) -> int:
    """Per op, the block of six ops of six circuits, settled after the first block."""
    rollup = RollupClient(
        w3, deploy_contracts(w3, deployer, compute_genesis_root()).rollup, deployer
    )
    first, mixed = get_first_block(), get_mixed_block()
    settle(rollup, Height(1), first.pre_root, first.ops)
    receipt = settle(rollup, Height(2), mixed.pre_root, mixed.ops)
    return round(receipt["gasUsed"] / len(mixed.ops))


def measure_bridge_gas(w3: Web3, deployer: LocalAccount) -> dict[str, int]:
    """Per op, the block crediting two deposits (with a transfer between) and the block of
    three withdrawals and a transfer, each the first block of a fresh rollup (so it pays the
    first writes of the settled height and root); one deposit (the second: the first writes
    the deposit count for the first time); one claim."""
    depositor = dev_account(1)
    rollup = deploy_bridge(w3, deployer, {depositor.address: 10 * ETHER})
    client = RollupClient(w3, rollup.address, depositor)
    deposit_gas = []
    for to, amount in L1_DEPOSITS:
        client.deposit(to_checksum_address(to.to_bytes(20, "big")), amount)
        deposit_gas.append(get_last_gas_used(w3))
    deposits = prove_from_genesis(DEPOSIT_BLOCK_STEPS)
    deposits_receipt = settle(rollup, Height(1), deposits.pre_root, deposits.ops)

    rollup = deploy_bridge(w3, deployer, {})
    withdrawals = prove_from_genesis(WITHDRAW_BLOCK_STEPS)
    withdrawals_receipt = settle(rollup, Height(1), withdrawals.pre_root, withdrawals.ops)
    settled = list_withdrawals(Height(1), withdrawals.ops)
    leaves = [compute_withdrawal_leaf(w) for w in settled]
    claim_receipt = rollup.claim_withdrawal(settled[0], compute_withdrawal_proof(leaves, 0))
    return {
        "gas_per_op_deposits_block": round(deposits_receipt["gasUsed"] / len(deposits.ops)),
        "gas_per_op_withdrawals_block": round(
            withdrawals_receipt["gasUsed"] / len(withdrawals.ops)
        ),
        "gas_deposit": deposit_gas[-1],
        "gas_claim_withdrawal": int(claim_receipt["gasUsed"]),
    }


def deploy_bridge(
    w3: Web3, deployer: LocalAccount, grants: dict[ChecksumAddress, int]
) -> RollupClient:
    deployment = deploy_contracts(
        w3, deployer, compute_genesis_root(), backing=compute_genesis_supply(), grants=grants
    )
    return RollupClient(w3, deployment.rollup, deployer)


def get_last_gas_used(w3: Web3) -> int:
    """Gas of the latest block's last transaction (anvil mines one a transaction)."""
    tx_hash = w3.eth.get_block("latest")["transactions"][-1]
    return int(w3.eth.get_transaction_receipt(tx_hash)["gasUsed"])
