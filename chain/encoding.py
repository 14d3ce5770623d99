"""Keccak-256 and the part of RLP that trie nodes, accounts, receipts and signing payloads
need: byte strings and nested lists of them, encoded and decoded without py-evm's sedes."""

from typing import Any

from sha3 import keccak_256  # safe-pysha3: a fifth of pycryptodome's cost per short input

HASH_BYTES = 32


def keccak(data: bytes) -> bytes:
    return keccak_256(data).digest()


def encode_uint(n: int) -> bytes:
    """An unsigned integer as RLP carries it: big-endian, no leading zeros (0 is empty)."""
    return n.to_bytes((n.bit_length() + 7) // 8, "big")


def _length_prefix(length: int, offset: int) -> bytes:
    if length < 56:
        return bytes((offset + length,))
    encoded = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes((offset + 55 + len(encoded),)) + encoded


def encode_rlp(item: bytes | list[Any]) -> bytes:
    if isinstance(item, bytes):
        return _encode_bytes(item)
    payload = b"".join([encode_rlp(x) if isinstance(x, list) else _encode_bytes(x) for x in item])
    return _length_prefix(len(payload), 0xC0) + payload


def _encode_bytes(item: bytes) -> bytes:
    n = len(item)
    if n == HASH_BYTES:  # most of a trie: child hashes
        return b"\xa0" + item
    if n == 0:
        return b"\x80"
    if n == 1 and item[0] < 0x80:
        return item
    if n < 56:
        return bytes((0x80 + n,)) + item
    return _length_prefix(n, 0x80) + item


def _decode_at(data: bytes, pos: int) -> tuple[bytes | list[Any], int]:
    first = data[pos]
    if first < 0x80:
        return data[pos : pos + 1], pos + 1
    if first < 0xB8:
        end = pos + 1 + first - 0x80
        return data[pos + 1 : end], end
    if first < 0xC0:
        size_len = first - 0xB7
        size = int.from_bytes(data[pos + 1 : pos + 1 + size_len], "big")
        start = pos + 1 + size_len
        return data[start : start + size], start + size
    if first < 0xF8:
        start, end = pos + 1, pos + 1 + first - 0xC0
    else:
        size_len = first - 0xF7
        start = pos + 1 + size_len
        end = start + int.from_bytes(data[pos + 1 : start], "big")
    items: list[Any] = []
    while start < end:
        item, start = _decode_at(data, start)
        items.append(item)
    return items, end


def decode_rlp(data: bytes) -> Any:
    return _decode_at(data, 0)[0]
