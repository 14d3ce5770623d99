"""The ZK chain's checked state transition: a block one node produces from signed
operations, a fast-chain message and an L1 deposit, another node built from the same genesis
applies and accepts; a block whose header claims anything its body does not make is refused
with the error naming that claim, and the checker's state is as before."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest
from eth_account import Account as EthAccount
from eth_utils import keccak

from chain.ledger.blocks import LedgerBlock, seal
from chain.ledger.claims import (
    InvalidBody,
    WrongMessages,
    WrongReceiptsRoot,
    WrongStateRoot,
    WrongTransactionsRoot,
)
from chain.ledger.log import (
    InvalidBlock,
    LedgerHeads,
    WrongBlockHash,
    WrongLedgerPosition,
    process_append,
)
from chain.ledger.messages import ReleaseMessage, encode_message
from chain.prover.escape import explain_refusal
from chain.types import Address, ChainId, Hash32, Height, Root, Seq
from chain.zk.chain import (
    ZkBlock,
    ZkBody,
    ZkChainState,
    ZkProposal,
    compute_proposal,
    produce_block,
    state_transition,
)
from chain.zk.genesis import compute_genesis_state
from chain.zk.ops import Deposit, ToFast, Transfer
from chain.zk.signing import SignedOperation, SigningDomain, sign_operation
from chain.zk.state import compute_state_root, get_account_index, list_record_rows

ZK = ChainId(7701)
FEE = 10**15
ZKPOW = 10**18
DOMAIN = SigningDomain.local(ZK)
ALICE_KEY, BOB_KEY = keccak(b"duet-zk-alice"), keccak(b"duet-zk-bob")
ALICE = int(EthAccount.from_key(ALICE_KEY).address, 16)
BOB = int(EthAccount.from_key(BOB_KEY).address, 16)
CAROL = 0xCA201
GAME = Address(bytes.fromhex("9a" * 20))


def make_chain() -> ZkChainState:
    """One node's ZK chain after its genesis block: a fresh state, never shared."""
    state = compute_genesis_state(
        {ALICE: 100 * ZKPOW, BOB: 100 * ZKPOW}, minter=ALICE, fast_chain_escrow=50 * ZKPOW
    )
    chain = ZkChainState(state, LedgerHeads(log=None, chains={}), ZK, FEE, explain_refusal)
    genesis = produce_block(chain, ZkBody(), 1_000)
    return replace(chain, state=genesis.state, heads=process_append(chain.heads, genesis.block))


def sign(chain: ZkChainState, key: bytes, body: Transfer | ToFast, nonce: int) -> SignedOperation:
    signer = int(EthAccount.from_key(key).address, 16)
    index = get_account_index(chain.state, signer)
    assert index is not None
    return sign_operation(body, FEE, nonce, DOMAIN, key, index)


def make_body(chain: ZkChainState) -> ZkBody:
    release = ReleaseMessage(0, GAME, Address(CAROL.to_bytes(20, "big")), 2 * ZKPOW)
    return ZkBody(
        ops=(
            sign(chain, ALICE_KEY, Transfer(CAROL, 3 * ZKPOW), 0),
            sign(chain, BOB_KEY, ToFast(BOB, 5 * ZKPOW), 0),
            sign(chain, ALICE_KEY, Transfer(BOB, ZKPOW), 1),
        ),
        inbox=(encode_message(release),),
        deposits=(Deposit(0, CAROL, ZKPOW),),
    )


@pytest.fixture(scope="module")
def produced() -> tuple[ZkBlock, ZkProposal]:
    chain = make_chain()
    body = make_body(chain)
    zk = produce_block(chain, body, 2_000)
    return zk, compute_proposal(zk, body)


@pytest.fixture
def checker() -> ZkChainState:
    return make_chain()


def test_block_produced_by_one_node_is_accepted_by_another(
    produced: tuple[ZkBlock, ZkProposal], checker: ZkChainState
) -> None:
    zk, proposal = produced
    assert len(zk.applied) == 5 and not zk.rejected and not zk.refused
    assert len(zk.block.messages) == 2, "a credit for the ToFast, then the roots"
    checked = state_transition(checker, proposal)
    assert checked.block == zk.block and checked.block.hash == zk.block.hash
    assert compute_state_root(checked.state) == compute_state_root(zk.state)


