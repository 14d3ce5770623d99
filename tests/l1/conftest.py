"""Fixtures for the settlement tests: one anvil per test module, a fresh rollup per test.

anvil is the real L1 (chain.l1.anvil, stopped when the module ends, and dying with the test
process if that is killed). Deploying a rollup takes a few milliseconds there, so each test
gets its own, at the genesis root of the proven blocks in `harness`.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from eth_account.signers.local import LocalAccount
from web3 import Web3

from chain.l1.anvil import Anvil
from chain.l1.deploy import L1Deployment, deploy_contracts
from chain.l1.rollup import RollupClient
from chain.testing.proven_blocks import compute_genesis_root
from tests.integration.support import dev_account


@pytest.fixture(scope="module")
def l1_url() -> Iterator[str]:
    with Anvil() as url:
        yield url


@pytest.fixture(scope="module")
def w3(l1_url: str) -> Web3:
    return Web3(Web3.HTTPProvider(l1_url, request_kwargs={"timeout": 60}))


@pytest.fixture(scope="module")
def deployer() -> LocalAccount:
    return dev_account(0)


@pytest.fixture
def deployment(w3: Web3, deployer: LocalAccount) -> L1Deployment:
    return deploy_contracts(w3, deployer, compute_genesis_root())


@pytest.fixture
def rollup(w3: Web3, deployer: LocalAccount, deployment: L1Deployment) -> RollupClient:
    return RollupClient(w3, deployment.rollup, deployer)
