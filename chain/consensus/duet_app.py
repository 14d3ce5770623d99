"""Duet as CometBFT's ABCI++ application: the decentralized mode's fast chain.

CometBFT orders raw fast transactions; this application turns each decided height into at
most one fast block, built by the node's checked transition at the time in the block's
header (never this machine's clock), so every validator executes the same block:

- `CheckTx` admits a transaction to CometBFT's mempool by dev mode's rules
  (`Node.check_for_mempool`).
- `PrepareProposal` orders the mempool's transactions as dev mode's pool does (arrival order,
  each sender's in nonce order) and proposes those the block executes.
- `ProcessProposal` re-executes a proposal and refuses it if any transaction cannot be
  decoded or executed, or does not fit the block.
- `FinalizeBlock` executes the decided transactions (reusing the checked execution of the
  same transactions at the same time on the same head) and answers the app hash;
  `Commit` stores the block and the CometBFT height in one store transaction.
- `Info` reports the last committed CometBFT height and the app hash, for the handshake.

Soft confirmation: the fast block of each proposal this node makes or accepts goes to the
`soft_listeners` at once (the `softLogs` subscription, chain/rpc/subscriptions.py), before
the height commits; at Commit, those of the height that did not commit go to them again as
removed. Execution is deterministic, so the soft block's hash is the committed block's.

A height with nothing to execute (no transactions, no ZK-chain messages to deliver) makes no
fast block, as in dev mode, so CometBFT's heights and the fast chain's differ: the store's
meta keeps the last CometBFT height and the fast height after it (`COMETBFT_HEAD_META`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from eth_utils import keccak
from google.protobuf.timestamp_pb2 import Timestamp

from chain.config import MAX_TXS_PER_BLOCK, NetworkConfig
from chain.consensus.abci.application import OK, BaseApplication
from chain.consensus.abci.proto.tendermint.abci import types_pb2 as abci
from chain.fast.chain import FastBlock
from chain.fast.pool import TxPool
from chain.fast.txs import FastTx, InvalidTransaction, decode_transaction
from chain.ledger.log import LedgerHeads, process_append
from chain.node import Node
from chain.types import Hash32

log = logging.getLogger("duet.consensus")

APP_NAME = "duet"
APP_HASH_DOMAIN = b"duet-app-hash"
# JSON {"height": the last CometBFT height committed, "fast_height": the fast head after it}.
COMETBFT_HEAD_META = "cometbft_head"

# CheckTx and ExecTxResult codes (OK = 0 is the protocol's).
REFUSED = 1  # CheckTx: the transaction breaks an admission rule
UNDECODABLE = 2  # not a fast transaction signed for this chain
NOT_EXECUTED = 3  # decided, but the block could not execute it (never in a checked proposal)
REVERTED = 4  # executed and in the block, but the EVM reverted it


# A fast block shown soft (removed=False), or one shown soft that did not commit (True).
SoftListener = Callable[[FastBlock, bool], None]


class InconsistentStore(Exception):
    """The store's fast chain is not where its CometBFT height says it is."""


def compute_app_hash(config: NetworkConfig, heads: LedgerHeads) -> bytes:
    """The hash CometBFT's next header carries: the braided log's head (which chains every
    block of both chains) and, spelled out, both chains' state roots."""
    assert heads.log is not None
    fast = heads.chains[config.fast_chain_id]
    zk = heads.chains[config.zk_chain_id]
    return keccak(APP_HASH_DOMAIN + heads.log.hash + fast.state_root + zk.state_root)


def compute_time_ms(time: Timestamp) -> int:
    return time.seconds * 1000 + time.nanos // 1_000_000


@dataclass(frozen=True)
class HeightKey:
    """What a height's execution depends on: the head it builds on, the header time and the
    ordered transactions."""

    log_head: Hash32
    time_ms: int
    txs: tuple[bytes, ...]


@dataclass
class Execution:
    """One height's transactions executed: the fast block (None when there was nothing to
    execute), one result per transaction in proposal order, and why any was left out."""

    fast: FastBlock | None
    results: list[abci.ExecTxResult]
    refusals: list[str] = field(default_factory=list)

    @property
    def is_valid_proposal(self) -> bool:
        return not self.refusals


@dataclass(frozen=True)
class CometHead:
    height: int
    fast_height: int


def get_comet_head(node: Node) -> CometHead | None:
    raw = node.store.get_meta(COMETBFT_HEAD_META)
    if raw is None:
        return None
    saved = json.loads(raw)
    return CometHead(int(saved["height"]), int(saved["fast_height"]))


def encode_comet_head(head: CometHead) -> str:
    return json.dumps({"height": head.height, "fast_height": head.fast_height})


