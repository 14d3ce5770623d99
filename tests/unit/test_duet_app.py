"""DuetApplication without a CometBFT process: the ABCI++ requests CometBFT would send, over
a real node store. CheckTx applies dev mode's admission rules; PrepareProposal proposes only
what executes; ProcessProposal refuses a proposal with a transaction that cannot be decoded
or executed; FinalizeBlock executes at the header's time and Commit stores the block and the
CometBFT height together, which Info reports back."""

from __future__ import annotations

from pathlib import Path

import pytest

from chain.config import POOL_MAX_PER_SENDER
from chain.consensus import duet_app
from chain.consensus.abci.application import OK
from chain.consensus.abci.proto.tendermint.abci import types_pb2 as abci
from chain.consensus.duet_app import (
    REFUSED,
    UNDECODABLE,
    DuetApplication,
    InconsistentStore,
    compute_app_hash,
    get_comet_head,
)
from chain.fast.chain import FastBlock
from chain.fast.txs import FastTx
from chain.ledger.blocks import LedgerBlock
from chain.node import Node, open_node
from tests.unit.abci_requests import (
    ACCEPT,
    BOB,
    HEADER_TIME_MS,
    MAX_TX_BYTES,
    REJECT,
    SENT,
    decide,
    header_time,
    init_chain,
    open_network_node,
    process,
    run,
    transfer,
)


@pytest.fixture
def node(tmp_path: Path) -> Node:
    return open_network_node(tmp_path / "node")


@pytest.fixture
def app(node: Node) -> DuetApplication:
    return DuetApplication(node)


def test_check_tx_admits_a_valid_transfer(app: DuetApplication) -> None:
    answer = run(app.check_tx(abci.RequestCheckTx(tx=transfer(0))))
    assert (answer.code, answer.gas_wanted) == (OK, 21_000)
    # CometBFT's mempool holds it, not the node's pool.
    assert len(app.node.pool) == 0


def test_check_tx_admits_a_transaction_the_node_itself_admitted_and_forwarded(
    app: DuetApplication,
) -> None:
    app.node.submit_raw(transfer(0))  # in the node's own pool: its view of what it forwarded
    answer = run(app.check_tx(abci.RequestCheckTx(tx=transfer(0))))
    assert answer.code == OK


def test_rejects_at_check_tx_a_transaction_for_another_chain(app: DuetApplication) -> None:
    answer = run(app.check_tx(abci.RequestCheckTx(tx=transfer(0, chain_id=1))))
    assert answer.code == REFUSED
    assert "signed for chain ID 1" in answer.log


def test_rejects_at_check_tx_a_nonce_too_far_ahead(app: DuetApplication) -> None:
    answer = run(app.check_tx(abci.RequestCheckTx(tx=transfer(POOL_MAX_PER_SENDER))))
    assert answer.code == REFUSED
    assert "nonce too high" in answer.log


def test_rejects_at_check_tx_a_nonce_already_used(app: DuetApplication) -> None:
    decide(app, 1, [transfer(0)])
    answer = run(app.check_tx(abci.RequestCheckTx(tx=transfer(0, value=SENT + 1))))
    assert answer.code == REFUSED
    assert "nonce too low" in answer.log


def test_prepare_proposal_orders_by_nonce_and_leaves_out_what_cannot_execute(
    app: DuetApplication,
) -> None:
    poor = transfer(0, value=10**40, sender=1)  # more than the dev account holds
    request = abci.RequestPrepareProposal(
        height=1,
        txs=[transfer(1), b"\x02garbage", poor, transfer(0)],
        time=header_time(),
        max_tx_bytes=MAX_TX_BYTES,
    )
    proposed = list(run(app.prepare_proposal(request)).txs)
    assert proposed == [transfer(0), transfer(1)]
    assert process(app, proposed) == ACCEPT


def test_prepare_proposal_keeps_the_first_transaction_of_a_sender_and_nonce(
    app: DuetApplication,
) -> None:
    later = transfer(0, value=SENT + 1)
    request = abci.RequestPrepareProposal(
        height=1, txs=[transfer(0), later], time=header_time(), max_tx_bytes=MAX_TX_BYTES
    )
    assert list(run(app.prepare_proposal(request)).txs) == [transfer(0)]


def test_prepare_proposal_stays_within_max_tx_bytes(app: DuetApplication) -> None:
    txs = [transfer(0), transfer(1)]
    request = abci.RequestPrepareProposal(
        height=1, txs=txs, time=header_time(), max_tx_bytes=len(txs[0]) + len(txs[1]) - 1
    )
    assert list(run(app.prepare_proposal(request)).txs) == [transfer(0)]


