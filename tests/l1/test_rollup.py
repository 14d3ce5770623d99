"""The rollup on a real anvil: a block settles when its statements chain from the settled root
and its proofs pass one batched check; anything else is refused with its named error and
leaves the settled state as it was.

Blocks (tests/l1/harness.py): the first has two transfers from genesis; the mixed one, next,
has six circuits (mint, list, buy, transfer_nft, register_key, to_fast), one op each.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from eth_account.signers.local import LocalAccount
from py_ecc import optimized_bn128 as bn128
from web3 import Web3

from chain.l1.calldata import (
    L1_CIRCUIT_NAMES,
    SettledOp,
    StateRoot,
    compute_block_commitment,
    encode_ops,
    get_circuit_id,
)
from chain.l1.deploy import deploy_contracts
from chain.l1.errors import L1Revert
from chain.l1.keys import load_ceremony_keys
from chain.l1.rollup import RollupClient
from chain.testing.proven_blocks import compute_genesis_root
from chain.testing.settlement_gas import settle
from chain.types import Height
from chain.zk.poseidon import FIELD_MODULUS
from tests.l1.harness import (
    ProvenBlock,
    flip_byte,
    from_jacobian,
    get_first_block,
    get_mixed_block,
    replace_proof,
    scale_c,
    shift_c,
)

FIRST = Height(1)
SECOND = Height(2)
SHIFT = from_jacobian(bn128.multiply(bn128.G1, 7))  # any point: what forged Cs trade


def submit(rollup: RollupClient, height: Height, block: ProvenBlock) -> None:
    settle(rollup, height, block.pre_root, block.ops)


def assert_refused(
    rollup: RollupClient,
    error: str,
    height: Height,
    pre_root: StateRoot,
    ops: bytes | list[SettledOp] | tuple[SettledOp, ...],
    args: tuple[object, ...] | None = None,
) -> None:
    """The submission reverts with `error` (and `args`), and nothing settled moves."""
    before = (rollup.get_settled_height(), rollup.get_settled_root())
    with pytest.raises(L1Revert) as refused:
        settle(rollup, height, pre_root, ops if isinstance(ops, bytes) else list(ops))
    assert refused.value.error == error, refused.value
    if args is not None:
        assert refused.value.error_args == args
    assert (rollup.get_settled_height(), rollup.get_settled_root()) == before


# -- blocks that settle ---------------------------------------------------------------------


def test_block_of_one_op_settles(rollup: RollupClient) -> None:
    block = get_first_block()
    op = block.ops[0]
    assert rollup.get_settled_root() == compute_genesis_root()
    assert rollup.get_settled_height() == 0

    receipt = settle(rollup, FIRST, block.pre_root, [op])

    assert rollup.get_settled_root() == op.post_root
    assert rollup.get_settled_height() == FIRST
    commitment = compute_block_commitment(block.pre_root, op.post_root, encode_ops([op]))
    assert rollup.get_block_commitment(FIRST) == commitment
    (event,) = rollup.contract.events.BlockSettled().process_receipt(receipt)
    assert event["args"]["height"] == FIRST
    assert event["args"]["postRoot"] == op.post_root
    assert event["args"]["commitment"] == commitment


def test_blocks_of_several_ops_and_mixed_circuits_settle_in_turn(rollup: RollupClient) -> None:
    first, mixed = get_first_block(), get_mixed_block()
    assert len({op.circuit for op in mixed.ops}) == len(mixed.ops) == 6

    submit(rollup, FIRST, first)
    assert rollup.get_settled_root() == first.post_root
    submit(rollup, SECOND, mixed)

    assert rollup.get_settled_root() == mixed.post_root
    assert rollup.get_settled_height() == SECOND
    assert rollup.get_block_commitment(SECOND) == compute_block_commitment(
        mixed.pre_root, mixed.post_root, mixed.calldata
    )


def test_dev_ceremony_gives_each_circuit_its_own_delta_group(rollup: RollupClient) -> None:
    """The dev ceremony's zkey beacon is each circuit's own, so no two keys share δ: a block
    of n ops over g circuits needs n + 2 + g pairings."""
    ids = range(len(L1_CIRCUIT_NAMES))
    groups = [rollup.contract.functions.circuitKey(i).call()[1] for i in ids]
    assert groups == list(ids)


def test_block_over_two_delta_groups_settles(w3: Web3, deployer: LocalAccount) -> None:
    """Keys with another δ make their own group, paired apart: mint's key gets δ' = s·δ, and
    its proof C' = s⁻¹·C (e(C', δ') = e(C, δ)), a proof valid under that key alone."""
    s = 5
    keys = load_ceremony_keys()
    mint = get_circuit_id("mint")
    keys[mint] = {**keys[mint], "vk_delta_2": scale_g2(keys[mint]["vk_delta_2"], s)}
    rollup = RollupClient(
        w3, deploy_contracts(w3, deployer, compute_genesis_root(), keys=keys).rollup, deployer
    )
    assert rollup.contract.functions.circuitKey(mint).call()[1] == mint
    submit(rollup, FIRST, get_first_block())
    mixed = get_mixed_block()
    unscaled = list(mixed.ops)

    assert_refused(rollup, "InvalidProofBatch", SECOND, mixed.pre_root, unscaled)
    scaled = [
        scale_c(op, pow(s, -1, bn128.curve_order)) if op.circuit == "mint" else op
        for op in unscaled
    ]
    settle(rollup, SECOND, mixed.pre_root, scaled)
    assert rollup.get_settled_root() == mixed.post_root


