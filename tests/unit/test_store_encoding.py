"""What the store keeps: receipts and logs in their compact encoding, and the schema version
a database was written with, refused when it is not the node's."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chain.fast.executor import Log
from chain.fast.receipts import (
    Receipt,
    StoredLog,
    decode_stored_log,
    decode_stored_receipt,
    encode_stored_log,
    encode_stored_receipt,
)
from chain.ledger.store import SCHEMA_VERSION, SchemaVersionError, Store
from chain.types import Address

ADDRESS = st.binary(min_size=20, max_size=20).map(Address)
LOG = st.builds(
    Log,
    address=ADDRESS,
    topics=st.lists(st.binary(min_size=32, max_size=32), max_size=4).map(tuple),
    data=st.binary(max_size=70),
)
RECEIPT = st.builds(
    Receipt,
    success=st.booleans(),
    cumulative_gas_used=st.integers(0, 2**63),
    gas_used=st.integers(0, 2**63),
    logs=st.lists(LOG, max_size=3).map(tuple),
    contract_address=st.none() | ADDRESS,
    first_log_index=st.integers(0, 2**16),
    sender=ADDRESS,
    to=st.none() | ADDRESS,
    tx_type=st.integers(0, 2),
    effective_gas_price=st.integers(0, 2**128),
)


@settings(max_examples=60, deadline=None)
@given(RECEIPT)
def test_stored_receipt_round_trips(receipt: Receipt) -> None:
    assert decode_stored_receipt(encode_stored_receipt(receipt)) == receipt


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**16), st.binary(min_size=32, max_size=32), LOG)
def test_stored_log_round_trips(index: int, tx_hash: bytes, log: Log) -> None:
    stored = StoredLog(index, tx_hash, log)
    assert decode_stored_log(encode_stored_log(stored)) == stored


def test_new_database_is_marked_with_the_schema_version(tmp_path: Path) -> None:
    Store(tmp_path / "duet.db").close()
    with sqlite3.connect(tmp_path / "duet.db") as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    Store(tmp_path / "duet.db").close()  # and opens again


@pytest.mark.parametrize("version", [0, SCHEMA_VERSION - 1, SCHEMA_VERSION + 1])
def test_rejects_database_of_another_schema_version(tmp_path: Path, version: int) -> None:
    Store(tmp_path / "duet.db").close()
    with sqlite3.connect(tmp_path / "duet.db") as db:
        db.execute(f"PRAGMA user_version={version}")
    with pytest.raises(SchemaVersionError, match=f"schema version {version}, this node reads"):
        Store(tmp_path / "duet.db")
