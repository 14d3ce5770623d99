"""Reconstruction (chain/l1/reconstruct.py): the replay of settled calldata without an L1
(blocks made by the real state machine, their words sent through the calldata codec, proofs
left out: the replay never reads them), then the reading of a real anvil's rollup.

Pre-state (a genesis), action (replay the settled blocks), post-state (the root and records
the chain itself reached, or the first op where L1 and the replay part).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import pytest
from web3 import Web3

from chain.config import ZK_MIN_FEE_WEI
from chain.l1.calldata import SettledOp, StateRoot, compute_block_commitment, decode_ops, encode_ops
from chain.l1.deploy import deploy_contracts
from chain.l1.errors import L1Error
from chain.l1.reconstruct import (
    NO_EPOCH,
    L1Unavailable,
    SettledBlock,
    compute_context_from_words,
    compute_final_mismatch,
    compute_operation_from_words,
    compute_replay,
    compute_settled_block,
    reconstruct,
)
from chain.l1.rollup import RollupClient, SettledState, Settlement
from chain.prover.groth16 import PROOF_BYTES, Proof
from chain.testing.proven_blocks import compute_genesis_root
from chain.testing.settlement_gas import settle
from chain.types import Height
from chain.zk.genesis import REWARD_COLLECTION
from chain.zk.ops import (
    Bond,
    Buy,
    CancelListing,
    ClaimStake,
    Deposit,
    Heartbeat,
    ListNft,
    MarketSettle,
    Mint,
    OpBody,
    Operation,
    RegisterKey,
    Release,
    RewardMint,
    SetMinter,
    SettleEntry,
    Slash,
    ToFast,
    Transfer,
    TransferNft,
    Unbond,
    Withdraw,
)
from chain.zk.registry import CIRCUIT_NAMES, WORD_LAYOUTS, unpack_words
from chain.zk.state import BALANCE_OFFSET, ZkState, compute_state_root, list_record_rows
from chain.zk.words import pack_word
from tests.circuits.scenarios import (
    ACTIVE_UNTIL,
    ALICE,
    BOB,
    BOUNTY,
    CAROL,
    CTX,
    ETHER,
    FEE,
    FIRST_REWARD,
    FIRST_SEQ,
    LIST_PRICE,
    MINTER,
    PENALTY,
    REWARD_ROUND,
    REWARDER,
    compute_test_genesis,
    compute_unlocked_ctx,
    make_op,
    run,
)
from tests.integration.support import dev_account
from tests.l1 import harness

DAVE = 0xDA7E00000000000000000000000000000000DA7E  # no account until a release pays him
NO_PROOF = Proof(bytes(PROOF_BYTES))  # the replay never reads a proof: the rollup checked it
# Heights whose epoch (0) is not the one the ops were proven in (CTX's, 1): a mint must
# replay with the epoch of its words.
FIRST_HEIGHT, SECOND_HEIGHT = Height(5), Height(9)
TX_HASHES = {FIRST_HEIGHT: b"\x01" * 32, SECOND_HEIGHT: b"\x02" * 32}

Step = tuple[int | None, OpBody]  # (signer, body); None: unsigned (a message, a deposit)
FIRST_STEPS: list[Step] = [
    (ALICE, Transfer(CAROL, 2 * ETHER)),  # opens Carol's account
    (MINTER, Mint(REWARD_COLLECTION, ALICE, metadata=0xC0FFEE, round=REWARD_ROUND)),
    (ALICE, ListNft(FIRST_REWARD, LIST_PRICE)),
    (BOB, Buy(FIRST_REWARD, LIST_PRICE)),
    (BOB, ListNft(FIRST_REWARD, LIST_PRICE)),
    (BOB, CancelListing(FIRST_REWARD)),
    (BOB, TransferNft(FIRST_REWARD, CAROL)),
    (MINTER, SetMinter(REWARD_COLLECTION, REWARDER, fast_chain=1)),
]
SECOND_STEPS: list[Step] = [
    (None, Release(FIRST_SEQ, DAVE, ETHER)),  # opens Dave's account
    (None, RewardMint(FIRST_SEQ + 1, REWARDER, REWARD_COLLECTION, REWARD_ROUND, BOB, 0xD1CE)),
    (ALICE, RegisterKey(0x5EC2E7)),
    (ALICE, ToFast(CAROL, ETHER)),
    (None, Deposit(0, BOB, ETHER)),  # L1 deposit 0
    (ALICE, Withdraw(harness.L1_RECIPIENT, ETHER)),
    (ALICE, Heartbeat(ACTIVE_UNTIL)),  # prover 0
    (BOB, Heartbeat(ACTIVE_UNTIL)),  # prover 1
    (None, MarketSettle(BOUNTY + FEE, (SettleEntry(0, BOUNTY), SettleEntry(1, -PENALTY)))),
    (BOB, Bond(5 * ETHER)),  # opens Bob's stake account
    (BOB, Unbond(2 * ETHER)),
    (None, Slash(BOB)),
    (BOB, ClaimStake()),  # in the epoch its unbonding unlocks (STEP_CTX)
]
# The context a step runs in, by its body's type, if not CTX's.
STEP_CTX = {ClaimStake: compute_unlocked_ctx()}


def prove_steps(state: ZkState, steps: Sequence[Step]) -> tuple[list[SettledOp], ZkState]:
    """`steps` applied by the chain, each as L1 will hold it (the words of its witness)."""
    ops = []
    for signer, body in steps:
        op = Operation(body, 0, 0, 0) if signer is None else make_op(state, signer, body)
        transition = run(state, op, STEP_CTX.get(type(body), CTX))
        witness = transition.witness
        assert witness.circuit != "ownership"
        post_root, *words = witness.public_inputs[1:]
        ops.append(SettledOp(witness.circuit, StateRoot(post_root), tuple(words), NO_PROOF))
        state = transition.post
    return ops, state


def make_block(height: Height, pre: ZkState, ops: Sequence[SettledOp]) -> SettledBlock:
    """A settled block as the reader gives it: its ops through the calldata codec."""
    pre_root = StateRoot(compute_state_root(pre))
    decoded = decode_ops(encode_ops(ops))
    return SettledBlock(height, pre_root, tuple(decoded), TX_HASHES[height], 100 + height)


def make_blocks() -> tuple[ZkState, list[SettledBlock], ZkState]:
    """Genesis, the two blocks (every circuit at least once), and the chain's own end state."""
    genesis = compute_test_genesis()
    first, middle = prove_steps(genesis, FIRST_STEPS)
    second, end = prove_steps(middle, SECOND_STEPS)
    blocks = [make_block(FIRST_HEIGHT, genesis, first), make_block(SECOND_HEIGHT, middle, second)]
    return genesis, blocks, end


