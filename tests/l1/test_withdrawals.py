"""Withdrawals on a real anvil: each withdraw op of a settled block becomes a leaf of that
block's withdrawals root, and `claimWithdrawal` pays a leaf to its L1 recipient, once, out of
the ZKPoW the rollup holds (docs/l1.md, "Withdrawals"). And chain/l1/withdrawals.py, the
Python side of the tree, against the contract's own results.
"""

from __future__ import annotations

import random

import pytest
from eth_account.signers.local import LocalAccount
from eth_typing import ChecksumAddress
from eth_utils import keccak, to_checksum_address
from web3 import Web3
from web3.logs import DISCARD

from chain.l1.deploy import deploy_contracts
from chain.l1.errors import L1Error, L1Revert
from chain.l1.rollup import RollupClient
from chain.l1.withdrawals import (
    Withdrawal,
    compute_root_from_proof,
    compute_withdrawal_leaf,
    compute_withdrawal_proof,
    compute_withdrawals_root,
    list_withdrawals,
)
from chain.testing.proven_blocks import compute_genesis_root, compute_genesis_supply
from chain.testing.settlement_gas import settle
from chain.types import Height, Wei
from tests.circuits.scenarios import ETHER
from tests.integration.support import dev_account
from tests.l1.harness import (
    L1_DEPOSITS,
    L1_OTHER_RECIPIENT,
    L1_RECIPIENT,
    ROUND_TRIP_STEPS,
    WITHDRAW_BLOCK_STEPS,
    ProvenBlock,
    get_first_block,
    prove_from_genesis,
)

HEIGHT = Height(3)
RECIPIENT = to_checksum_address(L1_RECIPIENT.to_bytes(20, "big"))
OTHER_RECIPIENT = to_checksum_address(L1_OTHER_RECIPIENT.to_bytes(20, "big"))


@pytest.fixture
def rollup(w3: Web3, deployer: LocalAccount) -> RollupClient:
    """A rollup holding the genesis supply as backing."""
    deployment = deploy_contracts(
        w3, deployer, compute_genesis_root(), backing=compute_genesis_supply()
    )
    return RollupClient(w3, deployment.rollup, deployer)


@pytest.fixture
def settled(rollup: RollupClient) -> list[Withdrawal]:
    """The withdrawal block settled at HEIGHT; its withdrawals."""
    block = get_withdraw_block()
    settle(rollup, HEIGHT, block.pre_root, block.ops)
    return list_withdrawals(HEIGHT, block.ops)


def get_withdraw_block() -> ProvenBlock:
    return prove_from_genesis(WITHDRAW_BLOCK_STEPS)


def as_claimer(rollup: RollupClient) -> RollupClient:
    """Anyone may claim: a claim pays the withdrawal's recipient, not its sender."""
    return RollupClient(rollup.w3, rollup.address, dev_account(3))


def get_leaves(withdrawals: list[Withdrawal]) -> list[bytes]:
    return [compute_withdrawal_leaf(w) for w in withdrawals]


def claim(rollup: RollupClient, withdrawals: list[Withdrawal], position: int) -> None:
    proof = compute_withdrawal_proof(get_leaves(withdrawals), position)
    as_claimer(rollup).claim_withdrawal(withdrawals[position], proof)


def assert_claim_refused(
    rollup: RollupClient,
    withdrawal: Withdrawal,
    proof: list[bytes],
    error: str,
    args: tuple[object, ...] = (),
) -> None:
    balance = rollup.get_token_balance(rollup.address)
    with pytest.raises(L1Revert) as refused:
        as_claimer(rollup).claim_withdrawal(withdrawal, proof)
    assert (refused.value.error, refused.value.error_args) == (error, args)
    assert rollup.get_token_balance(rollup.address) == balance


# -- settlement -------------------------------------------------------------------------------


