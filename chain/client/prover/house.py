"""The node's embedded prover, as one market prover among others.

It holds a key (dev account DEV_PROVER_ACCOUNT unless given one), sends heartbeats and
submits through the same checks as any prover; only the transport differs: it calls the
node in-process where `duet prover` goes over JSON-RPC.
"""

import asyncio
from typing import Any, Protocol

from eth_account import Account

from chain.client.prover.loop import ProverLoop, ProverSnapshot
from chain.config import NetworkConfig
from chain.ledger.blocks import LedgerBlock
from chain.market.book import Market
from chain.market.desk import Verdict
from chain.types import Height, JobId, ProverId
from chain.zk.ops import Heartbeat
from chain.zk.signing import SigningDomain, format_signed_operation, sign_operation
from chain.zk.state import ZkState, get_account_index

POLL_S = 0.05


class HouseQuery(Protocol):
    """What the embedded prover reads of the node (chain/node/query.py's NodeQuery has it)."""

    @property
    def zk_head(self) -> LedgerBlock: ...
    @property
    def zk_state(self) -> ZkState: ...
    @property
    def market(self) -> Market: ...
    @property
    def signing_domain(self) -> SigningDomain: ...
    def get_zk_pending_nonce(self, address: int) -> int: ...
    def format_assignments(self, prover: ProverId, next_height: Height) -> list[dict[str, Any]]: ...
    def is_work_waiting(self, prover: ProverId) -> bool: ...


class HouseNode(Protocol):
    """The node as its embedded prover uses it: reads through `query`, and submits as any
    prover does (the market does not import the node: chain/node builds on the market)."""

    @property
    def config(self) -> NetworkConfig: ...
    @property
    def query(self) -> HouseQuery: ...
    def submit_operation(self, obj: Any) -> bytes: ...
    def submit_proof(self, job_id: JobId, result: bytes, signature: bytes) -> Verdict: ...


class NodeLink:
    def __init__(self, node: HouseNode, key: bytes) -> None:
        self.node = node
        self.key = key
        self.chain_id = node.config.zk_chain_id
        self.address = ProverId(int(Account.from_key(key).address, 16))

    async def read(self) -> ProverSnapshot:
        query = self.node.query
        state = query.market.provers.get(self.address)
        next_height = Height(query.zk_head.height + 1)
        return ProverSnapshot(
            height=query.zk_head.height,
            active_until=-1 if state is None else state.active_until,
            balance=0 if state is None else state.balance,
            proven=0 if state is None else state.proven,
            missed=0 if state is None else state.missed,
            invalid=0 if state is None else state.invalid,
            jobs=query.format_assignments(self.address, next_height),
            work_waiting=query.is_work_waiting(self.address),
        )

    async def send_heartbeat(self, active_until: int) -> str:
        node, query = self.node, self.node.query
        nonce = query.get_zk_pending_nonce(self.address)
        body = Heartbeat(active_until=active_until)
        fee = node.config.zk_min_fee
        index = get_account_index(query.zk_state, self.address) or 0  # none: refused anyway
        signed = sign_operation(body, fee, nonce, query.signing_domain, self.key, index)
        return "0x" + node.submit_operation(format_signed_operation(signed)).hex()

    async def submit(self, job_id: JobId, result: bytes, signature: bytes) -> dict[str, Any]:
        verdict = self.node.submit_proof(job_id, result, signature)
        return {"valid": verdict.valid}

    async def wait_for_block(self, after: int) -> None:
        while self.node.query.zk_head.height <= after:
            await asyncio.sleep(POLL_S)


def make_house_prover(node: HouseNode, key: bytes) -> ProverLoop:
    """The embedded prover heartbeats only while work waits for it (ProverLoop's
    `lapse_when_idle`, MarketDesk.is_work_waiting), so a dev chain nobody uses stops making
    blocks with operations."""
    return ProverLoop(NodeLink(node, key), key, node.config.market, lapse_when_idle=True)