def execute_txs(node: Node, raw_txs: tuple[bytes, ...], time_ms: int) -> Execution:
    """Execute `raw_txs` in order as the next fast block at `time_ms`, without storing; the
    refusals say why a proposal of them is not a valid one."""
    decoded: list[FastTx] = []
    undecodable: dict[int, str] = {}
    for index, raw in enumerate(raw_txs):
        try:
            decoded.append(decode_transaction(raw, node.config.fast_chain_id))
        except InvalidTransaction as exc:
            undecodable[index] = str(exc)
    fast = node.make_fast_block(decoded, time_ms) if decoded or node.undelivered else None
    results, refusals = compute_tx_results(len(raw_txs), decoded, undecodable, fast)
    if len(raw_txs) > MAX_TXS_PER_BLOCK:
        refusals.append(f"{len(raw_txs)} transactions, more than a block's {MAX_TXS_PER_BLOCK}")
    return Execution(fast, results, refusals)


def compute_tx_results(
    count: int, decoded: list[FastTx], undecodable: dict[int, str], fast: FastBlock | None
) -> tuple[list[abci.ExecTxResult], list[str]]:
    """One result per transaction, in proposal order, and why each one left out was."""
    executed: dict[Hash32, list[abci.ExecTxResult]] = {}
    refused: dict[Hash32, list[str]] = {}
    if fast is not None:
        for outcome in fast.result.outcomes:
            code = OK if outcome.success else REVERTED
            result = abci.ExecTxResult(
                code=code, gas_used=outcome.gas_used, gas_wanted=outcome.tx.gas
            )
            executed.setdefault(outcome.tx.hash, []).append(result)
        for tx, reason in fast.result.rejected:
            refused.setdefault(tx.hash, []).append(f"cannot execute: {reason}")
        for tx in fast.result.deferred:
            refused.setdefault(tx.hash, []).append("exceeds the block's gas limit")
    results: list[abci.ExecTxResult] = []
    refusals: list[str] = []
    txs = iter(decoded)
    for index in range(count):
        if index in undecodable:
            reason = f"transaction {index} is undecodable: {undecodable[index]}"
            results.append(abci.ExecTxResult(code=UNDECODABLE, log=reason))
            refusals.append(reason)
            continue
        tx = next(txs)
        if executed.get(tx.hash):  # the same transaction twice executes once
            results.append(executed[tx.hash].pop(0))
            continue
        reason = f"transaction {tx.hash.hex()} {refused[tx.hash].pop(0)}"
        results.append(abci.ExecTxResult(code=NOT_EXECUTED, log=reason))
        refusals.append(reason)
    return results, refusals


def order_for_proposal(node: Node, raw_txs: list[bytes], max_bytes: int) -> list[FastTx]:
    """The decodable transactions, as many as fit in `max_bytes`, in dev mode's pool order:
    arrival order, each sender's in nonce order from its account's nonce (one transaction per
    sender and nonce, the first to arrive)."""
    pool = TxPool()
    total = 0
    for raw in raw_txs:
        try:
            tx = decode_transaction(raw, node.config.fast_chain_id)
        except InvalidTransaction:
            continue
        taken = tx.nonce in pool.by_sender.get(tx.sender, {})  # the first to arrive keeps it
        if taken or total + len(raw) > max_bytes:
            continue
        total += len(raw)
        pool.add(tx)
    nonces = {sender: node.account(sender).nonce for sender in pool.senders()}
    return pool.select(nonces, MAX_TXS_PER_BLOCK)


