"""The prover market on a real node with prover processes (docs/market.md): three by
default, five with `--slow`.

Honest provers are killed while they hold jobs (one of two, or two of four), and another
prover submits only wrong proofs. Every operation must still be proven, aggregated and settled on L1; every payment
and penalty must be what the rules say (the test replays the stored market events with the
pure core and checks them against the node's market and the proven ZK state); bounties
must rise once the killed provers' heartbeats lapse; block production must never stop.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account

from chain.client.zk import ZkClient
from chain.config import MarketConfig
from chain.fast.genesis import dev_keys
from chain.market.book import Market, Payment, apply_market_block, compute_net_payments
from chain.market.events import parse_events
from chain.testing.node_process import NodeProcess
from chain.testing.prover_process import ProverProcess
from tests.conftest import NodeFactory
from tests.integration.support import dev_account, rpc_result

# Two-second blocks: the provers' heartbeats, their jobs and the test's operations fit two
# cores (at one second, proving fell behind the heartbeats).
ZK_INTERVAL_S = 2
DEADLINE_BLOCKS = 6
CHEATER = 7
SENDERS = (1, 2)
FEE = 10**16  # ten times the minimum: the fee pool covers the bounties
MAX_BLOCK_GAP_MS = 3 * ZK_INTERVAL_S * 1000  # a busy machine may delay a block, not stop it
ACTIVE_TIMEOUT_S = 120.0
PROVEN_TIMEOUT_S = 420.0
SAMPLE_S = 0.3


@dataclass(frozen=True)
class Scale:
    """How big a market the test runs: honest provers (dev accounts), how many of them
    vanish, operations sent in each of its three phases, and the heartbeat's reach."""

    honest: tuple[int, ...]
    victims: int
    ops_per_phase: int
    active_blocks: int

    @property
    def cfg(self) -> MarketConfig:
        return MarketConfig(active_blocks=self.active_blocks, deadline_blocks=DEADLINE_BLOCKS)

    @property
    def provers(self) -> int:
        return len(self.honest) + 1  # and the cheater


QUICK = Scale(honest=(3, 4), victims=1, ops_per_phase=2, active_blocks=8)
FULL = Scale(honest=(3, 4, 5, 6), victims=2, ops_per_phase=6, active_blocks=16)
SCALES = [
    pytest.param(QUICK, id="three-provers"),
    pytest.param(FULL, id="five-provers", marks=pytest.mark.slow),
]


def address_of(account: int) -> str:
    return Account.from_key(dev_keys()[account]).address.lower()


@pytest.fixture
def scale(request: pytest.FixtureRequest) -> Scale:
    value: Scale = request.param
    return value


@pytest.fixture
def market_node(node_factory: NodeFactory, scale: Scale) -> NodeProcess:
    return node_factory(
        "--no-prover",
        "--zk-interval",
        str(ZK_INTERVAL_S),
        "--market",
        f"active_blocks={scale.active_blocks}",
        "--market",
        f"deadline_blocks={DEADLINE_BLOCKS}",
    )


@pytest.fixture
def provers(
    market_node: NodeProcess, scale: Scale, tmp_path: Path
) -> Iterator[dict[int, ProverProcess]]:
    started = {
        n: ProverProcess(
            market_node.zk_http, dev_keys()[n], tmp_path / f"prover-{n}.log", cheat=n == CHEATER
        ).start()
        for n in (*scale.honest, CHEATER)
    }
    try:
        yield started
    finally:
        for prover in started.values():
            prover.kill()


class Sampler:
    """duet_getProverMarket every SAMPLE_S in the background: what a user would have seen."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.samples: list[dict[str, Any]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(SAMPLE_S):
            self.samples.append(rpc_result(self.url, "duet_getProverMarket", []))

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)


def wait_for(predicate: Any, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def active_provers(url: str) -> int:
    return int(rpc_result(url, "duet_getProverMarket", [])["activeProvers"])


def holds_a_job(url: str, account: int) -> bool:
    return bool(rpc_result(url, "duet_getProverJobs", [address_of(account)])["jobs"])


def send(clients: list[ZkClient], count: int) -> list[str]:
    ops = []
    for n in range(count):
        ops.append(clients[n % len(clients)].transfer(dev_account(0).address, 10**15))
        time.sleep(0.4)
    return ops


def replay(url: str, height: int, cfg: MarketConfig) -> tuple[Market, dict[int, tuple[int, int]]]:
    """The market from the stored events of blocks 1..height, by the pure core alone, and
    what each settling block's entries must add and take: every payment owed until then,
    netted per prover."""
    market = Market()
    owed: list[Payment] = []
    settled: dict[int, tuple[int, int]] = {}
    for h in range(1, height + 1):
        stored = rpc_result(url, "duet_getMarketBlock", [h])
        parent = rpc_result(url, "eth_getBlockByNumber", [hex(h - 1), False])
        beacon = bytes.fromhex(parent["hash"][2:])
        events = parse_events(stored["events"])
        block = apply_market_block(market, events, h, beacon, cfg)
        owed += block.payments
        market = block.market
        if events.settle:
            # Settled per prover, net: a bounty and a penalty of one prover cancel out.
            net = [delta for _, delta in compute_net_payments(owed)]
            settled[h] = (sum(d for d in net if d > 0), -sum(d for d in net if d < 0))
            owed = []
        else:
            settled[h] = (0, 0)
    return market, settled


def settle_totals(url: str, height: int) -> tuple[int, int]:
    """What block `height`'s MarketSettle entries added to provers and took from them."""
    paid = burned = 0
    block = rpc_result(url, "eth_getBlockByNumber", [hex(height), False])
    for op_id in block["transactions"]:
        body = rpc_result(url, "duet_getOperation", [op_id])["operation"]
        if body["type"] != "MarketSettle":
            continue
        for entry in body["entries"]:
            delta = int(entry["delta"], 16)
            paid += max(delta, 0)
            burned += max(-delta, 0)
    return paid, burned


