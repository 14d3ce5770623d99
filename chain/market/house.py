"""The node's embedded prover, as one market prover among others.

It holds a key (dev account DEV_PROVER_ACCOUNT unless given one), sends heartbeats and
submits through the same checks as any prover; only the transport differs: it calls the
node in-process where `duet prover` goes over JSON-RPC.
"""

import asyncio
from typing import Any

from eth_account import Account

from chain.client.prover.loop import ProverLoop, ProverSnapshot
from chain.market.config import JobId, ProverId
from chain.node import Node
from chain.types import Height
from chain.zk.ops import Heartbeat
from chain.zk.signing import format_signed_operation, sign_operation
from chain.zk.state import get_account, get_account_index

POLL_S = 0.05


class NodeLink:
    def __init__(self, node: Node, key: bytes) -> None:
        self.node = node
        self.key = key
        self.chain_id = node.config.zk_chain_id
        self.address = ProverId(int(Account.from_key(key).address, 16))

    async def read(self) -> ProverSnapshot:
        node = self.node
        state = node.desk.market.provers.get(self.address)
        next_height = Height(node.zk_head.height + 1)
        return ProverSnapshot(
            height=node.zk_head.height,
            active_until=-1 if state is None else state.active_until,
            balance=0 if state is None else state.balance,
            proven=0 if state is None else state.proven,
            missed=0 if state is None else state.missed,
            invalid=0 if state is None else state.invalid,
            jobs=node.desk.format_assignments(self.address, next_height),
            work_waiting=node.desk.is_work_waiting(self.address),
        )

    async def send_heartbeat(self, active_until: int) -> str:
        node = self.node
        nonce = node.zk_pool.pending_nonce(
            self.address, get_account(node.zk_state, self.address).nonce
        )
        body = Heartbeat(active_until=active_until)
        fee = node.config.zk_min_fee
        index = get_account_index(node.zk_state, self.address) or 0  # none: refused anyway
        signed = sign_operation(body, fee, nonce, node.signing_domain, self.key, index)
        return "0x" + node.submit_operation(format_signed_operation(signed)).hex()

    async def submit(self, job_id: JobId, result: bytes, signature: bytes) -> dict[str, Any]:
        verdict = self.node.submit_proof(job_id, result, signature)
        return {"valid": verdict.valid}

    async def wait_for_block(self, after: int) -> None:
        while self.node.zk_head.height <= after:
            await asyncio.sleep(POLL_S)


def make_house_prover(node: Node, key: bytes) -> ProverLoop:
    """The embedded prover heartbeats only while work waits for it (ProverLoop's
    `lapse_when_idle`, MarketDesk.is_work_waiting), so a dev chain nobody uses stops making
    blocks with operations."""
    return ProverLoop(NodeLink(node, key), key, node.config.market, lapse_when_idle=True)
