"""A Duet node: the ledger, both chains, the pool and durable storage, wired together.

The node is driven from outside: the sequencer (chain/consensus) decides when blocks are
made and the RPC layer (chain/rpc) reads and submits. Every method here runs on one
thread, the event loop's, so block production and reads never interleave mid-block.
"""

import time
from collections import deque
from collections.abc import Callable
from pathlib import Path

from chain.config import MAX_TXS_PER_BLOCK, NetworkConfig
from chain.fast.chain import BLOCKHASH_WINDOW, FastBlock, apply_block, make_block_env
from chain.fast.executor import Account, BlockEnv, Executor
from chain.fast.genesis import dev_alloc
from chain.fast.pool import TxPool
from chain.fast.pyevm_executor import PyEvmExecutor
from chain.fast.revm_executor import RevmExecutor
from chain.fast.txs import FastTx, InvalidTransaction, decode_transaction
from chain.ledger.blocks import LedgerBlock, seal
from chain.ledger.log import LedgerHeads, process_append
from chain.ledger.store import BlockWrite, Store, TxRecord
from chain.types import Address, ChainId, Hash32, Height, Root, Seq
from chain.zk import chain as zk_chain

EXECUTORS: dict[str, type] = {"pyevm": PyEvmExecutor, "revm": RevmExecutor}
DEFAULT_EXECUTOR = "revm"

BlockListener = Callable[[LedgerBlock, FastBlock | None], None]


def now_ms() -> int:
    return int(time.time() * 1000)


