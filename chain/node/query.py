"""The node, read-only: what the RPC layer, the drills and the embedded prover read, and
nothing they could write through. Reads are of the node's state at the moment of the call
(every caller runs on the event loop's thread, between blocks).

The ZK state is handed out as the value it is (a block replaces it, never edits it): read it
with the `get_*` and `compute_*` functions of chain/zk/state.py.
"""

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from chain.config import MarketConfig, NetworkConfig
from chain.fast.call_trace import CallFrame
from chain.fast.chain import BLOCKHASH_WINDOW, compute_prev_randao
from chain.fast.executor import (
    NO_OVERRIDES,
    AccessList,
    Account,
    BlockEnv,
    CallMsg,
    Log,
    SimulatedCall,
    StateOverrides,
)
from chain.fast.system import compute_system_writes, list_delivered
from chain.fast.txs import FastTx, decode_stored_transaction
from chain.l1.attestation import AttestedBlock
from chain.ledger.blocks import LedgerBlock
from chain.ledger.messages import Message
from chain.ledger.store import MessageRecord, TxRecord, ZkOpRecord
from chain.market.book import Job, Market
from chain.market.settlement_wait import SettlementWait
from chain.node.ledger import EVIDENCE_META, JAILED_META
from chain.types import Address, ChainId, Hash32, Height, ProverId, Root, Seq, Wei
from chain.zk.signing import SigningDomain
from chain.zk.state import ZkState, get_account

if TYPE_CHECKING:
    from chain.node import Node