@pytest.mark.parametrize("scale", SCALES, indirect=True)
def test_provers_vanish_one_cheats_and_every_operation_is_settled(
    scale: Scale, market_node: NodeProcess, provers: dict[int, ProverProcess]
) -> None:
    url = market_node.zk_http
    cfg = scale.cfg
    wait_for(lambda: active_provers(url) == scale.provers, ACTIVE_TIMEOUT_S, "active provers")
    sampler = Sampler(url)
    clients = [ZkClient(url, dev_account(n).key, fee=FEE) for n in SENDERS]

    ops = send(clients, scale.ops_per_phase)
    victims: list[int] = []
    deadline = time.monotonic() + 90
    while len(victims) < scale.victims:  # kill honest provers, each while it holds a job
        assert time.monotonic() < deadline, "no honest prover held a job"
        if not kill_one_holding(url, scale, provers, victims):
            ops += send(clients, 1)
    ops += send(clients, scale.ops_per_phase)
    left = scale.provers - scale.victims
    wait_for(lambda: active_provers(url) == left, ACTIVE_TIMEOUT_S, "the victims' heartbeats lapse")
    ops += send(clients, scale.ops_per_phase)  # proven by those left, at higher bounties

    deadline = time.monotonic() + PROVEN_TIMEOUT_S
    for op in ops:
        clients[0].wait(op, "settled", timeout_s=max(1.0, deadline - time.monotonic()))
    sampler.stop()

    market = rpc_result(url, "duet_getProverMarket", [])
    head = market["height"]
    replayed, settled = replay(url, head, cfg)
    by_address = {p["address"]: p for p in market["provers"]}

    # Exact payments: the replay's balances are the node's; each settling block moved in
    # the proven state exactly what was owed.
    for address, state in replayed.provers.items():
        shown = by_address[f"{address:#042x}"]
        assert int(shown["balance"]) == state.balance
        assert (shown["proven"], shown["missed"], shown["invalid"]) == (
            state.proven,
            state.missed,
            state.invalid,
        )
    for height, expected in settled.items():
        assert settle_totals(url, height) == expected, f"block {height}"

    # The cheater earned nothing and paid a penalty per wrong proof and per lapse.
    cheater = by_address[address_of(CHEATER)]
    assert cheater["invalid"] >= 1 and cheater["proven"] == 0
    penalties = cheater["invalid"] + cheater["missed"]
    assert int(cheater["balance"]) == -cfg.penalty_wei * penalties
    for victim in victims:
        assert by_address[address_of(victim)]["missed"] >= 1, "a vanished prover is penalised"

    # Bounties rise while provers are missing: the same wait pays more with fewer active.
    assert_bounties_rose(sampler.samples, scale.provers, left)

    # Block production never stopped.
    stamps = [
        int(rpc_result(url, "eth_getBlockByNumber", [hex(h), False])["timestamp"], 16)
        for h in range(head + 1)
    ]
    gaps = [b - a for a, b in itertools.pairwise(stamps)]
    assert max(gaps) * 1000 <= MAX_BLOCK_GAP_MS, f"a ZK block came {max(gaps)} s late"


def kill_one_holding(
    url: str, scale: Scale, provers: dict[int, ProverProcess], victims: list[int]
) -> bool:
    for account in scale.honest:
        if account not in victims and holds_a_job(url, account):
            provers[account].kill()
            victims.append(account)
            return True
    return False


def assert_bounties_rose(samples: list[dict[str, Any]], before: int, after: int) -> None:
    seen: dict[tuple[int, int], int] = {}  # (active provers, blocks waited) → op bounty
    for sample in samples:
        for job in sample["jobs"]:
            if job["kind"] == "op":
                seen[(sample["activeProvers"], job["waited"])] = int(job["bounty"], 16)
    common = {w for a, w in seen if a == before} & {w for a, w in seen if a == after}
    assert common, f"no wait seen both with {before} and with {after} provers: {sorted(seen)}"
    for waited in common:
        assert seen[(after, waited)] > seen[(before, waited)], f"waited {waited}: {seen}"
