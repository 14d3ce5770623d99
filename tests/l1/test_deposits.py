"""Deposits on a real anvil: `Rollup.deposit` locks L1 ZKPoW as the next deposit of a queue,
and a settled block must credit that queue exactly and in order: each deposit op's index,
recipient and amount are the next uncredited deposit's, or the block is refused with
`DepositMismatch(op, expectedIndex)` (docs/l1.md, "Deposits").

The blocks are real (tests/l1/harness.py): proven deposit ops of the ZK state machine, which
knows nothing of L1, so a block crediting a deposit that L1 does not hold proves as well as
an honest one; only the rollup's check stands between it and settlement.
"""

from __future__ import annotations

import pytest
from eth_account.signers.local import LocalAccount
from eth_typing import ChecksumAddress
from eth_utils import to_checksum_address
from web3 import Web3

from chain.l1.contracts import send_transaction
from chain.l1.deploy import deploy_contracts
from chain.l1.errors import L1Error, L1Revert
from chain.l1.rollup import RollupClient
from chain.testing.proven_blocks import compute_genesis_root, compute_genesis_supply
from chain.testing.settlement_gas import settle
from chain.types import Height
from chain.zk.ops import Transfer
from tests.circuits.scenarios import ALICE, BOB, CAROL, ETHER
from tests.integration.support import dev_account
from tests.l1.harness import (
    DEPOSIT_BLOCK_STEPS,
    L1_DEPOSITS,
    ProvenBlock,
    credit,
    prove_after_deposit_block,
    prove_from_genesis,
)

FIRST = Height(1)
SECOND = Height(2)
GRANT = 100 * ETHER
MAX_AMOUNT = 2**96 - 1
ZERO_ADDRESS = to_checksum_address(bytes(20))


@pytest.fixture
def depositor() -> LocalAccount:
    return dev_account(1)


@pytest.fixture
def rollup(w3: Web3, deployer: LocalAccount, depositor: LocalAccount) -> RollupClient:
    """A rollup backing the genesis supply, whose depositor holds GRANT of L1 ZKPoW."""
    deployment = deploy_contracts(
        w3,
        deployer,
        compute_genesis_root(),
        backing=compute_genesis_supply(),
        grants={depositor.address: GRANT},
    )
    return RollupClient(w3, deployment.rollup, deployer)


def as_depositor(rollup: RollupClient, depositor: LocalAccount) -> RollupClient:
    return RollupClient(rollup.w3, rollup.address, depositor)


def l1_address(zk_address: int) -> ChecksumAddress:
    return to_checksum_address(zk_address.to_bytes(20, "big"))


def make_deposits(rollup: RollupClient, depositor: LocalAccount, count: int) -> None:
    """The first `count` of L1_DEPOSITS, made by `depositor`."""
    client = as_depositor(rollup, depositor)
    for index, (to, amount) in enumerate(L1_DEPOSITS[:count]):
        assert client.deposit(l1_address(to), amount) == index


def submit(rollup: RollupClient, height: Height, block: ProvenBlock) -> None:
    settle(rollup, height, block.pre_root, block.ops)


def assert_refused(
    rollup: RollupClient, height: Height, block: ProvenBlock, error: str, args: tuple[object, ...]
) -> None:
    """The block is refused with `error(args)`, and nothing settled (credits included) moves."""
    before = (rollup.get_settled_state().height, rollup.get_deposits_credited())
    with pytest.raises(L1Revert) as refused:
        submit(rollup, height, block)
    assert (refused.value.error, refused.value.error_args) == (error, args)
    assert (rollup.get_settled_state().height, rollup.get_deposits_credited()) == before


# -- deposit ---------------------------------------------------------------------------------


