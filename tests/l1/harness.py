"""Proven ZK blocks for the settlement tests and benchmark, and the baseline they beat.

Operations come from the real state machine (chain/zk, through `tests/circuits/scenarios.py`)
and proofs from the ceremony's keys (`chain.prover.groth16`); each op becomes a `SettledOp`,
as a submission agent will send it. Proving takes about half a second an op, so the blocks
are built once per process (`functools.cache`).

The baseline: the snarkjs-exported Solidity verifier of a circuit, one call per proof.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import Any

from eth_account.signers.local import LocalAccount
from py_ecc import optimized_bn128 as bn128
from web3 import Web3
from web3.contract import Contract
from web3.types import TxParams, TxReceipt

from chain.l1.attestation import BlockHeader, Statement, attest_block, list_statements
from chain.l1.calldata import SettledOp, StateRoot, decode_ops, encode_op, encode_ops
from chain.l1.contracts import send_transaction
from chain.l1.deploy import deploy_contracts
from chain.l1.op_epochs import EPOCH_SECONDS, compute_epoch_place
from chain.l1.op_signing import compute_op_digest, is_signed_circuit, sign_op_digest
from chain.l1.rollup import RollupClient
from chain.prover.ceremony import PROJECT_ROOT, get_circuit_entry, get_default_paths
from chain.prover.escape import (
    Words,
    compute_exit_inputs,
    compute_refusal_inputs_for_words,
    compute_withdraw_words,
)
from chain.prover.groth16 import WORD_BYTES, Proof, load_circuit, prove
from chain.types import Height
from chain.zk.genesis import REWARD_COLLECTION
from chain.zk.ops import (
    Buy,
    Deposit,
    ListNft,
    Mint,
    OpBody,
    Operation,
    RegisterKey,
    ToFast,
    Transfer,
    TransferNft,
    Withdraw,
)
from chain.zk.registry import is_unsigned
from chain.zk.signing import SigningDomain
from chain.zk.state import ZkState, compute_state_root, get_total_supply
from tests.circuits.scenarios import (
    ALICE,
    BOB,
    CAROL,
    ETHER,
    FIRST_REWARD,
    LIST_PRICE,
    MINTER,
    REWARD_ROUND,
    SIGNER_KEYS,
    Transition,
    compute_test_genesis,
    make_op,
    run,
)
from tests.integration.support import dev_account

Step = tuple[int, OpBody]  # (signer, body); the signer of an unsigned body is NO_SIGNER
NO_SIGNER = 0
C_OFFSET = 6 * WORD_BYTES  # C.x, C.y are the last two words of a proof blob
SNARKJS = PROJECT_ROOT / "node_modules" / ".bin" / "snarkjs"
COMPILE_SOLIDITY = Path(__file__).resolve().parent / "compile_solidity.mjs"
SNARKJS_VERIFIER = "Groth16Verifier"  # the contract name in snarkjs's export
UNBATCHED_GAS_LIMIT = 1_000_000  # well above what one snarkjs verification takes
# Signs for ops that do not decode (a malformed block is refused before its attestation is read).
PLACEHOLDER_STATEMENT: Statement = ("transfer", 0, ())


@dataclass(frozen=True)
class ProvenBlock:
    pre_root: StateRoot
    ops: tuple[SettledOp, ...]
    post: ZkState

    @property
    def post_root(self) -> StateRoot:
        return self.ops[-1].post_root

    @property
    def calldata(self) -> bytes:
        return encode_ops(self.ops)


def prove_transition(transition: Transition) -> SettledOp:
    witness = transition.witness
    assert witness.circuit != "ownership"  # a statement, not an operation
    proof = prove(load_circuit(witness.circuit), witness.inputs, witness.public_inputs)
    post_root, *words = witness.public_inputs[1:]
    return SettledOp(witness.circuit, StateRoot(post_root), tuple(words), proof)


def prove_block(state: ZkState, steps: Sequence[Step]) -> ProvenBlock:
    """`steps` applied to `state` in order, each proven."""
    pre_root = StateRoot(compute_state_root(state))
    ops = []
    for signer, body in steps:
        transition = run(state, make_operation(state, signer, body))
        ops.append(prove_transition(transition))
        state = transition.post
    return ProvenBlock(pre_root, tuple(ops), state)


def make_operation(state: ZkState, signer: int, body: OpBody) -> Operation:
    """`body` signed by `signer`, or, for a deposit or a fast-chain message, by nobody."""
    return Operation(body, 0, 0, 0) if is_unsigned(body) else make_op(state, signer, body)


def compute_genesis() -> ZkState:
    return compute_test_genesis()


@cache
def compute_genesis_root() -> StateRoot:
    return StateRoot(compute_state_root(compute_genesis()))


def get_transfer_steps(count: int) -> list[Step]:
    """`count` transfers, Alice and Bob paying each other in turn."""
    return [
        (ALICE, Transfer(BOB, ETHER)) if i % 2 == 0 else (BOB, Transfer(ALICE, ETHER))
        for i in range(count)
    ]


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
# L1 recipients of withdrawals: plain addresses, which hold no L1 ZKPoW before.
L1_RECIPIENT = 0x00000000000000000000000000000000000BEEF1
L1_OTHER_RECIPIENT = 0x00000000000000000000000000000000000BEEF2


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


def compute_genesis_supply() -> int:
    """The ZKPoW of the test genesis: what a rollup of it holds as backing on L1."""
    return get_total_supply(compute_genesis())


@cache
def get_transfer_chain(count: int) -> ProvenBlock:
    """`count` proven transfers from genesis (callers cut blocks out of it)."""
    return prove_block(compute_genesis(), get_transfer_steps(count))


def get_pre_root(chain: ProvenBlock, start: int) -> StateRoot:
    """The root before op `start` of a chain of ops."""
    return chain.pre_root if start == 0 else chain.ops[start - 1].post_root


# -- settling -------------------------------------------------------------------------------


def dev_sequencer_keys() -> tuple[bytes, ...]:
    """The keys of the tests' rollups' sequencer set: the deployer (dev account 0) alone,
    `deploy_contracts`' default."""
    return (bytes(dev_account(0).key),)


