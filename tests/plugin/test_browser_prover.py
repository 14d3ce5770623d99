"""The browser plugin in Debian's Chromium (headless, `--load-extension`), proving for a
real dev node started with `--no-prover`, so every proof it needs comes from the plugin or
from a prover the test starts.

What a user does is done on the plugin's own pages (chain/testing/plugin_browser.py): the
node and the key on the options page, the switch in the popup. The market's payments are
checked against a replay of the node's stored market events by the pure core
(chain/market/book.py): the plugin is paid exactly the bounties of the jobs it proved, and
pays the penalty of the job it drops when switched off.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account

from chain.client.zk import ZkClient
from chain.config import MarketConfig
from chain.consensus.network import get_free_ports
from chain.fast.genesis import dev_keys
from chain.market.book import Market, Payment, apply_market_block
from chain.market.events import parse_events
from chain.testing.node_process import REPO, NodeProcess
from chain.testing.plugin_browser import (
    BrowserMissing,
    PluginBrowser,
    build_plugin,
    find_browser,
    wait_for,
)
from chain.testing.prover_process import ProverProcess
from tests.conftest import NodeFactory
from tests.integration.support import dev_account, rpc_result

PLUGIN_ACCOUNT = 4
OTHER_PROVER = 5
SENDER = 1
FEE = 10**16  # ten times the minimum: the fee pool covers every bounty
SETTLED_TIMEOUT_S = 240.0
# Where the popup's screenshot is kept after a run (build/ is not in git).
SCREENSHOT = REPO / "build" / "artifacts" / "plugin-popup.png"


@pytest.fixture(scope="module")
def plugin_dir() -> Path:
    try:
        find_browser()
    except BrowserMissing as exc:
        pytest.skip(str(exc))
    return build_plugin()


@pytest.fixture
def browser(plugin_dir: Path, tmp_path: Path) -> Iterator[PluginBrowser]:
    with PluginBrowser(tmp_path / "profile", plugin_dir) as browser:
        yield browser


def address_of(account: int) -> str:
    return Account.from_key(dev_keys()[account]).address


def prover_record(node: NodeProcess, account: int) -> dict[str, Any] | None:
    return read_prover(node, account)[1]


def read_prover(node: NodeProcess, account: int) -> tuple[int, dict[str, Any] | None]:
    """The ZK head and the prover's record as of it."""
    answer = rpc_result(node.zk_http, "duet_getProverJobs", [address_of(account)])
    record = answer["prover"]
    return int(answer["height"]), None if record is None else dict(record)


def replay_payments(
    node: NodeProcess, cfg: MarketConfig, head: int
) -> tuple[list[Payment], list[Any]]:
    """Every payment of blocks 1..head by the pure core from the stored events, and every
    submission event."""
    market = Market()
    payments: list[Payment] = []
    submissions: list[Any] = []
    for height in range(1, head + 1):
        stored = rpc_result(node.zk_http, "duet_getMarketBlock", [height])
        parent = rpc_result(node.zk_http, "eth_getBlockByNumber", [hex(height - 1), False])
        events = parse_events(stored["events"])
        block = apply_market_block(market, events, height, bytes.fromhex(parent["hash"][2:]), cfg)
        payments += block.payments
        submissions += events.submissions
        market = block.market
    return payments, submissions


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_plugin_proves_its_jobs_to_settlement_is_paid_exactly_the_bounties_and_shows_it(
    node_factory: NodeFactory, browser: PluginBrowser
) -> None:
    """With a node restart in the middle: the plugin takes up its subscription again and
    goes on proving."""
    cfg = MarketConfig(deadline_blocks=20)  # room for a 2-core machine's browser proofs
    (zk_port,) = get_free_ports(1)  # the same URL after the restart
    node = node_factory(
        "--no-prover",
        "--market",
        f"deadline_blocks={cfg.deadline_blocks}",
        "--zk-port",
        str(zk_port),
    )
    address = browser.configure(node.zk_http, dev_keys()[PLUGIN_ACCOUNT])
    assert address == address_of(PLUGIN_ACCOUNT)
    browser.set_active(True)
    wait_for(lambda: (prover_record(node, PLUGIN_ACCOUNT) or {}).get("active"), 60, "a heartbeat")

    client = ZkClient(node.zk_http, dev_account(SENDER).key, fee=FEE)
    ops = [client.transfer(dev_account(0).address, 10**15)]
    client.wait(ops[0], "settled", timeout_s=SETTLED_TIMEOUT_S)
    node.restart()
    assert node.zk_http == f"http://127.0.0.1:{zk_port}/"
    wait_for(lambda: (browser.read_status() or {}).get("connected"), 60, "the plugin to reconnect")
    ops += [client.transfer(dev_account(0).address, 10**15) for _ in range(2)]
    for op in ops:
        status = client.wait(op, "settled", timeout_s=SETTLED_TIMEOUT_S)
        assert status["status"] == "settled"

    head, record = read_prover(node, PLUGIN_ACCOUNT)
    assert record is not None
    payments, submissions = replay_payments(node, cfg, head)
    plugin = int(address_of(PLUGIN_ACCOUNT), 16)
    mine = [p for p in payments if p.prover == plugin]
    # Every proof the operations needed came from the plugin, and each was paid its bounty
    # (as the fee pool allows: a block pays out no more than its operations' fees).
    proven_ops = {bytes.fromhex(op[2:]) for op in ops}
    assert proven_ops <= {s.job_id for s in submissions if s.prover == plugin and s.valid}
    assert record["missed"] == 0 and record["invalid"] == 0
    assert all(p.reason == "bounty" and p.delta_wei >= 0 for p in mine)
    assert len(mine) == record["proven"]
    assert int(record["balance"]) == sum(p.delta_wei for p in mine) > 0

    # The popup shows what the node reports, and its screenshot is kept.
    browser.open("popup.html")

    def popup_matches() -> dict[str, Any] | None:
        record = prover_record(node, PLUGIN_ACCOUNT) or {}
        shown = browser.element("balance").get_attribute("data-wei")
        proven = browser.popup_text("proven")
        return (
            record
            if shown == record.get("balance") and proven == str(record.get("proven"))
            else None
        )

    record = wait_for(popup_matches, 30, "the popup to show the node's balance and count")
    browser.screenshot_popup(SCREENSHOT)
    assert "ZKPoW" in browser.popup_text("balance")
    assert browser.popup_text("address") == address
    width, height = png_size(SCREENSHOT)
    assert width >= 300 and height >= 300


