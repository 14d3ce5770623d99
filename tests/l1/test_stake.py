"""The rollup following its validators' stake on a real anvil (docs/l1.md, "Stake"): deployed
with `follow_stake`, each sequencer weighs its genesis stake; a settled Bond, Unbond or Slash
of a sequencer moves its weight by exactly the bonded stake it moved, another account's first
Bond makes it a sequencer weighing that bond (a validator joining after genesis), and the next
block needs more than two thirds of the new weights. A rollup that does not follow keeps the
weights it was deployed with."""

from __future__ import annotations

from functools import cache

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3

from chain.l1.calldata import StateRoot
from chain.l1.deploy import deploy_contracts
from chain.l1.errors import L1Revert
from chain.l1.rollup import RollupClient
from chain.testing.proven_blocks import (
    ALICE,
    BOB,
    CAROL,
    ETHER,
    FIRST_SEQ,
    MINTER,
    NO_SIGNER,
    SIGNER_KEYS,
    ProvenBlock,
    prove_block,
)
from chain.testing.settlement_gas import settle
from chain.types import Height
from chain.zk.genesis import compute_genesis_state
from chain.zk.ops import Bond, Slash, Transfer, Unbond, compute_slashed
from chain.zk.state import ZkState, compute_state_root, get_stake

ALICE_STAKE = 20 * ETHER
BOB_STAKE = 10 * ETHER  # Alice alone holds exactly 2/3: not more
KEYS = {who: SIGNER_KEYS[who] for who in (ALICE, BOB)}
# Alice bonds more, Bob unbonds some, the minter (no sequencer yet) bonds, Alice is slashed.
STAKE_STEPS = [
    (ALICE, Bond(6 * ETHER)),
    (BOB, Unbond(4 * ETHER)),
    (MINTER, Bond(ETHER)),
    (NO_SIGNER, Slash(ALICE)),
]


def compute_staked_genesis() -> ZkState:
    state = compute_genesis_state(
        {ALICE: 100 * ETHER, BOB: 50 * ETHER, MINTER: 10 * ETHER},
        MINTER,
        7 * ETHER,
        stakes={ALICE: ALICE_STAKE, BOB: BOB_STAKE},
    )
    state.inbox = FIRST_SEQ
    return state


@cache
def get_stake_block() -> ProvenBlock:
    return prove_block(compute_staked_genesis(), STAKE_STEPS)


@cache
def get_transfer_block() -> ProvenBlock:
    return prove_block(get_stake_block().post, [(BOB, Transfer(CAROL, ETHER))])


def deploy(w3: Web3, deployer: LocalAccount, *, follow: bool) -> RollupClient:
    genesis_root = StateRoot(compute_state_root(compute_staked_genesis()))
    sequencers = [Account.from_key(KEYS[who]).address for who in (ALICE, BOB)]
    deployment = deploy_contracts(
        w3,
        deployer,
        genesis_root,
        sequencers=sequencers,
        weights=[ALICE_STAKE, BOB_STAKE],
        follow_stake=follow,
    )
    return RollupClient(w3, deployment.rollup, deployer)


def weights(rollup: RollupClient) -> dict[int, int]:
    return {int(key, 16): weight for key, weight in rollup.list_sequencers()}


def total_weight(rollup: RollupClient) -> int:
    return int(rollup.contract.functions.sequencerTotalWeight().call())


def settle_block(rollup: RollupClient, height: int, block: ProvenBlock, *signers: int) -> None:
    settle(rollup, Height(height), block.pre_root, block.ops, keys=[KEYS[s] for s in signers])


def test_stake_operations_of_sequencers_move_their_weights(
    w3: Web3, deployer: LocalAccount
) -> None:
    rollup = deploy(w3, deployer, follow=True)
    block = get_stake_block()
    assert weights(rollup) == {ALICE: ALICE_STAKE, BOB: BOB_STAKE}
    settle_block(rollup, 1, block, ALICE, BOB)
    # The weights are the bonded stake the ZK state now holds: the minter's bond made it a
    # sequencer, and Unbond took Bob's unbonding stake out of his weight.
    alice = ALICE_STAKE + 6 * ETHER
    alice -= compute_slashed(alice)
    assert weights(rollup) == {ALICE: alice, BOB: BOB_STAKE - 4 * ETHER, MINTER: ETHER}
    stakers = (ALICE, BOB, MINTER)
    assert weights(rollup) == {who: get_stake(block.post, who).bonded for who in stakers}
    assert total_weight(rollup) == alice + BOB_STAKE - 4 * ETHER + ETHER
    joined = rollup.contract.events.SequencerJoined().get_logs(from_block=0)
    assert [int(e.args.sequencer, 16) for e in joined] == [MINTER]


def test_the_next_block_needs_two_thirds_of_the_new_weights(
    w3: Web3, deployer: LocalAccount
) -> None:
    rollup = deploy(w3, deployer, follow=True)
    stake_block = get_stake_block()
    # Before: Alice holds exactly two thirds, which is not more.
    with pytest.raises(L1Revert) as refused:
        settle_block(rollup, 1, stake_block, ALICE)
    assert refused.value.error == "AttestationTooWeak"
    assert refused.value.error_args == (ALICE_STAKE, ALICE_STAKE + BOB_STAKE)
    settle_block(rollup, 1, stake_block, ALICE, BOB)
    transfer_block = get_transfer_block()
    # After: Bob's 6 of about 31.7 is too little; Alice's 24.7 is more than two thirds.
    with pytest.raises(L1Revert) as refused:
        settle_block(rollup, 2, transfer_block, BOB)
    assert refused.value.error == "AttestationTooWeak"
    settle_block(rollup, 2, transfer_block, ALICE)
    assert rollup.get_settled_root() == transfer_block.post_root


def test_a_rollup_that_does_not_follow_keeps_its_weights(w3: Web3, deployer: LocalAccount) -> None:
    rollup = deploy(w3, deployer, follow=False)
    settle_block(rollup, 1, get_stake_block(), ALICE, BOB)
    assert weights(rollup) == {ALICE: ALICE_STAKE, BOB: BOB_STAKE}
    assert total_weight(rollup) == ALICE_STAKE + BOB_STAKE
