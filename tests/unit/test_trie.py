"""Duet's Merkle Patricia trie against py-trie's HexaryTrie, the one py-evm uses."""

from __future__ import annotations

import rlp
from hypothesis import given, settings
from hypothesis import strategies as st
from trie import HexaryTrie

from chain.encoding import decode_rlp, encode_rlp, keccak
from chain.trie import BLANK_ROOT, TrieReader, compute_trie_update, get_trie_value

# Few distinct keys, some sharing long prefixes, so updates split and merge nodes.
KEYS = [keccak(bytes([n])) for n in range(12)] + [b"\x12\x34" + bytes([n]) * 30 for n in range(4)]
VALUES = st.one_of(st.just(b""), st.binary(min_size=1, max_size=40).map(rlp.encode))
BATCHES = st.lists(st.dictionaries(st.sampled_from(KEYS), VALUES, max_size=10), max_size=6)


def list_reachable(store: dict[bytes, bytes], root: bytes) -> set[bytes]:
    """The stored nodes (by hash) of the trie at `root`."""
    found: set[bytes] = set()
    refs: list[object] = [] if root == BLANK_ROOT else [root]
    while refs:
        ref = refs.pop()
        if isinstance(ref, bytes) and len(ref) == 32:
            found.add(ref)
            node = decode_rlp(store[ref])
        elif isinstance(ref, list):
            node = ref
        else:
            continue
        children = node[:16] if len(node) == 17 else [node[1]] if node[0][0] >> 4 < 2 else []
        refs.extend(children)
    return found


@settings(max_examples=150, deadline=None)
@given(batches=BATCHES)
def test_batch_updates_give_hexary_trie_roots_and_values(
    batches: list[dict[bytes, bytes]],
) -> None:
    reference_db: dict[bytes, bytes] = {}
    reference = HexaryTrie(reference_db)
    store: dict[bytes, bytes] = {}
    reader = TrieReader(store.get)
    root = BLANK_ROOT
    for changes in batches:
        for key, value in changes.items():
            if value:
                reference[key] = value
            elif key in reference:
                del reference[key]
        before = list_reachable(store, root)
        root, nodes, retired = compute_trie_update(reader, root, changes)
        store.update(nodes)
        assert root == reference.root_hash
        assert retired == before - list_reachable(store, root)
        for key in KEYS:
            assert (get_trie_value(TrieReader(store.get), root, key) or b"") == reference.get(key)


def test_deleting_every_key_gives_the_blank_root() -> None:
    store: dict[bytes, bytes] = {}
    root, nodes, _ = compute_trie_update(TrieReader(store.get), BLANK_ROOT, {KEYS[0]: b"\x01"})
    store.update(nodes)
    assert compute_trie_update(TrieReader(store.get), root, {KEYS[0]: b""}) == (
        BLANK_ROOT,
        {},
        {root},
    )


def test_update_stores_only_nodes_of_the_new_trie() -> None:
    store: dict[bytes, bytes] = {}
    changes = {key: rlp.encode(n + 1) for n, key in enumerate(KEYS)}
    root, nodes, retired = compute_trie_update(TrieReader(store.get), BLANK_ROOT, changes)
    assert retired == set()
    assert all(keccak(encoded) == digest for digest, encoded in nodes.items())
    assert root in nodes


@given(st.recursive(st.binary(max_size=70), lambda inner: st.lists(inner, max_size=5)))
def test_rlp_round_trips_like_pyrlp(item: bytes | list[object]) -> None:
    assert encode_rlp(item) == rlp.encode(item)
    assert decode_rlp(encode_rlp(item)) == rlp.decode(rlp.encode(item))