def get_latest_timestamp(w3: Web3) -> int:
    return int(w3.eth.get_block("latest")["timestamp"])


def settle(
    rollup: RollupClient,
    height: Height,
    pre_root: StateRoot,
    ops: Sequence[SettledOp] | bytes,
    *,
    keys: Sequence[bytes] | None = None,
    number: int | None = None,
    timestamp: int | None = None,
    signatures: bytes | None = None,
) -> TxReceipt:
    """Submit `ops` as ZK block `height` after `pre_root`, attested as the sequencer does
    it: settlement number next (or `number`), timestamp `compute_block_timestamp`'s (or
    `timestamp`), signed
    by `keys` (default the tests' sequencer); each signed op signed by its `from` (or
    `signatures` as given)."""
    if timestamp is None:
        timestamp = compute_block_timestamp(rollup, decode_if_whole(ops))
    header = BlockHeader(height, timestamp, pre_root)
    attested = attest_block(
        rollup.get_domain(),
        rollup.get_settlement_count() + 1 if number is None else number,
        header,
        list_statements_of(ops),
        dev_sequencer_keys() if keys is None else keys,
    )
    if signatures is None:
        signatures = sign_ops(rollup.get_domain(), decode_if_whole(ops))
    return rollup.submit_block(header, ops, signatures, attested.attestation)


def compute_block_timestamp(rollup: RollupClient, ops: Sequence[SettledOp]) -> int:
    """A time the rollup takes for a block of `ops`: the start of their mints' epoch (the
    scenarios mint in epoch 1, long past), else the last settled block's (time may stand
    still, never go back)."""
    epochs = {
        (op.words[place & 0xFF] >> ((place >> 8) & 0xFF)) & ((1 << ((place >> 16) & 0xFF)) - 1)
        for op in ops
        if (place := compute_epoch_place(op.circuit))
    }
    if len(epochs) > 1:
        raise AssertionError(f"a block's mints are in one epoch: {sorted(epochs)}")
    if epochs:
        return epochs.pop() * EPOCH_SECONDS
    return int(rollup.contract.functions.settledTimestamp().call())


