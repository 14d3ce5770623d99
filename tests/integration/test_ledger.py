"""The braided ledger: one log carrying both chains' blocks in one global order, read through
`duet_heads` / `duet_getLedger` on a node whose ZK chain ticks every 0.2 s while fast
transactions arrive."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from eth_account import Account
from hexbytes import HexBytes
from web3 import Web3

from chain.testing.node_process import NodeProcess
from tests.integration.ledger_helpers import heads, ledger_through
from tests.integration.support import (
    FAST_CHAIN_ID,
    ZK_CHAIN_ID,
    dev_account,
    rpc_result,
    sign,
    wait_receipt,
)

pytestmark = pytest.mark.timeout(180)

ZK_INTERVAL_S = 0.2
SEND_WINDOW_S = 2.0
FAST_TXS = 10
CHAIN_IDS = {"fast": FAST_CHAIN_ID, "zk": ZK_CHAIN_ID}


@dataclass
class Recorded:
    node: NodeProcess
    w3: Web3
    window_s: float
    zk_heights: tuple[int, int]
    mined_blocks: list[int]
    heads: dict[str, Any]
    entries: list[dict[str, Any]]

    def of_chain(self, chain: str) -> list[dict[str, Any]]:
        return [e for e in self.entries if e["chain"] == chain]


@pytest.fixture(scope="module")
def recorded(module_node_factory: Callable[..., NodeProcess]) -> Recorded:
    node = module_node_factory("--zk-interval", str(ZK_INTERVAL_S))
    w3 = Web3(Web3.HTTPProvider(node.fast_http, request_kwargs={"timeout": 30}))
    sender = dev_account(0)

    zk_before = heads(node.fast_http)["zk"]["height"]
    started = time.monotonic()
    mined = []
    for i in range(FAST_TXS):
        raw = sign(w3, sender, {"to": Account.create().address, "value": 1 + i, "gas": 21_000})
        mined.append(wait_receipt(w3, w3.eth.send_raw_transaction(raw))["blockNumber"])
        # Spread over the window so that ZK blocks fall between the fast ones.
        time.sleep(max(0.0, started + (i + 1) * SEND_WINDOW_S / FAST_TXS - time.monotonic()))
    window_s = time.monotonic() - started
    final = heads(node.fast_http)
    entries = ledger_through(node.fast_http, final["ledger"]["seq"])
    return Recorded(node, w3, window_s, (zk_before, final["zk"]["height"]), mined, final, entries)


def test_ledger_seq_counts_from_zero_without_gaps_up_to_the_head(recorded: Recorded) -> None:
    seqs = [e["seq"] for e in recorded.entries]
    assert seqs == list(range(recorded.heads["ledger"]["seq"] + 1))
    assert recorded.entries[-1]["hash"] == recorded.heads["ledger"]["hash"]


def test_each_entry_links_to_the_previous_entry_by_prev_hash(recorded: Recorded) -> None:
    for previous, entry in itertools.pairwise(recorded.entries):
        assert entry["prevHash"] == previous["hash"], entry["seq"]
    assert len({e["hash"] for e in recorded.entries}) == len(recorded.entries)


@pytest.mark.parametrize("chain", ["fast", "zk"])
def test_per_chain_heights_are_consecutive_and_parent_hashes_link(
    recorded: Recorded, chain: str
) -> None:
    blocks = recorded.of_chain(chain)
    heights = [b["height"] for b in blocks]
    assert heights[0] in (0, 1)
    assert heights == list(range(heights[0], heights[0] + len(blocks)))
    for previous, block in itertools.pairwise(blocks):
        assert block["parentHash"] == previous["hash"], (chain, block["height"])
    assert blocks[-1]["height"] == recorded.heads[chain]["height"]
    assert blocks[-1]["hash"] == recorded.heads[chain]["hash"]


def test_both_chains_are_interleaved_in_one_log(recorded: Recorded) -> None:
    chains = [e["chain"] for e in recorded.entries]
    assert set(chains) == {"fast", "zk"}
    # The fast blocks of the send window are not one run: ZK blocks fall between them.
    mined = set(recorded.mined_blocks)
    window = [e for e in recorded.entries if e["chain"] == "fast" and e["height"] in mined]
    first, last = window[0]["seq"], window[-1]["seq"]
    zk_inside = [e for e in recorded.entries[first:last] if e["chain"] == "zk"]
    assert len(zk_inside) >= 3, f"only {len(zk_inside)} ZK blocks among the fast ones"
    switches = sum(1 for a, b in itertools.pairwise(chains) if a != b)
    assert switches >= 6


def test_zk_blocks_arrive_about_every_zk_interval(recorded: Recorded) -> None:
    before, after = recorded.zk_heights
    expected = recorded.window_s / ZK_INTERVAL_S
    produced = after - before
    # Loose bounds: two cores shared with other test workers.
    assert 0.3 * expected <= produced <= 1.5 * expected + 2, (produced, expected)
    zk = recorded.of_chain("zk")
    timestamps = [b["timestamp"] for b in zk]
    assert timestamps == sorted(timestamps)


def test_fast_entries_equal_the_fast_chain_blocks(recorded: Recorded) -> None:
    w3 = recorded.w3
    for entry in recorded.of_chain("fast"):
        block = w3.eth.get_block(entry["height"])
        assert HexBytes(entry["hash"]) == block["hash"], entry["height"]
        assert HexBytes(entry["parentHash"]) == block["parentHash"]
        assert HexBytes(entry["stateRoot"]) == block["stateRoot"]
        assert HexBytes(entry["transactionsRoot"]) == block["transactionsRoot"]
        assert HexBytes(entry["receiptsRoot"]) == block["receiptsRoot"]
        assert entry["timestamp"] == block["timestamp"]
        assert entry["txCount"] == len(block["transactions"])
    # Every ZK block's roots bring a fast block, so the fast chain moves on after recording.
    assert w3.eth.block_number >= recorded.heads["fast"]["height"]
    mined_in_log = sum(e["txCount"] for e in recorded.of_chain("fast"))
    assert mined_in_log >= FAST_TXS


def test_entries_carry_their_chain_ids_and_dev_mode_fields(recorded: Recorded) -> None:
    for entry in recorded.entries:
        assert entry["chain"] in CHAIN_IDS
        assert entry["chainId"] == CHAIN_IDS[entry["chain"]]
        assert isinstance(entry["messages"], list)
        assert entry["commitCertificate"] == "0x", "dev mode has no commit certificate"
        assert all(isinstance(entry[k], int) for k in ("seq", "height", "txCount", "timestamp"))
    assert recorded.heads["fast"]["chainId"] == FAST_CHAIN_ID
    assert recorded.heads["zk"]["chainId"] == ZK_CHAIN_ID


def test_zk_endpoint_answers_chain_7701_and_its_block_number_is_the_zk_head(
    recorded: Recorded,
) -> None:
    zk_url = recorded.node.zk_http
    assert int(rpc_result(zk_url, "eth_chainId"), 16) == ZK_CHAIN_ID
    # The ZK chain keeps ticking: bracket eth_blockNumber between two reads of the head.
    low = heads(zk_url)["zk"]["height"]
    number = int(rpc_result(zk_url, "eth_blockNumber"), 16)
    high = heads(zk_url)["zk"]["height"]
    assert low <= number <= high


def test_both_endpoints_serve_the_same_ledger(recorded: Recorded) -> None:
    zk_url, fast_url = recorded.node.zk_http, recorded.node.fast_http
    seq = recorded.heads["ledger"]["seq"]
    from_zk = rpc_result(zk_url, "duet_getLedger", [0, seq + 1])
    from_fast = rpc_result(fast_url, "duet_getLedger", [0, seq + 1])
    assert from_zk == from_fast == recorded.entries
    assert heads(zk_url)["ledger"]["seq"] >= seq


def test_get_ledger_honours_from_seq_and_limit(recorded: Recorded) -> None:
    url = recorded.node.fast_http
    assert rpc_result(url, "duet_getLedger", [3, 2]) == recorded.entries[3:5]
    assert rpc_result(url, "duet_getLedger", [0, 0]) == []
    assert len(rpc_result(url, "duet_getLedger", [0, 5000])) <= 1000
    far = recorded.heads["ledger"]["seq"] + 10_000
    assert rpc_result(url, "duet_getLedger", [far, 10]) == []