def test_process_proposal_accepts_executable_transfers(app: DuetApplication) -> None:
    assert process(app, [transfer(0), transfer(1)]) == ACCEPT
    assert process(app, []) == ACCEPT


@pytest.mark.parametrize(
    "txs",
    [
        pytest.param([transfer(1)], id="nonce-gap"),
        pytest.param([transfer(0), transfer(0)], id="same-tx-twice"),
        pytest.param([transfer(0, value=10**40)], id="insufficient-balance"),
        pytest.param([transfer(0, chain_id=1)], id="another-chain"),
        pytest.param([transfer(0), b"\xc0not a transaction"], id="undecodable"),
    ],
)
def test_rejects_a_proposal_with_a_transaction_the_block_cannot_execute(
    app: DuetApplication, txs: list[bytes]
) -> None:
    head = app.node.fast_head
    assert process(app, txs) == REJECT
    assert app.node.fast_head == head  # checking changed nothing


def test_rejects_a_proposal_with_more_transactions_than_a_block_holds(
    app: DuetApplication, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(duet_app, "MAX_TXS_PER_BLOCK", 2)
    assert process(app, [transfer(0), transfer(1)]) == ACCEPT
    assert process(app, [transfer(0), transfer(1), transfer(2)]) == REJECT


def test_finalize_and_commit_execute_at_the_header_time(app: DuetApplication) -> None:
    node = app.node
    before = node.account(BOB).balance
    answer = decide(app, 1, [transfer(0), transfer(1)])
    assert [r.code for r in answer.tx_results] == [OK, OK]
    assert [r.gas_used for r in answer.tx_results] == [21_000, 21_000]
    assert node.fast_head.height == 1
    assert node.fast_head.timestamp_ms == HEADER_TIME_MS
    assert node.account(BOB).balance == before + 2 * SENT
    assert answer.app_hash == compute_app_hash(node.config, node.heads)
    info = run(app.info(abci.RequestInfo()))
    assert (info.last_block_height, info.last_block_app_hash) == (1, answer.app_hash)


def test_a_decided_undecodable_transaction_gets_a_failing_code(app: DuetApplication) -> None:
    answer = decide(app, 1, [b"\x02garbage", transfer(0)])
    assert [r.code for r in answer.tx_results] == [UNDECODABLE, OK]
    assert app.node.fast_head.height == 1


def test_an_empty_height_is_a_cometbft_height_without_a_fast_block(app: DuetApplication) -> None:
    node = app.node
    decide(app, 1, [transfer(0)])
    hash_after_1 = compute_app_hash(node.config, node.heads)
    answer = decide(app, 2, [])
    assert answer.app_hash == hash_after_1
    assert node.fast_head.height == 1
    head = get_comet_head(node)
    assert head is not None and (head.height, head.fast_height) == (2, 1)
    assert run(app.info(abci.RequestInfo())).last_block_height == 2


def test_info_after_a_restart_reports_the_stored_height_and_hash(tmp_path: Path) -> None:
    first = DuetApplication(open_network_node(tmp_path / "node"))
    assert run(first.info(abci.RequestInfo())).last_block_height == 0  # new: InitChain next
    run(first.init_chain(init_chain()))
    answer = decide(first, 1, [transfer(0)])
    first.node.close()
    second = DuetApplication(open_network_node(tmp_path / "node"))
    info = run(second.info(abci.RequestInfo()))
    assert (info.last_block_height, info.last_block_app_hash) == (1, answer.app_hash)
    assert second.node.account(BOB).balance == SENT


def test_rejects_init_chain_on_a_store_cometbft_already_drove(app: DuetApplication) -> None:
    decide(app, 1, [transfer(0)])
    with pytest.raises(InconsistentStore, match="already drove to height 1"):
        run(app.init_chain(init_chain()))


def test_rejects_init_chain_for_a_network_of_another_genesis_time(tmp_path: Path) -> None:
    """Genesis blocks made at another time hash differently: the node would never agree
    with the network's other validators."""
    app = DuetApplication(open_node(tmp_path / "node"))  # dev mode's genesis: made "now"
    with pytest.raises(InconsistentStore, match="the network's genesis time"):
        run(app.init_chain(init_chain()))


def test_nodes_of_one_network_start_from_the_same_genesis(tmp_path: Path) -> None:
    first = DuetApplication(open_network_node(tmp_path / "a"))
    second = DuetApplication(open_network_node(tmp_path / "b"))
    hashes = [run(app.init_chain(init_chain())).app_hash for app in (first, second)]
    assert hashes[0] == hashes[1]


def test_rejects_info_when_another_sequencer_moved_the_fast_chain(app: DuetApplication) -> None:
    decide(app, 1, [transfer(0)])
    app.node.submit_raw(transfer(1))
    app.node.produce_fast_block()  # dev mode on the same data directory
    with pytest.raises(InconsistentStore, match="fast head is at height 2"):
        run(app.info(abci.RequestInfo()))


def test_finalize_block_reuses_the_checked_execution_of_the_same_proposal(
    app: DuetApplication, monkeypatch: pytest.MonkeyPatch
) -> None:
    builds: list[int] = []
    make = app.node.make_fast_block

    def counting(txs: list[FastTx], timestamp_ms: int, after: LedgerBlock | None) -> FastBlock:
        builds.append(timestamp_ms)
        return make(txs, timestamp_ms, after)

    monkeypatch.setattr(app.node, "make_fast_block", counting)
    txs = [transfer(0)]
    assert process(app, txs) == ACCEPT
    decide(app, 1, txs)
    assert builds == [HEADER_TIME_MS]  # checked once, executed from the check
    # Another header time is another execution: the block's time is the header's.
    process(app, [transfer(1)])
    request = abci.RequestFinalizeBlock(
        height=2, txs=[transfer(1)], time=header_time(HEADER_TIME_MS + 1000)
    )
    run(app.finalize_block(request))
    assert builds == [HEADER_TIME_MS, HEADER_TIME_MS, HEADER_TIME_MS + 1000]


def test_a_height_finalized_but_not_committed_replays_to_the_same_app_hash(
    tmp_path: Path,
) -> None:
    """A crash between FinalizeBlock and Commit: Info reports the height before, and CometBFT
    replaying the decided block gets the same answer."""
    first = DuetApplication(open_network_node(tmp_path / "node"))
    decide(first, 1, [transfer(0)])
    request = abci.RequestFinalizeBlock(height=2, txs=[transfer(1)], time=header_time())
    answered = run(first.finalize_block(request))
    first.node.close()  # no Commit
    second = DuetApplication(open_network_node(tmp_path / "node"))
    assert run(second.info(abci.RequestInfo())).last_block_height == 1
    assert second.node.account(BOB).balance == SENT
    replayed = run(second.finalize_block(request))
    assert replayed == answered
    run(second.commit(abci.RequestCommit()))
    assert second.node.account(BOB).balance == 2 * SENT
    assert run(second.info(abci.RequestInfo())).last_block_app_hash == answered.app_hash


def test_an_accepted_proposal_is_shown_soft_before_it_commits(app: DuetApplication) -> None:
    shown: list[tuple[bytes, bool]] = []
    app.soft_listeners.append(lambda fast, removed: shown.append((fast.block.hash, removed)))
    assert process(app, [transfer(0)]) == abci.ResponseProcessProposal.ACCEPT
    assert len(shown) == 1 and shown[0][1] is False
    assert app.node.fast_head.height == 0  # soft: nothing committed yet
    process(app, [transfer(0)])  # the same proposal again (another round): shown once
    decide(app, 1, [transfer(0)])
    # The committed block is the soft one (same hash), and is not retracted.
    assert app.node.fast_head.hash == shown[0][0]
    assert len(shown) == 1


def test_a_soft_block_that_did_not_commit_is_retracted(app: DuetApplication) -> None:
    shown: list[tuple[bytes, bool]] = []
    app.soft_listeners.append(lambda fast, removed: shown.append((fast.block.hash, removed)))
    process(app, [transfer(0)])  # round 0's proposal, accepted, then not decided
    decide(app, 1, [transfer(0), transfer(1)])  # round 1's block commits instead
    assert [removed for _, removed in shown] == [False, True]
    assert shown[1][0] == shown[0][0] != app.node.fast_head.hash


def test_the_proposer_shows_its_own_proposal_soft(app: DuetApplication) -> None:
    shown: list[bool] = []
    app.soft_listeners.append(lambda fast, removed: shown.append(removed))
    request = abci.RequestPrepareProposal(
        height=1, txs=[transfer(0)], time=header_time(), max_tx_bytes=1 << 20
    )
    run(app.prepare_proposal(request))
    assert shown == [False]
