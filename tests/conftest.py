"""Shared fixtures: real `duet node --dev` processes on loopback, Web3 clients, funded accounts.

Every node gets its own data directory and free ports (`--fast-port 0 --zk-port 0`), so the
suite runs under pytest-xdist; every node started here is killed by a finalizer.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount
from web3 import Web3

from chain.testing.node_process import NodeProcess
from tests.integration.support import compiled as load_compiled
from tests.integration.support import dev_account, fund_new_accounts

NodeFactory = Callable[..., NodeProcess]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--slow",
        action="store_true",
        help="also run the long drills and soaks (marked slow); a quick version of each runs "
        "without it",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--slow"):
        return
    skip = pytest.mark.skip(reason="a long run: ./demo.sh test --slow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


def _factory(tmp_path_factory: pytest.TempPathFactory) -> tuple[NodeFactory, list[NodeProcess]]:
    started: list[NodeProcess] = []

    def start(*extra_args: str) -> NodeProcess:
        node = NodeProcess(tmp_path_factory.mktemp("duet-node"), *extra_args)
        started.append(node)
        return node.start()

    return start, started


def _stop_all(nodes: list[NodeProcess]) -> None:
    for node in nodes:
        node.stop()


@pytest.fixture(scope="session")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NodeProcess]:
    """One dev node per xdist worker; modules keep apart by using their own funded accounts."""
    start, started = _factory(tmp_path_factory)
    try:
        yield start()
    finally:
        _stop_all(started)


@pytest.fixture(scope="module")
def module_node_factory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NodeFactory]:
    """For a module that needs a node of its own, e.g. with other command-line options."""
    start, started = _factory(tmp_path_factory)
    try:
        yield start
    finally:
        _stop_all(started)


@pytest.fixture
def node_factory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NodeFactory]:
    start, started = _factory(tmp_path_factory)
    try:
        yield start
    finally:
        _stop_all(started)


@pytest.fixture
def fresh_node(node_factory: NodeFactory) -> NodeProcess:
    """A node of the test's own, on a new data directory."""
    return node_factory()


@pytest.fixture(scope="module")
def w3(node: NodeProcess) -> Web3:
    return Web3(Web3.HTTPProvider(node.fast_http, request_kwargs={"timeout": 30}))


@pytest.fixture(scope="module")
def accounts(w3: Web3) -> list[LocalAccount]:
    """Four fresh accounts with 100 ZKPoW each, private to the requesting module."""
    return fund_new_accounts(w3, dev_account(0), 4)


@pytest.fixture(scope="session")
def compiled() -> Callable[[str], dict[str, Any]]:
    """`compiled("Probe")` → the artifact in build/contracts/Probe.json."""
    return load_compiled
