"""Ethereum's Merkle Patricia trie over a store of nodes keyed by hash: reads and batch updates.

The state and storage tries of the fast chain are the ones py-evm builds (yellow paper,
appendix D): hex-prefix paths, branch / extension / leaf nodes, children embedded when their
encoding is shorter than 32 bytes. `compute_trie_update` applies a whole block's changes to
one trie in a single descent, so each node on a changed path is encoded and hashed once per
block instead of once per changed key, and it returns exactly the nodes of the new trie that
the update created: what the store must add.
"""

from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from typing import Any, NamedTuple, TypeAlias

from chain.encoding import HASH_BYTES, decode_rlp, encode_rlp, keccak

NodeReader = Callable[[bytes], bytes | None]

# A decoded node is a list: [path, value-or-child] or 16 children and a value. A child is b""
# (none), a 32-byte hash, or an embedded (short) node as a list.
Node: TypeAlias = list[Any]
Child: TypeAlias = bytes | Node

BLANK_NODE = b"\x80"  # rlp(b"")
DECODED_NODES_MAX = 200_000
PATHS_MAX = 100_000
BRANCH_WIDTH = 17
LEAF_FLAG = 2
_NIBBLES = str.maketrans("0123456789abcdef", "".join(chr(n) for n in range(16)))


class MissingTrieNode(Exception):
    """A node the trie refers to is not in the store: the store is incomplete."""


BLANK_ROOT = keccak(BLANK_NODE)


# -- paths ---------------------------------------------------------------------------------


def compute_nibbles(key: bytes) -> bytes:
    """One byte per nibble: b"\\x12\\x34" -> b"\\x01\\x02\\x03\\x04"."""
    return key.hex().translate(_NIBBLES).encode("latin-1")


@lru_cache(maxsize=PATHS_MAX)
def encode_path(nibbles: bytes, is_leaf: bool) -> bytes:
    flag = LEAF_FLAG if is_leaf else 0
    if len(nibbles) % 2:
        flag += 1
        packed = bytes((flag,)) + nibbles
    else:
        packed = bytes((flag, 0)) + nibbles
    return bytes(packed[i] << 4 | packed[i + 1] for i in range(0, len(packed), 2))


def decode_path(encoded: bytes) -> tuple[bytes, bool]:
    nibbles = compute_nibbles(encoded)
    flag = nibbles[0]
    return nibbles[1:] if flag & 1 else nibbles[2:], flag >= LEAF_FLAG


def _common_prefix_length(a: bytes, b: bytes) -> int:
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    return i


# -- reads ---------------------------------------------------------------------------------


class TrieReader:
    """Nodes by hash from `read`, decoded once and kept: a node never changes (its key is
    its hash), and the paths a block walks are mostly the ones the last block walked."""

    def __init__(self, read: NodeReader, capacity: int = DECODED_NODES_MAX) -> None:
        self.read = read
        self.capacity = capacity
        self.decoded: dict[bytes, Node | None] = {}

    def load(self, ref: Child) -> Node | None:
        if isinstance(ref, list):
            return ref
        if ref == b"":
            return None
        node = self.decoded.get(ref)
        if node is None:
            raw = self.read(ref)
            if raw is None:
                raise MissingTrieNode(ref.hex())
            decoded = decode_rlp(raw)
            node = None if decoded == b"" else decoded
            self.remember(ref, node)
        return node

    def remember(self, ref: bytes, node: Node | None) -> None:
        if len(self.decoded) >= self.capacity:
            self.decoded.clear()
        self.decoded[ref] = node

    def forget(self, refs: Iterable[bytes]) -> None:
        """Drop `refs` (nodes that the head's tries no longer hold) from the decoded ones."""
        for ref in refs:
            self.decoded.pop(ref, None)


