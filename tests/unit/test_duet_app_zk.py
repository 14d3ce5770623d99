"""The ZK chain behind CometBFT: ZK operations and proofs as tagged CometBFT transactions,
one ZK block per height whose header time is an interval past the ZK head's, made before
that height's fast block (which delivers its messages), all of a height stored in one
store transaction. Each refusal is named: a ZK operation in a height that makes no ZK
block, one that cannot apply, a proof for no open job, bytes of no kind."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from coincurve import PrivateKey
from eth_account import Account as EthAccount
from eth_utils import keccak

from chain.consensus.abci.application import OK
from chain.consensus.abci.proto.tendermint.abci import types_pb2 as abci
from chain.consensus.attestations import (
    Attester,
    decode_extension,
    encode_extension,
    format_attesters,
    sign_block,
)
from chain.consensus.duet_app import (
    BLOCK_ID_FLAG_COMMIT,
    NOT_EXECUTED,
    REFUSED,
    UNDECODABLE,
    VERIFY_ACCEPT,
    VERIFY_REJECT,
    DuetApplication,
    find_attestation_target,
    get_comet_head,
)
from chain.consensus.txs import (
    ATTESTATION_TAG,
    L1_INBOX_TAG,
    PROOF_TAG,
    ZK_OP_TAG,
    L1InboxTx,
    UndecodableTx,
    decode_tagged,
    encode_attestation,
    encode_l1_inbox,
    encode_proof,
    encode_zk_op,
    is_fast_tx,
)
from chain.fast.system import OUTBOX_ADDRESS, OUTBOX_MESSAGE_FEE_WEI
from chain.fast.tx_signing import DynamicFeeTx, sign_dynamic_fee_tx
from chain.l1.forced import QueuedWithdrawal
from chain.ledger.messages import CreditMessage, decode_message
from chain.ledger.store import Store, SubmissionRecord, SubmissionWrite
from chain.market.signing import sign_submission
from chain.node import Node
from chain.testing.accounts import dev_account
from chain.types import Address, Height, JobId
from chain.zk.ops import Deposit, ToFast, Transfer
from chain.zk.signing import format_signed_operation, sign_operation
from chain.zk.state import get_account, get_account_index
from tests.unit.abci_requests import (
    ACCEPT,
    GENESIS_MS,
    HEADER_TIME_MS,
    MAX_TX_BYTES,
    REJECT,
    decide,
    header_time,
    open_network_node,
    process,
    run,
    transfer,
)

CAROL = 0xCA201
AMOUNT = 3 * 10**18
NOT_DUE_MS = HEADER_TIME_MS + 100  # the ZK interval (1 s) after HEADER_TIME_MS is not up


@pytest.fixture
def node(tmp_path: Path) -> Node:
    return open_network_node(tmp_path / "node")


@pytest.fixture
def app(node: Node) -> DuetApplication:
    return DuetApplication(node)


def zk_op(node: Node, nonce: int, body: Transfer | ToFast | None = None, sender: int = 0) -> bytes:
    """A signed ZK operation of dev account `sender`, as a CometBFT transaction."""
    account = dev_account(sender)
    signer = int(account.address, 16)
    index = get_account_index(node.zk_state, signer)
    assert index is not None
    body = body or Transfer(CAROL, AMOUNT)
    fee = node.config.zk_min_fee
    signed = sign_operation(body, fee, nonce, node.signing_domain, account.key, index)
    return encode_zk_op(format_signed_operation(signed))


def check(app: DuetApplication, tx: bytes) -> abci.ResponseCheckTx:
    return run(app.check_tx(abci.RequestCheckTx(tx=tx)))


def prepare(app: DuetApplication, txs: list[bytes], ms: int = HEADER_TIME_MS) -> list[bytes]:
    request = abci.RequestPrepareProposal(
        height=1, txs=txs, time=header_time(ms), max_tx_bytes=MAX_TX_BYTES
    )
    return list(run(app.prepare_proposal(request)).txs)


# -- the tags -----------------------------------------------------------------------------


def test_tagged_transactions_are_never_fast_ones() -> None:
    assert is_fast_tx(transfer(0))  # a typed (EIP-1559) envelope
    assert not is_fast_tx(bytes([ZK_OP_TAG]) + b"{}")
    assert not is_fast_tx(bytes([PROOF_TAG]))
    assert not is_fast_tx(b"")


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (bytes([ZK_OP_TAG]) + b"not json", "not JSON"),
        (bytes([ZK_OP_TAG]) + b"[1]", "not a JSON object"),
        (bytes([ZK_OP_TAG]) + b" " * 5000, "over 4096 bytes"),
        (bytes([PROOF_TAG]) + b"\x01" * 97, "too short"),
        (bytes([0x9F]) + b"anything", "unknown transaction tag 0x9f"),
    ],
)
def test_rejects_malformed_tagged_bytes(raw: bytes, reason: str) -> None:
    with pytest.raises(UndecodableTx, match=reason):
        decode_tagged(raw)


def test_a_proof_transaction_round_trips() -> None:
    job, signature, result = b"\x01" * 32, b"\x02" * 65, b"proof bytes"
    decoded = decode_tagged(encode_proof(job, result, signature))
    assert (decoded.job_id, decoded.signature, decoded.result) == (job, signature, result)  # type: ignore[union-attr]


# -- CheckTx ------------------------------------------------------------------------------


def test_check_tx_admits_a_zk_operation_and_one_nonce_ahead(app: DuetApplication) -> None:
    assert check(app, zk_op(app.node, 0)).code == OK
    # The mempool holds each alone: a later nonce waits there for the earlier one.
    assert check(app, zk_op(app.node, 1)).code == OK
    assert len(app.node.zk_pool.ops) == 0  # CometBFT's mempool holds them, not the node's pool


def test_rejects_at_check_tx_a_zk_operation_that_cannot_apply(app: DuetApplication) -> None:
    answer = check(app, zk_op(app.node, 0, Transfer(CAROL, 2**95)))
    assert answer.code == REFUSED
    assert "balance" in answer.log


def test_rejects_at_check_tx_a_zk_nonce_far_ahead(app: DuetApplication) -> None:
    answer = check(app, zk_op(app.node, 65))
    assert answer.code == REFUSED
    assert "over 64 ahead" in answer.log


def test_rejects_at_check_tx_a_forged_zk_signature(app: DuetApplication) -> None:
    tx = bytearray(zk_op(app.node, 0))
    at = tx.index(b'"signature":"0x') + len(b'"signature":"0x')
    tx[at : at + 2] = b"00" if tx[at : at + 2] != b"00" else b"11"
    answer = check(app, bytes(tx))
    assert answer.code == REFUSED
    assert "signature" in answer.log


def test_rejects_at_check_tx_bytes_of_no_kind(app: DuetApplication) -> None:
    answer = check(app, bytes([0xA0, 1, 2, 3]))
    assert answer.code == UNDECODABLE
    assert "unknown transaction tag" in answer.log


def proof_for_no_job(node: Node) -> bytes:
    job, result = b"\x07" * 32, b"\x00" * 256
    signature = sign_submission(dev_account(3).key, node.config.zk_chain_id, JobId(job), result)
    return encode_proof(job, result, signature)


def test_rejects_at_check_tx_a_proof_for_no_open_job(app: DuetApplication) -> None:
    answer = check(app, proof_for_no_job(app.node))
    assert answer.code == REFUSED
    assert "no open job" in answer.log


def test_rejects_at_check_tx_a_proof_with_a_bad_signature(app: DuetApplication) -> None:
    answer = check(app, encode_proof(b"\x07" * 32, b"\x00" * 256, b"\x01" * 64 + b"\x05"))
    assert answer.code == REFUSED
    assert "signature" in answer.log


# -- proposals ----------------------------------------------------------------------------


def test_a_due_height_makes_a_zk_block_with_its_operations_then_a_fast_block(
    app: DuetApplication,
) -> None:
    node = app.node
    zk_before, fast_before = node.zk_head.height, node.fast_head.height
    op = zk_op(node, 0)
    proposed = prepare(app, [transfer(0), op])
    assert proposed == [op, transfer(0)]
    assert process(app, proposed) == ACCEPT
    answer = decide(app, 1, proposed)
    assert [r.code for r in answer.tx_results] == [OK, OK]
    assert node.zk_head.height == zk_before + 1
    assert node.zk_head.timestamp_ms == HEADER_TIME_MS  # the header's time, not the clock's
    assert get_account(node.zk_state, CAROL).balance == AMOUNT
    # The fast block came after the ZK block: it is the log head, and delivered its roots.
    assert node.fast_head.height == fast_before + 1
    assert node.log_head.hash == node.fast_head.hash
    assert node.undelivered == []
    head = get_comet_head(node)
    assert head is not None and (head.height, head.fast_height) == (1, fast_before + 1)


def test_the_proposer_orders_zk_operations_by_nonce(app: DuetApplication) -> None:
    first, second = zk_op(app.node, 0), zk_op(app.node, 1)
    assert prepare(app, [second, first]) == [first, second]


def test_the_proposer_leaves_out_a_zk_operation_that_cannot_apply(app: DuetApplication) -> None:
    poor = zk_op(app.node, 0, Transfer(CAROL, 2**95), sender=1)
    good = zk_op(app.node, 0)
    assert prepare(app, [poor, good]) == [good]


def test_zk_operations_wait_for_a_height_that_makes_a_zk_block(app: DuetApplication) -> None:
    decide(app, 1, [])  # makes the ZK block of HEADER_TIME_MS
    op = zk_op(app.node, 0)
    assert prepare(app, [op, transfer(0)], NOT_DUE_MS) == [transfer(0)]
    assert process(app, [op], NOT_DUE_MS) == REJECT
    later = HEADER_TIME_MS + 1000
    assert prepare(app, [op], later) == [op]


def test_a_decided_zk_operation_of_a_height_without_a_zk_block_is_not_executed(
    app: DuetApplication,
) -> None:
    decide(app, 1, [])
    zk_height = app.node.zk_head.height
    answer = decide(app, 2, [zk_op(app.node, 0)], NOT_DUE_MS)
    assert answer.tx_results[0].code == NOT_EXECUTED
    assert "makes no ZK block" in answer.tx_results[0].log
    assert app.node.zk_head.height == zk_height


def test_rejects_a_proposal_with_a_zk_operation_that_cannot_apply(app: DuetApplication) -> None:
    assert process(app, [zk_op(app.node, 1)]) == REJECT  # nonce 0 never came


def test_rejects_a_proposal_with_a_proof_for_no_open_job(app: DuetApplication) -> None:
    assert process(app, [proof_for_no_job(app.node)]) == REJECT


def test_a_zk_message_is_delivered_by_the_same_heights_fast_block(app: DuetApplication) -> None:
    node = app.node
    recipient = dev_account(2).address
    before = node.account(Address(bytes.fromhex(recipient[2:]))).balance
    decide(app, 1, [zk_op(node, 0, ToFast(int(recipient, 16), AMOUNT))])
    assert any(isinstance(decode_message(m), CreditMessage) for m in node.zk_head.messages)
    assert node.undelivered == []  # the fast block of the same height delivered them
    assert node.account(Address(bytes.fromhex(recipient[2:]))).balance == before + AMOUNT


def test_a_height_is_stored_whole_or_not_at_all(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its ZK block and fast block go in one store transaction: a failure writing the fast
    block leaves the ZK block unwritten too, and the height can be decided again."""
    app = DuetApplication(open_network_node(tmp_path / "node"))
    zk_height, fast_height = app.node.zk_head.height, app.node.fast_head.height
    insert = Store._insert_block
    calls = []

    def failing_second(store: Store, write: object) -> None:
        calls.append(write)
        if len(calls) == 2:
            raise OSError("disk full")
        insert(store, write)  # type: ignore[arg-type]

    monkeypatch.setattr(Store, "_insert_block", failing_second)
    txs = [zk_op(app.node, 0), transfer(0)]
    with pytest.raises(OSError, match="disk full"):
        decide(app, 1, txs)
    monkeypatch.setattr(Store, "_insert_block", insert)
    app.node.close()
    reopened = DuetApplication(open_network_node(tmp_path / "node"))
    node = reopened.node
    assert (node.zk_head.height, node.fast_head.height) == (zk_height, fast_height)
    assert get_comet_head(node) is None
    decide(reopened, 1, txs)
    assert get_account(node.zk_state, CAROL).balance == AMOUNT