def decode_if_whole(ops: Sequence[SettledOp] | bytes) -> list[SettledOp]:
    """The ops, or none where they do not decode (a malformed block: refused before its
    signatures and attestation are read)."""
    if not isinstance(ops, bytes):
        return list(ops)
    try:
        return decode_ops(ops)
    except Exception:
        return []


def list_statements_of(ops: Sequence[SettledOp] | bytes) -> list[Statement]:
    return list_statements(decode_if_whole(ops)) or [PLACEHOLDER_STATEMENT]


def sign_ops(
    domain: SigningDomain, ops: Sequence[SettledOp], keys: dict[int, bytes] | None = None
) -> bytes:
    """Each signed op's signature by its `from` (a key of `keys`, default the scenarios'
    signers), in block order: the `signatures` of submitBlock."""
    keys = SIGNER_KEYS if keys is None else keys
    return b"".join(
        sign_op_digest(compute_op_digest(domain, op.circuit, op.words), keys[get_from(op)])
        for op in ops
        if is_signed_circuit(op.circuit)
    )


def get_from(op: SettledOp) -> int:
    """A signed op's `from`: the low 160 bits of its first word."""
    return op.words[0] & ((1 << 160) - 1)


# -- gas ------------------------------------------------------------------------------------


def measure_block_gas(w3: Web3, deployer: LocalAccount, chain: ProvenBlock, count: int) -> int:
    """L1 gas of settling `count` ops as one block, in the steady state: on a fresh rollup,
    block 1 (one op) first, so that block 2 (the next `count`) pays no first-write costs."""
    deployment = deploy_contracts(w3, deployer, chain.pre_root)
    rollup = RollupClient(w3, deployment.rollup, deployer)
    settle(rollup, Height(1), chain.pre_root, chain.ops[:1])
    receipt = settle(rollup, Height(2), get_pre_root(chain, 1), chain.ops[1 : 1 + count])
    return int(receipt["gasUsed"])


def measure_exit_gas(w3: Web3, deployer: LocalAccount) -> int:
    """L1 gas of one account's exit from a frozen rollup (at genesis: Alice's leaf), the
    first exit (its flag and the recipient's token balance are new storage)."""
    deployment = deploy_contracts(
        w3, deployer, compute_genesis_root(), backing=compute_genesis_supply()
    )
    rollup = RollupClient(w3, deployment.rollup, deployer)
    genesis = compute_genesis()
    words = make_withdraw_words(genesis, ALICE, Withdraw(L1_RECIPIENT, ETHER))
    rollup.force_withdraw(
        words, sign_withdraw_words(rollup.get_domain(), words, SIGNER_KEYS[ALICE])
    )
    move_l1_time(w3, int(rollup.contract.functions.freezeDelay().call()) + 1)
    rollup.freeze()
    receipt = rollup.exit(encode_op(prove_exit(genesis, 0)))
    return int(receipt["gasUsed"])


def deploy_snarkjs_verifier(
    w3: Web3, deployer: LocalAccount, circuit: str, workdir: Path
) -> Contract:
    """The Solidity verifier that `snarkjs zkey export solidityverifier` makes for `circuit`'s
    ceremony key, compiled like the project's contracts and deployed."""
    zkey = get_circuit_entry(get_default_paths(), circuit).zkey
    source = workdir / f"{circuit}_verifier.sol"
    subprocess.run(
        [str(SNARKJS), "zkey", "export", "solidityverifier", str(zkey), str(source)],
        check=True,
        capture_output=True,
    )
    compiled = subprocess.run(
        ["node", str(COMPILE_SOLIDITY), str(source), SNARKJS_VERIFIER],
        check=True,
        capture_output=True,
        text=True,
    )
    artifact: dict[str, Any] = json.loads(compiled.stdout)
    factory = w3.eth.contract(abi=artifact["abi"], bytecode=artifact["bytecode"])
    receipt = send_transaction(
        w3, deployer, {"data": factory.constructor().data_in_transaction}, artifact["abi"]
    )
    return w3.eth.contract(address=receipt["contractAddress"], abi=artifact["abi"])