def test_settled_block_keeps_the_root_of_its_withdrawals(rollup: RollupClient) -> None:
    block = get_withdraw_block()
    receipt = settle(rollup, HEIGHT, block.pre_root, block.ops)

    withdrawals = list_withdrawals(HEIGHT, block.ops)
    assert [(w.position, w.to, w.amount) for w in withdrawals] == [
        (0, RECIPIENT, 3 * ETHER),
        (1, OTHER_RECIPIENT, ETHER),
        (2, RECIPIENT, 2 * ETHER),
    ]
    root = compute_withdrawals_root(get_leaves(withdrawals))
    assert rollup.get_withdrawal_root(HEIGHT) == root
    (event,) = rollup.contract.events.WithdrawalsSettled().process_receipt(receipt, errors=DISCARD)
    assert (event["args"]["height"], event["args"]["root"], event["args"]["count"]) == (
        HEIGHT,
        root,
        3,
    )


def test_block_without_withdrawals_has_no_root(rollup: RollupClient) -> None:
    block = get_first_block()
    receipt = settle(rollup, HEIGHT, block.pre_root, block.ops)
    assert rollup.get_withdrawal_root(HEIGHT) is None
    assert not rollup.contract.events.WithdrawalsSettled().process_receipt(receipt, errors=DISCARD)


# -- claims ----------------------------------------------------------------------------------


def test_claims_pay_each_withdrawal_to_its_recipient(
    rollup: RollupClient, settled: list[Withdrawal]
) -> None:
    backing = rollup.get_token_balance(rollup.address)
    for withdrawal in settled:
        assert not rollup.is_withdrawal_claimed(HEIGHT, withdrawal.position)
        claim(rollup, settled, withdrawal.position)
        assert rollup.is_withdrawal_claimed(HEIGHT, withdrawal.position)

    assert rollup.get_token_balance(RECIPIENT) == 5 * ETHER
    assert rollup.get_token_balance(OTHER_RECIPIENT) == ETHER
    assert rollup.get_token_balance(dev_account(3).address) == 0, "the claimer gets nothing"
    assert rollup.get_token_balance(rollup.address) == backing - 6 * ETHER
    events = rollup.contract.events.WithdrawalClaimed().get_logs(from_block=0)
    assert [
        (e["args"]["height"], e["args"]["position"], e["args"]["to"], e["args"]["amount"])
        for e in events
    ] == [(HEIGHT, w.position, w.to, w.amount) for w in settled]


def test_rejects_a_second_claim(rollup: RollupClient, settled: list[Withdrawal]) -> None:
    claim(rollup, settled, 1)
    proof = compute_withdrawal_proof(get_leaves(settled), 1)
    assert_claim_refused(rollup, settled[1], proof, "WithdrawalAlreadyClaimed", (HEIGHT, 1))
    assert rollup.get_token_balance(OTHER_RECIPIENT) == ETHER


def test_rejects_a_claim_with_a_wrong_proof(
    rollup: RollupClient, settled: list[Withdrawal]
) -> None:
    proof = compute_withdrawal_proof(get_leaves(settled), 0)
    for level in range(len(proof)):
        wrong = [*proof[:level], keccak(proof[level]), *proof[level + 1 :]]
        assert_claim_refused(rollup, settled[0], wrong, "InvalidWithdrawalProof")
    assert_claim_refused(rollup, settled[0], proof[:-1], "InvalidWithdrawalProof")
    assert_claim_refused(rollup, settled[0], [*proof, bytes(32)], "InvalidWithdrawalProof")
    other = compute_withdrawal_proof(get_leaves(settled), 1)
    assert_claim_refused(rollup, settled[0], other, "InvalidWithdrawalProof")


def test_rejects_a_claim_of_another_amount_or_recipient_or_position(
    rollup: RollupClient, settled: list[Withdrawal]
) -> None:
    withdrawal = settled[0]
    proof = compute_withdrawal_proof(get_leaves(settled), 0)
    forged = [
        Withdrawal(HEIGHT, 0, withdrawal.to, Wei(withdrawal.amount + 1)),
        Withdrawal(HEIGHT, 0, dev_account(3).address, withdrawal.amount),
        Withdrawal(HEIGHT, 2, withdrawal.to, withdrawal.amount),
        Withdrawal(HEIGHT, 4, withdrawal.to, withdrawal.amount),  # beyond the tree's depth
        Withdrawal(HEIGHT, 3, withdrawal.to, withdrawal.amount),  # the padding leaf's place
    ]
    for wrong in forged:
        assert_claim_refused(rollup, wrong, proof, "InvalidWithdrawalProof")
    assert not rollup.is_withdrawal_claimed(HEIGHT, 0)


