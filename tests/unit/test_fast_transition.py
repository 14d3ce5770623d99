"""The fast chain's checked state transition: a block one node produces, another node, built
from the same genesis with the other executor, re-executes and accepts; a block whose header
claims anything its body does not make is refused with the error naming that claim, and the
checker's state is as before."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest
from eth_abi import encode as abi_encode
from eth_utils import keccak

from chain.config import NetworkConfig
from chain.fast.chain import FastBlock, FastProposal, FastState, produce_block, state_transition
from chain.fast.executor import Executor
from chain.fast.pyevm_executor import PyEvmExecutor
from chain.fast.revm_executor import RevmExecutor
from chain.fast.system import OUTBOX_ADDRESS, OUTBOX_MESSAGE_FEE_WEI, compute_system_genesis
from chain.fast.txs import FastTx
from chain.ledger.blocks import EMPTY_BLOOM, LedgerBlock, seal
from chain.ledger.claims import (
    InvalidBody,
    WrongHeaderField,
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
from chain.ledger.messages import BalanceSet, CreditMessage, RootMessage, encode_message
from chain.types import Address, Hash32, Height, Root, Seq
from tests.conformance.harness import CHAIN_ID, address_of, make_key, sign

ALICE, BOB = make_key(1), make_key(2)
CAROL = Address(bytes.fromhex("ca" * 20))
CONFIG = NetworkConfig(fast_chain_id=CHAIN_ID)
UNDELIVERED = (
    encode_message(CreditMessage(CAROL, 5)),
    encode_message(RootMessage(1, keccak(b"state"), keccak(b"nfts"))),
)


class Instance:
    """One node's fast chain: its own trie store, executor and heads, from one genesis."""

    def __init__(self, make_executor: Callable[..., Executor]) -> None:
        self.nodes: dict[bytes, bytes] = {}
        self.executor = make_executor(self.nodes.get)
        alloc = {address_of(ALICE): 10**21, address_of(BOB): 10**21}
        root, nodes = self.executor.make_genesis(alloc, compute_system_genesis())
        self.nodes.update(nodes)
        genesis = seal(
            LedgerBlock(
                seq=Seq(0),
                prev_hash=Hash32(b"\x00" * 32),
                chain_id=CONFIG.fast_chain_id,
                height=Height(0),
                parent_hash=Hash32(b"\x00" * 32),
                state_root=root,
                transactions_root=Root(keccak(b"\x80")),
                receipts_root=Root(keccak(b"\x80")),
                timestamp_ms=0,
                gas_limit=CONFIG.fast_block_gas_limit,
                base_fee=CONFIG.min_base_fee,
                logs_bloom=EMPTY_BLOOM,
            )
        )
        self.state = FastState(
            CONFIG,
            self.executor,
            process_append(LedgerHeads(log=None, chains={}), genesis),
            (genesis.hash,),
            UNDELIVERED,
        )


def body() -> list[FastTx]:
    release = keccak(text="release(address)")[:4] + abi_encode(["address"], [CAROL])
    fee = OUTBOX_MESSAGE_FEE_WEI
    return [
        sign(ALICE, 0, to=CAROL, value=3),
        sign(BOB, 0, to=OUTBOX_ADDRESS, value=fee + 7, data=release, gas=100_000),
        sign(ALICE, 1, to=OUTBOX_ADDRESS, value=fee + 2, data=release, gas=100_000),
    ]


@pytest.fixture(scope="module")
def produced() -> FastBlock:
    return produce_block(Instance(RevmExecutor).state, body(), 1_500)


@pytest.fixture
def checker() -> Instance:
    return Instance(PyEvmExecutor)


def test_block_produced_by_one_node_is_accepted_by_another(
    produced: FastBlock, checker: Instance
) -> None:
    assert len(produced.result.outcomes) == 3 and len(produced.emitted) == 2
    checked = state_transition(checker.state, produced.proposal)
    assert checked.block == produced.block and checked.block.hash == produced.block.hash
    assert checked.emitted == produced.emitted


def tampered(block: LedgerBlock, **fields: object) -> LedgerBlock:
    return seal(replace(block, **fields))


