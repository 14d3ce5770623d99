"""The root of an Ethereum Merkle Patricia trie built in one pass from its items.

Transactions and receipts roots are tries over rlp(index) keys that are built once and never
updated; building them bottom-up from the sorted keys, with no node store, costs a fraction
of inserting item by item into a HexaryTrie.
"""

from collections.abc import Sequence

from chain.fast.encoding import encode_rlp, keccak

BLANK_ROOT = keccak(encode_rlp(b""))

Nibbles = tuple[int, ...]


def to_nibbles(key: bytes) -> Nibbles:
    return tuple(n for byte in key for n in (byte >> 4, byte & 0x0F))


def compact_path(nibbles: Nibbles, is_leaf: bool) -> bytes:
    """Hex-prefix encoding (Yellow Paper, appendix C)."""
    flag = 2 if is_leaf else 0
    padded = (flag + 1, *nibbles) if len(nibbles) % 2 else (flag, 0, *nibbles)
    return bytes(padded[i] << 4 | padded[i + 1] for i in range(0, len(padded), 2))


def _reference(node: list[object]) -> object:
    """How a parent refers to a child: inline when its encoding is short, else by hash."""
    encoded = encode_rlp(node)
    return node if len(encoded) < 32 else keccak(encoded)


def _common_prefix_length(items: Sequence[tuple[Nibbles, bytes]], depth: int) -> int:
    first, last = items[0][0], items[-1][0]  # sorted: the shared prefix of all is theirs
    length = 0
    while (
        depth + length < len(first)
        and depth + length < len(last)
        and first[depth + length] == last[depth + length]
    ):
        length += 1
    return length


def _build(items: Sequence[tuple[Nibbles, bytes]], depth: int) -> list[object]:
    if len(items) == 1:
        key, value = items[0]
        return [compact_path(key[depth:], True), value]
    prefix = _common_prefix_length(items, depth)
    if prefix:
        child = _build(items, depth + prefix)
        return [compact_path(items[0][0][depth : depth + prefix], False), _reference(child)]
    branch: list[object] = [b""] * 17
    start = 0
    if len(items[0][0]) == depth:  # a key that ends here stores its value in the branch
        branch[16] = items[0][1]
        start = 1
    while start < len(items):
        nibble = items[start][0][depth]
        end = start
        while end < len(items) and items[end][0][depth] == nibble:
            end += 1
        branch[nibble] = _reference(_build(items[start:end], depth + 1))
        start = end
    return branch


def compute_trie_root(pairs: Sequence[tuple[bytes, bytes]]) -> bytes:
    """Root of the trie holding `pairs` (distinct keys, non-empty values)."""
    if not pairs:
        return BLANK_ROOT
    items = sorted((to_nibbles(k), v) for k, v in pairs)
    return keccak(encode_rlp(_build(items, 0)))


def compute_ordered_root(encoded_items: Sequence[bytes]) -> bytes:
    """Root of the trie mapping rlp(i) to the i-th item: a block's transactions or receipts."""
    return compute_trie_root([(_encode_index(i), item) for i, item in enumerate(encoded_items)])


def _encode_index(index: int) -> bytes:
    return encode_rlp(index.to_bytes((index.bit_length() + 7) // 8, "big"))
