"""The fast chain's state transition: one block from its parent and a batch of transactions.

`state_transition(state, proposal)` checks a block another node proposed: its place in the
ledger, then its transactions re-executed on the checker's state, then every root and field
its header claims (chain/ledger/claims.py). `produce_block` builds the block this node
proposes: it executes the chosen transactions once (leaving out any that cannot execute),
seals the header that execution makes, and runs the same header rules on it. Neither changes
`state`: the caller stores the block (chain/ledger/store.py) once it is accepted. When to make
a block, and with which transactions, belongs to the sequencer.
"""

from dataclasses import dataclass, field

from chain.config import BASE_FEE_MAX_CHANGE_DENOMINATOR, ELASTICITY_MULTIPLIER, NetworkConfig
from chain.encoding import keccak
from chain.ensure import ensure
from chain.fast.executor import BlockEnv, BlockResult, Executor
from chain.fast.receipts import Receipt, compute_block_commitments, compute_receipts
from chain.fast.system import compute_outbox_messages, compute_system_writes
from chain.fast.txs import FastTx
from chain.ledger.blocks import LedgerBlock, seal
from chain.ledger.claims import InvalidBody, check_claims
from chain.ledger.log import LedgerHeads, compute_next_position, validate_append
from chain.types import Address, Hash32, Height

BLOCKHASH_WINDOW = 256


def compute_base_fee(parent: LedgerBlock, min_base_fee: int) -> int:
    """EIP-1559's update rule, never below `min_base_fee`."""
    if parent.gas_limit == 0:
        return min_base_fee
    target = parent.gas_limit // ELASTICITY_MULTIPLIER
    used, fee = parent.gas_used, parent.base_fee
    if used > target:
        fee += max(fee * (used - target) // target // BASE_FEE_MAX_CHANGE_DENOMINATOR, 1)
    elif used < target:
        fee -= fee * (target - used) // target // BASE_FEE_MAX_CHANGE_DENOMINATOR
    return max(fee, min_base_fee)


def compute_prev_randao(prev_hash: Hash32) -> Hash32:
    # Known to the sequencer in advance: fine for a dev chain, not a source of fairness.
    return Hash32(keccak(b"duet-prevrandao" + prev_hash))


def make_block_env(
    config: NetworkConfig,
    heads: LedgerHeads,
    recent_hashes: tuple[Hash32, ...],
    timestamp_ms: int,
) -> BlockEnv:
    parent = heads.chains[config.fast_chain_id]
    _, prev_hash, height, _ = compute_next_position(heads, config.fast_chain_id)
    return BlockEnv(
        number=height,
        timestamp=max(timestamp_ms, parent.timestamp_ms) // 1000,
        coinbase=Address(config.fee_recipient),
        gas_limit=config.fast_block_gas_limit,
        base_fee=compute_base_fee(parent, config.min_base_fee),
        prev_randao=compute_prev_randao(prev_hash),
        prev_hashes=recent_hashes[:BLOCKHASH_WINDOW],
        chain_id=config.fast_chain_id,
    )


@dataclass(frozen=True)
class FastState:
    """What the next fast block is checked against; checking changes none of it."""

    config: NetworkConfig
    executor: Executor  # reads the trie nodes of every committed state root
    heads: LedgerHeads
    recent_hashes: tuple[Hash32, ...]  # the fast chain's block hashes, newest first
    # The ZK chain's messages no fast block has delivered: the next one delivers them all.
    undelivered: tuple[bytes, ...] = ()


@dataclass(frozen=True)
class FastProposal:
    """A fast block as one node proposes it to another: the header and its transactions."""

    header: LedgerBlock
    txs: tuple[FastTx, ...]


@dataclass
class FastBlock:
    block: LedgerBlock
    result: BlockResult
    receipts: list[Receipt]  # in transaction order
    # Messages to the ZK chain this block's transactions sent through the outbox, encoded:
    # the tail of `block.messages`, after the delivered ones.
    emitted: list[bytes] = field(default_factory=list)

    @property
    def proposal(self) -> FastProposal:
        return FastProposal(self.block, tuple(o.tx for o in self.result.outcomes))


def state_transition(state: FastState, proposal: FastProposal) -> FastBlock:
    """Check `proposal` against `state`: raises a kind of InvalidBlock naming the false claim
    (chain/ledger/claims.py), else returns the block as executed, for the caller to store."""
    header = proposal.header
    validate_append(state.heads, header)
    fast = produce_block(state, list(proposal.txs), header.timestamp_ms)
    for tx, reason in fast.result.rejected:
        ensure(False, InvalidBody, f"transaction {tx.hash.hex()} cannot execute: {reason}")
    for tx in fast.result.deferred:
        ensure(False, InvalidBody, f"transaction {tx.hash.hex()} exceeds the block's gas limit")
    check_claims(header, fast.block)
    return fast


def produce_block(state: FastState, txs: list[FastTx], timestamp_ms: int) -> FastBlock:
    """The next block: deliver the undelivered messages, then execute `txs`, leaving out
    those that cannot execute (rejected) or fit (deferred), which change no state."""
    env = make_block_env(state.config, state.heads, state.recent_hashes, timestamp_ms)
    fast = apply_block(
        state.executor, state.config, state.heads, env, timestamp_ms, txs, state.undelivered
    )
    validate_append(state.heads, fast.block)
    return fast


def apply_block(
    executor: Executor,
    config: NetworkConfig,
    heads: LedgerHeads,
    env: BlockEnv,
    timestamp_ms: int,
    txs: list[FastTx],
    messages: tuple[bytes, ...] = (),
) -> FastBlock:
    """Deliver `messages` from the ZK chain (credits, roots), then execute `txs`, as one
    block; the block lists the delivered messages, then those its transactions emitted."""
    parent = heads.chains[config.fast_chain_id]
    seq, prev_hash, height, parent_hash = compute_next_position(heads, config.fast_chain_id)
    system = compute_system_writes(messages)
    result = executor.apply_block(parent.state_root, env, txs, system)
    emitted = compute_outbox_messages(result.outcomes)
    tx_root, receipts_root, bloom, _ = compute_block_commitments(result.outcomes)
    block = seal(
        LedgerBlock(
            seq=seq,
            prev_hash=prev_hash,
            chain_id=config.fast_chain_id,
            height=Height(height),
            parent_hash=parent_hash,
            state_root=result.state_root,
            transactions_root=tx_root,
            receipts_root=receipts_root,
            timestamp_ms=max(timestamp_ms, parent.timestamp_ms),
            tx_hashes=tuple(o.tx.hash for o in result.outcomes),
            messages=(*messages, *emitted),
            gas_used=result.gas_used,
            gas_limit=env.gas_limit,
            base_fee=env.base_fee,
            logs_bloom=bloom,
        )
    )
    return FastBlock(block, result, compute_receipts(result.outcomes, env.base_fee), emitted)
