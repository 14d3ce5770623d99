"""Deploy Duet's L1 contracts to any L1 endpoint: the ZKPoW token and the rollup.

The rollup gets the genesis ZK state root and the current ceremony's verification keys, one
per circuit id in the order of CIRCUIT_NAMES (chain/l1/keys.py); the token's whole supply
goes to one holder.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from eth_account.signers.local import LocalAccount
from eth_typing import ChecksumAddress
from web3 import Web3

from chain.l1.calldata import StateRoot
from chain.l1.contracts import load_artifact, send_transaction
from chain.l1.errors import L1Error
from chain.l1.keys import encode_verification_key, load_ceremony_keys

# Until deposits define how L1 supply and ZK supply relate, the L1 token mints this much.
L1_SUPPLY_WEI = 10**9 * 10**18


@dataclass(frozen=True)
class L1Deployment:
    chain_id: int
    zkpow: ChecksumAddress
    rollup: ChecksumAddress
    genesis_root: StateRoot
    block: int  # the L1 block of the rollup's deployment: where a reconstruction starts


def deploy_contracts(
    w3: Web3,
    deployer: LocalAccount,
    genesis_root: StateRoot,
    token_holder: ChecksumAddress | None = None,
    supply: int = L1_SUPPLY_WEI,
    keys: Sequence[Mapping[str, Any]] | None = None,
) -> L1Deployment:
    """ZkPow (its supply to `token_holder`, default the deployer) and Rollup (at
    `genesis_root`, with `keys`, default the current ceremony's)."""
    vks = [encode_verification_key(vk) for vk in (keys or load_ceremony_keys())]
    zkpow = deploy_contract(w3, deployer, "ZkPow", token_holder or deployer.address, supply)
    rollup, block = deploy_contract_at_block(w3, deployer, "Rollup", genesis_root, vks)
    return L1Deployment(w3.eth.chain_id, zkpow, rollup, genesis_root, block)


def deploy_contract(w3: Web3, deployer: LocalAccount, name: str, *args: Any) -> ChecksumAddress:
    return deploy_contract_at_block(w3, deployer, name, *args)[0]


def deploy_contract_at_block(
    w3: Web3, deployer: LocalAccount, name: str, *args: Any
) -> tuple[ChecksumAddress, int]:
    artifact = load_artifact(name)
    factory = w3.eth.contract(abi=artifact["abi"], bytecode=artifact["bytecode"])
    data = factory.constructor(*args).data_in_transaction
    receipt = send_transaction(w3, deployer, {"data": data}, artifact["abi"])
    address = receipt["contractAddress"]
    if address is None:
        raise L1Error(f"{name} was not deployed")
    return address, int(receipt["blockNumber"])