def test_rejects_a_claim_at_a_height_without_withdrawals(
    rollup: RollupClient, settled: list[Withdrawal]
) -> None:
    """The same leaf and proof at an unsettled height, and at a skipped one below it."""
    proof = compute_withdrawal_proof(get_leaves(settled), 0)
    for height in (Height(HEIGHT + 1), Height(HEIGHT - 1)):
        moved = Withdrawal(height, 0, settled[0].to, settled[0].amount)
        assert_claim_refused(rollup, moved, proof, "InvalidWithdrawalProof")


def test_deposit_credited_and_withdrawn_in_one_block(w3: Web3, deployer: LocalAccount) -> None:
    """L1 → ZK → L1: Carol's deposit is credited and half of it withdrawn in the same block,
    then claimed on L1."""
    depositor = dev_account(1)
    deployment = deploy_contracts(
        w3, deployer, compute_genesis_root(), grants={depositor.address: 10 * ETHER}
    )
    to, amount = L1_DEPOSITS[0]
    RollupClient(w3, deployment.rollup, depositor).deposit(address_of(to), amount)
    assert amount > ETHER
    rollup = RollupClient(w3, deployment.rollup, deployer)
    block = prove_from_genesis(ROUND_TRIP_STEPS)

    settle(rollup, HEIGHT, block.pre_root, block.ops)
    (withdrawal,) = list_withdrawals(HEIGHT, block.ops)
    rollup.claim_withdrawal(withdrawal, [])

    assert rollup.get_deposits_credited() == 1
    assert rollup.get_token_balance(RECIPIENT) == ETHER
    assert rollup.get_token_balance(rollup.address) == amount - ETHER


def address_of(value: int) -> ChecksumAddress:
    return to_checksum_address(value.to_bytes(20, "big"))


# -- the tree, against the contract ----------------------------------------------------------


def random_leaves(count: int, seed: int) -> list[bytes]:
    rng = random.Random(seed)
    return [rng.randbytes(32) for _ in range(count)]


@pytest.mark.parametrize("count", [0, 1, 2, 3, 4, 5, 7, 8, 9, 16, 33])
def test_withdrawals_root_is_the_contracts(rollup: RollupClient, count: int) -> None:
    leaves = random_leaves(count, count)
    on_l1 = bytes(rollup.contract.functions.computeWithdrawalsRoot(leaves).call())
    assert compute_withdrawals_root(leaves) == on_l1


@pytest.mark.parametrize("count", [1, 2, 3, 5, 8, 9])
def test_every_proof_leads_to_the_root(count: int) -> None:
    leaves = random_leaves(count, 100 + count)
    root = compute_withdrawals_root(leaves)
    for position, leaf in enumerate(leaves):
        proof = compute_withdrawal_proof(leaves, position)
        assert len(proof) == (count - 1).bit_length()
        assert compute_root_from_proof(leaf, position, proof) == root
        if count > 1:
            assert compute_root_from_proof(leaf, position ^ 1, proof) != root


def test_root_of_one_leaf_is_the_leaf() -> None:
    (leaf,) = random_leaves(1, 7)
    assert compute_withdrawals_root([leaf]) == leaf
    assert compute_withdrawal_proof([leaf], 0) == []


def test_invalid_proof_positions_are_refused() -> None:
    leaves = random_leaves(3, 3)
    with pytest.raises(L1Error, match="no withdrawal at position 3"):
        compute_withdrawal_proof(leaves, 3)
    proof = compute_withdrawal_proof(leaves, 0)
    with pytest.raises(L1Error, match="does not fit"):
        compute_root_from_proof(leaves[0], 4, proof)


def test_leaf_is_the_abi_encoding_the_contract_hashes() -> None:
    withdrawal = Withdrawal(Height(9), 2, RECIPIENT, Wei(5))
    encoded = b"".join(value.to_bytes(32, "big") for value in (9, 2, L1_RECIPIENT, 5))
    assert compute_withdrawal_leaf(withdrawal) == keccak(encoded)
