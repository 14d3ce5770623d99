"""A Duet node: the ledger, both chains, the pool and durable storage, wired together.

The node is driven from outside: the sequencer (chain/consensus) decides when blocks are
made and the RPC layer (chain/rpc) reads through `node.query` and submits through the
node's named methods. Every method here runs on one thread, the event loop's, so block
production and reads never interleave mid-block.

The node is made of parts, one module each: the ledger and restart (ledger.py, genesis.py),
the fast lane (fast_lane.py), the ZK lane (zk_lane.py), the L1 bridge (bridge.py) and the
read-only query facade (query.py). `open_node` builds a node's store and executor from a
data directory; a test may build its own and pass them to `Node`.
"""

import sqlite3
from collections import deque
from collections.abc import Mapping, Sequence
from pathlib import Path

from chain.config import NetworkConfig
from chain.fast.chain import BLOCKHASH_WINDOW, FastBlock
from chain.fast.executor import Executor
from chain.fast.pool import TxPool
from chain.fast.pyevm_executor import PyEvmExecutor
from chain.fast.revm_executor import RevmExecutor
from chain.ledger.store import DATABASE_FILE, Store, SubmissionWrite
from chain.market.desk import MarketDesk
from chain.node.bridge import Bridge
from chain.node.clock import SequencerClock
from chain.node.fast_lane import FastLane
from chain.node.genesis import load_or_create_genesis
from chain.node.ledger import (
    CLOCK_META,
    DEPOSITS_META,
    FORCED_META,
    BlockListener,
    now_ms,
)
from chain.node.query import NodeQuery
from chain.node.zk_lane import ZkDraft, ZkLane
from chain.prover.precompile_keys import load_ceremony_verifiers
from chain.types import Height
from chain.zk.pool import OpPool
from chain.zk.state import ZkState

__all__ = [
    "DEFAULT_EXECUTOR",
    "EXECUTORS",
    "BlockListener",
    "Bridge",
    "Node",
    "NodeQuery",
    "now_ms",
    "open_node",
]

EXECUTORS: dict[str, type] = {"pyevm": PyEvmExecutor, "revm": RevmExecutor}
DEFAULT_EXECUTOR = "revm"


class Node(FastLane, ZkLane):
    def __init__(
        self, store: Store, executor: Executor, config: NetworkConfig | None = None
    ) -> None:
        self.config = config or NetworkConfig()
        self.query = NodeQuery(self)  # what readers read
        self.store = store
        self.executor = executor
        self.listeners = []
        self.submit_listeners = []
        self.admit_listeners = []
        self.op_listeners = []
        # The sequencer's keys for the rollup this node settles on (set once it knows it).
        self.attestor = None
        self.proof_relay = None
        self.stale_l1_reads = set()
        self.load()

    def load(self) -> None:
        """Everything the node holds in memory, read from its store: at start, and again
        after a dev node's evm_revert has put an earlier database in place (the listeners,
        the keys and the parts wired to the node stay)."""
        self._head_accounts = {}
        self.lost_on_start = []
        self.pool = TxPool()
        self.zk_state = ZkState()
        self.heads = load_or_create_genesis(self.store, self.executor, self.config)
        self.zk_state = self._load_zk_state()
        self.zk_pool = OpPool(self.zk_state)
        self.undelivered = self._load_undelivered()
        self.inbox = self._load_inbox()
        # L1 deposits read from the rollup and not credited yet, numbered from
        # deposits_credited on: the next ZK block credits them first.
        self.deposits_credited = int(self.store.get_meta(DEPOSITS_META) or 0)
        self.l1_deposits = []
        # Withdraws queued on the rollup (forceWithdraw) and not taken yet, numbered from
        # forced_taken on: the next ZK block takes them first.
        self.forced_taken = int(self.store.get_meta(FORCED_META) or 0)
        self.l1_forced = []
        self.deposit_refused = None
        self.clock = SequencerClock(int(self.store.get_meta(CLOCK_META) or 0))
        self.recent_fast_hashes = deque(
            self.store.recent_hashes(
                self.config.fast_chain_id, Height(self.fast_head.height + 1), BLOCKHASH_WINDOW
            ),
            maxlen=BLOCKHASH_WINDOW,
        )
        self.desk = MarketDesk(
            self.store, self.config.zk_chain_id, self.config.market, self._get_zk_block
        )
        # Where operations' signatures are good: the rollup's domain once the node knows its
        # rollup (kept across restarts), the local one before.
        self.signing_domain = self._load_signing_domain()
        self._reload_pending()
        self._reload_zk_pending()
        self._attested = {}  # the last few, as agents re-read

    def take_back(self, copy: sqlite3.Connection) -> None:
        """A dev node's evm_revert: the database made what `copy` (Store.copy) holds again,
        and everything in memory read from it again. An L1 read in flight began before, on
        an L1 the caller takes back too: what it brings is dropped."""
        self.store.restore(copy)
        self.load()
        self.stale_l1_reads = {"deposits", "forced"}

    def commit_height(
        self,
        zk: ZkDraft | None,
        fast: FastBlock | None,
        submissions: Sequence[SubmissionWrite],
        meta: Mapping[str, str],
    ) -> None:
        """One decentralized-mode height in one store transaction: the market submissions,
        the ZK block (made counting them), the fast block (made after it:
        `make_fast_block(after=...)`), then `meta`."""
        steps = []
        if zk is not None:
            steps.append(self.zk_step(zk))
        if fast is not None:
            zk_height = self.zk_head.height if zk is None else zk.zk.block.height
            delivers = self.undelivered or (zk is not None and zk.zk.block.messages)
            steps.append(self.fast_step(fast, zk_height if delivers else None))
        self._append_all(steps, submissions, meta)
        if zk is None:  # else the ZK block took them
            self.desk.adopt_submissions([s.record for s in submissions])


def open_node(
    data_dir: Path, config: NetworkConfig | None = None, executor: str = DEFAULT_EXECUTOR
) -> Node:
    """The node whose database is in `data_dir` (made, with both genesis blocks, if new),
    executing the fast chain with `executor` ("revm" or "pyevm")."""
    data_dir.mkdir(parents=True, exist_ok=True)
    store = Store(data_dir / DATABASE_FILE)
    return Node(
        store,
        EXECUTORS[executor](store.get_state_node, verifiers=load_ceremony_verifiers()),
        config,
    )