def get_trie_value(reader: TrieReader, root: bytes, key: bytes) -> bytes | None:
    """The value stored under `key`, or None."""
    if root == BLANK_ROOT:
        return None
    path = compute_nibbles(key)
    node = reader.load(root)
    while node is not None:
        if len(node) == BRANCH_WIDTH:
            if not path:
                return node[16] or None
            node, path = reader.load(node[path[0]]), path[1:]
            continue
        node_path, is_leaf = decode_path(node[0])
        if is_leaf:
            return node[1] if node_path == path else None
        if path[: len(node_path)] != node_path:
            return None
        node, path = reader.load(node[1]), path[len(node_path) :]
    return None


# -- batch update --------------------------------------------------------------------------

Change: TypeAlias = tuple[bytes, bytes]  # (remaining nibbles, value; b"" deletes)


def _make_leaf(path: bytes, value: bytes) -> Node:
    return [encode_path(path, True), value]


def _make_extension(path: bytes, child: Child) -> Node:
    """An extension to `child`, merged with it when it is itself a leaf or an extension."""
    if isinstance(child, list) and len(child) == 2:
        child_path, is_leaf = decode_path(child[0])
        return [encode_path(path + child_path, is_leaf), child[1]]
    return [encode_path(path, False), child]


def _build(items: list[Change]) -> Node | None:
    """A new subtrie holding `items` (sorted, distinct paths, non-empty values)."""
    if not items:
        return None
    if len(items) == 1:
        return _make_leaf(*items[0])
    shared = _common_prefix_length(items[0][0], items[-1][0])
    if shared:
        child = _build([(path[shared:], value) for path, value in items])
        assert child is not None
        return [encode_path(items[0][0][:shared], False), child]
    branch: Node = [b""] * BRANCH_WIDTH
    for nibble, group in _group_by_first_nibble(items):
        child = _build(group)
        branch[nibble] = b"" if child is None else child
    return branch


def _group_by_first_nibble(changes: list[Change]) -> list[tuple[int, list[Change]]]:
    groups: list[tuple[int, list[Change]]] = []
    for path, value in changes:
        nibble = path[0]
        if not groups or groups[-1][0] != nibble:
            groups.append((nibble, []))
        groups[-1][1].append((path[1:], value))
    return groups


class _Update:
    """One batch update of one trie; the new nodes are collected when it is finalized."""

    def __init__(self, reader: TrieReader) -> None:
        self.reader = reader
        self.replaced: set[bytes] = set()  # stored nodes on a changed path: the old versions

    def child(self, ref: Child, changes: list[Change]) -> Child:
        if not changes:
            return ref
        if isinstance(ref, bytes) and len(ref) == HASH_BYTES:
            self.replaced.add(ref)
        node = self.reader.load(ref)
        new = self.node(node, changes)
        return b"" if new is None else new

    def node(self, node: Node | None, changes: list[Change]) -> Node | None:
        if node is None:
            return _build([c for c in changes if c[1]])
        if len(node) == BRANCH_WIDTH:
            return self.branch(node, changes)
        path, is_leaf = decode_path(node[0])
        if is_leaf:
            return self.leaf(path, node[1], changes)
        return self.extension(path, node[1], changes)

    def leaf(self, path: bytes, value: bytes, changes: list[Change]) -> Node | None:
        if len(changes) == 1 and changes[0][0] == path:  # the usual case: a new value
            return _make_leaf(path, changes[0][1]) if changes[0][1] else None
        merged = {path: value}
        for key, new_value in changes:
            if new_value:
                merged[key] = new_value
            else:
                merged.pop(key, None)
        return _build(sorted(merged.items()))

    def extension(self, path: bytes, child: Child, changes: list[Change]) -> Node | None:
        n = len(path)
        if all(key[:n] == path for key, _ in changes):
            new_child = self.child(child, [(key[n:], value) for key, value in changes])
            return None if new_child == b"" else _make_extension(path, new_child)
        # Some key leaves the shared path: see the extension as a branch on its first nibble.
        branch: Node = [b""] * BRANCH_WIDTH
        branch[path[0]] = [encode_path(path[1:], False), child] if n > 1 else child
        return self.branch(branch, changes)

    def branch(self, node: Node, changes: list[Change]) -> Node | None:
        children = list(node)
        for nibble, group in _group_by_first_nibble(changes):
            children[nibble] = self.child(children[nibble], group)
        used = [i for i in range(16) if children[i] != b""]
        assert children[16] == b"", "state tries have fixed-length keys: no values in branches"
        if not used:
            return None
        if len(used) > 1:
            return children
        # One child left: the branch disappears into its child's path.
        only = used[0]
        child = self.reader.load(children[only])
        assert child is not None
        if len(child) == BRANCH_WIDTH:
            return [encode_path(bytes((only,)), False), children[only]]
        if isinstance(children[only], bytes):  # a stored leaf or extension, merged: replaced
            self.replaced.add(children[only])
        child_path, is_leaf = decode_path(child[0])
        return [encode_path(bytes((only,)) + child_path, is_leaf), child[1]]


