"""`corrupt`: a node whose database was damaged while it was down must refuse to start rather
than serve a wrong state (chain/ledger/integrity.py). Two kinds of damage, each on a copy of
a data directory a node filled under load:

- `damaged_page`: pages in the middle of the database file overwritten with random bytes,
  after a clean stop (the WAL copied back into the file);
- `truncated_wal`: the WAL cut back to the frames already copied into the database file,
  after a `kill -9` that left committed frames only in the WAL (without the check, SQLite
  would serve the older heads those frames went past).

Each is `detected` when the node exits at start with an error naming the damage, and never
writes its node.json (it served nothing)."""

from __future__ import annotations

import random
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from chain.ledger.integrity import (
    INDEX_MIN_BYTES,
    WAL_FRAME_HEADER_BYTES,
    WAL_HEADER_BYTES,
    WalIndex,
    parse_wal_index,
    read_head,
)
from chain.ledger.store import DATABASE_FILE
from chain.nodefile import NODE_FILE
from chain.testing.node_process import NodeProcess, NodeStartError
from chain.testing.reliability.load import SteadyLoad, deploy_move_bench

LOAD_S = 2.0  # of load before the node is stopped or killed
DAMAGED_PAGES = 3
REFUSAL = "will not serve this data directory"
KILL_ATTEMPTS = 10  # kills tried until one leaves committed frames outside the database file

Progress = Callable[[str], None]


def run_corrupt(workdir: Path, seed: int, progress: Progress) -> dict[str, Any]:
    rng = random.Random(seed)
    source = workdir / "corrupt-node"
    node = NodeProcess(source)
    node.start()
    try:
        game = deploy_move_bench(node.fast_http)
        run_load(node, game)
        node.stop()  # SIGINT: the WAL is copied back, the database file holds everything
        damaged = copy_node(source, workdir / "corrupt-damaged-page")
        damage_pages(damaged / DATABASE_FILE, rng)
        variants = {"damaged_page": try_start(damaged)}
        node.start()
        index = kill_with_frames_in_wal(node, game)
        cut = copy_node(source, workdir / "corrupt-truncated-wal")
        truncate_wal(cut / DATABASE_FILE, index)
        variants["truncated_wal"] = try_start(cut)
    finally:
        node.stop()
    for name, outcome in variants.items():
        progress(f"corrupt {name}: {'detected' if outcome['detected'] else 'SERVED'}")
    return {"detected": all(v["detected"] for v in variants.values()), "variants": variants}


def run_load(node: NodeProcess, game: str) -> None:
    load = SteadyLoad(node.fast_http, node.zk_http, game)
    load.start()
    time.sleep(LOAD_S)
    load.stop()


def copy_node(source: Path, target: Path) -> Path:
    shutil.copytree(source, target, ignore=shutil.ignore_patterns(NODE_FILE, "LOCK"))
    return target


def damage_pages(db_path: Path, rng: random.Random) -> None:
    """Overwrite `DAMAGED_PAGES` pages spread through the file's middle half."""
    with db_path.open("r+b") as db:
        header = db.read(100)
        page_size = int.from_bytes(header[16:18], "big")
        page_size = 65536 if page_size == 1 else page_size
        pages = db_path.stat().st_size // page_size
        for k in range(DAMAGED_PAGES):
            page = pages // 4 + (k * pages) // (2 * DAMAGED_PAGES)
            db.seek(page * page_size)
            db.write(rng.randbytes(page_size))


def kill_with_frames_in_wal(node: NodeProcess, game: str) -> WalIndex:
    """Kill the node under load until its WAL holds committed frames that were not copied
    into the database file yet (a checkpoint runs every second); the index then."""
    shm = node.data_dir / (DATABASE_FILE + "-shm")
    for _ in range(KILL_ATTEMPTS):
        load = SteadyLoad(node.fast_http, node.zk_http, game)
        load.start()
        time.sleep(LOAD_S / 2)
        node.kill9()
        load.stop(killed=True)
        index = parse_wal_index(read_head(shm, INDEX_MIN_BYTES))
        if index is not None and index.committed_frames > index.backfilled_frames:
            return index
        node.start()
    raise RuntimeError(f"no kill in {KILL_ATTEMPTS} left committed frames outside the database")


def truncate_wal(db_path: Path, index: WalIndex) -> None:
    """Cut the WAL back to the frames the database file already holds."""
    frame = WAL_FRAME_HEADER_BYTES + index.page_size
    wal = db_path.with_name(db_path.name + "-wal")
    with wal.open("r+b") as file:
        file.truncate(WAL_HEADER_BYTES + index.backfilled_frames * frame)


def try_start(data_dir: Path) -> dict[str, Any]:
    """Start a node on `data_dir`: refused naming the damage is `detected`."""
    node = NodeProcess(data_dir)
    try:
        node.start()
    except NodeStartError as refused:
        said = " ".join(str(refused).split())  # the console wraps its lines
        detected = REFUSAL in said and not (data_dir / NODE_FILE).exists()
        at = said.find(REFUSAL)
        return {"detected": detected, "said": said[at:][:300] if at >= 0 else said[-300:]}
    node.stop()
    return {"detected": False, "said": "the node started and served"}
