"""The node's ledger part: the heads of both chains, appending a block to the braided log
(stored, then announced), and reloading what a restart needs from the store.

Every part of the node (chain/node/*.py) is a class over the same attributes, declared
here; `Node` (chain/node/__init__.py) joins them and builds the attributes.
"""

import logging
import sqlite3
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from chain.config import NetworkConfig
from chain.fast.chain import FastBlock
from chain.fast.executor import Account, Executor
from chain.fast.pool import TxPool
from chain.fast.txs import FastTx
from chain.l1.attestation import AttestedBlock, Attestor
from chain.l1.forced import QueuedWithdrawal
from chain.ledger.blocks import LedgerBlock
from chain.ledger.log import LedgerHeads, process_append
from chain.ledger.messages import is_to_zk
from chain.ledger.store import BlockWrite, Store, SubmissionWrite
from chain.market.desk import MarketDesk
from chain.node.clock import SequencerClock, wall_ms
from chain.types import Address, ChainId, Hash32, Height, JobId
from chain.zk import chain as zk_chain
from chain.zk.ops import Deposit
from chain.zk.pool import OpPool
from chain.zk.signing import SigningDomain
from chain.zk.state import ZkState, load_state

log = logging.getLogger("duet.node")

# ZK blocks up to here have had their messages delivered to the fast chain.
DELIVERED_META = "fast_delivered_zk_height"
# Fast blocks up to here have had their messages taken by the ZK chain.
TAKEN_META = "zk_taken_fast_height"
# How many of the fast chain's messages after TAKEN_META's height ZK blocks have taken: a ZK
# block takes at most NetworkConfig.max_messages_per_zk_block, so a block's can be split.
INBOX_TAKEN_META = "zk_taken_messages_after"
# ZK blocks up to here are settled on L1, as the node last read the rollup.
L1_SETTLED_META = "l1_settled_zk_height"
# How many of the L1 rollup's deposits (numbered from 0) the ZK chain has credited.
DEPOSITS_META = "l1_deposits_credited"
FORCED_META = "l1_forced_taken"  # how many of the rollup's queued Withdraws blocks have taken
ATTESTED_CACHE = 16  # blocks whose attestation the node keeps signed
# The decentralized mode: the validators' signatures of ZK block H (hex), as a height
# committed them; ATTESTED_META: the last ZK height so attested.
ATTESTATION_META_PREFIX = "attestation:"
ATTESTED_META = "attested_zk_height"
# The decentralized mode: CometBFT's evidence of misbehaviour (JSON list, oldest first) and
# the validators it jailed (JSON list of addresses): chain/consensus/evidence.py.
EVIDENCE_META = "evidence"
JAILED_META = "jailed"
# JSON {CometBFT validator address hex: power}: the powers the last validator updates left.
POWERS_META = "comet_powers"
# JSON [attester address hex, ...]: the validators to slash in the next ZK block.
SLASH_QUEUE_META = "slash_queue"
CLOCK_META = "dev_clock_offset_ms"  # how far a dev node's clock was moved ahead (clock.py)
SIGNING_DOMAIN_META = "signing_domain"  # JSON: the domain operations are signed in

BlockListener = Callable[[LedgerBlock, FastBlock | None], None]


@dataclass(frozen=True)
class AppendStep:
    """One block to append: what the store writes, the fast block's execution (for the
    listeners), and what updates the node once it is stored."""

    write: BlockWrite
    fast: FastBlock | None = None
    on_stored: Callable[[], None] | None = None


def now_ms() -> int:
    """The wall clock (a block's time is the node's `clock`, which a dev node can move)."""
    return wall_ms()


def compute_zk_globals(state: ZkState) -> dict[str, int]:
    return {"fee_pool": state.fee_pool, "escrow": state.escrow, "inbox": state.inbox}