def test_a_zk_height_finalized_but_not_committed_replays_to_the_same_app_hash(
    tmp_path: Path,
) -> None:
    first = DuetApplication(open_network_node(tmp_path / "node"))
    request = abci.RequestFinalizeBlock(
        height=1, txs=[zk_op(first.node, 0), transfer(0)], time=header_time()
    )
    answered = run(first.finalize_block(request))
    first.node.close()  # no Commit
    second = DuetApplication(open_network_node(tmp_path / "node"))
    assert run(second.info(abci.RequestInfo())).last_block_height == 0
    assert run(second.finalize_block(request)) == answered
    run(second.commit(abci.RequestCommit()))
    assert run(second.info(abci.RequestInfo())).last_block_app_hash == answered.app_hash


# -- attestations in vote extensions --------------------------------------------------------

ATTEST_KEYS = [keccak(f"attester-{i}".encode()) for i in range(4)]
VALIDATORS = [bytes([i + 1]) * 20 for i in range(4)]
ATTESTERS = [
    Attester(VALIDATORS[i], EthAccount.from_key(ATTEST_KEYS[i]).address, 10) for i in range(4)
]


@pytest.fixture
def attesting(tmp_path: Path) -> DuetApplication:
    """Validator 0 of a network of four equal attesters, after a height that made a ZK
    block with an operation (ZK height 1): that block is due for attestation."""
    app = DuetApplication(open_network_node(tmp_path / "node"), attest_key=ATTEST_KEYS[0])
    app_state = json.dumps(format_attesters(ATTESTERS)).encode()
    run(
        app.init_chain(
            abci.RequestInitChain(time=header_time(GENESIS_MS), app_state_bytes=app_state)
        )
    )
    decide(app, 1, [zk_op(app.node, 0)])
    return app


