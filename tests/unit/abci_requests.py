"""The ABCI++ requests CometBFT sends, made by hand for DuetApplication over a real node
store (tests/unit/test_duet_app*.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

from google.protobuf.timestamp_pb2 import Timestamp

from chain.config import NetworkConfig
from chain.consensus.abci.proto.tendermint.abci import types_pb2 as abci
from chain.consensus.duet_app import DuetApplication
from chain.node import Node, open_node
from chain.testing.accounts import sign_transfer
from chain.types import Address

ACCEPT = abci.ResponseProcessProposal.ACCEPT
REJECT = abci.ResponseProcessProposal.REJECT
BOB = Address(bytes.fromhex("22" * 20))
SENT = 10**15
HEADER_TIME_MS = 1_900_000_000_123
GENESIS_MS = HEADER_TIME_MS - 60_000
MAX_TX_BYTES = 1 << 20

T = TypeVar("T")


def run(call: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(call)


def transfer(nonce: int, chain_id: int = 7702, value: int = SENT, sender: int = 0) -> bytes:
    return sign_transfer(nonce, sender=sender, to="0x" + BOB.hex(), value=value, chain_id=chain_id)


def header_time(ms: int = HEADER_TIME_MS) -> Timestamp:
    return Timestamp(seconds=ms // 1000, nanos=(ms % 1000) * 1_000_000)


def open_network_node(data_dir: Path) -> Node:
    """A node of a network whose genesis time is GENESIS_MS."""
    return open_node(data_dir, NetworkConfig(genesis_time_ms=GENESIS_MS))


def init_chain() -> abci.RequestInitChain:
    return abci.RequestInitChain(time=header_time(GENESIS_MS))


def decide(
    app: DuetApplication, height: int, txs: list[bytes], ms: int = HEADER_TIME_MS
) -> abci.ResponseFinalizeBlock:
    """FinalizeBlock then Commit, as CometBFT does once a height is decided."""
    request = abci.RequestFinalizeBlock(height=height, txs=txs, time=header_time(ms))
    answer = run(app.finalize_block(request))
    run(app.commit(abci.RequestCommit()))
    return answer


def process(app: DuetApplication, txs: list[bytes], ms: int = HEADER_TIME_MS) -> int:
    request = abci.RequestProcessProposal(height=1, txs=txs, time=header_time(ms))
    status: int = run(app.process_proposal(request)).status
    return status