def _finalize(
    reader: TrieReader | None, node: Node, nodes: dict[bytes, bytes], is_root: bool = False
) -> Child:
    """The reference to `node` in its parent, storing every node of 32 bytes or more."""
    if len(node) == BRANCH_WIDTH:
        node = [_finalize(reader, c, nodes) if isinstance(c, list) else c for c in node]
    elif isinstance(node[1], list):
        node = [node[0], _finalize(reader, node[1], nodes)]
    encoded = encode_rlp(node)
    if len(encoded) < HASH_BYTES and not is_root:
        return node
    digest = keccak(encoded)
    nodes[digest] = encoded
    if reader is not None:
        reader.remember(digest, node)  # the next block walks the same paths
    return digest


class TrieUpdate(NamedTuple):
    root: bytes
    nodes: dict[bytes, bytes]  # the new trie's nodes that the old one did not have
    # The old trie's nodes that the new one does not have. They stay in the store (an older
    # root still reaches them) but a cache of the head's nodes can let them go: without that,
    # every block's rewritten paths would fill it with nodes no later block reads.
    retired: set[bytes]


def compute_trie_update(reader: TrieReader, root: bytes, changes: dict[bytes, bytes]) -> TrieUpdate:
    """The new root, new nodes and retired nodes after setting each key to its value (b""
    deletes the key)."""
    if not changes:
        return TrieUpdate(root, {}, set())
    ordered = sorted((compute_nibbles(key), value) for key, value in changes.items())
    update = _Update(reader)
    new = update.node(None, ordered) if root == BLANK_ROOT else update.child(root, ordered)
    if not new:  # no node (from nothing) or b"" (all deleted)
        return TrieUpdate(BLANK_ROOT, {}, update.replaced)
    assert isinstance(new, list)
    nodes: dict[bytes, bytes] = {}
    new_root = _finalize(reader, new, nodes, is_root=True)
    assert isinstance(new_root, bytes)
    return TrieUpdate(new_root, nodes, update.replaced - nodes.keys())


def compute_trie_root(pairs: Iterable[tuple[bytes, bytes]]) -> bytes:
    """Root of a trie built from nothing; keys prefix-free (hashes, rlp-encoded indices)."""
    node = _build(sorted((compute_nibbles(key), value) for key, value in pairs))
    if node is None:
        return BLANK_ROOT
    root = _finalize(None, node, {}, is_root=True)
    assert isinstance(root, bytes)
    return root


def compute_ordered_root(encoded_items: Sequence[bytes]) -> bytes:
    """Root of the trie mapping rlp(i) to the i-th item: a block's transactions or receipts."""
    return compute_trie_root(
        (encode_rlp(i.to_bytes((i.bit_length() + 7) // 8, "big")), item)
        for i, item in enumerate(encoded_items)
    )