def with_word(block: SettledBlock, op_index: int, word_index: int, **changes: int) -> SettledBlock:
    """`block` with fields of one op's word changed (the rest of its calldata as it was)."""
    op = block.ops[op_index]
    layout = WORD_LAYOUTS[op.circuit][word_index]
    fields = {**unpack_words(op.circuit, op.words), **changes}
    words = list(op.words)
    words[word_index] = pack_word(layout, fields)
    ops = list(block.ops)
    ops[op_index] = replace(op, words=tuple(words))
    return replace(block, ops=tuple(ops))


# -- the replay ---------------------------------------------------------------------------------


def test_replay_of_every_circuit_rebuilds_the_chains_state() -> None:
    genesis, blocks, end = make_blocks()
    assert {op.circuit for block in blocks for op in block.ops} == set(CIRCUIT_NAMES)

    replay = compute_replay(genesis, blocks)

    assert replay.mismatch is None
    assert (replay.height, replay.blocks, replay.ops) == (SECOND_HEIGHT, 2, 21)
    assert replay.root == compute_state_root(end) == blocks[-1].ops[-1].post_root
    assert sorted(list_record_rows(replay.state)) == sorted(list_record_rows(end))
    assert (replay.state.escrow, replay.state.fee_pool, replay.state.inbox) == (
        end.escrow,
        end.fee_pool,
        end.inbox,
    )
    assert replay.state.prover_index == end.prover_index == {ALICE: 0, BOB: 1}


def test_operation_from_words_is_the_signed_operation() -> None:
    genesis = compute_test_genesis()
    (op,), _ = prove_steps(genesis, [FIRST_STEPS[0]])
    fields = unpack_words("transfer", op.words)
    assert compute_operation_from_words("transfer", fields) == make_op(
        genesis, ALICE, Transfer(CAROL, 2 * ETHER)
    )


def test_message_ops_have_no_signer() -> None:
    fields = {"seq": 7, "to": DAVE, "toIndex": 3, "amount": ETHER}
    assert compute_operation_from_words("release", fields) == Operation(
        Release(7, DAVE, ETHER), signer=0, fee=0, nonce=0
    )