def test_deposit_locks_the_tokens_and_queues_the_deposit(
    rollup: RollupClient, depositor: LocalAccount
) -> None:
    client = as_depositor(rollup, depositor)
    locked = rollup.get_token_balance(rollup.address)
    assert (rollup.get_deposit_count(), rollup.get_deposits_credited()) == (0, 0)

    first = client.deposit(l1_address(CAROL), 2 * ETHER)
    second = client.deposit(l1_address(ALICE), ETHER)

    assert (first, second) == (0, 1)
    assert (rollup.get_deposit_count(), rollup.get_deposits_credited()) == (2, 0)
    assert rollup.get_token_balance(depositor.address) == GRANT - 3 * ETHER
    assert rollup.get_token_balance(rollup.address) == locked + 3 * ETHER
    records = rollup.list_deposits(0, 10)
    assert [(r.index, r.to, r.amount) for r in records] == [
        (0, l1_address(CAROL), 2 * ETHER),
        (1, l1_address(ALICE), ETHER),
    ]
    assert all(0 < r.l1_block <= rollup.w3.eth.block_number for r in records)
    events = rollup.contract.events.Deposited().get_logs(from_block=0)
    assert [(e["args"]["index"], e["args"]["to"], e["args"]["amount"]) for e in events] == [
        (0, l1_address(CAROL), 2 * ETHER),
        (1, l1_address(ALICE), ETHER),
    ]


def test_deposit_of_the_largest_amount_is_accepted(
    w3: Web3, deployer: LocalAccount, depositor: LocalAccount
) -> None:
    deployment = deploy_contracts(
        w3,
        deployer,
        compute_genesis_root(),
        supply=MAX_AMOUNT + 1,
        grants={depositor.address: MAX_AMOUNT},
    )
    client = RollupClient(w3, deployment.rollup, depositor)
    assert client.deposit(l1_address(BOB), MAX_AMOUNT) == 0
    assert (client.get_deposit(0).to, client.get_deposit(0).amount) == (l1_address(BOB), MAX_AMOUNT)


@pytest.mark.parametrize("amount", [0, MAX_AMOUNT + 1])
def test_rejects_a_deposit_of_an_amount_outside_the_range(
    rollup: RollupClient, depositor: LocalAccount, amount: int
) -> None:
    with pytest.raises(L1Revert) as refused:
        as_depositor(rollup, depositor).deposit(l1_address(CAROL), amount)
    assert (refused.value.error, refused.value.error_args) == (
        "InvalidDeposit",
        (l1_address(CAROL), amount),
    )
    assert rollup.get_deposit_count() == 0


def test_rejects_a_deposit_to_the_zero_address(
    rollup: RollupClient, depositor: LocalAccount
) -> None:
    with pytest.raises(L1Revert) as refused:
        as_depositor(rollup, depositor).deposit(ZERO_ADDRESS, ETHER)
    assert (refused.value.error, refused.value.error_args) == (
        "InvalidDeposit",
        (ZERO_ADDRESS, ETHER),
    )


def test_rejects_a_deposit_without_allowance(rollup: RollupClient, depositor: LocalAccount) -> None:
    """Straight to the contract (the client approves first): the token's own refusal."""
    data = rollup.contract.encode_abi("deposit", args=[l1_address(CAROL), ETHER])
    with pytest.raises(L1Revert) as refused:
        send_transaction(
            rollup.w3, depositor, {"to": rollup.address, "data": data}, rollup.error_abi
        )
    assert (refused.value.error, refused.value.error_args) == (
        "InsufficientAllowance",
        (rollup.address, 0, ETHER),
    )
    assert rollup.get_deposit_count() == 0


def test_rejects_a_deposit_beyond_the_balance(rollup: RollupClient) -> None:
    poor = dev_account(2)  # approved, but holds no L1 ZKPoW
    with pytest.raises(L1Revert) as refused:
        as_depositor(rollup, poor).deposit(l1_address(CAROL), ETHER)
    assert (refused.value.error, refused.value.error_args) == (
        "InsufficientBalance",
        (poor.address, 0, ETHER),
    )


def test_reading_a_deposit_not_made_is_an_error(rollup: RollupClient) -> None:
    with pytest.raises(L1Error, match="no deposit number 0"):
        rollup.get_deposit(0)


# -- crediting at settlement ------------------------------------------------------------------


