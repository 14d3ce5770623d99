"""Sparse Poseidon Merkle trees of arity 4 (the layout is in docs/zk-state.md).

Only nodes that differ from an empty subtree are stored, so a tree of 4^7 leaves with a
hundred tokens in it costs a few hundred entries. Arity 4 because in the circuits a
Poseidon(4) costs about 300 constraints and covers two bits of the index, against about 240
for a Poseidon(2) that covers one.
"""

from dataclasses import dataclass, field
from typing import Protocol

from chain.zk.poseidon import poseidon

ARITY = 4


def compute_empty_hashes(empty_leaf: int, levels: int) -> list[int]:
    """The hash of an empty subtree of each height, leaves (height 0) to root (height `levels`)."""
    hashes = [empty_leaf]
    for _ in range(levels):
        hashes.append(poseidon(*[hashes[-1]] * ARITY))
    return hashes


class HasLeaf(Protocol):
    def leaf(self) -> int: ...


@dataclass
class QuadTree:
    levels: int
    empty_leaf: int
    nodes: dict[tuple[int, int], int] = field(default_factory=dict)  # (height, index) → hash
    empty: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.empty:
            self.empty = compute_empty_hashes(self.empty_leaf, self.levels)

    @property
    def capacity(self) -> int:
        return ARITY**self.levels

    @property
    def root(self) -> int:
        return self.get_node(self.levels, 0)

    def get_node(self, height: int, index: int) -> int:
        return self.nodes.get((height, index), self.empty[height])

    def get_leaf(self, index: int) -> int:
        return self.get_node(0, index)

    def get_path(self, index: int) -> list[list[int]]:
        """Per level from the leaves up: the four children of the node on the path to `index`."""
        self._check_index(index)
        path = []
        for height in range(self.levels):
            first = (index >> (2 * height)) & ~(ARITY - 1)
            path.append([self.get_node(height, first + k) for k in range(ARITY)])
        return path

    def set_leaf(self, index: int, value: int) -> None:
        self._check_index(index)
        self._store(0, index, value)
        for height in range(self.levels):
            node = index >> (2 * height)
            first = node & ~(ARITY - 1)
            children = [self.get_node(height, first + k) for k in range(ARITY)]
            self._store(height + 1, node >> 2, poseidon(*children))

    def set_record(self, index: int, record: HasLeaf) -> None:
        """Write `record` at `index`: its leaf hash, and the hashes above it."""
        self.set_leaf(index, record.leaf())

    def copy(self) -> "QuadTree":
        return QuadTree(self.levels, self.empty_leaf, dict(self.nodes), self.empty)

    def drop_hashes(self) -> "UnhashedTree":
        return UnhashedTree(self.levels, self.empty_leaf, {}, self.empty)

    def _store(self, height: int, index: int, value: int) -> None:
        if value == self.empty[height]:
            self.nodes.pop((height, index), None)
        else:
            self.nodes[(height, index)] = value

    def _check_index(self, index: int) -> None:
        if not 0 <= index < self.capacity:
            raise IndexError(f"leaf index {index} outside a tree of {self.capacity} leaves")


def compute_root_from_path(leaf: int, index: int, path: list[list[int]]) -> int:
    """The root that `path` leads to from `leaf` at `index` (what a circuit recomputes)."""
    node = leaf
    for height, children in enumerate(path):
        position = (index >> (2 * height)) & (ARITY - 1)
        if children[position] != node:
            raise ValueError(f"path does not go through the leaf at level {height}")
        node = poseidon(*children)
    return node


@dataclass
class UnhashedTree(QuadTree):
    """A tree's shape without its hashes: a write checks its index and computes nothing.

    Whether an operation applies depends on the records beside the trees, never on a hash,
    so the operation pool checks waiting operations against a state of these trees: a
    transfer then costs microseconds instead of the 14 Poseidon hashes of its two leaf
    writes. Such a tree has no root; its paths are empty.
    """

    @property
    def root(self) -> int:
        raise TypeError("an unhashed tree has no root: apply to the hashed state for one")

    def get_path(self, index: int) -> list[list[int]]:
        self._check_index(index)
        return []

    def set_leaf(self, index: int, value: int) -> None:
        self._check_index(index)

    def set_record(self, index: int, record: HasLeaf) -> None:
        self._check_index(index)

    def copy(self) -> "UnhashedTree":
        return self