class Node:
    def __init__(
        self,
        data_dir: Path,
        config: NetworkConfig | None = None,
        executor: str = DEFAULT_EXECUTOR,
    ) -> None:
        self.config = config or NetworkConfig()
        data_dir.mkdir(parents=True, exist_ok=True)
        self.data_dir = data_dir
        self.store = Store(data_dir / "duet.db")
        self.executor: Executor = EXECUTORS[executor](self.store.get_state_node)
        self.listeners: list[BlockListener] = []
        self.submit_listeners: list[Callable[[], None]] = []
        self._head_accounts: dict[Address, Account] = {}  # at the fast head; reset per block
        self.lost_on_start: list[tuple[Hash32, str]] = []
        self.pool = TxPool()
        self.heads = self._load_or_create_genesis()
        self.recent_fast_hashes: deque[Hash32] = deque(
            self.store.recent_hashes(
                self.config.fast_chain_id, Height(self.fast_head.height + 1), BLOCKHASH_WINDOW
            ),
            maxlen=BLOCKHASH_WINDOW,
        )
        self._reload_pending()

    def close(self) -> None:
        self.store.close()

    # -- genesis and restart -----------------------------------------------------------

    def _load_or_create_genesis(self) -> LedgerHeads:
        cfg = self.config
        log_head = self.store.get_log_head()
        if log_head is not None:
            chains = {}
            for chain_id in (cfg.fast_chain_id, cfg.zk_chain_id):
                head = self.store.get_chain_head(chain_id)
                assert head is not None, f"database has no head for chain {chain_id}"
                chains[chain_id] = head
            return LedgerHeads(log=log_head, chains=chains)
        alloc = cfg.dev_alloc or dev_alloc()
        root, nodes = self.executor.make_genesis(alloc)
        heads = LedgerHeads(log=None, chains={})
        ts = now_ms()
        fast_genesis = seal(
            LedgerBlock(
                seq=Seq(0),
                prev_hash=Hash32(b"\x00" * 32),
                chain_id=cfg.fast_chain_id,
                height=Height(0),
                parent_hash=Hash32(b"\x00" * 32),
                state_root=root,
                transactions_root=zk_chain.EMPTY_TRIE_ROOT,
                receipts_root=zk_chain.EMPTY_TRIE_ROOT,
                timestamp_ms=ts,
                gas_limit=cfg.fast_block_gas_limit,
                base_fee=cfg.min_base_fee,
            )
        )
        self.store.commit(BlockWrite(fast_genesis, nodes, [], [], [], []))
        heads = process_append(heads, fast_genesis)
        zk_genesis = zk_chain.apply_block(heads, cfg.zk_chain_id, ts)
        self.store.commit(BlockWrite(zk_genesis, {}, [], [], [], []))
        return process_append(heads, zk_genesis)

    def _reload_pending(self) -> None:
        """Acknowledged transactions survive a crash: back into the pool, or reported lost."""
        lost: list[tuple[Hash32, str]] = []
        for tx_hash, _arrival, raw in self.store.list_pending():
            try:
                tx = decode_transaction(raw, self.config.fast_chain_id)
                self._validate(tx)
                self.pool.add(tx)
            except InvalidTransaction as exc:
                lost.append((tx_hash, f"dropped at restart: {exc}"))
        if lost:
            self.store.mark_lost(lost)
        self.lost_on_start = lost

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

    # -- transactions ------------------------------------------------------------------

    def account(self, address: Address, root: Root | None = None) -> Account:
        if root is not None and root != self.fast_head.state_root:
            return self.executor.get_account(root, address)
        # Admission reads the same senders again and again between two blocks.
        account = self._head_accounts.get(address)
        if account is None:
            account = self.executor.get_account(self.fast_head.state_root, address)
            self._head_accounts[address] = account
        return account

    def _validate(self, tx: FastTx) -> None:
        if self.store.get_tx(tx.hash) is not None:
            raise InvalidTransaction(f"already known: {tx.hash.hex()} is committed")
        self.pool.validate(
            tx, self.account(tx.sender), self.config.min_base_fee, self.config.fast_block_gas_limit
        )

    def submit_raw(self, raw: bytes) -> Hash32:
        """Admit a signed transaction; once this returns, the transaction is on disk."""
        tx = decode_transaction(raw, self.config.fast_chain_id)
        self._validate(tx)
        # To disk before the pool: if the write fails, nothing was admitted.
        self.store.add_pending(tx.hash, now_ms(), raw)
        self.pool.add(tx)
        for listener in self.submit_listeners:
            listener()
        return tx.hash

    def pending_nonce(self, sender: Address) -> int:
        """The nonce a new transaction from `sender` should use, counting those in the pool."""
        nonce = self.account(sender).nonce
        queued = self.pool.by_sender.get(sender, {})
        while nonce in queued:
            nonce += 1
        return nonce

    # -- block production ----------------------------------------------------------------

    def next_fast_env(self, timestamp_ms: int) -> BlockEnv:
        return make_block_env(self.config, self.heads, tuple(self.recent_fast_hashes), timestamp_ms)

    def produce_fast_block(self, timestamp_ms: int | None = None) -> LedgerBlock | None:
        """Execute the pool's executable transactions as one block; None if there are none."""
        nonces = {sender: self.account(sender).nonce for sender in self.pool.senders()}
        txs = self.pool.select(nonces, MAX_TXS_PER_BLOCK)
        if not txs:
            return None
        ts = timestamp_ms or now_ms()
        env = self.next_fast_env(ts)
        fast = apply_block(self.executor, self.config, self.heads, env, ts, txs)
        block, result = fast.block, fast.result
        write = BlockWrite(
            block=block,
            state_nodes=result.state_nodes,
            txs=[
                TxRecord(o.tx.hash, block.chain_id, block.height, i, o.tx.raw, receipt)
                for i, (o, receipt) in enumerate(zip(result.outcomes, fast.receipts, strict=True))
            ],
            logs=fast.logs,
            consumed_pending=[o.tx.hash for o in result.outcomes],
            lost=[(tx.hash, f"rejected at execution: {reason}") for tx, reason in result.rejected],
        )
        self._append(write, fast)
        self.executor.remember_nodes(result.state_nodes)
        self.recent_fast_hashes.appendleft(block.hash)
        self.pool.remove(o.tx.hash for o in result.outcomes)
        self.pool.remove(tx.hash for tx, _ in result.rejected)
        return block

    def produce_zk_block(self, timestamp_ms: int | None = None) -> LedgerBlock:
        block = zk_chain.apply_block(self.heads, self.config.zk_chain_id, timestamp_ms or now_ms())
        self._append(BlockWrite(block, {}, [], [], [], []), None)
        return block

    def _append(self, write: BlockWrite, fast: FastBlock | None) -> None:
        heads = process_append(self.heads, write.block)  # raises InvalidBlock, nothing written
        self.store.commit(write)
        self.heads = heads
        if write.block.chain_id == self.config.fast_chain_id:
            self._head_accounts.clear()
        for listener in list(self.listeners):
            listener(write.block, fast)

    # -- reads -----------------------------------------------------------------------------

    def get_block(self, chain_id: ChainId, height: int) -> LedgerBlock | None:
        head = self.heads.chains[chain_id]
        if height < 0 or height > head.height:
            return None
        if height == head.height:
            return head
        return self.store.get_block(chain_id, Height(height))

    def tx_status(self, tx_hash: Hash32) -> tuple[str, int | None, str | None]:
        record = self.store.get_tx(tx_hash)
        if record is not None:
            return "committed", record.height, None
        if tx_hash in self.pool:
            return "pending", None, None
        reason = self.store.get_lost_reason(tx_hash)
        if reason is not None:
            return "lost", None, reason
        return "unknown", None, None
