"""The rollup's slot schedule on a real anvil: during a slot only its agent may submit; once
more than `graceBlocks` L1 blocks have passed since the last settlement, anyone may; the owner
alone registers agents.

anvil mines one block per transaction, so the next transaction lands in block latest + 1;
`anvil_mine` moves L1 time on to where a test needs it. The schedule here: slots of 6 blocks,
a grace of 4, agents A and B; slot 0 starts at the deployment's block D, so A holds
D..D+5, B D+6..D+11, A again D+12.., and the grace after a settlement in block S (or the
deployment, S = D) lasts to block S + 4: from S + 5 on anyone may submit.
"""

from __future__ import annotations

import pytest
from eth_account.signers.local import LocalAccount
from web3 import Web3

from chain.l1.config import SlotSchedule
from chain.l1.deploy import deploy_contracts
from chain.l1.errors import L1Revert
from chain.l1.rollup import RollupClient
from chain.testing.proven_blocks import compute_genesis_root
from chain.testing.settlement_gas import settle
from chain.types import Height
from tests.integration.support import dev_account
from tests.l1.harness import get_first_block, get_mixed_block

SCHEDULE = SlotSchedule(slot_blocks=6, grace_blocks=4)
ZERO_ADDRESS = "0x" + "00" * 20


@pytest.fixture
def agent_a() -> LocalAccount:
    return dev_account(1)


@pytest.fixture
def agent_b() -> LocalAccount:
    return dev_account(2)


@pytest.fixture
def outsider() -> LocalAccount:
    return dev_account(3)


@pytest.fixture
def owner(
    w3: Web3, deployer: LocalAccount, agent_a: LocalAccount, agent_b: LocalAccount
) -> RollupClient:
    """A fresh rollup with agents A and B, as its owner (the deployer) sees it."""
    deployment = deploy_contracts(
        w3,
        deployer,
        compute_genesis_root(),
        agents=[agent_a.address, agent_b.address],
        schedule=SCHEDULE,
    )
    return RollupClient(w3, deployment.rollup, deployer)


def as_sender(rollup: RollupClient, sender: LocalAccount) -> RollupClient:
    return RollupClient(rollup.w3, rollup.address, sender)


def mine_until_next_block_is(w3: Web3, target: int) -> None:
    """Mine empty blocks until the next transaction will land in block `target`."""
    missing = target - 1 - w3.eth.block_number
    assert missing >= 0, f"block {target} is past"
    if missing:
        w3.provider.make_request("anvil_mine", [hex(missing)])  # type: ignore[arg-type]


def slot_start(rollup: RollupClient, slot: int) -> int:
    return rollup.get_schedule_start() + slot * SCHEDULE.slot_blocks


def submit_first(rollup: RollupClient) -> None:
    block = get_first_block()
    settle(rollup, Height(1), block.pre_root, block.ops)


def refusal(rollup: RollupClient) -> L1Revert:
    """The error of submitting the first block (which is valid but for the slot)."""
    block = get_first_block()
    before = rollup.get_settled_height()
    with pytest.raises(L1Revert) as refused:
        settle(rollup, Height(1), block.pre_root, block.ops)
    assert rollup.get_settled_height() == before
    return refused.value


# -- the schedule -----------------------------------------------------------------------------


def test_deployment_sets_the_schedule_and_its_agents(
    owner: RollupClient, agent_a: LocalAccount, agent_b: LocalAccount
) -> None:
    assert owner.get_schedule() == SCHEDULE
    assert owner.list_agents() == [agent_a.address, agent_b.address]
    assert owner.contract.functions.owner().call() == owner.sender.address  # type: ignore[union-attr]
    assert owner.get_genesis_root() == compute_genesis_root()
    start = owner.get_schedule_start()
    assert [owner.get_slot_agent(start + i) for i in (0, 5, 6, 11, 12)] == [
        agent_a.address,
        agent_a.address,
        agent_b.address,
        agent_b.address,
        agent_a.address,
    ]


def test_the_slots_agent_settles(owner: RollupClient, agent_a: LocalAccount) -> None:
    mine_until_next_block_is(owner.w3, slot_start(owner, 0) + 1)
    submit_first(as_sender(owner, agent_a))
    assert owner.get_settled_height() == 1
    assert owner.get_settled_state().at_block == slot_start(owner, 0) + 1


def test_rejects_another_agent_in_the_slot(
    owner: RollupClient, agent_a: LocalAccount, agent_b: LocalAccount
) -> None:
    error = refusal(as_sender(owner, agent_b))
    assert (error.error, error.error_args) == ("NotYourSlot", (agent_a.address,))


def test_rejects_an_outsider_within_the_grace_period(
    owner: RollupClient, agent_a: LocalAccount, outsider: LocalAccount
) -> None:
    grace_ends = owner.get_settled_state().at_block + SCHEDULE.grace_blocks
    mine_until_next_block_is(owner.w3, grace_ends)  # the grace's last block, still A's slot
    assert owner.get_slot_agent(grace_ends) == agent_a.address
    error = refusal(as_sender(owner, outsider))
    assert (error.error, error.error_args) == ("NotYourSlot", (agent_a.address,))


