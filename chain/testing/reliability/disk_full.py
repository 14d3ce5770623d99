"""`disk_full`: a node whose data directory is on a small tmpfs, under a steady load, when a
file fills the rest of it. While the disk is full the node refuses what it cannot write
(a JSON-RPC error saying so) and keeps what it acknowledged; when the file is removed, the
load goes on by itself. Then a `kill -9` and a restart: everything acknowledged, before,
during and after, is still there.

Mounting a tmpfs needs root (CAP_SYS_ADMIN); without it the scenario says so and measures
nothing."""

from __future__ import annotations

import contextlib
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from chain.testing.node_process import NodeProcess
from chain.testing.reliability.load import (
    Acknowledged,
    Rpc,
    SteadyLoad,
    deploy_move_bench,
    find_missing,
)

DISK_MB = 192  # the tmpfs: room for the node, its anvil and a few minutes of blocks
LOAD_S = 2.0  # of load before the disk fills, and again after it has room
FULL_S = 4.0  # how long the disk stays full once the node has refused a first write
# A full disk is not refused at once: after a checkpoint SQLite writes its WAL from the start
# again, into space the file already has, so a node writes on until the WAL needs more. On a
# busy machine that can take longer than FULL_S; the disk stays full until then.
FIRST_REFUSAL_TIMEOUT_S = 60.0
RESUME_TIMEOUT_S = 30.0
RESUMED_AT_LEAST = 10  # acknowledgements after the disk has room again that show it resumed
FILLER_CHUNK = 1 << 20
FULL_SAYS = "disk is full"

Progress = Callable[[str], None]


class CannotMount(RuntimeError):
    pass


@contextlib.contextmanager
def mounted_tmpfs(path: Path, size_mb: int) -> Iterator[Path]:
    path.mkdir(parents=True, exist_ok=True)
    mount = ["mount", "-t", "tmpfs", "-o", f"size={size_mb}m", "tmpfs", str(path)]
    done = subprocess.run(mount, capture_output=True, text=True)
    if done.returncode != 0:
        raise CannotMount(f"cannot mount a tmpfs (root needed): {done.stderr.strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], capture_output=True)


def fill(path: Path) -> int:
    """Write `path` until the disk has no room left; the bytes written."""
    written = 0
    chunk = b"\0" * FILLER_CHUNK
    with path.open("wb", buffering=0) as file:
        while True:
            try:
                written += file.write(chunk)
            except OSError:
                break
        with contextlib.suppress(OSError):  # the last partial chunk, byte-sized steps
            while file.write(b"\0" * 512):
                written += 512
    return written


def run_disk_full(workdir: Path, progress: Progress) -> dict[str, Any]:
    try:
        with mounted_tmpfs(workdir / "disk-full-mount", DISK_MB) as disk:
            return measure(disk, progress)
    except CannotMount as exc:
        return {"error": str(exc)}


def measure(disk: Path, progress: Progress) -> dict[str, Any]:
    node = NodeProcess(disk / "node")
    node.start()
    try:
        game = deploy_move_bench(node.fast_http)
        load = SteadyLoad(node.fast_http, node.zk_http, game)
        load.start()
        time.sleep(LOAD_S)
        filler = disk / "filler"
        filled = fill(filler)
        before_full = load.acked.count()
        progress(f"disk_full: disk full ({filled >> 20} MiB filler), {before_full} acknowledged")
        wait_refused(load.acked, FIRST_REFUSAL_TIMEOUT_S)
        time.sleep(FULL_S)
        while_full = load.acked.count() - before_full
        refused = [r for r in load.acked.refusals if FULL_SAYS in r]
        filler.unlink()
        resumed = wait_resumed(load.acked, load.acked.count())
        time.sleep(LOAD_S)
        load.stop()
        progress(
            f"disk_full: {len(refused)} refusals while full, {while_full} acknowledged then; "
            f"resumed: {resumed}"
        )
        node.kill9()
        node.start()
        missing = find_missing(Rpc(node.fast_http), Rpc(node.zk_http), load.acked)
        other = [r for r in load.acked.refusals if FULL_SAYS not in r]
        return {
            "lost_acknowledged": len(missing),
            "resumed": resumed,
            "refused_while_full": len(refused),
            "refusal": refused[0] if refused else None,
            "other_refusals": other[:5],
            "acknowledged": load.acked.count(),
            "problems": missing[:10],
        }
    finally:
        node.stop()


def wait_refused(acked: Acknowledged, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and not any(FULL_SAYS in r for r in list(acked.refusals)):
        time.sleep(0.1)


def wait_resumed(acked: Acknowledged, count: int) -> bool:
    deadline = time.monotonic() + RESUME_TIMEOUT_S
    while time.monotonic() < deadline:
        if acked.count() >= count + RESUMED_AT_LEAST:
            return True
        time.sleep(0.1)
    return False
