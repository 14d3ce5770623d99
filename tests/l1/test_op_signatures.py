"""Signed operations checked at settlement, on a real anvil (docs/l1.md, "Signed
operations"): the rollup rebuilds each signed operation's EIP-712 digest from its public
words and requires its signature, from `signatures`, to recover to the `from` of its first
word. A party with valid proofs and the sequencer's own key still cannot settle a Withdraw or
a Transfer that its `from` never signed.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import to_checksum_address
from web3 import Web3

from chain.l1.calldata import SettledOp
from chain.l1.deploy import deploy_contracts
from chain.l1.errors import L1Revert
from chain.l1.op_signing import compute_op_digest, compute_signing_table, sign_op_digest
from chain.l1.rollup import RollupClient
from chain.prover.groth16 import WORD_BYTES
from chain.testing.proven_blocks import compute_genesis_root, compute_genesis_supply
from chain.testing.settlement_gas import dev_sequencer_keys, get_from, settle, sign_ops
from chain.types import Height
from chain.zk.signing import SigningDomain
from tests.circuits.scenarios import ALICE, BOB, ETHER, SIGNER_KEYS
from tests.integration.support import dev_account
from tests.l1.harness import (
    DEPOSIT_BLOCK_STEPS,
    L1_DEPOSITS,
    WITHDRAW_BLOCK_STEPS,
    get_first_block,
    get_mixed_block,
    prove_after_deposit_block,
    prove_from_genesis,
)

SIGNATURE_BYTES = 65


def assert_refused(rollup: RollupClient, error: str, submit: Callable[[], object]) -> L1Revert:
    before = (rollup.get_settlement_count(), rollup.get_settled_root())
    with pytest.raises(L1Revert) as refused:
        submit()
    assert refused.value.error == error, refused.value
    assert (rollup.get_settlement_count(), rollup.get_settled_root()) == before
    return refused.value


def sign_with(domain: SigningDomain, op: SettledOp, key: bytes) -> bytes:
    return sign_op_digest(compute_op_digest(domain, op.circuit, op.words), key)


def test_the_contract_reads_every_signed_circuit_as_python_does(rollup: RollupClient) -> None:
    domain = rollup.get_domain()
    ops = [*get_first_block().ops, *get_mixed_block().ops]
    ops += list(prove_after_deposit_block(WITHDRAW_BLOCK_STEPS).ops)
    checked = set()
    for op in ops:
        table = compute_signing_table(op.circuit)
        if table is None:
            continue
        words = b"".join(w.to_bytes(WORD_BYTES, "big") for w in op.words)
        on_chain = rollup.contract.functions.opDigest(
            table.type_hash, table.pack_fields(), words
        ).call()
        assert bytes(on_chain) == compute_op_digest(domain, op.circuit, op.words), op.circuit
        checked.add(op.circuit)
    assert checked >= {"transfer", "mint", "list", "buy", "transfer_nft", "withdraw"}


def test_a_block_of_signed_ops_settles_with_their_signatures(rollup: RollupClient) -> None:
    mixed = get_mixed_block()
    settle(rollup, Height(1), get_first_block().pre_root, get_first_block().ops)
    settle(rollup, Height(2), mixed.pre_root, mixed.ops)
    assert rollup.get_settled_root() == mixed.post_root


def test_unsigned_ops_need_no_signature(w3: Web3, deployer: LocalAccount) -> None:
    """Deposits are unsigned: the block's one transfer holds its only signature."""
    depositor = dev_account(1)
    deployment = deploy_contracts(
        w3,
        deployer,
        compute_genesis_root(),
        backing=compute_genesis_supply(),
        grants={depositor.address: 10 * ETHER},
    )
    rollup = RollupClient(w3, deployment.rollup, deployer)
    for to, amount in L1_DEPOSITS:
        RollupClient(w3, deployment.rollup, depositor).deposit(
            to_checksum_address(to.to_bytes(20, "big")), amount
        )
    block = prove_from_genesis(DEPOSIT_BLOCK_STEPS)
    signatures = sign_ops(rollup.get_domain(), block.ops)
    assert len(signatures) == SIGNATURE_BYTES
    settle(rollup, Height(1), block.pre_root, block.ops, signatures=signatures)
    assert rollup.get_settled_root() == block.post_root


def test_refuses_a_withdraw_its_from_never_signed(rollup: RollupClient) -> None:
    """The sequencer's own key, valid proofs, and a Withdraw of Alice's to its recipient."""
    block = prove_from_genesis(WITHDRAW_BLOCK_STEPS)
    domain = rollup.get_domain()
    sequencer = dev_sequencer_keys()[0]
    forged = sign_with(domain, block.ops[0], sequencer) + sign_ops(domain, block.ops[1:])
    refusal = assert_refused(
        rollup,
        "NotSignedByFrom",
        lambda: settle(rollup, Height(1), block.pre_root, block.ops, signatures=forged),
    )
    op, from_, signer = refusal.error_args
    assert op == 0 and int(from_, 16) == get_from(block.ops[0])
    assert signer == Account.from_key(sequencer).address


def test_refuses_a_transfer_signed_by_another_account(rollup: RollupClient) -> None:
    first = get_first_block()
    domain = rollup.get_domain()
    bob_signs_alices = sign_with(domain, first.ops[0], SIGNER_KEYS[BOB])
    signatures = bob_signs_alices + sign_ops(domain, first.ops[1:])
    refusal = assert_refused(
        rollup,
        "NotSignedByFrom",
        lambda: settle(rollup, Height(1), first.pre_root, first.ops, signatures=signatures),
    )
    op, from_, signer = refusal.error_args
    assert (op, int(from_, 16), int(signer, 16)) == (0, ALICE, BOB)


def test_refuses_a_signature_of_another_op_by_the_same_signer(rollup: RollupClient) -> None:
    """Alice's signature of one transfer does not settle another of hers (another nonce)."""
    chain = prove_from_genesis(WITHDRAW_BLOCK_STEPS)  # Alice's are ops 0 and 3
    domain = rollup.get_domain()
    first_sig = sign_ops(domain, chain.ops[:1])
    swapped = first_sig + sign_ops(domain, chain.ops[1:3]) + first_sig
    refusal = assert_refused(
        rollup,
        "NotSignedByFrom",
        lambda: settle(rollup, Height(1), chain.pre_root, chain.ops, signatures=swapped),
    )
    assert refusal.error_args[0] == 3


def test_refuses_a_signature_made_for_another_rollup(rollup: RollupClient) -> None:
    first = get_first_block()
    domain = rollup.get_domain()
    elsewhere = SigningDomain(domain.chain_id, "0x" + "42" * 20)
    replayed = sign_ops(elsewhere, first.ops)
    assert_refused(
        rollup,
        "NotSignedByFrom",
        lambda: settle(rollup, Height(1), first.pre_root, first.ops, signatures=replayed),
    )


def test_refuses_missing_and_unused_signatures(rollup: RollupClient) -> None:
    first = get_first_block()
    signatures = sign_ops(rollup.get_domain(), first.ops)
    refusal = assert_refused(
        rollup,
        "MissingSignature",
        lambda: settle(
            rollup, Height(1), first.pre_root, first.ops, signatures=signatures[:SIGNATURE_BYTES]
        ),
    )
    assert refusal.error_args == (1,)
    extra = signatures + signatures[:SIGNATURE_BYTES]
    refusal = assert_refused(
        rollup,
        "UnusedSignatures",
        lambda: settle(rollup, Height(1), first.pre_root, first.ops, signatures=extra),
    )
    assert refusal.error_args == (len(signatures), len(extra))
