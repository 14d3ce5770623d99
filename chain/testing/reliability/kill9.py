"""`kill9`: a dev node (L1, prover and agent included, as users run it) under a steady load of
game moves and ZK transfers, killed with SIGKILL at a random moment and restarted, `runs`
times. After each restart, every move that had a receipt before the kill still has it (in
the same block) and every ZK operation seen `committed` (or later) still is; and no head
(fast, ZK, ledger) is below the highest one the node showed before the kill."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from chain.testing.node_process import NodeProcess
from chain.testing.reliability.load import Heads, Rpc, SteadyLoad, deploy_move_bench, find_missing

KILL_AFTER_S = (0.5, 3.0)  # a run's load lasts a random time in this range before the kill
MAX_DETAILS = 10  # problems quoted in the result, beyond their counts

Progress = Callable[[str], None]


def run_kill9(workdir: Path, runs: int, seed: int, progress: Progress) -> dict[str, Any]:
    rng = random.Random(seed)
    node = NodeProcess(workdir / "kill9-node")
    node.start()
    try:
        game = deploy_move_bench(node.fast_http)
        seen = Heads()
        lost = went_back = fast_acked = zk_acked = refused = 0
        details: list[str] = []
        for run in range(1, runs + 1):
            load = SteadyLoad(node.fast_http, node.zk_http, game, heads=seen)
            load.start()
            time.sleep(rng.uniform(*KILL_AFTER_S))
            node.kill9()
            load.stop(killed=True)
            before = replace(seen)  # a copy: `seen` goes on rising after the restart
            node.start()
            fast, zk = Rpc(node.fast_http), Rpc(node.zk_http)
            missing = find_missing(fast, zk, load.acked)
            now = Heads()
            now.raise_to(fast.call("duet_heads"))
            back = now.went_back_from(before)
            lost += len(missing)
            went_back += bool(back)
            fast_acked += len(load.acked.fast)
            zk_acked += len(load.acked.zk)
            refused += len(load.acked.refusals)
            details += [f"run {run}: refused {why}" for why in load.acked.refusals]
            details += [f"run {run}: {p}" for p in [*missing, *back]]
            progress(
                f"kill9 {run}/{runs}: {len(load.acked.fast)} moves and {len(load.acked.zk)} "
                f"ZK operations acknowledged, {len(missing)} lost; heads {before} → {now}"
            )
        return {
            "runs": runs,
            "lost_acknowledged": lost,
            "went_back": went_back,
            "acknowledged": {"moves": fast_acked, "zk_operations": zk_acked},
            "refused": refused,
            "problems": details[:MAX_DETAILS],
        }
    finally:
        node.stop()
