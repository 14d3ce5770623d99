"""A settled block's withdrawals, and the Merkle tree under which the rollup pays them.

Each withdraw operation of a block settled at ZK height `height` is a withdrawal: its
`position` counts the block's withdrawals from 0, in the order of the ops. Its leaf is
`keccak256(abi.encode(uint64 height, uint256 position, address to, uint256 amount))`. The
block's withdrawals root is the binary keccak tree over the leaves in position order, padded
with zero leaves to a power of two, each node `keccak256(left ‖ right)`: the root of one leaf
is the leaf itself. The rollup computes the same root at settlement (`withdrawalRoot(height)`),
and `claimWithdrawal` takes a leaf's siblings from the bottom up (`compute_withdrawal_proof`).

Pure: the ops come from the block's calldata (chain/l1/calldata.py `decode_ops`), or from the
node, as a submission agent sends them.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from eth_abi import encode as abi_encode
from eth_typing import ChecksumAddress
from eth_utils import keccak, to_checksum_address

from chain.l1.calldata import SettledOp
from chain.l1.errors import L1Error
from chain.types import Height, Root, Wei
from chain.zk.registry import CircuitName, unpack_words

WITHDRAW_CIRCUIT: CircuitName = "withdraw"
NODE_BYTES = 32
EMPTY_LEAF = bytes(NODE_BYTES)  # the padding: no leaf hashes to it
ADDRESS_BYTES = 20


@dataclass(frozen=True)
class Withdrawal:
    """Withdrawal `position` of the block settled at `height`: `amount` wei of L1 ZKPoW for
    `to` on L1."""

    height: Height
    position: int
    to: ChecksumAddress
    amount: Wei


def list_withdrawals(height: Height, ops: Sequence[SettledOp]) -> list[Withdrawal]:
    """The withdrawals of the block settled at `height` whose ops are `ops`, in position order."""
    withdrawals: list[Withdrawal] = []
    for op in ops:
        if op.circuit != WITHDRAW_CIRCUIT:
            continue
        fields = unpack_words(op.circuit, op.words)
        to = to_checksum_address(fields["to"].to_bytes(ADDRESS_BYTES, "big"))
        withdrawals.append(Withdrawal(height, len(withdrawals), to, Wei(fields["amount"])))
    return withdrawals


def compute_withdrawal_leaf(withdrawal: Withdrawal) -> bytes:
    return keccak(
        abi_encode(
            ["uint64", "uint256", "address", "uint256"],
            [withdrawal.height, withdrawal.position, withdrawal.to, withdrawal.amount],
        )
    )


def compute_tree_levels(leaves: Sequence[bytes]) -> list[list[bytes]]:
    """The tree's levels from the padded leaves up to the root, alone on the last level."""
    if not leaves:
        raise L1Error("a withdrawals tree has at least one leaf")
    size = 1 << (len(leaves) - 1).bit_length()
    level = [*leaves, *[EMPTY_LEAF] * (size - len(leaves))]
    levels = [level]
    while len(level) > 1:
        level = [keccak(level[i] + level[i + 1]) for i in range(0, len(level), 2)]
        levels.append(level)
    return levels


def compute_withdrawals_root(leaves: Sequence[bytes]) -> Root:
    """The root over `leaves` in position order; zero for no leaves, as the rollup's view
    `computeWithdrawalsRoot` answers (the rollup keeps no root for a block without any)."""
    if not leaves:
        return Root(EMPTY_LEAF)
    return Root(compute_tree_levels(leaves)[-1][0])


def compute_withdrawal_proof(leaves: Sequence[bytes], position: int) -> list[bytes]:
    """The siblings of leaf `position` from the bottom up: what `claimWithdrawal` takes."""
    if not 0 <= position < len(leaves):
        raise L1Error(f"no withdrawal at position {position} of {len(leaves)}")
    return [
        level[(position >> depth) ^ 1]
        for depth, level in enumerate(compute_tree_levels(leaves)[:-1])
    ]


def compute_root_from_proof(leaf: bytes, position: int, proof: Sequence[bytes]) -> Root:
    """The root that `proof` leads to from `leaf` at `position`: the rollup's check, which
    also refuses a position with bits beyond the proof's depth."""
    if position >> len(proof):
        raise L1Error(f"position {position} does not fit a tree of depth {len(proof)}")
    node = leaf
    for depth, sibling in enumerate(proof):
        node = keccak(sibling + node) if (position >> depth) & 1 else keccak(node + sibling)
    return Root(node)