def test_settlement_from_words_signs_its_deltas_back() -> None:
    # Each entry's delta travels as delta + 2^127: a penalty comes back negative.
    fields = {
        "paid": BOUNTY,
        "proverIndex0": 0,
        "deltaOffset0": BALANCE_OFFSET + BOUNTY,
        "proverIndex1": 1,
        "deltaOffset1": BALANCE_OFFSET - PENALTY,
    }
    body = MarketSettle(BOUNTY, (SettleEntry(0, BOUNTY), SettleEntry(1, -PENALTY)))
    assert compute_operation_from_words("market_settle", fields) == Operation(body, 0, 0, 0)


def test_invalid_settlement_prover_is_a_mismatch_the_rules_refuse() -> None:
    genesis, (first, second), _ = make_blocks()
    tampered = with_word(second, 8, 1, proverIndex0=5)  # the settlement's first entry

    mismatch = compute_replay(genesis, [first, tampered]).mismatch

    assert mismatch is not None
    assert (mismatch.height, mismatch.op_index) == (SECOND_HEIGHT, 8)
    assert mismatch.reason == "market_settle: the chain's rules refuse it: no prover at index 5"


def test_mint_takes_its_epoch_from_its_words() -> None:
    fields = {"to": ALICE, "tokenKey": FIRST_REWARD, "round": 1, "epoch": 4, "metadata": 1}
    assert compute_context_from_words(FIRST_HEIGHT, fields).epoch == 4
    transfer = {"to": CAROL, "toIndex": 3, "amount": 1}
    assert compute_context_from_words(FIRST_HEIGHT, transfer).epoch == NO_EPOCH


def test_replay_admits_fees_below_the_nodes_minimum() -> None:
    # The minimum fee is admission policy, which no proof covers: the blocks pay FEE.
    assert FEE < ZK_MIN_FEE_WEI
    genesis, blocks, _ = make_blocks()
    assert compute_replay(genesis, blocks).mismatch is None


def test_invalid_amount_word_is_a_mismatch_at_its_op() -> None:
    genesis, (first, second), _ = make_blocks()
    tampered = with_word(second, 3, 2, amount=2 * ETHER)  # to_fast's amount

    replay = compute_replay(genesis, [first, tampered])

    mismatch = replay.mismatch
    assert mismatch is not None
    assert (mismatch.height, mismatch.op_index, mismatch.tx_hash) == (
        SECOND_HEIGHT,
        3,
        b"\x02" * 32,
    )
    assert mismatch.reason.startswith("to_fast: post-root")
    assert (replay.height, replay.blocks, replay.ops) == (FIRST_HEIGHT, 1, 8)
    assert replay.root == second.pre_root


def test_invalid_account_index_is_a_mismatch_of_the_words() -> None:
    # The transfer would go where the state says (Carol's new slot 3), so the root agrees:
    # the words the replay publishes do not.
    genesis, (first, second), _ = make_blocks()
    tampered = with_word(first, 0, 1, toIndex=9)

    mismatch = compute_replay(genesis, [tampered, second]).mismatch

    assert mismatch is not None
    assert (mismatch.height, mismatch.op_index) == (FIRST_HEIGHT, 0)
    assert mismatch.reason.startswith("transfer: words")


def test_invalid_nonce_is_a_mismatch_the_rules_refuse() -> None:
    genesis, (first, second), _ = make_blocks()
    tampered = with_word(first, 2, 0, nonce=5)  # Alice's list: her nonce is 1

    mismatch = compute_replay(genesis, [tampered, second]).mismatch

    assert mismatch is not None
    assert (mismatch.height, mismatch.op_index) == (FIRST_HEIGHT, 2)
    assert (
        mismatch.reason == "list: the chain's rules refuse it: nonce 5 is not the account's nonce 1"
    )


def test_invalid_pre_root_after_a_missing_block() -> None:
    genesis, (_, second), _ = make_blocks()

    replay = compute_replay(genesis, [second])

    assert replay.mismatch is not None
    assert (replay.mismatch.height, replay.mismatch.op_index) == (SECOND_HEIGHT, None)
    assert replay.mismatch.reason.startswith("pre-root")
    assert replay.blocks == 0


