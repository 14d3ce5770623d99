"""Proven ZK blocks for the settlement tests, and the forgeries they must refuse.

The blocks, settling and gas measurement are the benchmark's too and live in the package
(`chain.testing.proven_blocks`, `chain.testing.settlement_gas`); this module holds the fixed
blocks the L1 tests settle, forged proofs, and refusals of forced withdrawals.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from functools import cache

from py_ecc import optimized_bn128 as bn128
from web3 import Web3

from chain.l1.calldata import SettledOp, StateRoot
from chain.prover.escape import compute_refusal_inputs_for_words
from chain.prover.groth16 import WORD_BYTES, Proof, load_circuit, prove
from chain.testing.proven_blocks import (
    NO_SIGNER,
    ProvenBlock,
    Step,
    compute_test_genesis,
    prove_block,
)
from chain.testing.settlement_gas import L1_OTHER_RECIPIENT, L1_RECIPIENT
from chain.zk.genesis import REWARD_COLLECTION
from chain.zk.ops import (
    Buy,
    Deposit,
    ListNft,
    Mint,
    RegisterKey,
    ToFast,
    Transfer,
    TransferNft,
    Withdraw,
)
from chain.zk.state import ZkState
from tests.circuits.scenarios import (
    ALICE,
    BOB,
    CAROL,
    ETHER,
    FIRST_REWARD,
    LIST_PRICE,
    MINTER,
    REWARD_ROUND,
)

C_OFFSET = 6 * WORD_BYTES  # C.x, C.y are the last two words of a proof blob


def compute_genesis() -> ZkState:
    return compute_test_genesis()


# Block 1: two transfers. Block 2: six circuits, one op each.
FIRST_BLOCK_STEPS: list[Step] = [
    (ALICE, Transfer(CAROL, 2 * ETHER)),
    (BOB, Transfer(ALICE, ETHER)),
]
MIXED_BLOCK_STEPS: list[Step] = [
    (MINTER, Mint(REWARD_COLLECTION, ALICE, metadata=0xC0FFEE, round=REWARD_ROUND)),
    (ALICE, ListNft(FIRST_REWARD, LIST_PRICE)),
    (BOB, Buy(FIRST_REWARD, LIST_PRICE)),
    (BOB, TransferNft(FIRST_REWARD, CAROL)),
    (ALICE, RegisterKey(0x5EC2E7)),
    (ALICE, ToFast(CAROL, ETHER)),
]


@cache
def get_first_block() -> ProvenBlock:
    return prove_block(compute_genesis(), FIRST_BLOCK_STEPS)


@cache
def get_mixed_block() -> ProvenBlock:
    """The block after the first: mint, list, buy, transfer_nft, register_key, to_fast."""
    return prove_block(get_first_block().post, MIXED_BLOCK_STEPS)


# -- deposits and withdrawals -----------------------------------------------------------------

# The L1 deposits that the bridge tests make, in order: (ZK recipient, amount).
L1_DEPOSITS: tuple[tuple[int, int], ...] = ((CAROL, 2 * ETHER), (ALICE, ETHER))


def credit(index: int, to: int | None = None, amount: int | None = None) -> Step:
    """A deposit op crediting L1 deposit `index`, as made (or with another `to` / `amount`)."""
    made_to, made_amount = L1_DEPOSITS[index] if index < len(L1_DEPOSITS) else (CAROL, ETHER)
    return NO_SIGNER, Deposit(
        index, made_to if to is None else to, made_amount if amount is None else amount
    )


# Credits both L1 deposits, with a transfer between them (the bridge pass skips it).
DEPOSIT_BLOCK_STEPS: tuple[Step, ...] = (
    credit(0),
    (ALICE, Transfer(BOB, ETHER)),
    credit(1),
)
# Three withdrawals (positions 0, 1, 2: a tree padded to four leaves) and a transfer.
WITHDRAW_BLOCK_STEPS: tuple[Step, ...] = (
    (ALICE, Withdraw(L1_RECIPIENT, 3 * ETHER)),
    (BOB, Transfer(ALICE, ETHER)),
    (BOB, Withdraw(L1_OTHER_RECIPIENT, ETHER)),
    (ALICE, Withdraw(L1_RECIPIENT, 2 * ETHER)),
)
# A round trip: Carol's deposit credited, and half of it withdrawn to L1 in the same block.
ROUND_TRIP_STEPS: tuple[Step, ...] = (
    credit(0),
    (CAROL, Withdraw(L1_RECIPIENT, ETHER)),
)


@cache
def prove_from_genesis(steps: tuple[Step, ...]) -> ProvenBlock:
    return prove_block(compute_genesis(), steps)


@cache
def prove_after_deposit_block(steps: tuple[Step, ...]) -> ProvenBlock:
    """`steps` after the block of DEPOSIT_BLOCK_STEPS."""
    return prove_block(prove_from_genesis(DEPOSIT_BLOCK_STEPS).post, steps)


def get_latest_timestamp(w3: Web3) -> int:
    return int(w3.eth.get_block("latest")["timestamp"])


# -- forgeries ------------------------------------------------------------------------------


def replace_proof(op: SettledOp, blob: bytes) -> SettledOp:
    return replace(op, proof=Proof(blob))


def flip_byte(op: SettledOp, index: int) -> SettledOp:
    blob = bytearray(op.proof.blob)
    blob[index] ^= 0x01
    return replace_proof(op, bytes(blob))


def get_c(op: SettledOp) -> tuple[int, int]:
    words = op.proof.words
    return words[6], words[7]


def with_c(op: SettledOp, point: tuple[int, int]) -> SettledOp:
    c = b"".join(value.to_bytes(WORD_BYTES, "big") for value in point)
    return replace_proof(op, op.proof.blob[:C_OFFSET] + c)


def shift_c(op: SettledOp, shift: tuple[int, int], sign: int) -> SettledOp:
    """The op with C + sign·shift: false alone; two with opposite shifts sum to the truth."""
    c = to_jacobian(get_c(op))
    moved = bn128.add(c, to_jacobian(shift) if sign > 0 else bn128.neg(to_jacobian(shift)))
    return with_c(op, from_jacobian(moved))


def scale_c(op: SettledOp, scalar: int) -> SettledOp:
    return with_c(op, from_jacobian(bn128.multiply(to_jacobian(get_c(op)), scalar)))


def to_jacobian(point: tuple[int, int]) -> tuple[bn128.FQ, bn128.FQ, bn128.FQ]:
    return (bn128.FQ(point[0]), bn128.FQ(point[1]), bn128.FQ.one())


def from_jacobian(point: tuple[bn128.FQ, bn128.FQ, bn128.FQ]) -> tuple[int, int]:
    x, y = bn128.normalize(point)
    return int(x), int(y)


# -- forced withdrawals and exits ---------------------------------------------------------


def prove_refusal(state: ZkState, words: Sequence[int]) -> SettledOp:
    """The queued Withdraw of `words` proven invalid at `state` (post-root = pre-root)."""
    witness = compute_refusal_inputs_for_words(state, words)
    proof = prove(load_circuit(witness.circuit), witness.inputs, witness.public_inputs)
    return SettledOp("refuse_withdraw", StateRoot(witness.public_inputs[1]), tuple(words), proof)