def extension(app: DuetApplication, key: bytes, zk_height: int = 1) -> bytes:
    target = find_attestation_target(app.node)
    assert target is not None
    return encode_extension(zk_height, sign_block(target.message, key))


def verify(app: DuetApplication, validator: bytes, ext: bytes) -> int:
    request = abci.RequestVerifyVoteExtension(
        validator_address=validator, height=2, vote_extension=ext
    )
    status: int = run(app.verify_vote_extension(request)).status
    return status


def last_commit(votes: list[tuple[bytes, bytes]]) -> abci.ExtendedCommitInfo:
    return abci.ExtendedCommitInfo(
        votes=[
            abci.ExtendedVoteInfo(
                validator=abci.Validator(address=validator, power=10),
                vote_extension=ext,
                block_id_flag=BLOCK_ID_FLAG_COMMIT,
            )
            for validator, ext in votes
        ]
    )


def test_a_validator_extends_its_vote_with_its_signature_of_the_block_due(
    attesting: DuetApplication,
) -> None:
    answer = run(attesting.extend_vote(abci.RequestExtendVote(height=2)))
    assert answer.vote_extension == extension(attesting, ATTEST_KEYS[0])
    assert decode_extension(answer.vote_extension)[0] == 1


def test_a_validator_without_a_key_or_a_block_due_extends_nothing(app: DuetApplication) -> None:
    assert run(app.extend_vote(abci.RequestExtendVote(height=2))).vote_extension == b""