def measure_unbatched_gas(
    w3: Web3, verifier: Contract, sender: LocalAccount, op: SettledOp, pre_root: StateRoot
) -> tuple[int, bool]:
    """L1 gas of one transaction calling the snarkjs verifier on `op`'s proof, and its verdict.

    Sent with a fixed gas limit: the verifier answers false rather than revert when a
    precompile runs out of gas, so a gas estimate would find a limit at which it always fails.
    """
    ax, ay, bx1, bx0, by1, by0, cx, cy = op.proof.words
    args = [[ax, ay], [[bx1, bx0], [by1, by0]], [cx, cy], [pre_root, op.post_root, *op.words]]
    verdict = bool(verifier.functions.verifyProof(*args).call())
    data = verifier.encode_abi("verifyProof", args=args)
    tx: TxParams = {"to": verifier.address, "data": data}
    receipt = send_transaction(w3, sender, tx, verifier.abi, gas=UNBATCHED_GAS_LIMIT)
    return int(receipt["gasUsed"]), verdict


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


def measure_settlement(
    w3: Web3, deployer: LocalAccount, sizes: Sequence[int], workdir: Path
) -> dict[str, Any]:
    """Gas per settled op at each block size (transfers, steady state), against one call of
    the snarkjs verifier per proof: the figures of issue 5's benchmark."""
    chain = get_transfer_chain(max(sizes) + 1)
    per_op = {str(n): round(measure_block_gas(w3, deployer, chain, n) / n) for n in sizes}
    verifier = deploy_snarkjs_verifier(w3, deployer, "transfer", workdir)
    unbatched, verdict = measure_unbatched_gas(
        w3, verifier, deployer, chain.ops[1], chain.ops[0].post_root
    )
    if not verdict:
        raise AssertionError("the snarkjs verifier refused a valid proof: the baseline is wrong")
    report: dict[str, Any] = {
        "gas_per_op": per_op,
        "gas_per_op_unbatched": unbatched,
        "gas_exit": measure_exit_gas(w3, deployer),
    }
    if "32" in per_op:
        report["ratio_32"] = round(per_op["32"] / unbatched, 3)
    return report


# -- forced withdrawals and exits ---------------------------------------------------------


def make_withdraw_words(
    state: ZkState, signer: int, body: Withdraw, nonce: int | None = None
) -> Words:
    """The three words of `signer`'s Withdraw at `state` (its current nonce, or `nonce`), as
    L1's forced queue takes them."""
    op = make_op(state, signer, body)
    if nonce is not None:
        op = replace(op, nonce=nonce)
    return compute_withdraw_words(state, op)


def sign_withdraw_words(domain: SigningDomain, words: Sequence[int], key: bytes) -> bytes:
    return sign_op_digest(compute_op_digest(domain, "withdraw", words), key)


def prove_refusal(state: ZkState, words: Sequence[int]) -> SettledOp:
    """The queued Withdraw of `words` proven invalid at `state` (post-root = pre-root)."""
    witness = compute_refusal_inputs_for_words(state, words)
    proof = prove(load_circuit(witness.circuit), witness.inputs, witness.public_inputs)
    return SettledOp("refuse_withdraw", StateRoot(witness.public_inputs[1]), tuple(words), proof)


def prove_exit(state: ZkState, index: int) -> SettledOp:
    """Account `index`'s leaf under `state`'s root, as the exit statement op the rollup takes."""
    witness = compute_exit_inputs(state, index)
    _, account, balance = witness.public_inputs
    proof = prove(load_circuit(witness.circuit), witness.inputs, witness.public_inputs)
    return SettledOp("exit", StateRoot(account), (balance,), proof)


def move_l1_time(w3: Web3, seconds: int) -> None:
    """anvil's clock `seconds` on, and a block mined at the new time."""
    w3.provider.make_request("evm_increaseTime", [seconds])  # type: ignore[arg-type]
    w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
