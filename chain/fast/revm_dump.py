"""What a pyrevm run did, read from the EVM's debug dump.

pyrevm 0.3.7 exposes account infos (`journal_state`, `db_accounts`) but not storage, not the
status flags (created, self-destructed, touched) and not which slots execution read. Its
`str(evm)` is revm's `Debug` rendering of the whole EVM, which holds all of that: the
journaled state (every account the transaction left loaded, with its slots' original and
present values and its flags) and the in-memory database (every account and slot that
execution asked the database for, including from frames that later reverted, because the
cache is not journaled). This module parses the two parts it needs.

The format is revm 8's derived `Debug` output; tests/unit/test_revm_dump.py pins it.
"""

import re
from dataclasses import dataclass, field

_JOURNAL_START = "journaled_state: JournaledState { state: {"
_JOURNAL_STATE = "JournaledState { state: {"
_TRANSIENT_START = "}, transient_storage: {"
_DB_START = "db: Memory(CacheDB { accounts: {"
_CONTRACTS_START = "}, contracts: {"
_BLOCK_HASHES = "block_hashes: {"

_ACCOUNT_MARK = ": Account { info: AccountInfo { balance: "
_ACCOUNT_REST = re.compile(r"(\d+), nonce: (\d+), code_hash: 0x([0-9a-f]{64}), code: ")
_ADDRESS_HEX = 40
_CODE_START = "Some(Bytecode { bytecode: 0x"
_CODE_LENGTH = re.compile(r", state: (?:Raw|Checked \{ len: (\d+)|Analysed \{ len: (\d+))")
_STORAGE_START = "storage: {"
_STATUS_START = "}, status: AccountStatus("
_JOURNAL_SLOT = re.compile(
    r"(\d+): StorageSlot \{ previous_or_original_value: \d+, present_value: (\d+) \}"
)
_DB_MARK = ": DbAccount { info: "
_DB_STORAGE = re.compile(r"account_state: \w+, storage: \{([^}]*)\} \}")
_DB_SLOT = re.compile(r"(\d+): \d+")


class DumpFormatError(Exception):
    """The dump does not have the shape this module knows (another pyrevm version?)."""


@dataclass(frozen=True)
class TouchedAccount:
    """An account as the transaction left it in revm's journaled state."""

    balance: int
    nonce: int
    code_hash: bytes
    code: bytes | None  # only for accounts created by the transaction
    storage: dict[int, int]  # slot -> present value, for every slot the journal holds
    created: bool
    destroyed: bool
    touched: bool


@dataclass(frozen=True)
class RevmDump:
    accounts: dict[bytes, TouchedAccount]
    read_slots: dict[bytes, set[int]]  # every account and slot execution read from the db
    read_block_hash: bool  # BLOCKHASH asked the database (pyrevm cannot be given hashes)
    revert_output: bytes | None = field(default=None)


def parse_journal_dump(text: str) -> RevmDump:
    """From `evm.journal_str` alone, a quarter of the full dump: enough when execution was
    one frame that succeeded, so that nothing it read was reverted out of the journal and
    every read is in the journaled state (the caller makes sure of that, and that the code
    cannot have asked for a block hash)."""
    start = text.find(_JOURNAL_STATE)
    end = text.find(_TRANSIENT_START, start)
    if min(start, end) < 0:
        raise DumpFormatError("pyrevm journal without state or transient storage")
    accounts = _parse_journal(text, start, end)
    return RevmDump(
        accounts=accounts,
        read_slots={address: set(account.storage) for address, account in accounts.items()},
        read_block_hash=False,
    )


def parse_dump(text: str) -> RevmDump:
    journal = text.find(_JOURNAL_START)
    db = text.find(_DB_START, journal)
    contracts = text.find(_CONTRACTS_START, db)
    hashes = text.find(_BLOCK_HASHES, contracts)
    if min(journal, db, contracts, hashes) < 0:
        raise DumpFormatError("pyrevm dump without journal, database or block hashes")
    return RevmDump(
        accounts=_parse_journal(text, journal, db),
        read_slots=_parse_db(text, db, contracts + 1),
        read_block_hash=text[hashes + len(_BLOCK_HASHES)] != "}",
        revert_output=_parse_revert_output(text),
    )


def _parse_journal(section: str, start: int, end: int) -> dict[bytes, TouchedAccount]:
    accounts: dict[bytes, TouchedAccount] = {}
    mark = section.find(_ACCOUNT_MARK, start, end)
    while mark >= 0:
        head = _ACCOUNT_REST.match(section, mark + len(_ACCOUNT_MARK))
        if head is None:
            raise DumpFormatError("journaled account in an unknown format")
        address = section[mark - _ADDRESS_HEX : mark]
        code_at = head.end()
        has_code = section.startswith(_CODE_START, code_at)
        code_end = section.find(", state: ", code_at) if has_code else code_at
        storage_at = section.find(_STORAGE_START, code_end) + len(_STORAGE_START)
        status_at = section.find(_STATUS_START, storage_at)
        status = section[status_at + len(_STATUS_START) : section.find(")", status_at)]
        created = "Created" in status
        code = _parse_code(section, code_at + len(_CODE_START)) if has_code and created else None
        accounts[bytes.fromhex(address)] = TouchedAccount(
            balance=int(head[1]),
            nonce=int(head[2]),
            code_hash=bytes.fromhex(head[3]),
            code=code,
            storage={
                int(slot): int(present)
                for slot, present in _JOURNAL_SLOT.findall(section, storage_at, status_at)
            },
            created=created,
            destroyed="SelfDestructed" in status,
            touched="Touched" in status,
        )
        mark = section.find(_ACCOUNT_MARK, status_at, end)
    return accounts


def _parse_code(section: str, start: int) -> bytes:
    end = section.find(",", start)
    match = _CODE_LENGTH.match(section, end)
    if match is None:
        raise DumpFormatError("bytecode in an unknown format")
    raw = bytes.fromhex(section[start:end])
    length = match[1] or match[2]
    # Analysed code is padded for the interpreter; `len` is the code's own length.
    return raw[: int(length)] if length is not None else raw


def _parse_db(text: str, start: int, end: int) -> dict[bytes, set[int]]:
    read: dict[bytes, set[int]] = {}
    mark = text.find(_DB_MARK, start, end)
    while mark >= 0:
        storage = _DB_STORAGE.search(text, text.find(", account_state: ", mark) + 2, end)
        if storage is None:
            raise DumpFormatError("database account in an unknown format")
        address = text[mark - _ADDRESS_HEX : mark]
        read[bytes.fromhex(address)] = {int(slot) for slot in _DB_SLOT.findall(storage[1])}
        mark = text.find(_DB_MARK, storage.end(), end)
    return read


_RESULT = "result: Some("
_REVERT = re.compile(r"result: Some\(Revert \{ gas_used: \d+, output: 0x([0-9a-f]*) \}\)")


def _parse_revert_output(text: str) -> bytes | None:
    match = _REVERT.match(text, text.rfind(_RESULT))
    return None if match is None else bytes.fromhex(match[1])