def test_verifies_a_vote_extension_by_the_validators_own_key(attesting: DuetApplication) -> None:
    assert verify(attesting, VALIDATORS[1], extension(attesting, ATTEST_KEYS[1])) == VERIFY_ACCEPT
    assert verify(attesting, VALIDATORS[1], b"") == VERIFY_ACCEPT


def test_rejects_a_vote_extension_signed_by_another_validators_key(
    attesting: DuetApplication,
) -> None:
    assert verify(attesting, VALIDATORS[1], extension(attesting, ATTEST_KEYS[2])) == VERIFY_REJECT


def test_rejects_a_vote_extension_for_another_zk_block(attesting: DuetApplication) -> None:
    stale = extension(attesting, ATTEST_KEYS[1], zk_height=0)
    assert verify(attesting, VALIDATORS[1], stale) == VERIFY_REJECT


def test_rejects_a_vote_extension_of_no_attester(attesting: DuetApplication) -> None:
    stranger = bytes([9]) * 20
    assert verify(attesting, stranger, extension(attesting, ATTEST_KEYS[1])) == VERIFY_REJECT


def test_the_next_proposer_gathers_the_extensions_and_the_height_commits_them(
    attesting: DuetApplication,
) -> None:
    node = attesting.node
    votes = [(VALIDATORS[i], extension(attesting, ATTEST_KEYS[i])) for i in (0, 1, 2)]
    request = abci.RequestPrepareProposal(
        height=2,
        txs=[],
        time=header_time(NOT_DUE_MS),
        max_tx_bytes=MAX_TX_BYTES,
        local_last_commit=last_commit(votes),
    )
    proposed = list(run(attesting.prepare_proposal(request)).txs)
    assert [tx[0] for tx in proposed] == [ATTESTATION_TAG]
    assert process(attesting, proposed, NOT_DUE_MS) == ACCEPT
    decide(attesting, 2, proposed, NOT_DUE_MS)
    attested = node.get_attestation(Height(1))
    assert attested is not None and len(attested.attestation) == 3 * 65
    assert find_attestation_target(node) is None  # nothing else is due


