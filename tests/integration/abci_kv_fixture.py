"""A test fixture, not Duet's application: the smallest stateful ABCI++ app that exercises the
transport. It keeps a key-value store of delivered `key=value` txs and the height, persists
them at Commit, and reports both at the handshake (Info), so a restart picks up where it
left off. Its app hash is the SHA-256 of its state, so CometBFT's headers can be checked
against it.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from chain.consensus.abci.application import OK, BaseApplication
from chain.consensus.abci.proto.tendermint.abci import types_pb2 as abci

REFUSED = 1  # CheckTx code for a tx that is not `key=value`


@dataclass
class KVState:
    height: int = 0
    store: dict[str, str] = field(default_factory=dict)

    def compute_app_hash(self) -> bytes:
        encoded = json.dumps({"height": self.height, "store": self.store}, sort_keys=True)
        return hashlib.sha256(encoded.encode()).digest()


def is_key_value(tx: bytes) -> bool:
    key, sep, _ = tx.partition(b"=")
    return bool(sep and key)


class KVFixtureApp(BaseApplication):
    def __init__(self, state_file: Path) -> None:
        self.state_file = state_file
        self.state = self.load()
        self.pending: KVState | None = None
        self.delivered: list[bytes] = []  # every tx FinalizeBlock saw, in order (this run)
        self.app_hashes: dict[int, bytes] = {}  # height → app hash after it (this run)
        self.calls: list[str] = []  # the connection-level requests, for the handshake check

    def load(self) -> KVState:
        if not self.state_file.exists():
            return KVState()
        saved = json.loads(self.state_file.read_text())
        return KVState(height=saved["height"], store=saved["store"])

    def save(self) -> None:
        partial = self.state_file.with_suffix(".partial")
        partial.write_text(json.dumps({"height": self.state.height, "store": self.state.store}))
        os.replace(partial, self.state_file)  # atomic: a crash leaves the old or the new state

    async def info(self, request: abci.RequestInfo) -> abci.ResponseInfo:
        self.calls.append("info")
        if self.state.height == 0:
            return abci.ResponseInfo(data="kv fixture")
        return abci.ResponseInfo(
            data="kv fixture",
            last_block_height=self.state.height,
            last_block_app_hash=self.state.compute_app_hash(),
        )

    async def init_chain(self, request: abci.RequestInitChain) -> abci.ResponseInitChain:
        self.calls.append("init_chain")
        return abci.ResponseInitChain()

    async def check_tx(self, request: abci.RequestCheckTx) -> abci.ResponseCheckTx:
        if not is_key_value(request.tx):
            return abci.ResponseCheckTx(code=REFUSED, log="expected key=value")
        return abci.ResponseCheckTx(code=OK)

    async def process_proposal(
        self, request: abci.RequestProcessProposal
    ) -> abci.ResponseProcessProposal:
        ok = all(is_key_value(tx) for tx in request.txs)
        status = abci.ResponseProcessProposal.ACCEPT if ok else abci.ResponseProcessProposal.REJECT
        return abci.ResponseProcessProposal(status=status)

    async def finalize_block(
        self, request: abci.RequestFinalizeBlock
    ) -> abci.ResponseFinalizeBlock:
        pending = KVState(height=request.height, store=dict(self.state.store))
        for tx in request.txs:
            key, _, value = tx.decode().partition("=")
            pending.store[key] = value
            self.delivered.append(tx)
        self.pending = pending
        app_hash = pending.compute_app_hash()
        self.app_hashes[request.height] = app_hash
        results = [abci.ExecTxResult(code=OK) for _ in request.txs]
        return abci.ResponseFinalizeBlock(tx_results=results, app_hash=app_hash)

    async def commit(self, request: abci.RequestCommit) -> abci.ResponseCommit:
        assert self.pending is not None, "Commit without FinalizeBlock"
        self.state, self.pending = self.pending, None
        self.save()
        return abci.ResponseCommit()
