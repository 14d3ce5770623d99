"""A Duet node: the ledger, both chains, the pool and durable storage, wired together.

The node is driven from outside: the sequencer (chain/consensus) decides when blocks are
made and the RPC layer (chain/rpc) reads and submits. Every method here runs on one
thread, the event loop's, so block production and reads never interleave mid-block.
"""

import json
import logging
import time
from collections import deque
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from chain.config import MAX_TXS_PER_BLOCK, NetworkConfig
from chain.fast.chain import (
    BLOCKHASH_WINDOW,
    FastBlock,
    FastProposal,
    FastState,
    make_block_env,
    produce_block,
    state_transition,
)
from chain.fast.executor import Account, BlockEnv, Executor
from chain.fast.genesis import dev_alloc
from chain.fast.pool import TxPool
from chain.fast.pyevm_executor import PyEvmExecutor
from chain.fast.receipts import encode_stored_receipt, list_stored_logs
from chain.fast.revm_executor import RevmExecutor
from chain.fast.system import compute_system_genesis
from chain.fast.txs import FastTx, InvalidTransaction, decode_transaction
from chain.l1.attestation import AttestedBlock, Attestor, BlockHeader, attest_block
from chain.l1.calldata import StateRoot
from chain.l1.forced import QueuedWithdrawal
from chain.ledger.blocks import LedgerBlock, seal
from chain.ledger.log import LedgerHeads, process_append
from chain.ledger.messages import InvalidMessage, Message, decode_message, is_to_zk
from chain.ledger.store import (
    BlockWrite,
    MessageRecord,
    Store,
    TxRecord,
    ZkOpRecord,
    ZkWrite,
)
from chain.market.book import compute_net_payments
from chain.market.config import JobId
from chain.market.desk import MarketDesk, Verdict
from chain.market.settlement_wait import SettlementWait
from chain.prover.escape import compute_refusal_inputs_for_words, explain_refusal
from chain.prover.precompile_keys import load_ceremony_verifiers
from chain.prover.witness import HEADER_LAYOUT, compute_witness, unpack_word
from chain.types import Address, ChainId, Hash32, Height, Root, Seq, Wei
from chain.zk import chain as zk_chain
from chain.zk.genesis import compute_dev_genesis_state
from chain.zk.ops import (
    GWEI,
    BlockContext,
    Deposit,
    Heartbeat,
    InvalidOp,
    Withdraw,
    compute_market_settles,
)
from chain.zk.pool import OpPool
from chain.zk.poseidon import FIELD_MODULUS
from chain.zk.signing import (
    InvalidSignature,
    SigningDomain,
    format_signed_operation,
    parse_signed_operation,
    recover_operation,
)
from chain.zk.state import (
    ZkState,
    compute_touched_rows,
    list_record_rows,
    load_state,
)

log = logging.getLogger("duet.node")