def test_plugin_switched_off_mid_job_pays_the_penalty_and_the_job_goes_to_another_prover(
    node_factory: NodeFactory, browser: PluginBrowser, tmp_path: Path
) -> None:
    cfg = MarketConfig(active_blocks=10, deadline_blocks=8)
    node = node_factory(
        "--no-prover",
        "--market",
        f"active_blocks={cfg.active_blocks}",
        "--market",
        f"deadline_blocks={cfg.deadline_blocks}",
    )
    browser.configure(node.zk_http, dev_keys()[PLUGIN_ACCOUNT])
    browser.set_active(True)
    wait_for(lambda: (prover_record(node, PLUGIN_ACCOUNT) or {}).get("active"), 60, "a heartbeat")

    client = ZkClient(node.zk_http, dev_account(SENDER).key, fee=FEE)
    op = client.transfer(dev_account(0).address, 10**15)

    def proving_the_transfer() -> dict[str, Any] | None:
        current = (browser.read_status() or {}).get("current")
        if current and current["jobId"] == op and current["progress"] > 0:
            return dict(current)
        return None

    wait_for(proving_the_transfer, 60, "the plugin to be proving the transfer")
    browser.set_active(False)  # mid-proof: the offscreen document and its worker are gone
    wait_for(lambda: browser.read_status() is None, 10, "the prover to stop")

    other = ProverProcess(node.zk_http, dev_keys()[OTHER_PROVER], tmp_path / "prover.log").start()
    try:
        client.wait(op, "settled", timeout_s=SETTLED_TIMEOUT_S)
    finally:
        other.kill()

    head, record = read_prover(node, PLUGIN_ACCOUNT)
    assert record is not None and record["missed"] >= 1
    payments, submissions = replay_payments(node, cfg, head)
    plugin = int(address_of(PLUGIN_ACCOUNT), 16)
    job = bytes.fromhex(op[2:])
    # The plugin never submitted the transfer's proof; it missed the deadline and paid.
    assert not any(s.job_id == job and s.prover == plugin for s in submissions)
    # Its heartbeat stays good for a while: the job may come back to it once the first
    # deadline passes, and it misses again, paying each time.
    penalties = [
        (p.reason, p.delta_wei) for p in payments if p.prover == plugin and p.job_id == job
    ]
    assert penalties and set(penalties) == {("missed_deadline", -cfg.penalty_wei)}, penalties
    # The job went to the other prover, whose proof was taken and paid.
    helper = int(address_of(OTHER_PROVER), 16)
    assert any(s.job_id == job and s.prover == helper and s.valid for s in submissions)
    assert any(p.job_id == job and p.prover == helper and p.reason == "bounty" for p in payments)
    assert int(record["balance"]) == sum(p.delta_wei for p in payments if p.prover == plugin)


def test_a_new_key_without_zkpow_is_told_why_it_cannot_heartbeat(
    node: NodeProcess, browser: PluginBrowser
) -> None:
    """A key generated in the plugin has no ZK account to pay the heartbeat's fee from: the
    popup says so, and no heartbeat reaches the node."""
    browser.configure_node(node.zk_http)
    browser.element("generate").click()
    address = browser.wait_for_address()
    browser.set_active(True)
    error = wait_for(lambda: (browser.read_status() or {}).get("lastError"), 60, "an error")
    assert "heartbeat refused" in error and "no account on the ZK chain" in error
    record = rpc_result(node.zk_http, "duet_getProverJobs", [address])["prover"]
    assert record is None  # never a prover