def test_final_mismatch_when_l1_settled_beyond_the_replay() -> None:
    genesis, (first, second), end = make_blocks()
    replay = compute_replay(genesis, [first])
    settled = SettledState(SECOND_HEIGHT, StateRoot(compute_state_root(end)), 0, 200)

    mismatch = compute_final_mismatch(replay, settled)

    assert mismatch is not None
    assert mismatch.reason.startswith(f"the replay ends at ZK height {FIRST_HEIGHT}")
    full = compute_replay(genesis, [first, second])
    assert compute_final_mismatch(full, settled) is None


# -- the calldata of a settlement ---------------------------------------------------------------

ROLLUP = Web3.to_checksum_address("0x" + "12" * 20)


def make_settlement(block: SettledBlock) -> tuple[RollupClient, Settlement, dict[str, object]]:
    """A BlockSettled event for `block` and its transaction (no L1: only the ABI is used)."""
    rollup = RollupClient(Web3(), ROLLUP)
    ops_bytes = encode_ops(block.ops)
    post = block.ops[-1].post_root
    header = (block.height, 0, block.pre_root)
    data = rollup.contract.encode_abi("submitBlock", args=[header, ops_bytes, b"", b""])
    commitment = compute_block_commitment(block.pre_root, post, ops_bytes)
    settlement = Settlement(block.height, 1, post, commitment, block.l1_block, block.tx_hash)
    return rollup, settlement, {"to": ROLLUP, "input": data}


def test_settled_block_is_read_from_its_transactions_calldata() -> None:
    _, (first, _), _ = make_blocks()
    rollup, settlement, tx = make_settlement(first)
    assert compute_settled_block(rollup, settlement, tx) == first


def test_rejects_calldata_that_is_not_the_block_its_event_settled() -> None:
    _, (first, second), _ = make_blocks()
    rollup, settlement, _ = make_settlement(first)
    _, _, other_tx = make_settlement(second)
    with pytest.raises(L1Error, match="not the block that its event settled"):
        compute_settled_block(rollup, settlement, other_tx)


def test_rejects_a_settlement_sent_through_another_contract() -> None:
    _, (first, _), _ = make_blocks()
    rollup, settlement, tx = make_settlement(first)
    with pytest.raises(L1Error, match="not the rollup: its calldata is not here"):
        compute_settled_block(
            rollup, settlement, {**tx, "to": Web3.to_checksum_address("0x" + "34" * 20)}
        )


# -- a real anvil -------------------------------------------------------------------------------


def test_reconstruct_reads_the_rollup_on_anvil(l1_url: str, w3: Web3) -> None:
    deployer = dev_account(0)
    first, mixed = harness.get_first_block(), harness.get_mixed_block()
    deployment = deploy_contracts(w3, deployer, first.pre_root)
    rollup = RollupClient(w3, deployment.rollup, deployer)
    settle(rollup, Height(3), first.pre_root, first.ops)
    settle(rollup, Height(7), mixed.pre_root, mixed.ops)
    phases: set[str] = set()

    result = reconstruct(
        l1_url,
        deployment.rollup,
        genesis=harness.compute_genesis(),
        progress=lambda phase, done, total: phases.add(phase),
    )

    assert result.matches, result.mismatch
    assert result.from_block == deployment.block  # the rollup's scheduleStart
    assert (result.settled.height, result.settled.root) == (Height(7), mixed.post_root)
    assert (result.replay.blocks, result.replay.ops) == (2, len(first.ops) + len(mixed.ops))
    assert sorted(list_record_rows(result.replay.state)) == sorted(list_record_rows(mixed.post))
    assert phases == {"events", "blocks"}


def test_reconstruct_of_another_networks_rollup_is_a_genesis_mismatch(
    l1_url: str, w3: Web3
) -> None:
    deployment = deploy_contracts(w3, dev_account(0), compute_genesis_root())
    result = reconstruct(l1_url, deployment.rollup)  # the dev genesis: not this rollup's
    assert not result.matches
    assert result.mismatch is not None and result.mismatch.reason.startswith("genesis root")


def test_rejects_an_address_without_a_rollup(l1_url: str) -> None:
    with pytest.raises(L1Unavailable, match="no contract at"):
        reconstruct(l1_url, "0x" + "00" * 19 + "ab")


def test_rejects_an_l1_that_does_not_answer() -> None:
    with pytest.raises(L1Unavailable, match="cannot read L1"):
        reconstruct("http://127.0.0.1:1/", "0x" + "00" * 19 + "ab")