EXECUTORS: dict[str, type] = {"pyevm": PyEvmExecutor, "revm": RevmExecutor}
DEFAULT_EXECUTOR = "revm"
# ZK blocks up to here have had their messages delivered to the fast chain.
DELIVERED_META = "fast_delivered_zk_height"
# Fast blocks up to here have had their messages taken by the ZK chain.
TAKEN_META = "zk_taken_fast_height"
# ZK blocks up to here are settled on L1, as the node last read the rollup.
L1_SETTLED_META = "l1_settled_zk_height"
# How many of the L1 rollup's deposits (numbered from 0) the ZK chain has credited.
DEPOSITS_META = "l1_deposits_credited"
FORCED_META = "l1_forced_taken"  # how many of the rollup's queued Withdraws blocks have taken
ATTESTED_CACHE = 16  # blocks whose attestation the node keeps signed
SIGNING_DOMAIN_META = "signing_domain"  # JSON: the domain operations are signed in

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
        self.executor: Executor = EXECUTORS[executor](
            self.store.get_state_node, verifiers=load_ceremony_verifiers()
        )
        self.listeners: list[BlockListener] = []
        self.submit_listeners: list[Callable[[], None]] = []
        self._head_accounts: dict[Address, Account] = {}  # at the fast head; reset per block
        self.lost_on_start: list[tuple[Hash32, str]] = []
        self.pool = TxPool()
        self.zk_state = ZkState()
        self.heads = self._load_or_create_genesis()
        self.zk_state = self._load_zk_state()
        self.zk_pool = OpPool(self.zk_state)
        self.undelivered: list[bytes] = self._load_undelivered()
        self.inbox: list[bytes] = self._load_inbox()
        # L1 deposits read from the rollup and not credited yet, numbered from
        # deposits_credited on: the next ZK block credits them first.
        self.deposits_credited = int(self.store.get_meta(DEPOSITS_META) or 0)
        self.l1_deposits: list[Deposit] = []
        # Withdraws queued on the rollup (forceWithdraw) and not taken yet, numbered from
        # forced_taken on: the next ZK block takes them first.
        self.forced_taken = int(self.store.get_meta(FORCED_META) or 0)
        self.l1_forced: list[QueuedWithdrawal] = []
        self.deposit_refused: str | None = None
        self.recent_fast_hashes: deque[Hash32] = deque(
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
        # The sequencer's keys for the rollup this node settles on (set once it knows it).
        self.attestor: Attestor | None = None
        self._attested: dict[Height, AttestedBlock] = {}  # the last few, as agents re-read

    def _get_zk_block(self, height: Height) -> LedgerBlock:
        block = self.get_block(self.config.zk_chain_id, height)
        assert block is not None, f"ZK block {height} missing"
        return block

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
        root, nodes = self.executor.make_genesis(alloc, compute_system_genesis())
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
        zk_state = compute_dev_genesis_state(alloc)
        zk = zk_chain.apply_block(zk_state, heads, cfg.zk_chain_id, ts, [], cfg.zk_min_fee)
        write = ZkWrite(records=list_record_rows(zk_state), globals=self._zk_globals(zk_state))
        self.store.commit(BlockWrite(zk.block, {}, [], [], [], [], zk=write))
        return process_append(heads, zk.block)

    def _load_undelivered(self) -> list[bytes]:
        """Messages of ZK blocks that no fast block has delivered yet (at most the last few)."""
        return self._list_messages_after(self.config.zk_chain_id, DELIVERED_META)

    def _load_inbox(self) -> list[bytes]:
        """Messages of fast blocks that no ZK block has taken yet."""
        messages = self._list_messages_after(self.config.fast_chain_id, TAKEN_META)
        return [m for m in messages if is_to_zk(m)]

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
        return {"fee_pool": state.fee_pool, "escrow": state.escrow, "inbox": state.inbox}

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

    def _load_signing_domain(self) -> SigningDomain:
        stored = self.store.get_meta(SIGNING_DOMAIN_META)
        if stored is None:
            return SigningDomain.local(self.config.zk_chain_id)
        return SigningDomain.from_json(json.loads(stored))

    def use_signing_domain(self, domain: SigningDomain) -> None:
        """Check operations' signatures in `domain` from now on (the node's rollup's, once it
        is connected): kept across restarts; pending operations signed in another domain are
        dropped (their signatures are not good for this rollup)."""
        if domain == self.signing_domain:
            return
        self.store.set_meta(SIGNING_DOMAIN_META, json.dumps(domain.to_json()))
        self.signing_domain = domain
        self.zk_pool = OpPool(self.zk_state)
        self._reload_zk_pending()

    def _reload_zk_pending(self) -> None:
        ctx = self.next_zk_context()
        lost: list[tuple[bytes, str]] = []
        for op_id, body in self.store.list_zk_pending():
            try:
                self.zk_pool.admit(parse_signed_operation(body, self.signing_domain), ctx)
            except (InvalidOp, InvalidSignature) as exc:
                lost.append((op_id, f"dropped at restart: {exc}"))
        if lost:
            self.store.drop_zk_pending(lost)

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
        """Execute the pool's executable transactions as one block, after delivering the ZK
        chain's messages; None if there is neither."""
        nonces = {sender: self.account(sender).nonce for sender in self.pool.senders()}
        txs = self.pool.select(nonces, MAX_TXS_PER_BLOCK)
        if not txs and not self.undelivered:
            return None
        fast = self.make_fast_block(txs, timestamp_ms or now_ms())
        self.commit_fast_block(fast)
        return fast.block

    def get_fast_state(self) -> FastState:
        return FastState(
            self.config,
            self.executor,
            self.heads,
            tuple(self.recent_fast_hashes),
            tuple(self.undelivered),
        )

    def make_fast_block(self, txs: list[FastTx], timestamp_ms: int) -> FastBlock:
        return produce_block(self.get_fast_state(), txs, timestamp_ms)

    def check_fast_block(self, proposal: FastProposal) -> FastBlock:
        """Another node's proposed fast block, re-executed on this node's state and checked
        (raises a kind of InvalidBlock); `commit_fast_block` stores it once accepted."""
        return state_transition(self.get_fast_state(), proposal)

    def commit_fast_block(self, fast: FastBlock) -> None:
        """Store a block from `make_fast_block`: it delivered every undelivered message, and
        the messages it sends the ZK chain wait for the next ZK block."""
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
            meta={DELIVERED_META: str(self.zk_head.height)} if self.undelivered else {},
        )
        self._append(write, fast)
        self.undelivered.clear()
        self.inbox.extend(m for m in block.messages if is_to_zk(m))
        self.executor.remember_nodes(result.state_nodes)
        self.recent_fast_hashes.appendleft(block.hash)
        self.pool.remove(o.tx.hash for o in result.outcomes)
        self.pool.remove(tx.hash for tx, _ in result.rejected)

    def next_zk_context(self) -> BlockContext:
        head = self.zk_head
        timestamp_ms = max(now_ms(), head.timestamp_ms)  # the next block's, near enough
        return zk_chain.compute_block_context(head.height + 1, timestamp_ms, self.config.zk_min_fee)

    def submit_operation(self, obj: Any) -> bytes:
        """Admit a signed ZK operation (wire form); once this returns, it is on disk."""
        signed = parse_signed_operation(obj, self.signing_domain)
        if self.store.get_zk_op(signed.op_id) is not None:
            raise InvalidOp("already committed")
        ctx = self.next_zk_context()
        body = signed.op.body
        # The circuit does not see the height: how far ahead a heartbeat may reach is ours.
        limit = ctx.height + self.config.market.active_blocks
        if isinstance(body, Heartbeat) and body.active_until > limit:
            raise InvalidOp(f"activeUntil {body.active_until} is beyond {limit}")
        self.zk_pool.admit(signed, ctx)
        self.store.add_zk_pending(signed.op_id, now_ms(), format_signed_operation(signed))
        return signed.op_id

    def get_zk_chain_state(self) -> zk_chain.ZkChainState:
        cfg = self.config
        return zk_chain.ZkChainState(
            self.zk_state, self.heads, cfg.zk_chain_id, cfg.zk_min_fee, explain_refusal
        )

    def check_zk_block(self, proposal: zk_chain.ZkProposal) -> zk_chain.ZkBlock:
        """Another node's proposed ZK block, applied to this node's state and checked (raises
        a kind of InvalidBlock); nothing is committed."""
        return zk_chain.state_transition(self.get_zk_chain_state(), proposal)

    def produce_zk_block(self, timestamp_ms: int | None = None) -> LedgerBlock:
        cfg = self.config
        ops = self.zk_pool.take(cfg.max_ops_per_zk_block)
        inbox = tuple(self.inbox)
        deposits = tuple(self.l1_deposits)
        forced = tuple(self._make_forced(queued) for queued in self.l1_forced)
        # Payments are settled in a block that holds operations anyway (chain/market/desk.py).
        settle = bool(ops or inbox or deposits or forced)
        market = self.desk.prepare_block(
            Height(self.zk_head.height + 1), Wei(self.zk_state.fee_pool), settle
        )
        settles = []
        if settle:
            net = compute_net_payments(market.owed)
            settles = compute_market_settles(self.zk_state, market.owed_paid, net)
        body = zk_chain.ZkBody(tuple(ops), inbox, deposits, tuple(settles), market.digest, forced)
        # Never before the head: the rollup settles blocks only in time order.
        timestamp = max(timestamp_ms or now_ms(), self.zk_head.timestamp_ms)
        zk = zk_chain.produce_block(self.get_zk_chain_state(), body, timestamp)
        height = zk.block.height
        records = []
        touched = []
        for index, applied in enumerate(zk.applied):
            witness = (
                compute_refusal_inputs_for_words(applied.pre_state, applied.forced_words)
                if applied.forced_words is not None
                else compute_witness(
                    applied.pre_state, applied.op, zk.ctx, applied.post_state, applied.trace
                )
            )
            records.append(
                ZkOpRecord(
                    op_id=applied.op_id,
                    height=height,
                    index=index,
                    body=zk_chain.format_operation(applied),
                    circuit=witness.circuit,
                    public_inputs=witness.public_inputs,
                    witness=dict(witness.inputs),
                )
            )
            touched.extend(applied.trace)
        rejected = [(s.op_id, f"rejected at execution: {reason}") for s, reason in zk.rejected]
        write = ZkWrite(
            ops=records,
            records=compute_touched_rows(touched),
            globals=self._zk_globals(zk.state),
            consumed_pending=[s.op_id for s in ops],
            messages=self._record_messages(height, inbox, zk),
            market_events=market.raw_events,
        )
        lost: list[tuple[Hash32, str]] = [(Hash32(i), r) for i, r in rejected]
        credited = self.deposits_credited + zk.deposits_taken
        forced_taken = self.forced_taken + zk.forced_taken
        meta = {
            TAKEN_META: str(self.fast_head.height),
            DEPOSITS_META: str(credited),
            FORCED_META: str(forced_taken),
        }
        write_all = BlockWrite(zk.block, {}, [], [], [], lost, zk=write, meta=meta)
        self._append(write_all, None, lambda: self.desk.commit_block(market))
        self.inbox.clear()
        self.deposits_credited = credited
        del self.l1_deposits[: zk.deposits_taken]
        self.forced_taken = forced_taken
        del self.l1_forced[: zk.forced_taken]
        if zk.forced_refused is not None:
            log.error(
                "cannot take a queued L1 Withdraw, the later ones wait: %s", zk.forced_refused
            )
        if zk.deposit_refused != self.deposit_refused and zk.deposit_refused is not None:
            log.error("cannot credit an L1 deposit, the later ones wait: %s", zk.deposit_refused)
        self.deposit_refused = zk.deposit_refused
        if zk.block.messages:
            self.undelivered.extend(zk.block.messages)
            for listener in self.submit_listeners:  # the fast chain delivers them next
                listener()
        self.zk_state = zk.state
        dropped = self.zk_pool.reset(zk.state, {s.op_id for s in ops}, self.next_zk_context())
        if dropped:
            self.store.drop_zk_pending(dropped)
        return zk.block

    @staticmethod
    def _record_messages(
        height: Height, inbox: tuple[bytes, ...], zk: zk_chain.ZkBlock
    ) -> list[MessageRecord]:
        """What became of each fast-chain message the block took: applied, or why not."""
        records = []
        for position, raw in enumerate(inbox):
            try:
                seq: int | None = getattr(decode_message(raw), "seq", None)
            except InvalidMessage:
                seq = None
            op_id = zk_chain.compute_message_id(raw)
            records.append(MessageRecord(seq, height, op_id, zk.refused.get(position), raw))
        return records

    def _append(
        self,
        write: BlockWrite,
        fast: FastBlock | None,
        on_stored: Callable[[], None] | None = None,
    ) -> None:
        heads = process_append(self.heads, write.block)  # raises InvalidBlock, nothing written
        self.store.commit(write)
        self.heads = heads
        if on_stored is not None:  # before the listeners, which read what it updates
            on_stored()
        if write.block.chain_id == self.config.fast_chain_id:
            self._head_accounts.clear()
        for listener in list(self.listeners):
            try:
                listener(write.block, fast)
            except Exception:  # the block is stored: a subscriber's failure must not undo it
                log.exception(
                    "a block listener failed on %s block %d",
                    write.block.chain_id,
                    write.block.height,
                )

    def get_next_forced_index(self) -> int:
        """The number of the first Withdraw queued on the rollup this node has not read yet."""
        return self.forced_taken + len(self.l1_forced)

    def add_l1_forced(self, queued: Sequence[QueuedWithdrawal]) -> None:
        """Withdraws read from the rollup's forced queue, for the next ZK block to take first;
        each must be the next by number."""
        for withdrawal in queued:
            if withdrawal.index == self.get_next_forced_index():
                self.l1_forced.append(withdrawal)

    def _make_forced(self, queued: QueuedWithdrawal) -> zk_chain.ForcedWithdrawal:
        """A queued Withdraw as the block takes it: its operation when its words make one
        whose signature recovers to its `from` in this node's domain, else none (refused)."""
        signed = None
        w1, to, amount = queued.words
        fields = unpack_word(HEADER_LAYOUT, w1) if w1 < FIELD_MODULUS else None
        if fields is not None and amount < FIELD_MODULUS:
            fee = fields["feeGwei"] * GWEI
            try:
                candidate = recover_operation(
                    Withdraw(to, amount),
                    fee,
                    fields["nonce"],
                    queued.signature,
                    self.signing_domain,
                    fields["fromIndex"],
                )
            except InvalidSignature:
                candidate = None
            if candidate is not None and candidate.op.signer == fields["from"]:
                signed = candidate
        return zk_chain.ForcedWithdrawal(queued.index, queued.words, signed)

    def get_next_deposit_index(self) -> int:
        """The number of the first L1 deposit this node has not read yet."""
        return self.deposits_credited + len(self.l1_deposits)

    def add_l1_deposits(self, deposits: Sequence[Deposit]) -> None:
        """Deposits read from the rollup, for the next ZK block to credit; each must be the
        next by number (a reader that raced itself adds nothing twice)."""
        for deposit in deposits:
            if deposit.index == self.get_next_deposit_index():
                self.l1_deposits.append(deposit)

    def pending_fast_messages(self) -> list[Message]:
        """Fast-chain messages that the next ZK block will take."""
        decoded = []
        for raw in self.inbox:
            try:
                decoded.append(decode_message(raw))
            except InvalidMessage:
                continue
        return decoded

    def submit_proof(self, job_id: JobId, result: bytes, signature: bytes) -> Verdict:
        """A prover's proof (or aggregate) for a market job; raises SubmissionRefused."""
        return self.desk.submit(job_id, result, signature, Height(self.zk_head.height + 1))

    def get_attestation(self, height: Height) -> AttestedBlock | None:
        """ZK block `height` as this node, the sequencer, attests it for L1: its settlement
        number (L1 settles only blocks with operations, in order), header and signature.
        None without a sequencer key for a rollup (`attestor`), or for a block without
        operations. It signs only blocks it has committed, whenever it is asked."""
        if self.attestor is None:
            return None
        cached = self._attested.get(height)
        if cached is not None:
            return cached
        ops = self.store.list_zk_ops_at(height)
        block = self.get_block(self.config.zk_chain_id, height)
        if not ops or block is None:
            return None
        header = BlockHeader(height, block.timestamp_ms // 1000, StateRoot(ops[0].public_inputs[0]))
        statements = [(op.circuit, op.public_inputs[1], op.public_inputs[2:]) for op in ops]
        number = self.store.count_zk_op_heights(height)
        attested = attest_block(
            self.attestor.domain, number, header, statements, self.attestor.keys
        )
        if len(self._attested) >= ATTESTED_CACHE:
            del self._attested[next(iter(self._attested))]  # the oldest asked for
        self._attested[height] = attested
        return attested

    def explain_settlement(self) -> SettlementWait:
        """What the next ZK block to settle on L1 waits for (chain/market/settlement_wait.py)."""
        return self.desk.explain_settlement(self.get_l1_settled_height())

    def get_l1_settled_height(self) -> Height:
        done = self.store.get_meta(L1_SETTLED_META)
        return Height(0 if done is None else int(done))

    def record_l1_settlement(self, height: Height, root: int) -> bool:
        """L1's rollup has settled ZK blocks up to `height`, at state root `root`: their
        operations become `settled` (and, if L1 went back, as an anvil that lost its last
        second does, later ones stop being so). False, and nothing changes, unless `root` is
        this chain's at `height`: then the rollup settles another chain."""
        block = self.get_block(self.config.zk_chain_id, height)
        if block is None or int.from_bytes(block.state_root, "big") != root:
            return False
        previous = self.get_l1_settled_height()
        if height != previous:
            self.store.set_zk_settled_height(L1_SETTLED_META, previous, height)
        return True

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
