"""Deploying the L1 contracts (chain/l1/deploy.py) on a real anvil: what the rollup learns
from the ceremony's keys, the L1 ZKPoW handed out after it, and the keys, roots and bridge
circuits its constructor refuses."""

from __future__ import annotations

from typing import Any

import pytest
from eth_account.signers.local import LocalAccount
from web3 import Web3

from chain.l1.anvil import Anvil
from chain.l1.calldata import L1_CIRCUIT_NAMES, count_words, get_circuit_id
from chain.l1.config import DEFAULT_SCHEDULE, DEV_ESCAPE
from chain.l1.contracts import load_artifact
from chain.l1.deploy import (
    L1_SUPPLY_WEI,
    L1Deployment,
    compute_rollup_config,
    deploy_contract,
    deploy_contracts,
)
from chain.l1.errors import L1Revert
from chain.l1.keys import encode_verification_key, load_ceremony_keys
from chain.l1.op_epochs import list_epoch_places
from chain.l1.op_signing import COUNT_BITS, list_signing_tables
from chain.prover.key_policy import DevKeysRefused
from chain.testing.proven_blocks import compute_genesis_root
from chain.zk.poseidon import FIELD_MODULUS
from chain.zk.registry import CIRCUIT_NAMES
from tests.integration.support import ETHER, dev_account


def test_deploys_the_token_and_the_rollup_with_every_circuit(
    w3: Web3, deployer: LocalAccount, deployment: L1Deployment
) -> None:
    token = w3.eth.contract(address=deployment.zkpow, abi=load_artifact("ZkPow")["abi"])
    assert token.functions.balanceOf(deployer.address).call() == L1_SUPPLY_WEI
    assert token.functions.totalSupply().call() == L1_SUPPLY_WEI
    rollup = w3.eth.contract(address=deployment.rollup, abi=load_artifact("Rollup")["abi"])
    assert rollup.functions.settledRoot().call() == compute_genesis_root()
    assert rollup.functions.circuitCount().call() == len(L1_CIRCUIT_NAMES)
    for circuit_id, name in enumerate(L1_CIRCUIT_NAMES):
        words, _, offset = rollup.functions.circuitKey(circuit_id).call()
        assert words == count_words(name)
        assert offset > 0
    assert w3.eth.get_code(rollup.functions.keyData().call())[:1] == b"\x00"  # inert if called


def refused(w3: Web3, deployer: LocalAccount, root: int, keys: list[dict[str, Any]]) -> L1Revert:
    with pytest.raises(L1Revert) as refusal:
        deploy_contracts(w3, deployer, root, keys=keys)  # type: ignore[arg-type]
    return refusal.value


def test_rejects_keys_that_do_not_share_alpha(w3: Web3, deployer: LocalAccount) -> None:
    keys = load_ceremony_keys()
    keys[3] = {**keys[3], "vk_alpha_1": keys[3]["IC"][0]}
    error = refused(w3, deployer, compute_genesis_root(), keys)
    assert (error.error, error.error_args) == ("VerificationKeyNotShared", (3,))


def test_rejects_a_key_without_the_roots_as_inputs(w3: Web3, deployer: LocalAccount) -> None:
    keys = load_ceremony_keys()
    keys[5] = {**keys[5], "IC": keys[5]["IC"][:2]}  # the constant and one input
    error = refused(w3, deployer, compute_genesis_root(), keys)
    assert (error.error, error.error_args) == ("MalformedVerificationKey", (5,))


def test_rejects_a_genesis_root_outside_the_field(w3: Web3, deployer: LocalAccount) -> None:
    error = refused(w3, deployer, FIELD_MODULUS, load_ceremony_keys())
    assert (error.error, error.error_args) == ("GenesisRootNotInField", (FIELD_MODULUS,))