def test_settled_block_credits_the_deposits_in_order(
    rollup: RollupClient, depositor: LocalAccount
) -> None:
    make_deposits(rollup, depositor, 2)
    block = prove_from_genesis(DEPOSIT_BLOCK_STEPS)

    submit(rollup, FIRST, block)

    assert rollup.get_settled_state().root == block.post_root
    assert (rollup.get_deposit_count(), rollup.get_deposits_credited()) == (2, 2)
    assert rollup.get_withdrawal_root(FIRST) is None, "no withdrawal: no root"


def test_blocks_without_deposits_leave_the_credits_alone(
    rollup: RollupClient, depositor: LocalAccount
) -> None:
    make_deposits(rollup, depositor, 2)
    submit(rollup, FIRST, prove_from_genesis(DEPOSIT_BLOCK_STEPS))
    submit(rollup, SECOND, prove_after_deposit_block(((ALICE, Transfer(BOB, ETHER)),)))
    assert rollup.get_deposits_credited() == 2


def test_rejects_a_deposit_op_of_another_amount(
    rollup: RollupClient, depositor: LocalAccount
) -> None:
    make_deposits(rollup, depositor, 1)
    forged = prove_from_genesis((credit(0, amount=3 * ETHER),))
    assert_refused(rollup, FIRST, forged, "DepositMismatch", (0, 0))


def test_rejects_a_deposit_op_to_another_recipient(
    rollup: RollupClient, depositor: LocalAccount
) -> None:
    make_deposits(rollup, depositor, 1)
    forged = prove_from_genesis((credit(0, to=BOB),))
    assert_refused(rollup, FIRST, forged, "DepositMismatch", (0, 0))


def test_rejects_a_deposit_op_with_the_index_of_an_equal_deposit(
    rollup: RollupClient, depositor: LocalAccount
) -> None:
    """Deposits 0 and 1 are the same (recipient, amount): crediting 1 first is still out of
    order, though its recipient and amount are deposit 0's."""
    client = as_depositor(rollup, depositor)
    to, amount = L1_DEPOSITS[0]
    for _ in range(2):
        client.deposit(l1_address(to), amount)
    skipped = prove_from_genesis((credit(1, to=to, amount=amount),))
    assert_refused(rollup, FIRST, skipped, "DepositMismatch", (0, 0))


def test_rejects_deposit_ops_out_of_order(rollup: RollupClient, depositor: LocalAccount) -> None:
    make_deposits(rollup, depositor, 2)
    reordered = prove_from_genesis((credit(1), credit(0)))
    assert_refused(rollup, FIRST, reordered, "DepositMismatch", (0, 0))


def test_rejects_a_deposit_credited_twice_in_a_block(
    rollup: RollupClient, depositor: LocalAccount
) -> None:
    make_deposits(rollup, depositor, 2)
    repeated = prove_from_genesis((credit(0), credit(0)))
    assert_refused(rollup, FIRST, repeated, "DepositMismatch", (1, 1))


def test_rejects_a_deposit_credited_by_an_earlier_block(
    rollup: RollupClient, depositor: LocalAccount
) -> None:
    make_deposits(rollup, depositor, 2)
    submit(rollup, FIRST, prove_from_genesis(DEPOSIT_BLOCK_STEPS))
    again = prove_after_deposit_block((credit(0),))
    assert_refused(rollup, SECOND, again, "DepositMismatch", (0, 2))


def test_rejects_a_deposit_not_made_yet(rollup: RollupClient, depositor: LocalAccount) -> None:
    """The block credits deposits 0 and 1; L1 holds deposit 0 only. Once deposit 1 is made,
    the same block settles."""
    make_deposits(rollup, depositor, 1)
    block = prove_from_genesis(DEPOSIT_BLOCK_STEPS)
    assert_refused(rollup, FIRST, block, "DepositMismatch", (2, 1))

    to, amount = L1_DEPOSITS[1]
    as_depositor(rollup, depositor).deposit(l1_address(to), amount)
    submit(rollup, FIRST, block)
    assert rollup.get_deposits_credited() == 2
