"""Witnesses built when a proving job is served (chain/prover/witness_source.py): what the node
stores of an operation when it commits it (public inputs, the summary of the state before it,
its trace) gives, once stored and read back, the witness that the whole states give, for a
signed operation, an unsigned one (a fast-chain message, an L1 deposit) and a forced
Withdraw the block refused; a stored source that does not fit is refused, never guessed at."""

from __future__ import annotations

from dataclasses import replace

import pytest
from eth_account import Account as EthAccount
from eth_utils import keccak

from chain.ledger.log import LedgerHeads
from chain.ledger.messages import ReleaseMessage, encode_message
from chain.ledger.store import ZkOpRecord
from chain.market.work import WitnessCache, compute_job_witness, format_witness
from chain.prover.errors import ProverError
from chain.prover.escape import (
    compute_refusal_inputs_for_words,
    compute_withdraw_words,
    explain_refusal,
)
from chain.prover.witness import CircuitWitness, WitnessSource, compute_witness
from chain.prover.witness_source import (
    compute_proving_inputs,
    compute_served_witness,
    decode_witness_source,
    encode_witness_source,
)
from chain.types import Address, ChainId, Height
from chain.zk.chain import (
    AppliedOp,
    ForcedWithdrawal,
    ZkBlock,
    ZkBody,
    ZkChainState,
    produce_block,
)
from chain.zk.genesis import compute_genesis_state
from chain.zk.op_inputs import StateSummary
from chain.zk.ops import Deposit, Release, Transfer, Withdraw
from chain.zk.signing import SigningDomain, sign_operation
from chain.zk.state import Prover, Touch, compute_state_root, get_account_index

ZK = ChainId(7701)
FEE = 10**15
ZKPOW = 10**18
DOMAIN = SigningDomain.local(ZK)
ALICE_KEY, BOB_KEY = keccak(b"duet-witness-alice"), keccak(b"duet-witness-bob")
ALICE = int(EthAccount.from_key(ALICE_KEY).address, 16)
BOB = int(EthAccount.from_key(BOB_KEY).address, 16)
CAROL = 0xCA201
GAME = Address(bytes.fromhex("9a" * 20))


@pytest.fixture(scope="module")
def block() -> ZkBlock:
    """A block that refuses Bob's forced Withdraw of more than he holds, then credits a
    deposit, applies a fast-chain Release, and Alice's Transfer."""
    state = compute_genesis_state(
        {ALICE: 100 * ZKPOW, BOB: 100 * ZKPOW}, minter=ALICE, fast_chain_escrow=50 * ZKPOW
    )
    chain = ZkChainState(state, LedgerHeads(log=None, chains={}), ZK, FEE, explain_refusal)
    alice_index, bob_index = get_account_index(state, ALICE), get_account_index(state, BOB)
    assert alice_index is not None and bob_index is not None
    too_much = sign_operation(Withdraw(CAROL, 1000 * ZKPOW), FEE, 0, DOMAIN, BOB_KEY, bob_index)
    release = ReleaseMessage(0, GAME, Address(CAROL.to_bytes(20, "big")), 2 * ZKPOW)
    body = ZkBody(
        ops=(sign_operation(Transfer(CAROL, 3 * ZKPOW), FEE, 0, DOMAIN, ALICE_KEY, alice_index),),
        inbox=(encode_message(release),),
        deposits=(Deposit(0, CAROL, ZKPOW),),
        forced=(ForcedWithdrawal(0, compute_withdraw_words(state, too_much.op), too_much),),
    )
    zk = produce_block(chain, body, 2_000)
    assert [a.op.body.__class__ for a in zk.applied] == [Withdraw, Deposit, Release, Transfer]
    assert zk.applied[0].refusal == "short_balance"
    return zk


def applied_of(zk: ZkBlock, kind: str) -> AppliedOp:
    """The refused Withdraw, the deposit, the Release message, or Alice's Transfer."""
    return zk.applied[["refusal", "deposit", "message", "signed"].index(kind)]


