"""`fuzz`: hostile JSON-RPC requests (chain/testing/reliability/hostile.py) against both
chains of a dev node, half each, while a watcher notes every new head. Every request must be
answered with a well-formed JSON-RPC error, the node must still answer afterwards, and the
longest time between two new heads (`max_block_gap_ms`; a ZK block comes every second, and
a fast block with it) shows whether anything a stranger sent held block production up."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests

from chain.testing.node_process import NodeProcess
from chain.testing.reliability.hostile import HostileRequest, check_answer, make_requests
from chain.testing.reliability.load import Heads, Rpc, Worker

REQUEST_TIMEOUT_S = 30.0
MAX_DETAILS = 10
HEADERS = {"Content-Type": "application/json"}

Progress = Callable[[str], None]


class GapWatcher(Worker):
    """Notes the longest wait between two new ZK heads the node shows."""

    def __init__(self, url: str) -> None:
        super().__init__("gaps")
        self.rpc = Rpc(url)
        self.max_gap_s = 0.0
        self.blocks = 0

    def work(self) -> None:
        heads = Heads()
        last_new = time.monotonic()
        while not self.halt.is_set():
            zk = heads.zk
            heads.raise_to(self.rpc.call("duet_heads"))
            now = time.monotonic()
            if heads.zk > zk:
                if zk >= 0:
                    self.max_gap_s = max(self.max_gap_s, now - last_new)
                    self.blocks += heads.zk - zk
                last_new = now
            time.sleep(0.01)


def send(session: requests.Session, url: str, request: HostileRequest) -> str:
    """The request sent; "" if answered as it should be, else why not."""
    try:
        answer = session.post(url, data=request.body, headers=HEADERS, timeout=REQUEST_TIMEOUT_S)
    except requests.RequestException as exc:
        return f"no answer: {exc!r:.200}"
    return check_answer(request, answer.status_code, answer.content)


def run_fuzz(workdir: Path, count: int, seed: int, progress: Progress) -> dict[str, Any]:
    node = NodeProcess(workdir / "fuzz-node")
    node.start()
    try:
        watcher = GapWatcher(node.fast_http)
        watcher.start()
        session = requests.Session()
        kinds: Counter[str] = Counter()
        problems: list[str] = []
        well_formed = 0
        started = time.monotonic()
        shares = (("fast", node.fast_http, count - count // 2), ("zk", node.zk_http, count // 2))
        for chain, url, share in shares:
            for request in make_requests(chain, seed, share):
                kinds[request.kind] += 1
                why = send(session, url, request)
                if why:
                    problems.append(f"{chain} {request.kind}: {why} (sent {request.body[:120]!r})")
                else:
                    well_formed += 1
            progress(f"fuzz: {share} requests to the {chain} chain sent")
        took = time.monotonic() - started
        watcher.halt.set()
        watcher.join()
        if watcher.error is not None or watcher.disconnected is not None:
            problems.insert(0, f"the head watcher stopped: {watcher.error or watcher.disconnected}")
        alive = node.running and is_answering(node.fast_http) and is_answering(node.zk_http)
        return {
            "requests": count,
            "node_alive": alive,
            "errors_well_formed": well_formed,
            "max_block_gap_ms": round(watcher.max_gap_s * 1000, 1),
            "zk_blocks_during": watcher.blocks,
            "sending_s": round(took, 1),
            "kinds": dict(sorted(kinds.items())),
            "problems": problems[:MAX_DETAILS],
        }
    finally:
        node.stop()


def is_answering(url: str) -> bool:
    try:
        Rpc(url).call("eth_blockNumber")
    except (OSError, RuntimeError):
        return False
    return True
