"""How an operation's fields travel as words of public input (docs/zk-state.md, "Public
inputs").

A word's fields are packed little-endian: the first field takes the lowest bits. `pack_word`
and `unpack_word` do that for whoever writes them (the witness) and whoever reads them back
(tests, the rollup's tables, the rebuild of the state from L1 calldata). Each operation's
layouts are in its `OpSpec` (chain/zk/registry.py); the pieces several share are here.
"""

from collections.abc import Mapping, Sequence
from typing import TypeAlias

from chain.zk.poseidon import FIELD_MODULUS
from chain.zk.state import (
    ACCOUNT_LEVELS,
    ADDRESS_BITS,
    COLLECTION_LEVELS,
    NFT_LEVELS,
    NONCE_BITS,
    PROVER_LEVELS,
    ROUND_BITS,
)

FEE_GWEI_BITS = 48
ACCOUNT_INDEX_BITS = 2 * ACCOUNT_LEVELS
TOKEN_KEY_BITS = 2 * NFT_LEVELS
COLLECTION_BITS = 2 * COLLECTION_LEVELS
PROVER_INDEX_BITS = 2 * PROVER_LEVELS
WHOLE_FIELD = 254  # the width of a field that is any field element (metadata, keyHash)

# A word's fields, lowest bits first: (name, width in bits). Names are unique across one
# circuit's words, so a circuit's fields read as one flat mapping.
Layout: TypeAlias = tuple[tuple[str, int], ...]
HEADER_LAYOUT: Layout = (
    ("from", ADDRESS_BITS),
    ("fromIndex", ACCOUNT_INDEX_BITS),
    ("nonce", NONCE_BITS),
    ("feeGwei", FEE_GWEI_BITS),
)
# A mint's own fields, the same whether the minter signs it or the fast chain sends it.
MINT_LAYOUTS: tuple[Layout, ...] = (
    (
        ("to", ADDRESS_BITS),
        ("tokenKey", TOKEN_KEY_BITS),
        ("round", ROUND_BITS),
        ("epoch", ROUND_BITS),
    ),
    (("metadata", WHOLE_FIELD),),
)


class InvalidWitness(Exception):
    """Words, fields or a trace that do not fit their operation's layout."""


def pack_word(layout: Layout, fields: Mapping[str, int]) -> int:
    """The fields of `layout` (read from `fields`) as one word, the first in the lowest bits."""
    word = 0
    offset = 0
    for name, width in layout:
        value = fields[name]
        if not is_field_in_range(value, width):
            raise InvalidWitness(f"word field {name} = {value} does not fit {width} bits")
        word |= value << offset
        offset += width
    return word


def unpack_word(layout: Layout, word: int) -> dict[str, int]:
    """The fields of a word packed by `pack_word`; rejects bits beyond the layout's."""
    if not 0 <= word < FIELD_MODULUS or word >> compute_layout_width(layout):
        raise InvalidWitness(f"word {word:#x} has bits beyond its {compute_layout_width(layout)}")
    fields = {}
    for name, width in layout:
        fields[name] = word & ((1 << width) - 1)
        word >>= width
    return fields


def pack_layouts(layouts: tuple[Layout, ...], fields: Mapping[str, int]) -> list[int]:
    """The words w1, w2, ... of these layouts from their fields by name."""
    return [pack_word(layout, fields) for layout in layouts]


def unpack_layouts(layouts: tuple[Layout, ...], words: Sequence[int]) -> dict[str, int]:
    """The fields by name of words w1, w2, ...: the inverse of `pack_layouts`."""
    if len(words) != len(layouts):
        raise InvalidWitness(f"takes {len(layouts)} words, got {len(words)}")
    fields: dict[str, int] = {}
    for layout, word in zip(layouts, words, strict=True):
        fields.update(unpack_word(layout, word))
    return fields


def compute_layout_width(layout: Layout) -> int:
    return sum(width for _, width in layout)


def is_field_in_range(value: int, width: int) -> bool:
    bound = FIELD_MODULUS if width == WHOLE_FIELD else 1 << width
    return 0 <= value < bound