def scale_g2(point: list[list[str]], scalar: int) -> list[list[str]]:
    """A snarkjs G2 point (real part first) times `scalar`."""
    (x0, x1), (y0, y1), _ = ((int(a), int(b)) for a, b in point)
    jacobian = (bn128.FQ2([x0, x1]), bn128.FQ2([y0, y1]), bn128.FQ2.one())
    x, y = bn128.normalize(bn128.multiply(jacobian, scalar))
    return [[str(c) for c in x.coeffs], [str(c) for c in y.coeffs], ["1", "0"]]


# -- forged proofs and statements -----------------------------------------------------------


def test_rejects_a_proof_with_one_byte_changed(rollup: RollupClient) -> None:
    block = get_first_block()
    for index in (0, 100, 255):  # A.x, inside B, C.y
        forged = [block.ops[0], flip_byte(block.ops[1], index)]
        assert_refused(rollup, "InvalidProofBatch", FIRST, block.pre_root, forged)


def test_rejects_a_valid_proof_of_another_statement(rollup: RollupClient) -> None:
    """Op 1's slot holds op 0's proof: a true proof, of another transfer."""
    block = get_first_block()
    forged = [block.ops[0], replace_proof(block.ops[1], block.ops[0].proof.blob)]
    assert_refused(rollup, "InvalidProofBatch", FIRST, block.pre_root, forged)


def test_rejects_proofs_whose_errors_cancel_in_a_plain_sum(rollup: RollupClient) -> None:
    """C_0 + D and C_1 - D: both proofs false, yet their plain sum is the true one. Only the
    random coefficients r_j catch it (with every r_j = 1 this block would settle)."""
    block = get_first_block()
    forged = [shift_c(block.ops[0], SHIFT, +1), shift_c(block.ops[1], SHIFT, -1)]
    assert_refused(rollup, "InvalidProofBatch", FIRST, block.pre_root, forged)


def test_rejects_a_tampered_post_root_inside_the_block(rollup: RollupClient) -> None:
    """Op 0's post-root is op 1's pre-root: changing it breaks both statements."""
    block = get_first_block()
    forged = [replace(block.ops[0], post_root=StateRoot(block.ops[0].post_root ^ 1)), block.ops[1]]
    assert_refused(rollup, "InvalidProofBatch", FIRST, block.pre_root, forged)


def test_rejects_a_tampered_last_post_root(rollup: RollupClient) -> None:
    """The root the block would settle: a false one must not get onto L1."""
    block = get_first_block()
    forged = [block.ops[0], replace(block.ops[1], post_root=StateRoot(12345))]
    assert_refused(rollup, "InvalidProofBatch", FIRST, block.pre_root, forged)


def test_rejects_a_tampered_word(rollup: RollupClient) -> None:
    """A transfer's amount (w3) raised: the proof is of the true amount."""
    block = get_first_block()
    op = block.ops[1]
    forged = [block.ops[0], replace(op, words=(*op.words[:2], op.words[2] + 1))]
    assert_refused(rollup, "InvalidProofBatch", FIRST, block.pre_root, forged)


# -- wrong place in the chain -----------------------------------------------------------------


def test_rejects_a_block_that_starts_from_another_root(rollup: RollupClient) -> None:
    """Block 2's ops submitted as block 1: they start from block 1's root, not genesis."""
    mixed = get_mixed_block()
    assert_refused(
        rollup,
        "WrongPreRoot",
        FIRST,
        mixed.pre_root,
        mixed.ops,
        (compute_genesis_root(), mixed.pre_root),
    )