HEADER_TAMPERING: list[tuple[str, Callable[[LedgerBlock], LedgerBlock], type[InvalidBlock]]] = [
    ("state root", lambda b: tampered(b, state_root=Root(b"\x01" * 32)), WrongStateRoot),
    ("receipts root", lambda b: tampered(b, receipts_root=Root(b"\x02" * 32)), WrongReceiptsRoot),
    (
        "transactions root",
        lambda b: tampered(b, transactions_root=Root(b"\x03" * 32)),
        WrongTransactionsRoot,
    ),
    ("message dropped", lambda b: tampered(b, messages=b.messages[:-1]), WrongMessages),
    ("messages reordered", lambda b: tampered(b, messages=b.messages[::-1]), WrongMessages),
    (
        "message forged",
        lambda b: tampered(b, messages=(*b.messages, b.messages[-1])),
        WrongMessages,
    ),
    ("height", lambda b: tampered(b, height=Height(b.height + 1)), WrongLedgerPosition),
    ("seq", lambda b: tampered(b, seq=Seq(b.seq + 1)), WrongLedgerPosition),
    ("parent", lambda b: tampered(b, parent_hash=Hash32(b"\x04" * 32)), WrongLedgerPosition),
    ("log link", lambda b: tampered(b, prev_hash=Hash32(b"\x05" * 32)), WrongLedgerPosition),
    ("gas used", lambda b: tampered(b, gas_used=b.gas_used + 1), WrongHeaderField),
    ("base fee", lambda b: tampered(b, base_fee=b.base_fee + 1), WrongHeaderField),
    ("hash", lambda b: replace(b, hash=Hash32(b"\x06" * 32)), WrongBlockHash),
]


@pytest.mark.parametrize(
    ("tamper", "error"),
    [(t, e) for _, t, e in HEADER_TAMPERING],
    ids=[name for name, _, _ in HEADER_TAMPERING],
)
def test_rejects_header_claiming_what_the_body_does_not_make(
    produced: FastBlock,
    checker: Instance,
    tamper: Callable[[LedgerBlock], LedgerBlock],
    error: type[InvalidBlock],
) -> None:
    proposal = replace(produced.proposal, header=tamper(produced.block))
    assert_refused_leaving_state(checker, proposal, error)
    # The honest block still passes on the same checker: the refusal changed nothing.
    assert state_transition(checker.state, produced.proposal).block == produced.block


def test_rejects_body_missing_a_transaction_the_header_lists(
    produced: FastBlock, checker: Instance
) -> None:
    proposal = FastProposal(produced.block, produced.proposal.txs[:-1])
    assert_refused_leaving_state(checker, proposal, WrongTransactionsRoot)


def test_rejects_body_with_a_transaction_that_cannot_execute(
    produced: FastBlock, checker: Instance
) -> None:
    replayed = (*produced.proposal.txs, produced.proposal.txs[0])  # nonce already used
    proposal = FastProposal(produced.block, replayed)
    assert_refused_leaving_state(checker, proposal, InvalidBody, "cannot execute")


def test_rejects_block_that_does_not_deliver_the_undelivered_messages(
    produced: FastBlock, checker: Instance
) -> None:
    state = replace(checker.state, undelivered=UNDELIVERED[:1])
    with pytest.raises(WrongMessages):
        state_transition(state, produced.proposal)


def test_rejects_a_block_carrying_a_dev_nodes_account_write(checker: Instance) -> None:
    """A dev node's anvil_setBalance rides in its block's messages; a network's node checks
    a proposal against the messages it knows are owed, so a proposer cannot mint this way."""
    producer = Instance(RevmExecutor)
    write = encode_message(BalanceSet(CAROL, 10**30))
    state = replace(producer.state, undelivered=(*producer.state.undelivered, write))
    minted = produce_block(state, body(), 1_500)
    assert write in minted.block.messages
    assert_refused_leaving_state(checker, minted.proposal, WrongMessages)


def assert_refused_leaving_state(
    checker: Instance, proposal: FastProposal, error: type[InvalidBlock], match: str | None = None
) -> None:
    before_state, before_nodes = checker.state, dict(checker.nodes)
    with pytest.raises(error, match=match):
        state_transition(checker.state, proposal)
    assert checker.state == before_state
    assert checker.nodes == before_nodes
