"""The game-pass check on a real node: a player who owns a pass on the ZK chain proves it on
their own machine and takes one seat for a round in a fast-chain contract, bound to a session
key; the contract refuses an unknown or stale root, a spent nullifier, a proof for another
session key or round, and nobody but the owner can make the proof."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from eth_account import Account
from eth_utils import keccak
from web3 import Web3
from web3.contract import Contract
from web3.exceptions import ContractCustomError

from chain.client.fast import FastBridge
from chain.client.pass_proof import PassProof, prove_pass
from chain.client.zk import ZkClient
from chain.prover.errors import ProverError
from chain.prover.precompile_keys import compute_ceremony_vk_id
from chain.testing.node_process import NodeProcess
from chain.zk.genesis import GAME_PASS_COLLECTION
from chain.zk.ownership import compute_key_hash
from tests.conftest import NodeFactory
from tests.integration.support import call_data, deploy, dev_account, transact

ZK_INTERVAL_S = 0.05
ROOT_WINDOW = 256
TIMEOUT_S = 60.0
JOIN_GAS = 500_000


@pytest.fixture(scope="module")
def pass_node(module_node_factory: NodeFactory) -> NodeProcess:
    return module_node_factory("--zk-interval", str(ZK_INTERVAL_S), "--no-prover")


@pytest.fixture(scope="module")
def owner(pass_node: NodeProcess) -> ZkClient:
    """Dev account 8, with the first game pass and a registered ownership key."""
    minter = ZkClient(pass_node.zk_http, dev_account(0).key)
    player = ZkClient(pass_node.zk_http, dev_account(8).key)
    minter.wait(minter.mint(GAME_PASS_COLLECTION, player.address, metadata=1))
    player.wait(player.register_key())
    return player


@pytest.fixture(scope="module")
def gate(pass_node: NodeProcess) -> Contract:
    w3 = Web3(Web3.HTTPProvider(pass_node.fast_http, request_kwargs={"timeout": 30}))
    vk_id = compute_ceremony_vk_id("ownership")
    return deploy(w3, dev_account(8), "PassProbe", vk_id, GAME_PASS_COLLECTION)


def error_selector(signature: str) -> str:
    return "0x" + keccak(text=signature)[:4].hex()


def wait_for_root(node: NodeProcess, root: bytes) -> None:
    oracle = FastBridge(node.fast_http, dev_account(8).key).root_oracle()
    deadline = time.monotonic() + TIMEOUT_S
    while not oracle.functions.isRecentStateRoot(root).call():
        assert time.monotonic() < deadline, "the root oracle never learned the root"
        time.sleep(ZK_INTERVAL_S)


def join_args(proof: PassProof, round: int, session_key: str) -> list[Any]:
    return [proof.root, round, session_key, proof.nullifier, proof.proof]


def expect_revert(gate: Contract, args: list[Any], signature: str) -> None:
    with pytest.raises(ContractCustomError) as raised:
        gate.functions.join(*args).call({"from": dev_account(8).address, "gas": JOIN_GAS})
    assert str(raised.value.data).startswith(error_selector(signature)), raised.value


def join(node: NodeProcess, gate: Contract, args: list[Any]) -> int:
    w3 = Web3(Web3.HTTPProvider(node.fast_http, request_kwargs={"timeout": 30}))
    tx = {"to": gate.address, "data": call_data(gate, "join", *args), "gas": JOIN_GAS}
    return int(transact(w3, dev_account(8), tx)["status"])


def test_owner_takes_a_seat_once_per_round(
    pass_node: NodeProcess, owner: ZkClient, gate: Contract
) -> None:
    session = Account.create().address
    proof = prove_pass(owner, GAME_PASS_COLLECTION, 0, 1, session)
    wait_for_root(pass_node, proof.root)
    assert join(pass_node, gate, join_args(proof, 1, session)) == 1
    assert gate.functions.seated(session).call()
    assert gate.functions.seatRound(session).call() == 1
    # The same pass again in the same round, even with a new session key: refused.
    again = prove_pass(owner, GAME_PASS_COLLECTION, 0, 1, Account.create().address)
    assert again.nullifier == proof.nullifier
    expect_revert(gate, join_args(proof, 1, session), "NullifierUsed(uint256)")


def test_rejects_proof_for_another_session_key(
    pass_node: NodeProcess, owner: ZkClient, gate: Contract
) -> None:
    session, thief = Account.create().address, Account.create().address
    proof = prove_pass(owner, GAME_PASS_COLLECTION, 0, 2, session)
    wait_for_root(pass_node, proof.root)
    expect_revert(gate, join_args(proof, 2, thief), "InvalidPassProof()")


def test_rejects_proof_for_another_round(
    pass_node: NodeProcess, owner: ZkClient, gate: Contract
) -> None:
    session = Account.create().address
    proof = prove_pass(owner, GAME_PASS_COLLECTION, 0, 3, session)
    wait_for_root(pass_node, proof.root)
    args = join_args(proof, 4, session)
    expect_revert(gate, args, "InvalidPassProof()")


def test_rejects_unknown_root(pass_node: NodeProcess, owner: ZkClient, gate: Contract) -> None:
    session = Account.create().address
    proof = prove_pass(owner, GAME_PASS_COLLECTION, 0, 5, session)
    args = join_args(proof, 5, session)
    args[0] = keccak(b"a root no ZK block ever had")
    expect_revert(gate, args, "UnknownRoot(bytes32)")


def test_rejects_a_stale_root(pass_node: NodeProcess, owner: ZkClient, gate: Contract) -> None:
    session = Account.create().address
    proof = prove_pass(owner, GAME_PASS_COLLECTION, 0, 6, session)
    wait_for_root(pass_node, proof.root)
    # The state moves on (an idle chain keeps its root recent), then the window passes.
    moved = owner.wait(owner.transfer(dev_account(9).address, 1))
    block = owner.rpc("duet_getOperation", moved["id"])["blockNumber"]
    wait_until_zk_height(pass_node, block + ROOT_WINDOW + 2)
    expect_revert(gate, join_args(proof, 6, session), "UnknownRoot(bytes32)")


def test_nobody_else_can_prove_the_owners_pass(pass_node: NodeProcess, owner: ZkClient) -> None:
    other = ZkClient(pass_node.zk_http, dev_account(7).key)
    other.wait(other.register_key())
    with pytest.raises(ProverError, match="not H\\(secret\\)"):
        prove_pass(other, GAME_PASS_COLLECTION, 0, 1, Account.create().address)
    registered = owner.rpc("duet_getTokenPaths", hex(GAME_PASS_COLLECTION), "0x0")["keyHash"]
    assert int(registered, 16) == compute_key_hash(owner.owner_secret())


def wait_until_zk_height(node: NodeProcess, height: int) -> None:
    client = ZkClient(node.zk_http, dev_account(8).key)
    current: Callable[[], int] = lambda: int(client.w3.eth.block_number)  # noqa: E731
    deadline = time.monotonic() + TIMEOUT_S
    while current() < height:
        assert time.monotonic() < deadline, f"the ZK chain did not reach height {height}"
        time.sleep(0.2)