def test_no_attestation_without_more_than_two_thirds(attesting: DuetApplication) -> None:
    votes = [(VALIDATORS[i], extension(attesting, ATTEST_KEYS[i])) for i in (0, 1)]
    request = abci.RequestPrepareProposal(
        height=2,
        txs=[],
        time=header_time(NOT_DUE_MS),
        max_tx_bytes=MAX_TX_BYTES,
        local_last_commit=last_commit(votes),
    )
    assert list(run(attesting.prepare_proposal(request)).txs) == []


def test_rejects_a_proposal_with_a_weak_attestation(attesting: DuetApplication) -> None:
    target = find_attestation_target(attesting.node)
    assert target is not None
    two = sorted(
        (int(a.address, 16), sign_block(target.message, ATTEST_KEYS[i]))
        for i, a in enumerate(ATTESTERS[:2])
    )
    weak = encode_attestation(1, b"".join(sig for _, sig in two))
    assert process(attesting, [weak], NOT_DUE_MS) == REJECT


def test_rejects_an_attestation_sent_to_the_mempool(attesting: DuetApplication) -> None:
    answer = check(attesting, encode_attestation(1, b"\x01" * 65))
    assert answer.code == REFUSED
    assert "only a proposer" in answer.log


# -- L1 deposits and queued Withdraws through consensus -------------------------------------


def test_a_due_height_carries_the_deposits_the_proposer_read_and_credits_them(
    app: DuetApplication,
) -> None:
    node = app.node
    node.add_l1_deposits([Deposit(0, CAROL, AMOUNT)])
    proposed = prepare(app, [])
    assert [tx[0] for tx in proposed] == [L1_INBOX_TAG]
    assert process(app, proposed) == ACCEPT
    decide(app, 1, proposed)
    assert get_account(node.zk_state, CAROL).balance == AMOUNT
    assert (node.deposits_credited, node.l1_deposits) == (1, [])


def test_rejects_a_deposit_this_validator_has_not_read_on_l1(tmp_path: Path) -> None:
    proposer = DuetApplication(open_network_node(tmp_path / "a"))
    proposer.node.add_l1_deposits([Deposit(0, CAROL, AMOUNT)])
    proposed = prepare(proposer, [])
    lagging = DuetApplication(open_network_node(tmp_path / "b"))  # its L1 reader is behind
    assert process(lagging, proposed) == REJECT
    lagging.node.add_l1_deposits([Deposit(0, CAROL, AMOUNT)])
    assert process(lagging, proposed) == ACCEPT  # the next round, once it has read it