def serve(zk: ZkBlock, applied: AppliedOp) -> CircuitWitness:
    """Commit `applied` as the node does, store its source, read it back and build."""
    proving = compute_proving_inputs(applied, zk.ctx)
    stored = decode_witness_source(encode_witness_source(proving.source))
    assert stored == proving.source
    return compute_served_witness(proving.circuit, proving.public_inputs, stored)


@pytest.mark.parametrize("kind", ["signed", "message", "deposit"])
def test_served_witness_equals_the_one_from_the_whole_states(block: ZkBlock, kind: str) -> None:
    applied = applied_of(block, kind)
    expected = compute_witness(
        applied.pre_state, applied.op, block.ctx, applied.post_state, applied.trace
    )
    assert serve(block, applied) == expected


def test_served_witness_of_signed_operation_has_the_signers_path_in_the_whole_tree(
    block: ZkBlock,
) -> None:
    applied = applied_of(block, "signed")
    index = get_account_index(applied.pre_state, ALICE)
    assert index is not None
    served = serve(block, applied)
    assert served.inputs["signerPath"] == applied.pre_state.accounts.get_path(index)
    assert served.public_inputs[:2] == [
        compute_state_root(applied.pre_state),
        compute_state_root(applied.post_state),
    ]


def test_served_witness_of_refused_withdraw_equals_the_one_from_the_whole_state(
    block: ZkBlock,
) -> None:
    applied = applied_of(block, "refusal")
    assert applied.forced_words is not None
    expected = compute_refusal_inputs_for_words(applied.pre_state, applied.forced_words)
    served = serve(block, applied)
    assert served == expected and served.circuit == "refuse_withdraw"
    bob_index = get_account_index(applied.pre_state, BOB)
    assert bob_index is not None
    assert served.inputs["accountPath"] == applied.pre_state.accounts.get_path(bob_index)


def test_prover_with_negative_balance_survives_storage() -> None:
    record = Prover(address=0xAB, balance=-5 * ZKPOW, active_until=9)
    touch = Touch("provers", 2, record, replace(record, balance=-6 * ZKPOW), [[1, 2, 3, 4]] * 3)
    source = WitnessSource(StateSummary(1, 2, 3, 4, fee_pool=5, escrow=6, inbox=7), (touch,))
    assert decode_witness_source(encode_witness_source(source)) == source


def test_rejects_stored_source_that_does_not_decode() -> None:
    for raw in ["", "{}", '{"pre": ["0x1"], "trace": []}', '{"pre": [], "trace": [["x"]]}']:
        with pytest.raises(ProverError, match="stored witness source does not decode"):
            decode_witness_source(raw)


def test_rejects_source_whose_trace_is_not_the_circuits(block: ZkBlock) -> None:
    signed = compute_proving_inputs(applied_of(block, "signed"), block.ctx)
    shortened = WitnessSource(signed.source.pre, signed.source.trace[:1])
    with pytest.raises(ProverError, match=r"transfer writes \('accounts', 'accounts'\)"):
        compute_served_witness(signed.circuit, signed.public_inputs, shortened)


def test_rejects_refusal_source_without_its_account_leaf(block: ZkBlock) -> None:
    refusal = compute_proving_inputs(applied_of(block, "refusal"), block.ctx)
    with pytest.raises(ProverError, match="reads one account leaf"):
        compute_served_witness(
            refusal.circuit, refusal.public_inputs, WitnessSource(refusal.source.pre, ())
        )


def stored_record(zk: ZkBlock, index: int) -> ZkOpRecord:
    applied = zk.applied[index]
    proving = compute_proving_inputs(applied, zk.ctx)
    source = encode_witness_source(proving.source)
    return ZkOpRecord(
        applied.op_id, Height(1), index, {}, proving.circuit, proving.public_inputs, source
    )


def test_served_witnesses_are_kept_for_the_last_jobs_served(block: ZkBlock) -> None:
    first, second = stored_record(block, 2), stored_record(block, 3)
    cache = WitnessCache(size=1)
    served = cache.get(first)
    assert served == format_witness(compute_job_witness(first).inputs)
    assert cache.get(first) is served, "served again without building it again"
    cache.get(second)
    assert list(cache.entries) == [second.op_id], "the least recently served one goes"
    assert cache.get(first) == served and cache.get(first) is not served
