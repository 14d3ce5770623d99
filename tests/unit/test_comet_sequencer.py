"""The decentralized mode's pure parts: what the node reads from a CometBFT home's config,
and how it reads CometBFT's answer to a forwarded transaction; and the one process part,
finding and stopping a CometBFT its killed node left behind."""

import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from eth_utils import keccak

from chain.consensus.comet_sequencer import (
    COMETBFT_PID_FILE,
    BadCometHome,
    BroadcastAnswer,
    CometSequencer,
    classify_broadcast,
    compute_rpc_url,
    find_own_cometbft,
    parse_genesis_time_ms,
    parse_home_settings,
    stop_leftover,
)
from chain.fast.txs import decode_transaction
from chain.jsonrpc import RpcError
from chain.node import open_node
from chain.testing.accounts import sign_transfer
from chain.types import Hash32

CONFIG = """
proxy_app = "unix:///tmp/v0/app.sock"
moniker = "v0"

[rpc]
laddr = "tcp://127.0.0.1:26657"
max_request_batch_size = 500
"""


def test_reads_the_app_address_rpc_url_and_batch_limit() -> None:
    settings = parse_home_settings(CONFIG)
    assert settings.app_address == "unix:///tmp/v0/app.sock"
    assert settings.rpc_url == "http://127.0.0.1:26657"
    assert settings.batch_size == 500


def test_a_wildcard_rpc_address_is_called_on_loopback() -> None:
    assert compute_rpc_url("tcp://0.0.0.0:26657") == "http://127.0.0.1:26657"


def test_rejects_an_rpc_address_that_is_not_tcp() -> None:
    with pytest.raises(BadCometHome, match="over tcp://"):
        compute_rpc_url("unix:///tmp/rpc.sock")


def test_rejects_a_config_without_proxy_app() -> None:
    with pytest.raises(BadCometHome, match="proxy_app"):
        parse_home_settings('[rpc]\nladdr = "tcp://127.0.0.1:1"\n')
    with pytest.raises(BadCometHome, match="lacks"):
        parse_home_settings("proxy_app = [unclosed")


def test_a_transaction_cometbft_took_or_had_is_taken() -> None:
    assert classify_broadcast({"code": 0, "log": ""}).verdict == "taken"
    already = RpcError("broadcast_tx_sync", -32603, "Internal error", "tx already exists in cache")
    assert classify_broadcast(already).verdict == "taken"


def test_a_refused_transaction_says_why() -> None:
    refused = classify_broadcast({"code": 1, "log": "nonce too low"})
    assert refused == BroadcastAnswer("refused", "refused by the network's mempool: nonce too low")
    large = RpcError("broadcast_tx_sync", -32603, "Internal error", "Tx too large. Max size is 1")
    assert classify_broadcast(large).verdict == "refused"


@pytest.mark.parametrize(
    "detail",
    [
        "mempool is full: number of txs 5000 (max: 5000)",
        "appConn mempool: read message: EOF",  # CometBFT or the app going down
    ],
)
def test_a_transaction_cometbft_cannot_check_now_is_kept_for_a_retry(detail: str) -> None:
    """Dropping it would lose a transaction the node acknowledged (the e2e run
    unequal-power did, while a validator stopped)."""
    answer = classify_broadcast(RpcError("broadcast_tx_sync", -32603, "Internal error", detail))
    assert answer.verdict == "retry"
    assert classify_broadcast("garbage").verdict == "retry"


def test_reads_the_network_genesis_time_in_unix_ms() -> None:
    genesis = '{"genesis_time": "2026-12-06T22:05:46.295057123Z", "chain_id": "x"}'
    assert parse_genesis_time_ms(genesis) == 1_796_594_746_295


def test_rejects_a_genesis_without_a_usable_time() -> None:
    with pytest.raises(BadCometHome, match="no usable genesis_time"):
        parse_genesis_time_ms('{"chain_id": "x"}')
    with pytest.raises(BadCometHome, match="names no time zone"):
        parse_genesis_time_ms('{"genesis_time": "2026-12-06T22:05:46"}')


def make_home(tmp_path: Path) -> Path:
    home = tmp_path / "cometbft"
    (home / "config").mkdir(parents=True)
    (home / "config" / "config.toml").write_text(CONFIG)
    return home


def test_a_block_drops_what_its_nonces_made_stale_and_keeps_its_own(tmp_path: Path) -> None:
    """The node forwarded A (nonce 0); another validator's B (the same nonce) commits: A can
    never be included and is dropped, saying why; B is committed, not lost."""
    node = open_node(tmp_path / "node")
    sequencer = CometSequencer(node, make_home(tmp_path), Path("/nonexistent/cometbft"))
    mine, theirs = sign_transfer(0, value=1), sign_transfer(0, value=2)
    mine_hash = node.submit_raw(mine)
    next_hash = node.submit_raw(sign_transfer(1, value=1))  # committed in the same block
    later_hash = node.submit_raw(sign_transfer(2, value=1))  # the next nonce: still includable
    block = [decode_transaction(raw, 7702) for raw in (theirs, sign_transfer(1, value=1))]
    node.commit_fast_block(node.make_fast_block(block, 1_900_000_000_000))
    assert node.store.get_lost_reason(Hash32(keccak(theirs))) is None
    assert node.store.get_lost_reason(next_hash) is None
    assert node.tx_status(next_hash)[0] == "committed"
    assert "nonce was used by another committed transaction" in (
        node.store.get_lost_reason(mine_hash) or ""
    )
    assert list(node.pool.by_hash) == [later_hash]
    assert sequencer.app.node is node


def test_a_cometbft_that_outlived_its_node_is_found_and_stopped(tmp_path: Path) -> None:
    """A stand-in process whose command line is a CometBFT's on this home (`exec -a`), as
    one the node's kill -9 left shutting down; a pid file naming anything else is left be."""
    home = tmp_path / "home"
    pid_file = tmp_path / COMETBFT_PID_FILE
    leftover = subprocess.Popen(
        [
            "bash",
            "-c",
            f'exec -a cometbft python3 -c "import time; time.sleep(60)" start --home "{home}"',
        ],
    )
    try:
        pid_file.write_text(f"{leftover.pid}\n")
        wait_until(lambda: find_own_cometbft(pid_file, home) == leftover.pid)
        stop_leftover(pid_file, home)
        assert leftover.wait(5) == -signal.SIGKILL
    finally:
        leftover.kill()
    other = subprocess.Popen(["sleep", "60"])
    try:
        pid_file.write_text(f"{other.pid}\n")
        assert find_own_cometbft(pid_file, home) is None
        stop_leftover(pid_file, home)
        assert other.poll() is None  # not ours: untouched
    finally:
        other.kill()
        other.wait()


def wait_until(check: Callable[[], bool], timeout_s: float = 5.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)