@pytest.mark.parametrize(
    ("invented", "why"),
    [
        (Deposit(0, CAROL, 2 * AMOUNT), "not as L1 holds it"),
        (Deposit(1, CAROL, AMOUNT), "not the next, 0"),
    ],
)
def test_rejects_a_deposit_l1_does_not_hold(
    app: DuetApplication, invented: Deposit, why: str, caplog: pytest.LogCaptureFixture
) -> None:
    app.node.add_l1_deposits([Deposit(0, CAROL, AMOUNT)])
    assert process(app, [encode_l1_inbox([invented], [])]) == REJECT
    assert why in caplog.text


def test_a_flood_of_deposits_is_credited_a_block_at_a_time(app: DuetApplication) -> None:
    node = app.node
    cap = node.config.max_deposits_per_zk_block
    flood = [Deposit(i, CAROL, 1) for i in range(cap + 5)]
    node.add_l1_deposits(flood)
    proposed = prepare(app, [])
    inbox = decode_tagged(proposed[0])
    assert isinstance(inbox, L1InboxTx) and len(inbox.deposits) == cap
    decide(app, 1, proposed)
    assert (node.deposits_credited, len(node.l1_deposits)) == (cap, 5)
    decide(app, 2, prepare(app, [], HEADER_TIME_MS + 2_000), HEADER_TIME_MS + 2_000)
    assert (node.deposits_credited, node.l1_deposits) == (cap + 5, [])
    assert get_account(node.zk_state, CAROL).balance == cap + 5


def test_a_dev_node_credits_a_flood_of_deposits_a_block_at_a_time(node: Node) -> None:
    cap = node.config.max_deposits_per_zk_block
    node.add_l1_deposits([Deposit(i, CAROL, 1) for i in range(cap + 5)])
    node.produce_zk_block()
    assert (node.deposits_credited, len(node.l1_deposits)) == (cap, 5)
    node.produce_zk_block()
    assert (node.deposits_credited, node.l1_deposits) == (cap + 5, [])


def release_txs(node: Node, count: int) -> list[bytes]:
    """`count` 1-wei releases to CAROL from dev account 0 on the fast chain, each a message
    to the ZK chain (the flood a release costs its sender one transaction and the outbox's
    fee to make)."""
    key = PrivateKey(bytes(dev_account(0).key))
    data = keccak(text="release(address)")[:4] + CAROL.to_bytes(32, "big")
    fee = 2 * node.config.min_base_fee + 10**9
    return [
        sign_dynamic_fee_tx(
            DynamicFeeTx(
                node.config.fast_chain_id,
                n,
                10**9,
                fee,
                100_000,
                OUTBOX_ADDRESS,
                OUTBOX_MESSAGE_FEE_WEI + 1,
                data,
            ),
            key,
        )
        for n in range(count)
    ]


def test_a_flood_of_fast_messages_is_applied_a_block_at_a_time_and_a_restart_resumes_it(
    tmp_path: Path,
) -> None:
    node = open_network_node(tmp_path / "node")
    cap = node.config.max_messages_per_zk_block
    for raw in release_txs(node, cap + 5):
        node.submit_raw(raw)
    while node.produce_fast_block() is not None:
        pass
    assert len(node.inbox) == cap + 5
    first = node.produce_zk_block()
    assert len(node.inbox) == 5
    node.close()
    node = open_network_node(tmp_path / "node")  # the 5 left wait across a restart
    assert len(node.inbox) == 5
    second = node.produce_zk_block()
    assert node.inbox == []
    # Each message taken once, in order: the first `cap` by the first block, the rest next.
    taken = [node.store.list_zk_messages(seq) for seq in range(cap + 5)]
    assert [[record.height for record in records] for records in taken] == [
        [first.height]
    ] * cap + [[second.height]] * 5
    node.close()
    assert open_network_node(tmp_path / "node").inbox == []


def test_rejects_an_l1_inbox_over_a_blocks_deposits(
    app: DuetApplication, caplog: pytest.LogCaptureFixture
) -> None:
    cap = app.node.config.max_deposits_per_zk_block
    flood = [Deposit(i, CAROL, 1) for i in range(cap + 1)]
    app.node.add_l1_deposits(flood)
    assert process(app, [encode_l1_inbox(flood, [])]) == REJECT
    assert f"{cap + 1} deposits, more than a block's {cap}" in caplog.text


