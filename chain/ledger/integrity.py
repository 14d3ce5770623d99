"""A node's database checked before it serves: damage is found at start, never served.

Two kinds of damage are looked for, both before the node reads its heads:

- **A damaged database file** (a page overwritten, the file cut short): SQLite's
  `PRAGMA quick_check` walks every b-tree page and index; any finding refuses the start.
- **Committed blocks missing from the write-ahead log** (the WAL cut short or overwritten by
  a copy, a full disk, an operator's mistake). SQLite reads a WAL up to its last valid commit
  and silently serves the older state the rest leaves, which here would mean serving heads a
  client has already seen go past. The shared-memory index beside it (`duet.db-shm`, kept on
  disk after a `kill -9`) records how many frames were committed (`mxFrame`) and how many
  were copied into the database file (`nBackfill`). If committed frames that were never
  copied back are gone from the WAL, the start is refused.

A `kill -9` in the middle of a commit leaves only an unfinished frame at the WAL's end,
after every committed one: that is not damage, and the node starts (SQLite drops the frame).

Formats (sqlite.org/fileformat2.html and walformat.html): the WAL starts with a 32-byte
big-endian header (magic, version, page size, checkpoint sequence, two salts, two checksums),
then frames of a 24-byte header and one page. The index starts with two copies of a 48-byte
header in native byte order (iVersion, unused, iChange, isInit, bigEndCksum, szPage,
mxFrame, nPage, aFrameCksum[2], aSalt[2], aCksum[2]; aSalt is a byte copy of the WAL
header's), then the checkpoint information (nBackfill first).
"""

from __future__ import annotations

import sqlite3
import struct
import sys
from dataclasses import dataclass
from pathlib import Path

WAL_HEADER_BYTES = 32
WAL_FRAME_HEADER_BYTES = 24
WAL_MAGICS = (0x377F0682, 0x377F0683)
INDEX_HEADER_BYTES = 48
INDEX_VERSION = 3007000
# Two header copies, then nBackfill (u32) at the start of the checkpoint information.
INDEX_MIN_BYTES = 2 * INDEX_HEADER_BYTES + 4
QUICK_CHECK_MAX_ERRORS = 5


class DamagedDatabase(Exception):
    """The node's database is damaged: it must not serve what it holds."""


@dataclass(frozen=True)
class WalIndex:
    """What the shared-memory index says of the WAL it indexes."""

    page_size: int
    committed_frames: int  # mxFrame
    backfilled_frames: int  # nBackfill: frames already copied into the database file
    salts: bytes  # as the WAL's header holds them (the index keeps a byte copy)


@dataclass(frozen=True)
class WalHeader:
    page_size: int
    salts: bytes


def parse_wal_index(data: bytes) -> WalIndex | None:
    """The index's header, or None when it holds none a reader could trust (never
    initialised, torn between its two copies, or of another version)."""
    if len(data) < INDEX_MIN_BYTES:
        return None
    first, second = data[:INDEX_HEADER_BYTES], data[INDEX_HEADER_BYTES : 2 * INDEX_HEADER_BYTES]
    if first != second:
        return None
    order = "<" if sys.byteorder == "little" else ">"
    version, _unused, _change, is_init, _big_end, page_size, max_frame = struct.unpack_from(
        order + "IIIBBHI", first
    )
    (backfill,) = struct.unpack_from(order + "I", data, 2 * INDEX_HEADER_BYTES)
    if version != INDEX_VERSION or not is_init:
        return None
    # szPage holds 65536 as 1 (sqlite's wal.c), the one size a u16 cannot hold.
    page_size = 65536 if page_size == 1 else page_size
    return WalIndex(page_size, max_frame, backfill, first[32:40])


def parse_wal_header(data: bytes) -> WalHeader | None:
    """The WAL's header, or None when the file is too short or not a WAL."""
    if len(data) < WAL_HEADER_BYTES:
        return None
    magic, _version, page_size = struct.unpack_from(">III", data)
    if magic not in WAL_MAGICS:
        return None
    return WalHeader(page_size, data[16:24])


def find_missing_wal_frames(index: WalIndex | None, header: WalHeader | None, wal_size: int) -> str:
    """Why committed frames that the database file lacks are missing from the WAL ("" when
    none are): a pure function of the index, the WAL's header and its size."""
    if index is None or index.committed_frames <= index.backfilled_frames:
        return ""  # no index to trust, or every committed frame is in the database file
    if header is None:
        return (
            f"the write-ahead log lost its header, but {index.committed_frames} frames were "
            f"committed to it and only {index.backfilled_frames} copied into the database"
        )
    if header.salts != index.salts:
        return "the write-ahead log is not the one its index describes (its salts differ)"
    needed = WAL_HEADER_BYTES + index.committed_frames * (WAL_FRAME_HEADER_BYTES + index.page_size)
    if wal_size < needed:
        return (
            f"the write-ahead log is cut short: {wal_size} bytes, but its "
            f"{index.committed_frames} committed frames need {needed} and only "
            f"{index.backfilled_frames} were copied into the database"
        )
    return ""


def read_head(path: Path, size: int) -> bytes:
    try:
        with path.open("rb") as file:
            return file.read(size)
    except FileNotFoundError:
        return b""


def check_wal(db_path: Path) -> None:
    """Refuse a database whose WAL lost committed frames (module docstring)."""
    wal = db_path.with_name(db_path.name + "-wal")
    index = parse_wal_index(read_head(db_path.with_name(db_path.name + "-shm"), INDEX_MIN_BYTES))
    header = parse_wal_header(read_head(wal, WAL_HEADER_BYTES))
    wal_size = wal.stat().st_size if wal.exists() else 0
    problem = find_missing_wal_frames(index, header, wal_size)
    if problem:
        raise DamagedDatabase(f"{db_path}: {problem}; blocks the node acknowledged are lost")


def quick_check(db_path: Path) -> None:
    """Refuse a database file whose pages or indexes are damaged (`PRAGMA quick_check`)."""
    try:
        db = sqlite3.connect(db_path)
        try:
            rows = db.execute(f"PRAGMA quick_check({QUICK_CHECK_MAX_ERRORS})").fetchall()
        finally:
            db.close()
    except sqlite3.DatabaseError as exc:  # not a database, or its header is damaged
        raise DamagedDatabase(f"{db_path}: {exc}") from exc
    findings = [str(row[0]) for row in rows]
    if findings != ["ok"]:
        raise DamagedDatabase(f"{db_path} is damaged: {'; '.join(findings)}")


def check_database(db_path: Path) -> None:
    """Raise `DamagedDatabase` unless the database at `db_path` (if there is one yet) can be
    served. Run before any connection opens it: opening recovers the WAL, and forgets what
    its index said."""
    if not db_path.exists():
        return
    check_wal(db_path)
    quick_check(db_path)