class NodeQuery:
    def __init__(self, node: "Node") -> None:
        self._node = node

    # -- the ledger ------------------------------------------------------------------------

    @property
    def config(self) -> NetworkConfig:
        return self._node.config

    @property
    def fast_head(self) -> LedgerBlock:
        return self._node.fast_head

    @property
    def zk_head(self) -> LedgerBlock:
        return self._node.zk_head

    @property
    def log_head(self) -> LedgerBlock:
        return self._node.log_head

    def get_block(self, chain_id: ChainId, height: int) -> LedgerBlock | None:
        return self._node.get_block(chain_id, height)

    def get_block_by_hash(self, block_hash: bytes) -> LedgerBlock | None:
        return self._node.store.get_block_by_hash(block_hash)

    def iter_ledger(self, from_seq: Seq, limit: int) -> list[LedgerBlock]:
        return self._node.store.iter_ledger(from_seq, limit)

    # -- the fast chain ----------------------------------------------------------------------

    def get_tx(self, tx_hash: bytes) -> TxRecord | None:
        return self._node.store.get_tx(tx_hash)

    def get_pending_tx(self, tx_hash: Hash32) -> FastTx | None:
        return self._node.pool.by_hash.get(tx_hash)

    def get_tx_status(self, tx_hash: Hash32) -> tuple[str, int | None, str | None]:
        return self._node.tx_status(tx_hash)

    def get_logs(
        self, chain_id: ChainId, from_h: Height, to_h: Height, addresses: list[bytes] | None
    ) -> Iterator[tuple[Height, int, bytes]]:
        """(height, log index in the block, compact log) of each log in the range, in order."""
        return self._node.store.get_logs(chain_id, from_h, to_h, addresses)

    def get_account(self, address: Address, root: Root | None = None) -> Account:
        return self._node.account(address, root)

    def get_pending_nonce(self, sender: Address) -> int:
        return self._node.pending_nonce(sender)

    def get_storage(self, root: Root, address: Address, slot: int) -> int:
        return self._node.executor.get_storage(root, address, slot)

    def call(
        self, root: Root, env: BlockEnv, msg: CallMsg, overrides: StateOverrides = NO_OVERRIDES
    ) -> tuple[bytes, int]:
        return self._node.executor.call(root, env, msg, overrides)

    def estimate_gas(
        self, root: Root, env: BlockEnv, msg: CallMsg, overrides: StateOverrides = NO_OVERRIDES
    ) -> int:
        return self._node.executor.estimate_gas(root, env, msg, overrides)

    def simulate(self, root: Root, env: BlockEnv, msg: CallMsg) -> tuple[Log, ...]:
        return self._node.executor.simulate(root, env, msg)

    def create_access_list(self, root: Root, env: BlockEnv, msg: CallMsg) -> tuple[AccessList, int]:
        return self._node.executor.create_access_list(root, env, msg)

    def simulate_blocks(
        self,
        root: Root,
        envs: list[BlockEnv],
        blocks: list[list[CallMsg]],
        gas_budget: int,
    ) -> list[list[SimulatedCall]]:
        return self._node.executor.simulate_blocks(root, envs, blocks, gas_budget)

    def trace_call(self, root: Root, env: BlockEnv, msg: CallMsg) -> CallFrame:
        return self._node.executor.trace_call(root, env, msg)

    def trace_transaction(self, record: TxRecord) -> CallFrame:
        """A stored fast transaction's call tree: its block run again, on its parent's state,
        in the block's environment, up to it."""
        chain_id = record.chain_id
        block = self.get_block(chain_id, record.height)
        parent = self.get_block(chain_id, record.height - 1)
        assert block is not None and parent is not None, "a stored transaction's block is stored"
        txs = []
        for earlier in block.tx_hashes[: record.index + 1]:
            stored = self._node.store.get_tx(earlier)
            assert stored is not None, "a stored block's transactions are stored"
            txs.append(decode_stored_transaction(stored.raw, chain_id))
        lowest = max(0, record.height - BLOCKHASH_WINDOW)
        ancestors = (self.get_block(chain_id, h) for h in range(record.height - 1, lowest - 1, -1))
        env = BlockEnv(
            number=block.height,
            timestamp=block.timestamp,
            coinbase=Address(self.config.fee_recipient),
            gas_limit=block.gas_limit,
            base_fee=block.base_fee,
            prev_randao=compute_prev_randao(block.prev_hash),
            prev_hashes=tuple(b.hash for b in ancestors if b is not None),
            chain_id=chain_id,
        )
        system = compute_system_writes(list_delivered(block.messages))
        return self._node.executor.trace_transaction(
            parent.state_root, env, system, txs[:-1], txs[-1]
        )

    def list_recent_fast_hashes(self) -> tuple[Hash32, ...]:
        return tuple(self._node.recent_fast_hashes)

    # -- the ZK chain ------------------------------------------------------------------------

    @property
    def zk_state(self) -> ZkState:
        return self._node.zk_state

    @property
    def signing_domain(self) -> SigningDomain:
        return self._node.signing_domain

    def get_zk_pending_nonce(self, address: int) -> int:
        """The nonce `address`'s next operation should use, counting those in the pool."""
        nonce = get_account(self._node.zk_state, address).nonce
        return self._node.zk_pool.pending_nonce(address, nonce)

    def is_zk_op_pending(self, op_id: bytes) -> bool:
        return op_id in self._node.zk_pool

    def get_lost_reason(self, key: bytes) -> str | None:
        return self._node.store.get_lost_reason(key)

    def get_zk_op(self, op_id: bytes) -> ZkOpRecord | None:
        return self._node.store.get_zk_op(op_id)

    def list_zk_op_heights(self, after: Height, limit: int) -> list[Height]:
        return self._node.store.list_zk_op_heights(after, limit)

    def list_zk_ops_at(self, height: Height) -> list[ZkOpRecord]:
        return self._node.store.list_zk_ops_at(height)

    def get_zk_aggregate(self, height: Height) -> bytes | None:
        return self._node.store.get_zk_aggregate(height)

    def list_zk_messages(self, seq: int) -> list[MessageRecord]:
        return self._node.store.list_zk_messages(seq)

    def list_pending_fast_messages(self) -> list[Message]:
        return self._node.pending_fast_messages()

    def get_attestation(self, height: Height) -> AttestedBlock | None:
        return self._node.get_attestation(height)

    def list_evidence(self) -> tuple[list[Any], list[str]]:
        """The decentralized mode's evidence of misbehaviour (oldest first) and the jailed
        validators' addresses; empty in dev mode."""
        store = self._node.store
        evidence, jailed = store.get_meta(EVIDENCE_META), store.get_meta(JAILED_META)
        return (
            [] if evidence is None else list(json.loads(evidence)),
            [] if jailed is None else list(json.loads(jailed)),
        )

    def explain_settlement(self) -> SettlementWait:
        return self._node.explain_settlement()

    # -- the prover market -------------------------------------------------------------------

    @property
    def market(self) -> Market:
        return self._node.desk.market

    @property
    def market_config(self) -> MarketConfig:
        return self._node.desk.cfg

    def get_market_events(self, height: Height) -> bytes | None:
        return self._node.store.get_market_events(height)

    def list_assignments(self, prover: ProverId) -> list[Job]:
        return self._node.desk.list_assignments(prover)

    def format_job(self, job: Job, next_height: Height) -> dict[str, Any]:
        """`job` as its assignee receives it (chain/market/work.py)."""
        return self._node.desk.format_job(job, next_height)

    def format_assignments(self, prover: ProverId, next_height: Height) -> list[dict[str, Any]]:
        return self._node.desk.format_assignments(prover, next_height)

    def compute_bounty(self, job: Job, height: Height) -> Wei:
        return self._node.desk.compute_bounty(job, height)

    def is_work_waiting(self, prover: ProverId) -> bool:
        return self._node.desk.is_work_waiting(prover)
