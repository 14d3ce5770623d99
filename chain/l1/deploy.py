"""Deploy Duet's L1 contracts to any L1 endpoint: the ZKPoW token and the rollup.

The rollup gets the genesis ZK state root, the current ceremony's verification keys, one
per circuit id in the order of CIRCUIT_NAMES (chain/l1/keys.py), its first submission agents
and its slot schedule, the token, and the ids of the deposit and withdraw circuits; the
deployer becomes its owner (who may register more agents). The token's whole supply goes to
one holder. Then the deployer hands out L1 ZKPoW: the rollup's backing of the ZK chain's
genesis supply (withdrawals are paid from what the rollup holds), and any grants.
"""

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from eth_account.signers.local import LocalAccount
from eth_typing import ChecksumAddress
from web3 import Web3
from web3.exceptions import BadFunctionCallOutput, ContractLogicError

from chain.l1.calldata import StateRoot, get_circuit_id
from chain.l1.config import DEFAULT_SCHEDULE, DEV_ESCAPE, EscapeSchedule, SlotSchedule
from chain.l1.contracts import load_artifact, send_transaction
from chain.l1.errors import L1Error
from chain.l1.keys import encode_verification_key, load_ceremony_keys
from chain.l1.op_epochs import EPOCH_SECONDS, list_epoch_places
from chain.l1.op_signing import list_signing_tables
from chain.prover.key_policy import check_deploy_keys, get_keys_are_dev
from chain.zk.registry import CIRCUIT_NAMES

# The L1 token's whole supply. The rollup holds the part that backs ZKPoW on the ZK chain
# (its genesis supply, then every deposit); the rest circulates on L1.
L1_SUPPLY_WEI = 10**9 * 10**18


@dataclass(frozen=True)
class L1Deployment:
    chain_id: int
    zkpow: ChecksumAddress
    rollup: ChecksumAddress
    genesis_root: StateRoot
    block: int  # the L1 block of the rollup's deployment: where a reconstruction starts

    def to_json(self) -> dict[str, Any]:
        return {
            "chain_id": self.chain_id,
            "zkpow": self.zkpow,
            "rollup": self.rollup,
            "genesis_root": hex(self.genesis_root),
            "block": self.block,
        }

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> "L1Deployment":
        return cls(
            int(obj["chain_id"]),
            cast(ChecksumAddress, obj["zkpow"]),
            cast(ChecksumAddress, obj["rollup"]),
            StateRoot(int(obj["genesis_root"], 16)),
            int(obj["block"]),
        )


RollupConfig = tuple[Any, ...]  # the constructor's Config struct, as web3 encodes it


def compute_rollup_config(
    zkpow: ChecksumAddress,
    schedule: SlotSchedule,
    sequencers: Sequence[ChecksumAddress],
    escape: EscapeSchedule,
    signing_tables: tuple[list[bytes], list[int]] | None = None,
    epoch_places: list[int] | None = None,
    weights: Sequence[int] | None = None,
    follow_stake: bool = False,
) -> RollupConfig:
    """The Rollup constructor's `Config`: the slot schedule, the bridge (the token, the
    deposit and withdraw circuit ids), the sequencers (with `weights`, default 1 each), the
    signed-operation and epoch tables (default: derived from the circuits,
    chain/l1/op_signing.py and op_epochs.py), the forced queue's circuits, delays and fee,
    and whether the weights follow the sequencers' stake (`follow_stake`: the weights must
    then be their genesis stakes in wei) through the stake circuits."""
    type_hashes, fields = list_signing_tables() if signing_tables is None else signing_tables
    return (
        schedule.slot_blocks,
        schedule.grace_blocks,
        (zkpow, get_circuit_id("deposit"), get_circuit_id("withdraw")),
        list(sequencers),
        list(weights) if weights is not None else [1] * len(sequencers),
        type_hashes,
        fields,
        EPOCH_SECONDS,
        list_epoch_places() if epoch_places is None else epoch_places,
        (
            get_circuit_id("refuse_withdraw"),
            get_circuit_id("exit"),
            escape.force_delay_s,
            escape.freeze_delay_s,
            escape.force_fee_wei,
        ),
        (
            follow_stake,
            get_circuit_id("bond"),
            get_circuit_id("unbond"),
            get_circuit_id("slash"),
        ),
    )


