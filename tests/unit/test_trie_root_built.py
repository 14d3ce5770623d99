"""A trie built in one pass has the root of the same items inserted one by one into py-evm's trie."""

import rlp
from hypothesis import given, settings
from hypothesis import strategies as st
from trie import HexaryTrie

from chain.trie import BLANK_ROOT, compute_ordered_root, compute_trie_root


def hexary_root(pairs: dict[bytes, bytes]) -> bytes:
    trie = HexaryTrie({})
    for key, value in pairs.items():
        trie[key] = value
    return bytes(trie.root_hash)


def test_empty_trie_has_the_blank_root() -> None:
    assert compute_trie_root([]) == BLANK_ROOT == hexary_root({})


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(
        st.binary(min_size=32, max_size=32), st.binary(min_size=1, max_size=40), max_size=40
    )
)
def test_root_of_hashed_keys_equals_hexary_trie(pairs: dict[bytes, bytes]) -> None:
    assert compute_trie_root(pairs.items()) == hexary_root(pairs)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.binary(min_size=1, max_size=120), max_size=300))
def test_ordered_root_equals_hexary_trie_over_rlp_indices(items: list[bytes]) -> None:
    expected = hexary_root({rlp.encode(i): item for i, item in enumerate(items)})
    assert compute_ordered_root(items) == expected
