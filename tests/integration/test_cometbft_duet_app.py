"""A real CometBFT v0.38.26 (one validator, on loopback) drives DuetApplication over a real
node store: signed fast transactions sent through CometBFT's `broadcast_tx_commit` land in
committed fast blocks and move balances; a transaction signed for another chain, or with a
used nonce, is refused at CheckTx and never executed; the app hash in CometBFT's headers and
in its `abci_info` is the app's; and after both stop and restart, the handshake (Info from
the store) continues the chain where it stopped.
"""

from __future__ import annotations

import base64
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from eth_utils import keccak

from chain.config import NetworkConfig
from chain.consensus.abci.application import OK
from chain.consensus.comet_sequencer import read_genesis_time_ms
from chain.consensus.duet_app import REFUSED, DuetApplication, get_comet_head
from chain.launcher import ChildProcess
from chain.node import Node, open_node
from chain.testing.accounts import dev_account, sign_transfer
from chain.types import Address, Hash32
from tests.integration.cometbft_net import (
    COMETBFT,
    MISSING_REASON,
    START_TIMEOUT_S,
    Net,
    ServerThread,
    make_net,
)

pytestmark = pytest.mark.skipif(COMETBFT is None, reason=MISSING_REASON)

BOB = Address(bytes.fromhex("22" * 20))
SENT = 10**15


def transfer(nonce: int, chain_id: int = 7702, value: int = SENT) -> bytes:
    return sign_transfer(nonce, to="0x" + BOB.hex(), value=value, chain_id=chain_id)


@dataclass
class Running:
    node: Node
    app: DuetApplication
    server: ServerThread
    cometbft: ChildProcess

    def balance(self, address: Address) -> int:
        return self.server.call(lambda: self.node.account(address).balance)

    def app_hash(self) -> bytes:
        return self.server.call(self.app.get_app_hash)

    def stop(self) -> None:
        assert self.cometbft.stop() == 0, "cometbft did not stop cleanly"
        self.server.stop()


@pytest.fixture
def net(tmp_path: Path) -> Net:
    return make_net(tmp_path)


NO_ZK_BLOCK_MS = 86_400_000


@pytest.fixture
def start(net: Net, tmp_path: Path) -> Iterator[Any]:
    """start() opens the node's store, serves DuetApplication over it, then runs CometBFT;
    every run is stopped at teardown."""
    runs: list[Running] = []

    def start_run() -> Running:
        assert COMETBFT is not None
        genesis_time_ms = read_genesis_time_ms(net.home)
        node = open_node(tmp_path / "node", NetworkConfig(genesis_time_ms=genesis_time_ms))
        # The fast chain alone: no ZK block falls due in a run (each would send the fast
        # chain its roots; test_cometbft_node.py has ZK blocks through CometBFT).
        app = DuetApplication(node, zk_interval_ms=NO_ZK_BLOCK_MS)
        server = ServerThread(app, net.app_address).start()
        cometbft = ChildProcess(
            [str(COMETBFT), "start", "--home", str(net.home)], log=net.log, tied_to_parent=True
        )
        runs.append(Running(node, app, server, cometbft))
        cometbft.start()
        cometbft.wait_ready(net.is_up, START_TIMEOUT_S, "cometbft")
        return runs[-1]

    yield start_run
    for run in reversed(runs):
        run.cometbft.stop()
        run.server.stop()


def send(net: Net, raw: bytes) -> tuple[int, dict[str, Any]]:
    """The CometBFT height `raw` committed at, and its FinalizeBlock result."""
    result = net.broadcast_commit(raw)
    assert result["check_tx"]["code"] == OK, result["check_tx"]
    assert result["tx_result"]["code"] == OK, result["tx_result"]
    return int(result["height"]), result["tx_result"]


def wait_for_app_commit(run: Running) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while run.server.call(lambda: get_comet_head(run.node)) is None:
        assert time.monotonic() < deadline, "the app committed no height"
        time.sleep(0.05)


def abci_app_hash(net: Net) -> tuple[int, bytes]:
    info = net.rpc("abci_info")["response"]
    return int(info.get("last_block_height", 0)), base64.b64decode(info["last_block_app_hash"])


