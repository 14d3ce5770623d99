"""Mint epochs as the rollup checks them (docs/l1.md, "Epochs").

A mint's epoch, which its collection's per-epoch cap counts in, is in its words; the rollup
requires it to be the settled block's attested timestamp // EPOCH_SECONDS. The timestamp is
the sequencer's, but L1 bounds it (never backwards, at most 15 s ahead of L1's clock), so no
compromised sequencer or fast chain can make epochs pass faster than time: the epoch caps
bound what a compromised fast chain can mint.

Pure: the constructor's epoch table, by circuit id, from the word layouts.
"""

from chain.l1.calldata import L1_CIRCUIT_NAMES, L1CircuitName
from chain.zk.chain import EPOCH_SECONDS
from chain.zk.registry import WORD_LAYOUTS

EPOCH_FIELD = "epoch"
PRESENT = 1 << 24  # marks a packed place that is there (word 0, shift 0 would be zero)

__all__ = ["EPOCH_SECONDS", "compute_epoch_place", "list_epoch_places"]


def compute_epoch_place(circuit: L1CircuitName) -> int:
    """Where `circuit`'s epoch field is, packed as the rollup reads it (word | shift << 8 |
    bits << 16 | PRESENT); 0 for a circuit without one."""
    for word, layout in enumerate(WORD_LAYOUTS.get(circuit, ())):
        shift = 0
        for name, width in layout:
            if name == EPOCH_FIELD:
                return word | shift << 8 | width << 16 | PRESENT
            shift += width
    return 0


def list_epoch_places() -> list[int]:
    """The constructor's `opEpochPlaces`, by circuit id."""
    return [compute_epoch_place(circuit) for circuit in L1_CIRCUIT_NAMES]