def test_rejects_a_block_that_claims_the_settled_root_falsely(rollup: RollupClient) -> None:
    """Block 2's ops claimed to start from genesis: their first statement does not."""
    mixed = get_mixed_block()
    assert_refused(rollup, "InvalidProofBatch", FIRST, compute_genesis_root(), mixed.ops)


def test_rejects_a_replayed_block(rollup: RollupClient) -> None:
    block = get_first_block()
    submit(rollup, FIRST, block)
    assert_refused(rollup, "BlockAlreadySettled", FIRST, block.pre_root, block.ops, (FIRST, FIRST))
    # The same ops as the next block: the height is right, their pre-root is not.
    assert_refused(rollup, "WrongPreRoot", SECOND, block.pre_root, block.ops)


def test_block_after_empty_heights_settles(rollup: RollupClient) -> None:
    """ZK blocks 1 to 4 held no operation (the root stayed at genesis): block 5 settles
    straight from genesis, and the next one after a gap again."""
    first, mixed = get_first_block(), get_mixed_block()
    submit(rollup, Height(5), first)
    assert (rollup.get_settled_height(), rollup.get_settled_root()) == (5, first.post_root)
    submit(rollup, Height(9), mixed)
    assert (rollup.get_settled_height(), rollup.get_settled_root()) == (9, mixed.post_root)
    assert rollup.get_block_commitment(Height(7)) == bytes(32), "a skipped height has none"


def test_rejects_a_replay_below_a_skipped_height(rollup: RollupClient) -> None:
    block = get_first_block()
    submit(rollup, Height(5), block)
    assert_refused(
        rollup, "BlockAlreadySettled", Height(3), block.pre_root, block.ops, (Height(3), Height(5))
    )


def test_rejects_a_block_that_skips_one_that_changed_the_root(rollup: RollupClient) -> None:
    """Block 2 (mixed) submitted while block 1 (first), which moved the root, is unsettled:
    skipping a height is free only where the root stayed the same."""
    mixed = get_mixed_block()
    assert_refused(
        rollup,
        "WrongPreRoot",
        SECOND,
        mixed.pre_root,
        mixed.ops,
        (compute_genesis_root(), mixed.pre_root),
    )


# -- malformed calldata -----------------------------------------------------------------------


def test_rejects_an_empty_block(rollup: RollupClient) -> None:
    assert_refused(rollup, "EmptyBlock", FIRST, compute_genesis_root(), b"", ())


def test_rejects_ops_of_the_wrong_length(rollup: RollupClient) -> None:
    block = get_first_block()
    data = block.calldata
    assert_refused(rollup, "TruncatedOps", FIRST, block.pre_root, data[:-1], (1,))
    assert_refused(rollup, "TruncatedOps", FIRST, block.pre_root, data + b"\x00", (2,))


def test_rejects_an_unknown_circuit_id(rollup: RollupClient) -> None:
    block = get_first_block()
    data = bytearray(block.calldata)
    second = len(encode_ops(block.ops[:1]))
    data[second] = len(L1_CIRCUIT_NAMES)
    assert_refused(
        rollup, "UnknownCircuit", FIRST, block.pre_root, bytes(data), (1, len(L1_CIRCUIT_NAMES))
    )


def test_rejects_inputs_outside_the_field(rollup: RollupClient) -> None:
    """x + R would prove the same as x: L1 takes only the canonical x."""
    block = get_first_block()
    first, second = block.ops
    post = first.post_root + FIELD_MODULUS
    data = encode_raw(first, post_root=post) + encode_ops([second])
    assert_refused(rollup, "InputNotInField", FIRST, block.pre_root, data, (0, 1))
    word = second.words[2] + FIELD_MODULUS
    data = encode_ops([first]) + encode_raw(second, words=(*second.words[:2], word))
    assert_refused(rollup, "InputNotInField", FIRST, block.pre_root, data, (1, 4))


def encode_raw(
    op: SettledOp, post_root: int | None = None, words: tuple[int, ...] | None = None
) -> bytes:
    """An op's bytes with no range checks (encode_ops refuses values outside the field)."""
    values = [
        op.post_root if post_root is None else post_root,
        *(op.words if words is None else words),
    ]
    body = b"".join(value.to_bytes(32, "big") for value in values)
    return bytes([get_circuit_id(op.circuit)]) + body + op.proof.blob