class DuetApplication(BaseApplication):
    """The node's fast chain behind CometBFT. Every call runs on the server's event loop,
    one at a time (the server serializes them), as the node requires."""

    def __init__(self, node: Node) -> None:
        self.node = node
        self.checked: dict[HeightKey, Execution] = {}  # this height's executions, by input
        self.decided: tuple[int, Execution] | None = None  # FinalizeBlock's, until Commit
        self.soft_listeners: list[SoftListener] = []
        self.soft: dict[Hash32, FastBlock] = {}  # shown soft at this height, by hash

    def get_app_hash(self) -> bytes:
        return compute_app_hash(self.node.config, self.node.heads)

    def _key(self, txs: tuple[bytes, ...], time: Timestamp) -> HeightKey:
        return HeightKey(self.node.log_head.hash, compute_time_ms(time), txs)

    def _execute(self, key: HeightKey) -> Execution:
        execution = self.checked.get(key)
        if execution is None:
            execution = execute_txs(self.node, key.txs, key.time_ms)
            self.checked[key] = execution
        return execution

    # -- connection "info" ---------------------------------------------------------------

    async def info(self, request: abci.RequestInfo) -> abci.ResponseInfo:
        head = get_comet_head(self.node)
        if head is None:
            return abci.ResponseInfo(data=APP_NAME)  # height 0: CometBFT sends InitChain
        if head.fast_height != self.node.fast_head.height:
            raise InconsistentStore(
                f"the store's fast head is at height {self.node.fast_head.height}, but CometBFT "
                f"height {head.height} left it at {head.fast_height}: another sequencer "
                "(dev mode?) wrote to this data directory"
            )
        return abci.ResponseInfo(
            data=APP_NAME,
            last_block_height=head.height,
            last_block_app_hash=self.get_app_hash(),
        )

    # -- connection "mempool" ------------------------------------------------------------

    async def check_tx(self, request: abci.RequestCheckTx) -> abci.ResponseCheckTx:
        try:
            tx = self.node.check_for_mempool(request.tx)
        except InvalidTransaction as exc:
            return abci.ResponseCheckTx(code=REFUSED, log=str(exc))
        return abci.ResponseCheckTx(code=OK, gas_wanted=tx.gas)

    # -- connection "consensus" ----------------------------------------------------------

    async def init_chain(self, request: abci.RequestInitChain) -> abci.ResponseInitChain:
        head = get_comet_head(self.node)
        if head is not None:
            raise InconsistentStore(
                f"InitChain on a store that CometBFT already drove to height {head.height}"
            )
        genesis = self.node.get_block(self.node.config.fast_chain_id, 0)
        assert genesis is not None
        network_time = compute_time_ms(request.time)
        if genesis.timestamp_ms != network_time:
            raise InconsistentStore(
                f"the store's genesis blocks are from {genesis.timestamp_ms} ms, the network's "
                f"genesis time is {network_time} ms: start the node with its network's "
                "CometBFT home on a new data directory"
            )
        return abci.ResponseInitChain(app_hash=self.get_app_hash())

    async def prepare_proposal(
        self, request: abci.RequestPrepareProposal
    ) -> abci.ResponsePrepareProposal:
        ordered = order_for_proposal(self.node, list(request.txs), request.max_tx_bytes)
        key = self._key(tuple(tx.raw for tx in ordered), request.time)
        execution = self._execute(key)
        proposed = tuple(
            raw
            for raw, result in zip(key.txs, execution.results, strict=True)
            if result.code in (OK, REVERTED)
        )
        if proposed != key.txs:
            # What cannot execute changes no state: the rest executes the same without it,
            # and ProcessProposal of this proposal finds it checked.
            execution = self._execute(self._key(proposed, request.time))
        if execution.fast is not None:
            self._show_soft(execution.fast)
        return abci.ResponsePrepareProposal(txs=list(proposed))

    async def process_proposal(
        self, request: abci.RequestProcessProposal
    ) -> abci.ResponseProcessProposal:
        execution = self._execute(self._key(tuple(request.txs), request.time))
        if not execution.is_valid_proposal:
            log.warning(
                "refused the proposal of height %d: %s", request.height, execution.refusals[0]
            )
            return abci.ResponseProcessProposal(status=abci.ResponseProcessProposal.REJECT)
        if execution.fast is not None:
            self._show_soft(execution.fast)
        return abci.ResponseProcessProposal(status=abci.ResponseProcessProposal.ACCEPT)

    def _show_soft(self, fast: FastBlock) -> None:
        if fast.block.hash in self.soft:
            return
        self.soft[fast.block.hash] = fast
        for listener in self.soft_listeners:
            listener(fast, False)

    def _retract_soft(self, committed: Hash32 | None) -> None:
        shown, self.soft = self.soft, {}
        for block_hash, fast in shown.items():
            if block_hash != committed:
                for listener in self.soft_listeners:
                    listener(fast, True)

    async def finalize_block(
        self, request: abci.RequestFinalizeBlock
    ) -> abci.ResponseFinalizeBlock:
        execution = self._execute(self._key(tuple(request.txs), request.time))
        self.decided = (request.height, execution)
        heads = self.node.heads
        if execution.fast is not None:
            heads = process_append(heads, execution.fast.block)
        return abci.ResponseFinalizeBlock(
            tx_results=execution.results, app_hash=compute_app_hash(self.node.config, heads)
        )

    async def commit(self, request: abci.RequestCommit) -> abci.ResponseCommit:
        assert self.decided is not None, "Commit without FinalizeBlock"
        height, execution = self.decided
        self.decided = None
        self.checked.clear()  # built on the head this commit replaces
        if execution.fast is None:
            head = CometHead(height, self.node.fast_head.height)
            self.node.store.set_meta(COMETBFT_HEAD_META, encode_comet_head(head))
        else:
            head = CometHead(height, execution.fast.block.height)
            self.node.commit_fast_block(
                execution.fast, meta={COMETBFT_HEAD_META: encode_comet_head(head)}
            )
        self._retract_soft(None if execution.fast is None else execution.fast.block.hash)
        return abci.ResponseCommit()
