"""Both chains' genesis blocks, made once into an empty store; a store that has them gives
back its heads."""

from chain.config import NetworkConfig
from chain.fast.executor import Executor
from chain.fast.genesis import dev_alloc
from chain.fast.system import compute_system_genesis
from chain.ledger.blocks import LedgerBlock, seal
from chain.ledger.log import LedgerHeads, process_append
from chain.ledger.store import BlockWrite, Store, ZkWrite
from chain.node.ledger import compute_zk_globals, now_ms
from chain.types import Hash32, Height, Seq
from chain.zk import chain as zk_chain
from chain.zk.genesis import compute_dev_genesis_state
from chain.zk.state import list_record_rows


def load_heads(store: Store, cfg: NetworkConfig) -> LedgerHeads | None:
    """The heads of a store that holds a ledger; None for an empty one."""
    log_head = store.get_log_head()
    if log_head is None:
        return None
    chains = {}
    for chain_id in (cfg.fast_chain_id, cfg.zk_chain_id):
        head = store.get_chain_head(chain_id)
        assert head is not None, f"database has no head for chain {chain_id}"
        chains[chain_id] = head
    return LedgerHeads(log=log_head, chains=chains)


def load_or_create_genesis(store: Store, executor: Executor, cfg: NetworkConfig) -> LedgerHeads:
    heads = load_heads(store, cfg)
    if heads is not None:
        return heads
    alloc = cfg.dev_alloc or dev_alloc()
    root, nodes = executor.make_genesis(alloc, compute_system_genesis())
    heads = LedgerHeads(log=None, chains={})
    ts = now_ms() if cfg.genesis_time_ms is None else cfg.genesis_time_ms
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
    store.commit(BlockWrite(fast_genesis, nodes, [], [], [], []))
    heads = process_append(heads, fast_genesis)
    zk_state = compute_dev_genesis_state(alloc, cfg.genesis_stakes)
    zk = zk_chain.apply_block(zk_state, heads, cfg.zk_chain_id, ts, [], cfg.zk_min_fee)
    write = ZkWrite(records=list_record_rows(zk_state), globals=compute_zk_globals(zk_state))
    store.commit(BlockWrite(zk.block, {}, [], [], [], [], zk=write))
    return process_append(heads, zk.block)
