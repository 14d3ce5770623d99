"""A database is checked before a node serves it (chain/ledger/integrity.py), and a write
that finds no room fails whole and leaves the store usable (chain/ledger/store.py)."""

from __future__ import annotations

import sqlite3
import struct
import sys
from pathlib import Path

import pytest

from chain.ledger.integrity import (
    INDEX_HEADER_BYTES,
    INDEX_VERSION,
    WAL_FRAME_HEADER_BYTES,
    WAL_HEADER_BYTES,
    DamagedDatabase,
    WalHeader,
    WalIndex,
    check_database,
    find_missing_wal_frames,
    parse_wal_header,
    parse_wal_index,
)
from chain.ledger.store import Store, is_storage_full
from chain.types import Hash32

PAGE = 4096
SALTS = bytes.fromhex("0102030405060708")
FRAME = WAL_FRAME_HEADER_BYTES + PAGE


def make_index(committed: int, backfilled: int, salts: bytes = SALTS) -> bytes:
    order = "<" if sys.byteorder == "little" else ">"
    header = struct.pack(order + "IIIBBHII", INDEX_VERSION, 0, 1, 1, 0, PAGE, committed, 10)
    header += b"\0" * 8 + salts + b"\0" * 8
    assert len(header) == INDEX_HEADER_BYTES
    return header + header + struct.pack(order + "I", backfilled) + b"\0" * 40


def make_wal_header(salts: bytes = SALTS) -> bytes:
    return struct.pack(">IIII", 0x377F0682, 3007000, PAGE, 0) + salts + b"\0" * 8


def test_index_and_wal_headers_parse_as_sqlite_writes_them(tmp_path: Path) -> None:
    path = tmp_path / "a.db"
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA wal_autocheckpoint=0")
    db.execute("CREATE TABLE t (v BLOB)")
    for _ in range(5):
        db.execute("INSERT INTO t VALUES (?)", (b"x" * 5000,))
        db.commit()
    index = parse_wal_index(Path(f"{path}-shm").read_bytes())
    header = parse_wal_header(Path(f"{path}-wal").read_bytes())
    db.close()
    assert index is not None and header is not None
    assert index.page_size == header.page_size == PAGE
    assert index.salts == header.salts
    assert index.committed_frames > 0 and index.backfilled_frames == 0


def test_a_wal_holding_every_committed_frame_is_sound() -> None:
    index = WalIndex(PAGE, committed_frames=10, backfilled_frames=4, salts=SALTS)
    size = WAL_HEADER_BYTES + 10 * FRAME
    assert find_missing_wal_frames(index, WalHeader(PAGE, SALTS), size) == ""
    # An unfinished frame after the committed ones: a kill -9 mid-commit, not damage.
    assert find_missing_wal_frames(index, WalHeader(PAGE, SALTS), size + 100) == ""


def test_a_wal_cut_short_of_frames_not_yet_in_the_database_is_damage() -> None:
    index = WalIndex(PAGE, committed_frames=10, backfilled_frames=4, salts=SALTS)
    problem = find_missing_wal_frames(index, WalHeader(PAGE, SALTS), WAL_HEADER_BYTES + 9 * FRAME)
    assert "cut short" in problem and "10 committed frames" in problem


def test_a_wal_cut_after_everything_was_copied_back_loses_nothing() -> None:
    index = WalIndex(PAGE, committed_frames=10, backfilled_frames=10, salts=SALTS)
    assert find_missing_wal_frames(index, None, 0) == ""


def test_rejects_a_wal_without_its_header_or_of_another_generation() -> None:
    index = WalIndex(PAGE, committed_frames=3, backfilled_frames=0, salts=SALTS)
    assert "lost its header" in find_missing_wal_frames(index, None, 0)
    other = WalHeader(PAGE, bytes(8))
    assert "salts differ" in find_missing_wal_frames(index, other, 10**9)


def test_a_torn_or_missing_index_is_not_trusted() -> None:
    whole = make_index(5, 1)
    assert parse_wal_index(whole) is not None
    torn = whole[:8] + b"\xff" + whole[9:]  # the two header copies disagree
    assert parse_wal_index(torn) is None
    assert parse_wal_index(b"") is None


def test_rejects_a_truncated_wal_at_start(tmp_path: Path) -> None:
    path = tmp_path / "duet.db"
    sqlite3.connect(path).close()
    Path(f"{path}-shm").write_bytes(make_index(committed=6, backfilled=2))
    Path(f"{path}-wal").write_bytes(make_wal_header() + b"\0" * (3 * FRAME))
    with pytest.raises(DamagedDatabase, match="cut short"):
        check_database(path)


def test_rejects_a_database_with_damaged_pages(tmp_path: Path) -> None:
    path = tmp_path / "duet.db"
    store = Store(path)
    for i in range(400):
        store.set_meta(f"key{i}", "v" * 200)
    store.close()
    check_database(path)  # sound before the damage
    data = bytearray(path.read_bytes())
    pages = len(data) // PAGE
    for page in (pages // 3, pages // 2):
        data[page * PAGE : (page + 1) * PAGE] = bytes(range(256)) * (PAGE // 256)
    path.write_bytes(bytes(data))
    with pytest.raises(DamagedDatabase, match=r"malformed|damaged"):
        check_database(path)


def test_a_new_data_directory_has_nothing_to_check(tmp_path: Path) -> None:
    check_database(tmp_path / "duet.db")


def test_a_write_without_room_fails_whole_and_the_store_goes_on(tmp_path: Path) -> None:
    store = Store(tmp_path / "duet.db")
    try:
        pages = store.db.execute("PRAGMA page_count").fetchone()[0]
        store.db.execute(f"PRAGMA max_page_count={pages + 2}")
        lost = [(Hash32(i.to_bytes(32, "big")), "r" * 1000) for i in range(200)]
        with pytest.raises(sqlite3.OperationalError) as full:
            store.mark_lost(lost)
        assert is_storage_full(full.value)
        assert not store.db.in_transaction  # rolled back, not left open
        assert store.get_lost_reason(lost[0][0]) is None  # none of it written
        store.db.execute("PRAGMA max_page_count=1073741823")  # room again
        store.mark_lost(lost)
        assert store.get_lost_reason(lost[-1][0]) == "r" * 1000
    finally:
        store.close()


def test_other_errors_are_not_a_full_disk() -> None:
    assert not is_storage_full(sqlite3.OperationalError("no such table: x"))
    assert not is_storage_full(OSError(28, "No space left on device"))


def test_a_write_that_fails_midway_is_rolled_back_and_the_store_goes_on(tmp_path: Path) -> None:
    """SQLite rolls a full disk's transaction back itself; any other failure inside a write
    (here a constraint) must be rolled back by the store, or the connection stays inside
    that transaction and every later write fails."""
    store = Store(tmp_path / "duet.db")
    try:
        store.mark_lost([(Hash32(bytes(32)), "first")])
        with pytest.raises(sqlite3.IntegrityError), store._transaction() as db:
            db.execute("INSERT INTO meta VALUES ('k', 'v')")
            db.execute("INSERT INTO lost VALUES (?, 'again')", (bytes(32),))
        assert not store.db.in_transaction
        assert store.get_meta("k") is None  # nothing of it written
        store.mark_lost([(Hash32(bytes(31) + b"\x01"), "later")])
        assert store.get_lost_reason(bytes(31) + b"\x01") == "later"
    finally:
        store.close()