def test_cometbft_drives_duet_fast_chain(net: Net, start: Any) -> None:
    first: Running = start()
    bob_before = first.balance(BOB)
    # The first committed height delivers the ZK genesis's messages in a fast block of its
    # own; wait until the app committed it, so the count below starts after it.
    wait_for_app_commit(first)
    fast_start = first.server.call(lambda: first.node.fast_head.height)

    committed = []
    for nonce in (0, 1):
        height, result = send(net, transfer(nonce))
        assert int(result["gas_used"]) == 21_000
        committed.append(height)
    assert committed[0] < committed[1]
    assert first.balance(BOB) == bob_before + 2 * SENT
    record = first.server.call(lambda: first.node.store.get_tx(Hash32(keccak(transfer(1)))))
    assert record is not None and record.height == fast_start + 2

    # Refused at CheckTx: never executed, balances unchanged.
    other_chain = net.broadcast_commit(transfer(2, chain_id=1))
    assert other_chain["check_tx"]["code"] == REFUSED
    assert "signed for chain ID 1" in other_chain["check_tx"]["log"]
    used_nonce = net.broadcast_commit(transfer(1, value=SENT + 1))
    assert used_nonce["check_tx"]["code"] == REFUSED
    assert "nonce too low" in used_nonce["check_tx"]["log"]
    assert first.balance(BOB) == bob_before + 2 * SENT

    # The next header, and CometBFT's view of the app, carry the app's hash (empty heights
    # since then changed nothing).
    net.wait_for_height(committed[-1] + 2)
    app_hash = first.app_hash()
    assert net.header_app_hash(committed[-1] + 1) == app_hash
    assert abci_app_hash(net)[1] == app_hash

    first.stop()
    stopped = get_comet_head(first.node)
    assert stopped is not None and stopped.height >= committed[-1] + 2
    assert stopped.fast_height == fast_start + 2
    first.node.close()

    second: Running = start()
    assert second.server.call(lambda: second.node.fast_head.height) == fast_start + 2
    height, _ = send(net, transfer(2))
    assert height > stopped.height
    assert second.balance(BOB) == bob_before + 3 * SENT
    # CometBFT's heights and the fast chain's are mapped, not equal: the empty heights
    # made no fast block.
    assert second.server.call(lambda: second.node.fast_head.height) == fast_start + 3
    assert height > fast_start + 3
    head = second.server.call(lambda: get_comet_head(second.node))
    assert head is not None and head.fast_height == fast_start + 3
    net.wait_for_height(height + 1)
    assert net.header_app_hash(height + 1) == second.app_hash()


KILLS = 3
TXS_PER_ROUND = 4


def test_cometbft_killed_mid_height_resumes_with_the_app(net: Net, start: Any) -> None:
    """kill -9 CometBFT while transactions are being ordered, three times, and start it again
    against the same running app: the handshake brings CometBFT and the app together again
    (the app's side of a replay, a height finalized but not committed, is
    tests/unit/test_duet_app.py's), every committed transfer is in the balances once, and
    the headers carry the app's hash."""
    run_: Running = start()
    sender = Address(bytes.fromhex(dev_account(0).address[2:]))
    bob_before = run_.balance(BOB)
    rng = random.Random(19)
    for _ in range(KILLS):
        nonce = run_.server.call(lambda: run_.node.account(sender).nonce)
        for offset in range(TXS_PER_ROUND):
            raw = transfer(nonce + offset)
            net.rpc("broadcast_tx_sync", tx=base64.b64encode(raw).decode())
        time.sleep(rng.uniform(0.0, 0.3))
        run_.cometbft.kill()
        run_.cometbft.start()
        run_.cometbft.wait_ready(net.is_up, START_TIMEOUT_S, "cometbft")
        net.wait_for_height(net.height() + 2)
    nonce = run_.server.call(lambda: run_.node.account(sender).nonce)
    height, _ = send(net, transfer(nonce))
    assert run_.balance(BOB) == bob_before + (nonce + 1) * SENT
    net.wait_for_height(height + 1)
    assert net.header_app_hash(height + 1) == run_.app_hash()
    assert abci_app_hash(net)[1] == run_.app_hash()
