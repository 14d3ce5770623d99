"""Durable storage: one SQLite database (WAL) per node.

Everything a block changes (its header, transactions, receipts, logs, the EVM state trie
nodes it wrote, the pending transactions it consumed) is written in one SQLite
transaction, so after a crash the database holds either the whole block or none of it.
WAL with synchronous=NORMAL survives the death of the process (the case `kill -9` tests);
`durable=True` adds an fsync per commit for power loss.

Schema version: `PRAGMA user_version` holds `SCHEMA_VERSION`, written when the database is
created. The rule: every change to a table's columns or to what a column holds raises
`SCHEMA_VERSION` by one, and a node opens only a database of its own version. It refuses an
older (or newer) one with `SchemaVersionError`, naming both versions, before reading or
writing anything: no migration is written while every network is a dev network, which
starts again from a fresh data directory. Versions: 0, a database from before the number
was kept (RPC JSON receipts and logs); 1, compact (RLP) receipts and logs; 2, a ZK
operation's witness source (chain/prover/witness_source.py) in place of its witness, which
is built when a prover is served the job; 3, a receipt keeps its transaction's sender,
recipient, type and effective gas price, so a receipt read decodes no transaction.
"""

import json
import logging
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chain.ensure import ensure
from chain.ledger.blocks import LedgerBlock, block_from_json, block_to_json
from chain.types import ChainId, Hash32, Height, Seq

log = logging.getLogger("duet.store")
DATABASE_FILE = "duet.db"  # in the node's data directory
CHECKPOINT_INTERVAL_S = 1.0  # how often the WAL is copied back into the database file

SCHEMA_VERSION = 3


class SchemaVersionError(Exception):
    """The database was written by a node of another schema version."""


def is_storage_full(exc: BaseException) -> bool:
    """Whether `exc` is SQLite saying the disk (or the database's size limit) is full: a
    write that failed whole, which succeeds again once there is room."""
    return (
        isinstance(exc, sqlite3.OperationalError)
        and getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL
    )


SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS state (k BLOB PRIMARY KEY, v BLOB NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS ledger (
    seq INTEGER PRIMARY KEY,
    chain_id INTEGER NOT NULL,
    height INTEGER NOT NULL,
    hash BLOB NOT NULL UNIQUE,
    body TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS ledger_chain_height ON ledger (chain_id, height);
CREATE TABLE IF NOT EXISTS txs (
    hash BLOB PRIMARY KEY,
    chain_id INTEGER NOT NULL,
    height INTEGER NOT NULL,
    idx INTEGER NOT NULL,
    raw BLOB NOT NULL,
    receipt BLOB NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS logs (
    chain_id INTEGER NOT NULL,
    height INTEGER NOT NULL,
    log_index INTEGER NOT NULL,
    address BLOB NOT NULL,
    body BLOB NOT NULL,
    PRIMARY KEY (chain_id, height, log_index)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS logs_address ON logs (address, height);
CREATE TABLE IF NOT EXISTS pending (
    hash BLOB PRIMARY KEY,
    arrival INTEGER NOT NULL,
    raw BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS lost (hash BLOB PRIMARY KEY, reason TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS zk_ops (
    id BLOB PRIMARY KEY,
    height INTEGER NOT NULL,
    idx INTEGER NOT NULL,
    body TEXT NOT NULL,
    circuit TEXT NOT NULL,
    public_inputs TEXT NOT NULL,
    witness_source TEXT NOT NULL,
    status TEXT NOT NULL,
    proof BLOB
) WITHOUT ROWID;
CREATE UNIQUE INDEX IF NOT EXISTS zk_ops_position ON zk_ops (height, idx);
CREATE INDEX IF NOT EXISTS zk_ops_status ON zk_ops (status, height, idx);
CREATE TABLE IF NOT EXISTS zk_records (
    tree TEXT NOT NULL,
    idx INTEGER NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (tree, idx)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS zk_messages (
    seq INTEGER,
    height INTEGER NOT NULL,
    op_id BLOB NOT NULL,
    refused TEXT,
    raw BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS zk_messages_seq ON zk_messages (seq);
CREATE TABLE IF NOT EXISTS zk_market (height INTEGER PRIMARY KEY, events BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS market_pending (
    job_id BLOB NOT NULL,
    prover TEXT NOT NULL,
    valid INTEGER NOT NULL,
    PRIMARY KEY (job_id, prover)
);
CREATE TABLE IF NOT EXISTS zk_aggregates (height INTEGER PRIMARY KEY, ops BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS zk_pending (
    id BLOB PRIMARY KEY,
    arrival INTEGER NOT NULL,
    body TEXT NOT NULL
);
"""


@dataclass(frozen=True)
class TxRecord:
    hash: Hash32
    chain_id: ChainId
    height: Height
    index: int
    raw: bytes
    receipt: bytes  # compact (chain/fast/receipts.py, encode_stored_receipt)


@dataclass(frozen=True)
class ZkOpRecord:
    """A committed ZK operation and what proving it needs (see chain/prover/witness.py)."""

    op_id: bytes
    height: Height
    index: int
    body: dict[str, Any]  # the signed operation's wire form
    circuit: str
    public_inputs: list[int]
    # What its witness is built from, encoded (chain/prover/witness_source.py): kept as it
    # is, decoded only when a prover is served the job.
    witness_source: str
    status: str = "committed"
    proof: bytes | None = None


@dataclass(frozen=True)
class MessageRecord:
    """What the ZK chain did with one message from the fast chain."""

    seq: int | None  # None: too malformed to have one
    height: Height  # of the ZK block that took it
    op_id: bytes
    refused: str | None  # why the message was not applied; None when it was
    raw: bytes


@dataclass
class ZkWrite:
    """What a ZK block changes besides its header: operations, state records, globals."""

    ops: list[ZkOpRecord] = field(default_factory=list)
    records: list[tuple[str, int, list[int]]] = field(default_factory=list)  # (tree, index, fields)
    globals: dict[str, int] = field(default_factory=dict)
    consumed_pending: list[bytes] = field(default_factory=list)
    messages: list[MessageRecord] = field(default_factory=list)
    market_events: bytes | None = None  # the block's market inputs (chain/market/events.py)


@dataclass(frozen=True)
class SubmissionRecord:
    """A proof submitted to the market between two ZK blocks, with the node's verdict."""

    job_id: bytes
    prover: int
    valid: bool


@dataclass(frozen=True)
class SubmissionWrite:
    """A submission as the store records it, with what a valid one delivers: an operation's
    proof (op_id, proof), or a block's aggregate (height, ops calldata)."""

    record: SubmissionRecord
    proof: tuple[bytes, bytes] | None = None
    aggregate: tuple[int, bytes] | None = None


@dataclass
class BlockWrite:
    """Everything one block adds to the database, written atomically by `Store.commit`."""

    block: LedgerBlock
    state_nodes: dict[bytes, bytes]
    txs: list[TxRecord]
    # (log index in the block, emitter's address, the log's compact encoding:
    # chain/fast/receipts.py, encode_stored_log)
    logs: list[tuple[int, bytes, bytes]]
    consumed_pending: list[Hash32]
    lost: list[tuple[Hash32, str]]
    zk: ZkWrite | None = None
    meta: dict[str, str] = field(default_factory=dict)


class WalCheckpointer:
    """Copies committed WAL frames into the database file every `interval_s`, on a thread
    and a connection of its own: SQLite releases the GIL while it works, and a PASSIVE
    checkpoint never waits for the writer, so blocks go on being committed meanwhile."""

    def __init__(self, path: Path, interval_s: float) -> None:
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._interval_s = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="duet-wal", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self._interval_s):
            try:
                self._db.execute("PRAGMA wal_checkpoint(PASSIVE)")
            except sqlite3.Error as error:  # a full disk: the WAL keeps the data; try later
                log.warning("WAL checkpoint failed: %s", error)

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self._db.close()


class Store:
    def __init__(
        self,
        path: Path,
        durable: bool = False,
        checkpoint_interval_s: float = CHECKPOINT_INTERVAL_S,
    ) -> None:
        self.path = path
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute(f"PRAGMA synchronous={'FULL' if durable else 'NORMAL'}")
        # 16 MiB of pages: the trie nodes have a cache of their own (chain/fast/statedb.py),
        # and past this SQLite reads through the OS page cache. 64 MiB held 50 MB more in a
        # long-running node (the soak, bench/README.md), whose move p99 stayed within a
        # millisecond of what it is with 16.
        self.db.execute("PRAGMA cache_size=-16384")
        self._check_schema_version()
        self.db.executescript(SCHEMA)
        # The WAL is copied back into the database by a thread of its own, not by whichever
        # commit crosses SQLite's 1,000-page mark (that commit would stall a block).
        self.db.execute("PRAGMA wal_autocheckpoint=0")
        self._checkpointer = WalCheckpointer(path, checkpoint_interval_s)

    def _check_schema_version(self) -> None:
        """Mark a new database with `SCHEMA_VERSION`; refuse one of another version."""
        tables = self.db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        if tables == 0:
            self.db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
            return
        version = self.db.execute("PRAGMA user_version").fetchone()[0]
        ensure(
            version == SCHEMA_VERSION,
            SchemaVersionError,
            f"{self.path} holds storage schema version {version}, this node reads version "
            f"{SCHEMA_VERSION}: start the node with a fresh data directory",
        )

    def close(self) -> None:
        self._checkpointer.close()
        self.db.close()

    # -- whole copies (a dev node's evm_snapshot / evm_revert) -------------------------

    def copy(self) -> sqlite3.Connection:
        """The whole database as it is now, in memory (SQLite's online backup: consistent,
        between two commits, since every write is one transaction on this connection)."""
        copy = sqlite3.connect(":memory:", check_same_thread=False)
        self.db.backup(copy)
        return copy

    def restore(self, copy: sqlite3.Connection) -> None:
        """Make the database what `copy` holds again, in place, in one step; the copy stays
        as it was (it can be restored again)."""
        copy.backup(self.db)

    # -- meta --------------------------------------------------------------------------

    def get_meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT v FROM meta WHERE k=?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    # -- state trie nodes --------------------------------------------------------------

    def get_state_node(self, key: bytes) -> bytes | None:
        row = self.db.execute("SELECT v FROM state WHERE k=?", (key,)).fetchone()
        return None if row is None else bytes(row[0])

    # -- blocks ------------------------------------------------------------------------

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: committed whole, or rolled back whole."""
        db = self.db
        db.execute("BEGIN")
        try:
            yield db
            db.execute("COMMIT")
        except BaseException:
            # A COMMIT that fails for want of space has rolled back already: a ROLLBACK then
            # would raise, and hide why.
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise

    def commit(self, write: BlockWrite) -> None:
        self.commit_all([write])

    def commit_all(
        self,
        writes: Sequence[BlockWrite],
        submissions: Sequence[SubmissionWrite] = (),
        meta: Mapping[str, str] | None = None,
    ) -> None:
        """Market submissions, then blocks in log order, then `meta`, in one transaction: a
        crash keeps all of it or none (a decentralized-mode height is one such write)."""
        with self._transaction() as db:
            for submission in submissions:
                self._insert_submission(submission)
            for write in writes:
                self._insert_block(write)
            db.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", (meta or {}).items())

    def _insert_block(self, write: BlockWrite) -> None:
        block = write.block
        db = self.db
        db.executemany("INSERT OR IGNORE INTO state VALUES (?, ?)", write.state_nodes.items())
        db.execute(
            "INSERT INTO ledger VALUES (?, ?, ?, ?, ?)",
            (
                block.seq,
                block.chain_id,
                block.height,
                block.hash,
                json.dumps(block_to_json(block)),
            ),
        )
        db.executemany(
            "INSERT INTO txs VALUES (?, ?, ?, ?, ?, ?)",
            ((t.hash, t.chain_id, t.height, t.index, t.raw, t.receipt) for t in write.txs),
        )
        db.executemany(
            "INSERT INTO logs VALUES (?, ?, ?, ?, ?)",
            ((block.chain_id, block.height, i, addr, body) for i, addr, body in write.logs),
        )
        db.executemany("DELETE FROM pending WHERE hash=?", ((h,) for h in write.consumed_pending))
        db.executemany("DELETE FROM pending WHERE hash=?", ((h,) for h, _ in write.lost))
        db.executemany("INSERT OR REPLACE INTO lost VALUES (?, ?)", write.lost)
        if write.zk is not None:
            self._write_zk(write.zk, block.height)
        db.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", write.meta.items())

    def _block(self, row: tuple[str] | None) -> LedgerBlock | None:
        return None if row is None else block_from_json(json.loads(row[0]))

    def get_block_by_seq(self, seq: Seq) -> LedgerBlock | None:
        return self._block(
            self.db.execute("SELECT body FROM ledger WHERE seq=?", (seq,)).fetchone()
        )

    def get_block(self, chain_id: ChainId, height: Height) -> LedgerBlock | None:
        row = self.db.execute(
            "SELECT body FROM ledger WHERE chain_id=? AND height=?", (chain_id, height)
        ).fetchone()
        return self._block(row)

    def get_block_by_hash(self, block_hash: bytes) -> LedgerBlock | None:
        row = self.db.execute("SELECT body FROM ledger WHERE hash=?", (block_hash,)).fetchone()
        return self._block(row)

    def get_log_head(self) -> LedgerBlock | None:
        row = self.db.execute("SELECT body FROM ledger ORDER BY seq DESC LIMIT 1").fetchone()
        return self._block(row)

    def get_chain_head(self, chain_id: ChainId) -> LedgerBlock | None:
        row = self.db.execute(
            "SELECT body FROM ledger WHERE chain_id=? ORDER BY height DESC LIMIT 1", (chain_id,)
        ).fetchone()
        return self._block(row)

    def iter_ledger(self, from_seq: Seq, limit: int) -> list[LedgerBlock]:
        rows = self.db.execute(
            "SELECT body FROM ledger WHERE seq>=? ORDER BY seq LIMIT ?", (from_seq, limit)
        ).fetchall()
        return [block_from_json(json.loads(r[0])) for r in rows]

    def recent_hashes(self, chain_id: ChainId, below: Height, count: int) -> list[Hash32]:
        """Hashes of the `count` blocks below `below`, newest first (for BLOCKHASH)."""
        rows = self.db.execute(
            "SELECT hash FROM ledger WHERE chain_id=? AND height<? ORDER BY height DESC LIMIT ?",
            (chain_id, below, count),
        ).fetchall()
        return [Hash32(bytes(r[0])) for r in rows]

    # -- transactions and logs ----------------------------------------------------------

    def get_tx(self, tx_hash: bytes) -> TxRecord | None:
        row = self.db.execute(
            "SELECT hash, chain_id, height, idx, raw, receipt FROM txs WHERE hash=?", (tx_hash,)
        ).fetchone()
        if row is None:
            return None
        return TxRecord(
            Hash32(bytes(row[0])),
            ChainId(row[1]),
            Height(row[2]),
            row[3],
            bytes(row[4]),
            bytes(row[5]),
        )

    def get_logs(
        self, chain_id: ChainId, from_h: Height, to_h: Height, addresses: list[bytes] | None
    ) -> Iterator[tuple[Height, int, bytes]]:
        """(height, log index in the block, compact log) of each log in the range, in order."""
        if addresses:
            marks = ",".join("?" * len(addresses))
            rows: Iterable[tuple[int, int, bytes]] = self.db.execute(
                "SELECT height, log_index, body FROM logs WHERE chain_id=? "
                f"AND height BETWEEN ? AND ? AND address IN ({marks}) ORDER BY height, log_index",
                (chain_id, from_h, to_h, *addresses),
            )
        else:
            rows = self.db.execute(
                "SELECT height, log_index, body FROM logs WHERE chain_id=? "
                "AND height BETWEEN ? AND ? ORDER BY height, log_index",
                (chain_id, from_h, to_h),
            )
        for height, log_index, body in rows:
            yield Height(height), log_index, bytes(body)

    # -- pending and lost transactions ------------------------------------------------

    def add_pending(self, tx_hash: Hash32, arrival: int, raw: bytes) -> None:
        self.db.execute("INSERT OR IGNORE INTO pending VALUES (?, ?, ?)", (tx_hash, arrival, raw))

    def list_pending(self) -> list[tuple[Hash32, int, bytes]]:
        rows = self.db.execute("SELECT hash, arrival, raw FROM pending ORDER BY arrival")
        return [(Hash32(bytes(h)), a, bytes(r)) for h, a, r in rows]

    def mark_lost(self, lost: list[tuple[Hash32, str]]) -> None:
        with self._transaction() as db:
            db.executemany("DELETE FROM pending WHERE hash=?", ((h,) for h, _ in lost))
            db.executemany("INSERT OR REPLACE INTO lost VALUES (?, ?)", lost)

    def get_lost_reason(self, tx_hash: bytes) -> str | None:
        row = self.db.execute("SELECT reason FROM lost WHERE hash=?", (tx_hash,)).fetchone()
        return None if row is None else str(row[0])

    # -- ZK operations and state ---------------------------------------------------------

    def _write_zk(self, zk: ZkWrite, height: Height) -> None:
        db = self.db
        db.executemany(
            "INSERT INTO zk_ops VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                (
                    op.op_id,
                    op.height,
                    op.index,
                    json.dumps(op.body),
                    op.circuit,
                    json.dumps([hex(x) for x in op.public_inputs]),
                    op.witness_source,
                    op.status,
                    op.proof,
                )
                for op in zk.ops
            ),
        )
        db.executemany(
            "INSERT OR REPLACE INTO zk_records VALUES (?, ?, ?)",
            (
                (tree, index, json.dumps([hex(x) for x in values]))
                for tree, index, values in zk.records
            ),
        )
        if zk.globals:
            db.execute(
                "INSERT OR REPLACE INTO meta VALUES ('zk_globals', ?)",
                (json.dumps({k: hex(v) for k, v in zk.globals.items()}),),
            )
        db.executemany("DELETE FROM zk_pending WHERE id=?", ((i,) for i in zk.consumed_pending))
        db.executemany(
            "INSERT INTO zk_messages VALUES (?, ?, ?, ?, ?)",
            ((m.seq, m.height, m.op_id, m.refused, m.raw) for m in zk.messages),
        )
        if zk.market_events is not None:
            # The block took every submission waiting: they are in its events now.
            db.execute("INSERT INTO zk_market VALUES (?, ?)", (height, zk.market_events))
            db.execute("DELETE FROM market_pending")

    # -- the prover market ---------------------------------------------------------------------

    def add_market_submission(self, submission: SubmissionWrite) -> None:
        """Record a submission for the next block. Atomic: a crash keeps all of it or none."""
        with self._transaction():
            self._insert_submission(submission)

    def _insert_submission(self, submission: SubmissionWrite) -> None:
        db = self.db
        record, proof, aggregate = submission.record, submission.proof, submission.aggregate
        db.execute(
            "INSERT INTO market_pending VALUES (?, ?, ?)",
            (record.job_id, hex(record.prover), int(record.valid)),
        )
        if proof is not None:
            # The proof whatever the status says: a decentralized validator catching up may
            # have marked the operation settled from L1 already, and its block's aggregate
            # is checked against the stored proofs on every validator alike.
            db.execute(
                "UPDATE zk_ops SET proof=?, status=CASE status WHEN 'committed' THEN 'proven' "
                "ELSE status END WHERE id=?",
                (proof[1], proof[0]),
            )
        if aggregate is not None:
            db.execute("INSERT INTO zk_aggregates VALUES (?, ?)", aggregate)
            db.execute(
                "UPDATE zk_ops SET status='aggregated' WHERE height=? AND status='proven'",
                (aggregate[0],),
            )

    def list_market_pending(self) -> list[SubmissionRecord]:
        rows = self.db.execute("SELECT job_id, prover, valid FROM market_pending ORDER BY rowid")
        return [SubmissionRecord(bytes(j), int(p, 16), bool(v)) for j, p, v in rows]

    def list_market_events(self) -> list[tuple[Height, bytes]]:
        rows = self.db.execute("SELECT height, events FROM zk_market ORDER BY height")
        return [(Height(h), bytes(e)) for h, e in rows]

    def get_market_events(self, height: Height) -> bytes | None:
        row = self.db.execute("SELECT events FROM zk_market WHERE height=?", (height,)).fetchone()
        return None if row is None else bytes(row[0])

    def get_zk_aggregate(self, height: Height) -> bytes | None:
        row = self.db.execute("SELECT ops FROM zk_aggregates WHERE height=?", (height,)).fetchone()
        return None if row is None else bytes(row[0])

    def list_zk_messages(self, seq: int) -> list[MessageRecord]:
        """What became of fast-chain message `seq`, every time it arrived, oldest first."""
        rows = self.db.execute(
            "SELECT seq, height, op_id, refused, raw FROM zk_messages WHERE seq=? ORDER BY rowid",
            (seq,),
        )
        return [MessageRecord(s, Height(h), bytes(i), why, bytes(r)) for s, h, i, why, r in rows]

    def list_zk_records(self) -> list[tuple[str, int, list[int]]]:
        rows = self.db.execute("SELECT tree, idx, body FROM zk_records ORDER BY tree, idx")
        return [(tree, idx, [int(x, 16) for x in json.loads(body)]) for tree, idx, body in rows]

    def get_zk_globals(self) -> dict[str, int]:
        raw = self.get_meta("zk_globals")
        return {} if raw is None else {k: int(v, 16) for k, v in json.loads(raw).items()}

    def _zk_op(self, row: tuple[Any, ...] | None) -> ZkOpRecord | None:
        if row is None:
            return None
        op_id, height, idx, body, circuit, public_inputs, source, status, proof = row
        return ZkOpRecord(
            bytes(op_id),
            Height(height),
            idx,
            json.loads(body),
            circuit,
            [int(x, 16) for x in json.loads(public_inputs)],
            source,
            status,
            None if proof is None else bytes(proof),
        )

    def get_zk_op(self, op_id: bytes) -> ZkOpRecord | None:
        row = self.db.execute("SELECT * FROM zk_ops WHERE id=?", (op_id,)).fetchone()
        return self._zk_op(row)

    def list_zk_op_heights(self, after: Height, limit: int) -> list[Height]:
        """Heights above `after` of the ZK blocks that hold operations, ascending."""
        rows = self.db.execute(
            "SELECT DISTINCT height FROM zk_ops WHERE height>? ORDER BY height LIMIT ?",
            (after, limit),
        )
        return [Height(h) for (h,) in rows]

    def count_zk_op_heights(self, upto: Height) -> int:
        """How many ZK blocks up to `upto` hold operations: the settlement number of
        `upto` on L1, where only those blocks go."""
        row = self.db.execute(
            "SELECT COUNT(DISTINCT height) FROM zk_ops WHERE height<=?", (upto,)
        ).fetchone()
        return int(row[0])

    def list_zk_ops_at(self, height: Height) -> list[ZkOpRecord]:
        """The operations of ZK block `height`, in block order."""
        rows = self.db.execute("SELECT * FROM zk_ops WHERE height=? ORDER BY idx", (height,))
        return [op for op in map(self._zk_op, rows.fetchall()) if op is not None]

    def set_zk_settled_height(self, meta_key: str, previous: Height, height: Height) -> None:
        """L1 has settled up to `height` (it said `previous` before): operations up to there
        are `settled`; above it, any that were (L1 lost a settlement) go back to aggregated,
        proven, or committed, by what is stored."""
        with self._transaction() as db:
            db.execute(
                "UPDATE zk_ops SET status='settled' WHERE height>? AND height<=?",
                (previous, height),
            )
            db.execute(
                "UPDATE zk_ops SET status=CASE WHEN proof IS NULL THEN 'committed' "
                "WHEN height IN (SELECT height FROM zk_aggregates) THEN 'aggregated' "
                "ELSE 'proven' END WHERE height>? AND height<=? AND status='settled'",
                (height, previous),
            )
            db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (meta_key, str(height)))

    def add_zk_pending(self, op_id: bytes, arrival: int, body: dict[str, Any]) -> None:
        self.db.execute(
            "INSERT OR IGNORE INTO zk_pending VALUES (?, ?, ?)", (op_id, arrival, json.dumps(body))
        )

    def list_zk_pending(self) -> list[tuple[bytes, dict[str, Any]]]:
        rows = self.db.execute("SELECT id, body FROM zk_pending ORDER BY arrival, rowid")
        return [(bytes(i), json.loads(b)) for i, b in rows]

    def drop_zk_pending(self, lost: list[tuple[bytes, str]]) -> None:
        with self._transaction() as db:
            db.executemany("DELETE FROM zk_pending WHERE id=?", ((h,) for h, _ in lost))
            db.executemany("INSERT OR REPLACE INTO lost VALUES (?, ?)", lost)