def test_hands_out_the_backing_and_the_grants(w3: Web3, deployer: LocalAccount) -> None:
    depositor, other = dev_account(1), dev_account(2)
    deployment = deploy_contracts(
        w3,
        deployer,
        compute_genesis_root(),
        backing=7 * ETHER,
        grants={depositor.address: 3 * ETHER, other.address: 2 * ETHER},
    )
    token = w3.eth.contract(address=deployment.zkpow, abi=load_artifact("ZkPow")["abi"])
    balances = [
        token.functions.balanceOf(a).call()
        for a in (deployment.rollup, depositor.address, other.address, deployer.address)
    ]
    assert balances == [7 * ETHER, 3 * ETHER, 2 * ETHER, L1_SUPPLY_WEI - 12 * ETHER]
    rollup = w3.eth.contract(address=deployment.rollup, abi=load_artifact("Rollup")["abi"])
    assert rollup.functions.token().call() == deployment.zkpow
    assert (
        rollup.functions.depositCircuit().call(),
        rollup.functions.withdrawCircuit().call(),
    ) == (
        CIRCUIT_NAMES.index("deposit"),
        CIRCUIT_NAMES.index("withdraw"),
    )


def test_rejects_a_bridge_circuit_with_another_word_count(w3: Web3, deployer: LocalAccount) -> None:
    """The deposit circuit's key replaced by transfer's (3 words, not 2): the bridge pass
    would read the wrong words."""
    keys = load_ceremony_keys()
    keys[CIRCUIT_NAMES.index("deposit")] = keys[CIRCUIT_NAMES.index("transfer")]
    error = refused(w3, deployer, compute_genesis_root(), keys)
    assert (error.error, error.error_args) == (
        "BadBridgeCircuits",
        (CIRCUIT_NAMES.index("deposit"), CIRCUIT_NAMES.index("withdraw")),
    )


def test_refuses_the_dev_keys_on_a_chain_that_is_not_a_dev_chain(deployer: LocalAccount) -> None:
    """Chain id 1 (an L1 that may hold value): the dev ceremony's keys, whose toxic waste is
    public, are refused unless the deployer asks for them (allow_dev_keys)."""
    with Anvil("--chain-id", "1") as url:
        w3 = Web3(Web3.HTTPProvider(url))
        assert w3.eth.chain_id == 1
        with pytest.raises(DevKeysRefused, match="duet ceremony"):
            deploy_contracts(w3, deployer, compute_genesis_root())
        assert w3.eth.get_transaction_count(deployer.address) == 0  # nothing was sent
        deployment = deploy_contracts(w3, deployer, compute_genesis_root(), allow_dev_keys=True)
        assert w3.eth.get_code(deployment.rollup)


def deploy_rollup_with_tables(
    w3: Web3,
    deployer: LocalAccount,
    signing_tables: tuple[list[bytes], list[int]] | None = None,
    epoch_places: list[int] | None = None,
) -> L1Revert:
    """The Rollup deployed with these tables (the rest as deploy_contracts sets it); the
    constructor's refusal."""
    zkpow = deploy_contract(w3, deployer, "ZkPow", deployer.address, L1_SUPPLY_WEI)
    config = compute_rollup_config(
        zkpow, DEFAULT_SCHEDULE, [deployer.address], DEV_ESCAPE, signing_tables, epoch_places
    )
    vks = [encode_verification_key(vk) for vk in load_ceremony_keys()]
    with pytest.raises(L1Revert) as refused:
        deploy_contract(w3, deployer, "Rollup", compute_genesis_root(), vks, [], config)
    return refused.value


def test_refuses_signing_tables_that_read_beyond_a_circuits_words(
    w3: Web3, deployer: LocalAccount
) -> None:
    """Settlement reads the tables unchecked (for gas): the constructor must check them."""
    hashes, fields = list_signing_tables()
    transfer = get_circuit_id("transfer")
    beyond = list(fields)
    beyond[transfer] = 1 | 7 << COUNT_BITS  # one field, in word 7 of a 3-word circuit
    refusal = deploy_rollup_with_tables(w3, deployer, signing_tables=(hashes, beyond))
    assert refusal.error == "BadSigningTables"
    untyped = list(hashes)
    untyped[transfer] = bytes(32)  # fields, but no type hash
    refusal = deploy_rollup_with_tables(w3, deployer, signing_tables=(untyped, fields))
    assert refusal.error == "BadSigningTables"


def test_refuses_an_epoch_place_wider_than_its_word(w3: Web3, deployer: LocalAccount) -> None:
    places = list_epoch_places()
    places[get_circuit_id("mint")] = 1 << 32  # beyond the 32 bits it shares a word in
    refusal = deploy_rollup_with_tables(w3, deployer, epoch_places=places)
    assert refusal.error == "BadEpochTable"