def test_slots_pass_to_the_next_agent(
    owner: RollupClient, agent_a: LocalAccount, agent_b: LocalAccount
) -> None:
    """A settles in its slot's last block; in the next block, B's slot, A may not go on."""
    mine_until_next_block_is(owner.w3, slot_start(owner, 1) - 1)
    submit_first(as_sender(owner, agent_a))
    mixed = get_mixed_block()
    with pytest.raises(L1Revert) as refused:
        settle(as_sender(owner, agent_a), Height(2), mixed.pre_root, mixed.ops)
    assert (refused.value.error, refused.value.error_args) == ("NotYourSlot", (agent_b.address,))
    settle(as_sender(owner, agent_b), Height(2), mixed.pre_root, mixed.ops)
    assert owner.get_settled_height() == 2


def test_anyone_settles_after_the_grace_period(owner: RollupClient, outsider: LocalAccount) -> None:
    """A's slot, and A submits nothing: once the grace is over, an unregistered account may."""
    deployed_at = owner.get_settled_state().at_block
    mine_until_next_block_is(owner.w3, deployed_at + SCHEDULE.grace_blocks + 1)
    submit_first(as_sender(owner, outsider))
    assert owner.get_settled_height() == 1


def test_the_grace_period_restarts_at_each_settlement(
    owner: RollupClient, agent_a: LocalAccount, outsider: LocalAccount
) -> None:
    deployed_at = owner.get_settled_state().at_block
    mine_until_next_block_is(owner.w3, deployed_at + SCHEDULE.grace_blocks + 1)
    stranger = as_sender(owner, outsider)
    submit_first(stranger)
    mixed = get_mixed_block()
    with pytest.raises(L1Revert) as refused:
        settle(stranger, Height(2), mixed.pre_root, mixed.ops)
    assert refused.value.error == "NotYourSlot"
    assert owner.get_settled_height() == 1


def test_a_replay_is_refused_as_such_in_any_slot(
    owner: RollupClient, agent_a: LocalAccount, agent_b: LocalAccount
) -> None:
    submit_first(as_sender(owner, agent_a))
    error = refusal(as_sender(owner, agent_b))
    assert (error.error, error.error_args) == ("BlockAlreadySettled", (1, 1))


# -- the registry -----------------------------------------------------------------------------


def test_owner_registers_an_agent_who_gets_slots(
    owner: RollupClient, agent_a: LocalAccount, agent_b: LocalAccount, outsider: LocalAccount
) -> None:
    """A third agent takes slot 2 (2 % 3): B settles at the end of slot 1, and in the next
    block, within the grace period, the new agent may go on where A may not."""
    receipt = owner.register_agent(outsider.address)
    (event,) = owner.contract.events.AgentRegistered().process_receipt(receipt)
    assert (event["args"]["agent"], event["args"]["index"]) == (outsider.address, 2)
    assert owner.contract.functions.isAgent(outsider.address).call()
    mine_until_next_block_is(owner.w3, slot_start(owner, 2) - 1)
    submit_first(as_sender(owner, agent_b))
    mixed = get_mixed_block()
    with pytest.raises(L1Revert) as refused:
        settle(as_sender(owner, agent_a), Height(2), mixed.pre_root, mixed.ops)
    assert (refused.value.error, refused.value.error_args) == ("NotYourSlot", (outsider.address,))
    settle(as_sender(owner, outsider), Height(2), mixed.pre_root, mixed.ops)
    assert owner.get_settled_height() == 2


def test_rejects_registration_by_anyone_but_the_owner(
    owner: RollupClient, agent_a: LocalAccount, outsider: LocalAccount
) -> None:
    with pytest.raises(L1Revert) as refused:
        as_sender(owner, agent_a).register_agent(outsider.address)
    assert (refused.value.error, refused.value.error_args) == ("NotOwner", (agent_a.address,))


def test_rejects_an_agent_registered_twice_or_the_zero_address(
    owner: RollupClient, agent_a: LocalAccount
) -> None:
    for agent in (agent_a.address, ZERO_ADDRESS):
        with pytest.raises(L1Revert) as refused:
            owner.register_agent(agent)  # type: ignore[arg-type]
        assert (refused.value.error, refused.value.error_args) == ("InvalidAgent", (agent,))
    assert len(owner.list_agents()) == 2


def test_rejects_a_schedule_of_empty_slots(w3: Web3, deployer: LocalAccount) -> None:
    with pytest.raises(L1Revert) as refused:
        deploy_contracts(w3, deployer, compute_genesis_root(), schedule=SlotSchedule(0, 5))
    assert (refused.value.error, refused.value.error_args) == ("BadSchedule", (0, 5))