class LedgerPart:
    config: NetworkConfig
    store: Store
    executor: Executor
    listeners: list[BlockListener]
    submit_listeners: list[Callable[[], None]]  # a fast transaction admitted
    admit_listeners: list[Callable[[FastTx], None]]  # the same, with the transaction
    op_listeners: list[Callable[[], None]]  # a ZK operation admitted
    _head_accounts: dict[Address, Account]  # at the fast head; reset per block
    lost_on_start: list[tuple[Hash32, str]]
    pool: TxPool
    zk_state: ZkState
    heads: LedgerHeads
    zk_pool: OpPool
    undelivered: list[bytes]
    inbox: list[bytes]
    deposits_credited: int
    l1_deposits: list[Deposit]
    forced_taken: int
    l1_forced: list[QueuedWithdrawal]
    deposit_refused: str | None
    recent_fast_hashes: deque[Hash32]
    clock: SequencerClock
    desk: MarketDesk
    signing_domain: SigningDomain
    attestor: Attestor | None
    # Where proof submissions go instead of the desk (the decentralized mode's CometBFT).
    proof_relay: Callable[[JobId, bytes, bytes], None] | None
    _attested: dict[Height, AttestedBlock]
    # L1 readers ("deposits", "forced") whose read in flight may predate an evm_revert that
    # took L1 back too: what it brings is dropped until the reader asks where to resume.
    stale_l1_reads: set[str]

    def _get_zk_block(self, height: Height) -> LedgerBlock:
        block = self.get_block(self.config.zk_chain_id, height)
        assert block is not None, f"ZK block {height} missing"
        return block

    def close(self) -> None:
        self.store.close()

    def backup_to(self, path: Path) -> None:
        """A consistent copy of the node's database at `path` (a node opened there starts
        from this node's heads)."""
        target = sqlite3.connect(path)
        try:
            self.store.db.backup(target)
        finally:
            target.close()

    # -- restart -----------------------------------------------------------------------

    def _load_undelivered(self) -> list[bytes]:
        """Messages of ZK blocks that no fast block has delivered yet (at most the last few)."""
        return self._list_messages_after(self.config.zk_chain_id, DELIVERED_META)

    def _load_inbox(self) -> list[bytes]:
        """Messages of fast blocks that no ZK block has taken yet."""
        messages = self._list_messages_after(self.config.fast_chain_id, TAKEN_META)
        taken = int(self.store.get_meta(INBOX_TAKEN_META) or 0)
        return [m for m in messages if is_to_zk(m)][taken:]

    def _list_messages_after(self, chain_id: ChainId, meta: str) -> list[bytes]:
        done = self.store.get_meta(meta)
        first = 0 if done is None else int(done) + 1
        messages: list[bytes] = []
        for height in range(first, self.heads.chains[chain_id].height + 1):
            block = self.get_block(chain_id, height)
            assert block is not None, f"block {height} of chain {chain_id} missing"
            messages.extend(block.messages)
        return messages

    @staticmethod
    def _zk_globals(state: ZkState) -> dict[str, int]:
        return compute_zk_globals(state)

    def _load_zk_state(self) -> ZkState:
        g = self.store.get_zk_globals()
        rows = self.store.list_zk_records()
        state = load_state(rows, g["fee_pool"], g["escrow"], g["inbox"])
        root = zk_chain.compute_root_bytes(state)
        if root != self.zk_head.state_root:
            raise RuntimeError(
                f"stored ZK state has root {root.hex()}, but the ZK head block says "
                f"{self.zk_head.state_root.hex()}: the database is damaged"
            )
        return state

    # -- heads -------------------------------------------------------------------------

    @property
    def fast_head(self) -> LedgerBlock:
        return self.heads.chains[self.config.fast_chain_id]

    @property
    def zk_head(self) -> LedgerBlock:
        return self.heads.chains[self.config.zk_chain_id]

    @property
    def log_head(self) -> LedgerBlock:
        assert self.heads.log is not None
        return self.heads.log

    # -- the braided log ---------------------------------------------------------------

    def _append(
        self,
        write: BlockWrite,
        fast: FastBlock | None,
        on_stored: Callable[[], None] | None = None,
    ) -> None:
        self._append_all([AppendStep(write, fast, on_stored)])

    def _append_all(
        self,
        steps: Sequence[AppendStep],
        submissions: Sequence[SubmissionWrite] = (),
        meta: Mapping[str, str] | None = None,
    ) -> None:
        """Append `steps`' blocks in order, with `submissions` and `meta`, in one store
        transaction; then, block by block, update the node and tell the listeners."""
        heads = self.heads
        for step in steps:
            heads = process_append(heads, step.write.block)  # raises InvalidBlock: no write
        self.store.commit_all([step.write for step in steps], submissions, meta)
        self.clock.on_block()
        for step in steps:
            block = step.write.block
            self.heads = process_append(self.heads, block)
            if step.on_stored is not None:  # before the listeners, which read what it updates
                step.on_stored()
            if block.chain_id == self.config.fast_chain_id:
                self._head_accounts.clear()
            for listener in list(self.listeners):
                try:
                    listener(block, step.fast)
                except Exception:  # the block is stored: a subscriber's failure must not undo it
                    log.exception(
                        "a block listener failed on %s block %d", block.chain_id, block.height
                    )

    def get_block(self, chain_id: ChainId, height: int) -> LedgerBlock | None:
        head = self.heads.chains[chain_id]
        if height < 0 or height > head.height:
            return None
        if height == head.height:
            return head
        return self.store.get_block(chain_id, Height(height))