def deploy_contracts(
    w3: Web3,
    deployer: LocalAccount,
    genesis_root: StateRoot,
    token_holder: ChecksumAddress | None = None,
    supply: int = L1_SUPPLY_WEI,
    keys: Sequence[Mapping[str, Any]] | None = None,
    agents: Sequence[ChecksumAddress] | None = None,
    schedule: SlotSchedule = DEFAULT_SCHEDULE,
    backing: int = 0,
    grants: Mapping[ChecksumAddress, int] | None = None,
    sequencers: Sequence[ChecksumAddress] | None = None,
    allow_dev_keys: bool = False,
    escape: EscapeSchedule = DEV_ESCAPE,
    weights: Sequence[int] | None = None,
    follow_stake: bool = False,
) -> L1Deployment:
    """ZkPow (its supply to `token_holder`, default the deployer) and Rollup (at
    `genesis_root`, with `keys`, default the current ceremony's; `agents`, default the
    deployer alone, on `schedule`). Then the deployer sends the rollup `backing` wei of L1
    ZKPoW (the ZK genesis supply it backs) and each address of `grants` its amount; both
    come out of the deployer's balance, so `token_holder` must be the deployer for them.
    `sequencers` attest blocks, with `weights` (default 1 each; default sequencers: the
    deployer alone), which follow their stake with `follow_stake`; `escape`
    sets the forced queue's delays and fee (default the dev stack's, short).

    The ceremony's keys are refused (DevKeysRefused) when they are the deterministic dev
    keys, whose toxic waste is public, unless L1 is a dev chain (31337, 1337) or
    `allow_dev_keys`: docs/ceremony.md."""
    if keys is None:
        keys_are_dev = get_keys_are_dev(names=CIRCUIT_NAMES)
        check_deploy_keys(int(w3.eth.chain_id), keys_are_dev, allow_dev_keys)
    vks = [encode_verification_key(vk) for vk in (keys or load_ceremony_keys())]
    zkpow = deploy_contract(w3, deployer, "ZkPow", token_holder or deployer.address, supply)
    signers = list(sequencers if sequencers is not None else [deployer.address])
    config = compute_rollup_config(
        zkpow, schedule, signers, escape, weights=weights, follow_stake=follow_stake
    )
    rollup, block = deploy_contract_at_block(
        w3,
        deployer,
        "Rollup",
        genesis_root,
        vks,
        list(agents if agents is not None else [deployer.address]),
        config,
    )
    payments = {rollup: backing, **(grants or {})}
    for to, amount in payments.items():
        if amount:
            send_zkpow(w3, deployer, zkpow, to, amount)
    return L1Deployment(w3.eth.chain_id, zkpow, rollup, genesis_root, block)


def send_zkpow(
    w3: Web3, sender: LocalAccount, zkpow: ChecksumAddress, to: ChecksumAddress, amount: int
) -> None:
    """`amount` wei of L1 ZKPoW from `sender` to `to` (L1Revert on ZkPow's refusal)."""
    abi = load_artifact("ZkPow")["abi"]
    data = w3.eth.contract(address=zkpow, abi=abi).encode_abi("transfer", args=[to, amount])
    send_transaction(w3, sender, {"to": zkpow, "data": data}, abi)


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


def check_rollup(w3: Web3, address: ChecksumAddress, genesis_root: StateRoot) -> None:
    """L1Error unless a rollup of the chain whose genesis root is `genesis_root` is at
    `address`: what a node checks before it settles there."""
    if not w3.eth.get_code(address):
        raise L1Error(f"no contract at {address} on L1 chain {w3.eth.chain_id}")
    abi = load_artifact("Rollup")["abi"]
    try:
        root = int(w3.eth.contract(address=address, abi=abi).functions.genesisRoot().call())
    except (ContractLogicError, BadFunctionCallOutput) as exc:
        raise L1Error(f"the contract at {address} is not a Duet rollup: {exc}") from None
    if root != genesis_root:
        raise L1Error(
            f"the rollup at {address} settles another chain: genesis root {root:#x}, "
            f"this chain's is {genesis_root:#x}"
        )


def load_or_deploy(
    w3: Web3,
    path: Path,
    deployer: LocalAccount,
    genesis_root: StateRoot,
    schedule: SlotSchedule = DEFAULT_SCHEDULE,
    *,
    backing: int = 0,
    grants: Mapping[ChecksumAddress, int] | None = None,
    sequencers: Sequence[ChecksumAddress] | None = None,
    weights: Sequence[int] | None = None,
    agents: Sequence[ChecksumAddress] | None = None,
    follow_stake: bool = False,
) -> tuple[L1Deployment, bool]:
    """The deployment recorded at `path` if L1 still holds it, else a new one (`agents`,
    default the deployer alone, `backing`, `grants`, `sequencers`, `weights` and
    `follow_stake` as `deploy_contracts` takes them), recorded there. Returns it, and whether
    it is new."""
    if path.is_file():
        deployment = L1Deployment.from_json(json.loads(path.read_text()))
        if deployment.chain_id == w3.eth.chain_id and w3.eth.get_code(deployment.rollup):
            check_rollup(w3, deployment.rollup, genesis_root)
            return deployment, False
    deployment = deploy_contracts(
        w3,
        deployer,
        genesis_root,
        schedule=schedule,
        backing=backing,
        grants=grants,
        sequencers=sequencers,
        weights=weights,
        agents=agents,
        follow_stake=follow_stake,
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(deployment.to_json(), indent=2))
    os.replace(tmp, path)
    return deployment, True