def test_rejects_an_l1_inbox_in_a_height_without_a_zk_block(app: DuetApplication) -> None:
    decide(app, 1, [])
    app.node.add_l1_deposits([Deposit(0, CAROL, AMOUNT)])
    inbox = encode_l1_inbox([Deposit(0, CAROL, AMOUNT)], [])
    assert process(app, [inbox], NOT_DUE_MS) == REJECT
    assert prepare(app, [], NOT_DUE_MS) == []


def test_a_zk_block_takes_no_deposit_its_height_does_not_carry(app: DuetApplication) -> None:
    """What a validator read on L1 is not consensus: only the proposal's inbox is taken."""
    node = app.node
    node.add_l1_deposits([Deposit(0, CAROL, AMOUNT)])
    decide(app, 1, [])
    assert get_account(node.zk_state, CAROL).balance == 0
    assert node.deposits_credited == 0 and len(node.l1_deposits) == 1


def test_rejects_an_l1_inbox_sent_to_the_mempool(app: DuetApplication) -> None:
    answer = check(app, encode_l1_inbox([Deposit(0, CAROL, AMOUNT)], []))
    assert answer.code == REFUSED
    assert "only a proposer" in answer.log


@pytest.mark.parametrize(
    "body",
    [
        b"{",
        b'{"deposits": [[0, "0x1"]], "forced": []}',
        b'{"deposits": [], "forced": [[0, ["0x1"], "0x"]]}',
    ],
)
def test_rejects_a_malformed_l1_inbox(body: bytes) -> None:
    with pytest.raises(UndecodableTx, match="L1 inbox is malformed"):
        decode_tagged(bytes([L1_INBOX_TAG]) + body)


def test_an_l1_inbox_round_trips() -> None:
    queued = QueuedWithdrawal(0, (1, 2, 3), b"\x04" * 65)
    decoded = decode_tagged(encode_l1_inbox([Deposit(0, CAROL, AMOUNT)], [queued]))
    assert decoded == L1InboxTx((Deposit(0, CAROL, AMOUNT),), (queued,))


def test_a_decided_deposit_is_taken_by_a_validator_that_had_not_read_it(tmp_path: Path) -> None:
    """It voted against the proposal, but more than two thirds of the power decided it:
    FinalizeBlock takes the deposit alike on every validator, or they would fork (the
    four-validator testnet did, before)."""
    proposer = DuetApplication(open_network_node(tmp_path / "a"))
    proposer.node.add_l1_deposits([Deposit(0, CAROL, AMOUNT)])
    proposed = prepare(proposer, [])
    lagging = DuetApplication(open_network_node(tmp_path / "b"))
    assert process(lagging, proposed) == REJECT
    decided = [decide(app, 1, proposed) for app in (proposer, lagging)]
    assert decided[0].app_hash == decided[1].app_hash
    assert get_account(lagging.node.zk_state, CAROL).balance == AMOUNT
    # Its reader then reads deposit 0, already credited: it goes on from deposit 1.
    lagging.node.add_l1_deposits([Deposit(0, CAROL, AMOUNT)])
    assert lagging.node.l1_deposits == []
    assert lagging.node.get_next_deposit_index() == 1


def test_a_proof_is_stored_for_an_operation_l1_already_settled(app: DuetApplication) -> None:
    """A validator catching up after a restart may read from L1 that a block settled before
    it replays the height that brought the block's proofs; the proof must still be stored,
    or the aggregate checked against it is refused on that validator alone (the
    four-validator testnet forked so at ZK block 20)."""
    node = app.node
    decide(app, 1, [zk_op(node, 0)])
    (record,) = node.store.list_zk_ops_at(node.zk_head.height)
    node.record_l1_settlement(node.zk_head.height, int.from_bytes(node.zk_head.state_root, "big"))
    assert node.store.get_zk_op(record.op_id).status == "settled"  # type: ignore[union-attr]
    submission = SubmissionRecord(record.op_id, 0xB0B, True)
    node.store.add_market_submission(SubmissionWrite(submission, proof=(record.op_id, b"proof")))
    stored = node.store.get_zk_op(record.op_id)
    assert stored is not None and (stored.proof, stored.status) == (b"proof", "settled")
