"""The fast lane: admitting signed EVM transactions into the pool, and making fast blocks
from it (after delivering the ZK chain's messages)."""

from collections.abc import Sequence
from dataclasses import replace

from chain.config import MAX_TXS_PER_BLOCK
from chain.fast.chain import (
    FastBlock,
    FastProposal,
    FastState,
    produce_block,
    state_transition,
)
from chain.fast.executor import Account
from chain.fast.pool import validate_for_head
from chain.fast.receipts import encode_stored_receipt, list_stored_logs
from chain.fast.txs import (
    FastTx,
    InvalidTransaction,
    decode_impersonated,
    decode_stored_transaction,
    decode_transaction,
)
from chain.ledger.blocks import LedgerBlock
from chain.ledger.log import process_append
from chain.ledger.messages import DevWrite, encode_message, is_to_zk
from chain.ledger.store import BlockWrite, TxRecord
from chain.node.ledger import DELIVERED_META, AppendStep, LedgerPart, now_ms
from chain.types import Address, Hash32, Root


class FastLane(LedgerPart):
    def _reload_pending(self) -> None:
        """Acknowledged transactions survive a crash: back into the pool, or reported lost."""
        lost: list[tuple[Hash32, str]] = []
        for tx_hash, _arrival, raw in self.store.list_pending():
            try:
                tx = decode_stored_transaction(raw, self.config.fast_chain_id)
                self._validate(tx)
                self.pool.add(tx)
            except InvalidTransaction as exc:
                lost.append((tx_hash, f"dropped at restart: {exc}"))
        if lost:
            self.store.mark_lost(lost)
        self.lost_on_start = lost

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

    def _check_not_committed(self, tx: FastTx) -> None:
        if self.store.get_tx(tx.hash) is not None:
            raise InvalidTransaction(f"already known: {tx.hash.hex()} is committed")

    def _validate(self, tx: FastTx) -> None:
        self._check_not_committed(tx)
        self.pool.validate(
            tx, self.account(tx.sender), self.config.min_base_fee, self.config.fast_block_gas_limit
        )

    def check_for_mempool(self, raw: bytes) -> FastTx:
        """The decentralized mode's CheckTx: `raw` checked by the rules `submit_raw` admits
        by, against the head state alone. CometBFT's mempool is the network's pool; this
        node's own pool holds only what its JSON-RPC admitted and forwarded there, so it is
        no reason to refuse."""
        tx = decode_transaction(raw, self.config.fast_chain_id)
        self._check_not_committed(tx)
        cfg = self.config
        validate_for_head(tx, self.account(tx.sender), cfg.min_base_fee, cfg.fast_block_gas_limit)
        return tx

    def drop_pending(self, tx_hash: Hash32, reason: str) -> None:
        """An admitted transaction that can no longer be included: out of the pool, and its
        status says why."""
        self.store.mark_lost([(tx_hash, reason)])
        self.pool.remove([tx_hash])

    def submit_raw(self, raw: bytes) -> Hash32:
        """Admit a signed transaction; once this returns, the transaction is on disk."""
        return self._admit(decode_transaction(raw, self.config.fast_chain_id), raw)

    def submit_impersonated(self, raw: bytes) -> Hash32:
        """Admit a dev node's transaction from an account it impersonates (the caller, the
        dev accounts' eth_sendTransaction, checked that it does): chain/fast/txs.py."""
        return self._admit(decode_impersonated(raw, self.config.fast_chain_id), raw)

    def _admit(self, tx: FastTx, raw: bytes) -> Hash32:
        self._validate(tx)
        # To disk before the pool: if the write fails, nothing was admitted.
        self.store.add_pending(tx.hash, now_ms(), raw)
        self.pool.add(tx)
        for admitted in self.admit_listeners:
            admitted(tx)
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

    # -- block production ----------------------------------------------------------------

    def produce_fast_block(self, timestamp_ms: int | None = None) -> LedgerBlock | None:
        """Execute the pool's executable transactions as one block, after delivering the ZK
        chain's messages, and store it; None if there is neither."""
        fast = self.make_next_fast_block(timestamp_ms)
        if fast is None:
            return None
        self.commit_fast_block(fast)
        return fast.block

    def make_next_fast_block(self, timestamp_ms: int | None = None) -> FastBlock | None:
        """The block `produce_fast_block` stores, made and not stored yet; None if there is
        nothing to execute."""
        txs = self._select_from_pool()
        if not txs and not self.undelivered:
            return None
        return self.make_fast_block(txs, timestamp_ms or self.clock.now_ms())

    def _select_from_pool(self) -> list[FastTx]:
        """The pool's transactions that the next block can execute, in order."""
        nonces = {sender: self.account(sender).nonce for sender in self.pool.senders()}
        return self.pool.select(nonces, MAX_TXS_PER_BLOCK)

    def get_fast_state(self, after: LedgerBlock | None = None) -> FastState:
        """What the next fast block executes on: the head, or the head once ZK block `after`
        (made, not stored yet) is appended, its messages delivered too."""
        heads, undelivered = self.heads, tuple(self.undelivered)
        if after is not None:
            heads = process_append(heads, after)
            undelivered += after.messages
        return FastState(
            self.config, self.executor, heads, tuple(self.recent_fast_hashes), undelivered
        )

    def make_fast_block(
        self, txs: list[FastTx], timestamp_ms: int, after: LedgerBlock | None = None
    ) -> FastBlock:
        return produce_block(self.get_fast_state(after), txs, timestamp_ms)

    def make_dev_write_block(self, writes: Sequence[DevWrite]) -> FastBlock:
        """A block now that sets accounts as `writes` say (a dev node's anvil_setBalance and
        the like), after the messages it delivers and before the pool's transactions; the
        writes are messages in the block, so replaying it writes them again."""
        txs = self._select_from_pool()
        state = self.get_fast_state()
        extra = tuple(encode_message(write) for write in writes)
        state = replace(state, undelivered=state.undelivered + extra)
        return produce_block(state, txs, self.clock.now_ms())

    def check_fast_block(self, proposal: FastProposal) -> FastBlock:
        """Another node's proposed fast block, re-executed on this node's state and checked
        (raises a kind of InvalidBlock); `commit_fast_block` stores it once accepted."""
        return state_transition(self.get_fast_state(), proposal)

    def commit_fast_block(self, fast: FastBlock, meta: dict[str, str] | None = None) -> None:
        """Store a block from `make_fast_block`: it delivered every undelivered message, and
        the messages it sends the ZK chain wait for the next ZK block. `meta` is written in
        the same transaction."""
        delivered = self.zk_head.height if self.undelivered else None
        self._append_all([self.fast_step(fast, delivered)], meta=meta)

    def fast_step(self, fast: FastBlock, delivered: int | None) -> AppendStep:
        """What appending `fast` writes (`delivered`: the ZK height whose messages it
        delivered through, None if it delivered none), and what it updates once stored."""
        block, result = fast.block, fast.result
        write = BlockWrite(
            block=block,
            state_nodes=result.state_nodes,
            txs=[
                TxRecord(
                    o.tx.hash, block.chain_id, block.height, i, o.tx.raw, encode_stored_receipt(r)
                )
                for i, (o, r) in enumerate(zip(result.outcomes, fast.receipts, strict=True))
            ],
            logs=list_stored_logs(result.outcomes, fast.receipts),
            consumed_pending=[o.tx.hash for o in result.outcomes],
            lost=[(tx.hash, f"rejected at execution: {reason}") for tx, reason in result.rejected],
            meta={} if delivered is None else {DELIVERED_META: str(delivered)},
        )

        def on_stored() -> None:  # before the block's listeners, so they see the node after it
            self.undelivered.clear()
            self.inbox.extend(m for m in block.messages if is_to_zk(m))
            self.executor.remember_nodes(result.state_nodes, result.retired_nodes)
            self.recent_fast_hashes.appendleft(block.hash)
            self.pool.remove(o.tx.hash for o in result.outcomes)
            self.pool.remove(tx.hash for tx, _ in result.rejected)

        return AppendStep(write, fast, on_stored)
