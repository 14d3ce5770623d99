"""L1 gas of settlement, reported and not asserted (bench/settlement.py prints the same as
JSON): per operation in blocks of 1, 8 and 32 transfers, against one call of the
snarkjs-exported Solidity verifier per proof. Issue 5's targets, to report: ≤ 60k gas per
operation at 32 operations, ≤ 0.3× the unbatched verifier."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from eth_account.signers.local import LocalAccount
from web3 import Web3

from chain.l1.deploy import deploy_contracts
from chain.l1.rollup import RollupClient
from chain.types import Height
from tests.l1.harness import (
    compute_genesis_root,
    get_first_block,
    get_mixed_block,
    measure_settlement,
)

BLOCK_SIZES = (1, 8, 32)


def test_reports_settlement_gas(
    w3: Web3, deployer: LocalAccount, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = measure_settlement(w3, deployer, BLOCK_SIZES, tmp_path)
    report["gas_per_op_mixed_6_circuits"] = measure_mixed_block_gas(w3, deployer)
    with capsys.disabled():
        print(f"\nsettlement gas: {json.dumps(report)}")


def measure_mixed_block_gas(w3: Web3, deployer: LocalAccount) -> int:
    """Per op, the block of six ops of six circuits, settled after the first block."""
    rollup = RollupClient(
        w3, deploy_contracts(w3, deployer, compute_genesis_root()).rollup, deployer
    )
    first, mixed = get_first_block(), get_mixed_block()
    rollup.submit_block(Height(1), first.pre_root, first.ops)
    receipt = rollup.submit_block(Height(2), mixed.pre_root, mixed.ops)
    return round(receipt["gasUsed"] / len(mixed.ops))
