"""Proven blocks settled on an L1 (anvil), and the gas they take, against a baseline.

`settle` submits a block attested and signed as the sequencer does it. The baseline is the
snarkjs-exported Solidity verifier of a circuit, one call per proof: what settling op by op
would cost at the least. `measure_settlement` gives the figures of issue 5's benchmark
(bench/settlement.py); the L1 tests use the same pieces.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.contract import Contract
from web3.types import TxParams, TxReceipt

from chain.l1.attestation import BlockHeader, Statement, attest_block, list_statements
from chain.l1.calldata import SettledOp, StateRoot, decode_ops, encode_op
from chain.l1.contracts import send_transaction
from chain.l1.deploy import deploy_contracts
from chain.l1.op_epochs import EPOCH_SECONDS, compute_epoch_place
from chain.l1.op_signing import compute_op_digest, is_signed_circuit, sign_op_digest
from chain.l1.rollup import RollupClient
from chain.prover.ceremony import PROJECT_ROOT, get_circuit_entry, get_default_paths
from chain.prover.escape import Words, compute_exit_inputs, compute_withdraw_words
from chain.prover.groth16 import load_circuit, prove
from chain.testing.accounts import dev_account
from chain.testing.proven_blocks import (
    ALICE,
    ETHER,
    SIGNER_KEYS,
    ProvenBlock,
    compute_genesis_root,
    compute_genesis_supply,
    compute_test_genesis,
    get_pre_root,
    get_transfer_chain,
    make_op,
)
from chain.types import Height
from chain.zk.ops import Withdraw
from chain.zk.signing import SigningDomain
from chain.zk.state import ZkState

SNARKJS = PROJECT_ROOT / "node_modules" / ".bin" / "snarkjs"
COMPILE_SOLIDITY = PROJECT_ROOT / "scripts" / "compile_solidity.mjs"
SNARKJS_VERIFIER = "Groth16Verifier"  # the contract name in snarkjs's export
UNBATCHED_GAS_LIMIT = 1_000_000  # well above what one snarkjs verification takes
# Signs for ops that do not decode (a malformed block is refused before its attestation is read).
PLACEHOLDER_STATEMENT: Statement = ("transfer", 0, ())
# L1 recipients of withdrawals: plain addresses, which hold no L1 ZKPoW before.
L1_RECIPIENT = 0x00000000000000000000000000000000000BEEF1
L1_OTHER_RECIPIENT = 0x00000000000000000000000000000000000BEEF2


# -- settling -------------------------------------------------------------------------------


def dev_sequencer_keys() -> tuple[bytes, ...]:
    """The keys of the test rollups' sequencer set: the deployer (dev account 0) alone,
    `deploy_contracts`' default."""
    return (bytes(dev_account(0).key),)


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
    """Each signed op's signature by its `from` (a key of `keys`, default the test genesis'
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
    genesis = compute_test_genesis()
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
    address = receipt["contractAddress"]
    assert address is not None, "a deployment's receipt names its contract"
    return w3.eth.contract(address=address, abi=artifact["abi"])


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
    receipt = send_transaction(w3, sender, tx, list(verifier.abi), gas=UNBATCHED_GAS_LIMIT)
    return int(receipt["gasUsed"]), verdict


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