def test_proposal_leaves_out_what_the_producer_rejected(checker: ZkChainState) -> None:
    body = make_body(checker)
    broke = sign(checker, BOB_KEY, Transfer(CAROL, 1000 * ZKPOW), 1)  # beyond Bob's balance
    body = replace(body, ops=(*body.ops, broke))
    zk = produce_block(checker, body, 2_000)
    proposal = compute_proposal(zk, body)
    assert [s for s, _ in zk.rejected] == [broke] and broke not in proposal.body.ops
    assert state_transition(make_chain(), proposal).block == zk.block


def tampered(block: LedgerBlock, **fields: object) -> LedgerBlock:
    return seal(replace(block, **fields))


HEADER_TAMPERING: list[tuple[str, Callable[[LedgerBlock], LedgerBlock], type[InvalidBlock]]] = [
    ("state root", lambda b: tampered(b, state_root=Root(b"\x01" * 32)), WrongStateRoot),
    ("receipts root", lambda b: tampered(b, receipts_root=Root(b"\x02" * 32)), WrongReceiptsRoot),
    (
        "operations hash",
        lambda b: tampered(b, transactions_root=Root(b"\x03" * 32)),
        WrongTransactionsRoot,
    ),
    ("operation list", lambda b: tampered(b, tx_hashes=b.tx_hashes[::-1]), WrongTransactionsRoot),
    ("credit dropped", lambda b: tampered(b, messages=b.messages[1:]), WrongMessages),
    (
        "message forged",
        lambda b: tampered(b, messages=(b.messages[0], *b.messages)),
        WrongMessages,
    ),
    ("height", lambda b: tampered(b, height=Height(b.height + 1)), WrongLedgerPosition),
    ("seq", lambda b: tampered(b, seq=Seq(b.seq + 1)), WrongLedgerPosition),
    ("parent", lambda b: tampered(b, parent_hash=Hash32(b"\x04" * 32)), WrongLedgerPosition),
    ("hash", lambda b: replace(b, hash=Hash32(b"\x06" * 32)), WrongBlockHash),
]


@pytest.mark.parametrize(
    ("tamper", "error"),
    [(t, e) for _, t, e in HEADER_TAMPERING],
    ids=[name for name, _, _ in HEADER_TAMPERING],
)
def test_rejects_header_claiming_what_the_body_does_not_make(
    produced: tuple[ZkBlock, ZkProposal],
    checker: ZkChainState,
    tamper: Callable[[LedgerBlock], LedgerBlock],
    error: type[InvalidBlock],
) -> None:
    zk, proposal = produced
    assert_refused_leaving_state(checker, replace(proposal, header=tamper(zk.block)), error)
    # The honest block still passes on the same checker: the refusal changed nothing.
    assert state_transition(checker, proposal).block == zk.block


def test_rejects_body_with_an_operation_reordered(
    produced: tuple[ZkBlock, ZkProposal], checker: ZkChainState
) -> None:
    _, proposal = produced
    ops = proposal.body.ops
    body = replace(proposal.body, ops=(ops[1], ops[0], ops[2]))
    assert_refused_leaving_state(checker, replace(proposal, body=body), WrongTransactionsRoot)


def test_rejects_body_with_an_operation_that_cannot_apply(
    produced: tuple[ZkBlock, ZkProposal], checker: ZkChainState
) -> None:
    _, proposal = produced
    body = replace(proposal.body, ops=(*proposal.body.ops, proposal.body.ops[0]))  # replayed
    assert_refused_leaving_state(checker, replace(proposal, body=body), InvalidBody, "nonce")


def test_rejects_body_without_the_deposit_the_header_credits(
    produced: tuple[ZkBlock, ZkProposal], checker: ZkChainState
) -> None:
    _, proposal = produced
    body = replace(proposal.body, deposits=())
    assert_refused_leaving_state(checker, replace(proposal, body=body), WrongTransactionsRoot)


def assert_refused_leaving_state(
    checker: ZkChainState,
    proposal: ZkProposal,
    error: type[InvalidBlock],
    match: str | None = None,
) -> None:
    root, rows = compute_state_root(checker.state), list_record_rows(checker.state)
    globals_ = (checker.state.fee_pool, checker.state.escrow, checker.state.inbox)
    with pytest.raises(error, match=match):
        state_transition(checker, proposal)
    assert compute_state_root(checker.state) == root
    assert list_record_rows(checker.state) == rows
    assert (checker.state.fee_pool, checker.state.escrow, checker.state.inbox) == globals_
