"""The WAL is copied back into the database by the store's own thread, never by a commit."""

from __future__ import annotations

import time
from pathlib import Path

from chain.ledger.store import Store

ROW = "x" * 2000
ROWS = 3000  # about 6 MB: past SQLite's default auto-checkpoint (1,000 pages of 4 KiB)


def fill(store: Store) -> None:
    for i in range(ROWS):
        store.set_meta(f"k{i}", ROW)


def test_commits_leave_the_wal_to_the_checkpointer(tmp_path: Path) -> None:
    path = tmp_path / "duet.db"
    store = Store(path, checkpoint_interval_s=3600)
    try:
        size_before = path.stat().st_size
        fill(store)
        assert path.stat().st_size == size_before  # no commit copied its pages in
        assert Path(f"{path}-wal").stat().st_size > len(ROW) * ROWS
    finally:
        store.close()


def test_checkpointer_copies_the_wal_into_the_database(tmp_path: Path) -> None:
    path = tmp_path / "duet.db"
    store = Store(path, checkpoint_interval_s=0.05)
    try:
        fill(store)
        deadline = time.monotonic() + 10
        while path.stat().st_size < len(ROW) * ROWS and time.monotonic() < deadline:
            time.sleep(0.05)
        assert path.stat().st_size > len(ROW) * ROWS
    finally:
        store.close()
    reopened = Store(path)
    try:
        assert reopened.get_meta(f"k{ROWS - 1}") == ROW
    finally:
        reopened.close()
