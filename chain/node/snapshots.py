"""A dev node's snapshots, as anvil's `evm_snapshot` and `evm_revert` serve them: tests take
one before they change anything and go back to it after, instead of starting a node again.

What going back means here (docs/rpc.md): everything the node holds, both chains together.
A dev node orders both chains in one ledger and makes a ZK block every second, so taking
back only the fast chain would leave ZK blocks ordered after fast blocks that no longer
exist, and ZK blocks deliver their roots to the fast chain: the ledger would contradict
itself. So a snapshot is a copy of the node's whole database (both chains, the ledger, both
pools, the prover market, the clock's offset), and, when the node runs its own anvil, that
anvil's snapshot of L1 (the rollup with its settled blocks, deposits and queued Withdraws),
taken together; a revert puts both back, as a restart from that moment would. A node that
settles on an L1 it does not run cannot take that L1 back, and refuses to take snapshots.

The embedded agent sends blocks to L1 only through the node's SubmitGate, which a snapshot
and a revert hold, so no block crosses them half-way (chain/l1/agent.py).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import TYPE_CHECKING

from chain.jsonrpc import RpcClient
from chain.l1.agent import SubmitGate

if TYPE_CHECKING:
    from chain.node import Node

MAX_HELD = 32  # each a whole copy of the database, in memory


class SnapshotRefused(Exception):
    """A snapshot this node cannot take, or a revert it cannot make; nothing changed."""


@dataclass
class Snapshot:
    database: sqlite3.Connection
    l1_id: str | None  # the managed anvil's own snapshot, taken at the same moment


class DevSnapshots:
    def __init__(
        self, node: Node, l1_http: str | None, managed: bool, gate: SubmitGate | None = None
    ) -> None:
        self.node = node
        self.l1 = None if l1_http is None else RpcClient(l1_http)
        self.l1_http = l1_http
        self.managed = managed
        self.gate = gate or SubmitGate()
        self._held: dict[int, Snapshot] = {}
        self._next_id = 0

    def take(self) -> int:
        """A snapshot of everything the node (and its anvil) holds now; returns its id."""
        if self.l1 is not None and not self.managed:
            raise SnapshotRefused(
                f"this node settles on {self.l1_http}, an L1 it does not run: it could not "
                "take that L1 back with its own chains"
            )
        if len(self._held) >= MAX_HELD:
            raise SnapshotRefused(
                f"{MAX_HELD} snapshots are held, each a copy of the whole database: revert "
                "to one (which frees it and those taken after it) before taking another"
            )
        with self.gate.lock:
            l1_id = None if self.l1 is None else str(self.l1.call("evm_snapshot", []))
            database = self.node.store.copy()
        snapshot_id = self._next_id
        self._next_id += 1
        self._held[snapshot_id] = Snapshot(database, l1_id)
        return snapshot_id

    def revert(self, snapshot_id: int) -> bool:
        """Everything back as it was when `snapshot_id` was taken; that snapshot and those
        taken after it are gone (as on anvil). False for an id not held."""
        snapshot = self._held.get(snapshot_id)
        if snapshot is None:
            return False
        with self.gate.lock:
            if snapshot.l1_id is not None and not self._revert_l1(snapshot.l1_id):
                raise SnapshotRefused(
                    f"the L1 no longer holds its snapshot {snapshot.l1_id} (was anvil "
                    "started again?): nothing was taken back"
                )
            self.node.take_back(snapshot.database)
            self.gate.revision += 1
        for later in [i for i in self._held if i >= snapshot_id]:
            self._held.pop(later).database.close()
        return True

    def _revert_l1(self, l1_id: str) -> bool:
        assert self.l1 is not None
        return self.l1.call("evm_revert", [l1_id]) is True
