"""The ABCI++ application interface: one coroutine per request CometBFT sends.

`Application` is what the server calls; `BaseApplication` answers every request the way
CometBFT's own `BaseApplication` does (accept everything, keep no state), so an application
overrides only what it decides. Echo and Flush are the protocol's own and never reach it.
"""

from typing import Protocol

from chain.consensus.abci.proto.tendermint.abci import types_pb2 as abci

OK = 0  # a CheckTx / ExecTxResult code: anything else is a refusal


class Application(Protocol):
    # Connection "info": the handshake and queries.
    async def info(self, request: abci.RequestInfo) -> abci.ResponseInfo: ...
    async def query(self, request: abci.RequestQuery) -> abci.ResponseQuery: ...

    # Connection "mempool".
    async def check_tx(self, request: abci.RequestCheckTx) -> abci.ResponseCheckTx: ...

    # Connection "consensus".
    async def init_chain(self, request: abci.RequestInitChain) -> abci.ResponseInitChain: ...
    async def prepare_proposal(
        self, request: abci.RequestPrepareProposal
    ) -> abci.ResponsePrepareProposal: ...
    async def process_proposal(
        self, request: abci.RequestProcessProposal
    ) -> abci.ResponseProcessProposal: ...
    async def extend_vote(self, request: abci.RequestExtendVote) -> abci.ResponseExtendVote: ...
    async def verify_vote_extension(
        self, request: abci.RequestVerifyVoteExtension
    ) -> abci.ResponseVerifyVoteExtension: ...
    async def finalize_block(
        self, request: abci.RequestFinalizeBlock
    ) -> abci.ResponseFinalizeBlock: ...
    async def commit(self, request: abci.RequestCommit) -> abci.ResponseCommit: ...

    # Connection "snapshot": state sync.
    async def list_snapshots(
        self, request: abci.RequestListSnapshots
    ) -> abci.ResponseListSnapshots: ...
    async def offer_snapshot(
        self, request: abci.RequestOfferSnapshot
    ) -> abci.ResponseOfferSnapshot: ...
    async def load_snapshot_chunk(
        self, request: abci.RequestLoadSnapshotChunk
    ) -> abci.ResponseLoadSnapshotChunk: ...
    async def apply_snapshot_chunk(
        self, request: abci.RequestApplySnapshotChunk
    ) -> abci.ResponseApplySnapshotChunk: ...


def compute_default_proposal(txs: list[bytes], max_tx_bytes: int) -> list[bytes]:
    """The mempool's txs in order, as many as fit in `max_tx_bytes` (CometBFT's default)."""
    chosen: list[bytes] = []
    total = 0
    for tx in txs:
        total += len(tx)
        if total > max_tx_bytes:
            break
        chosen.append(tx)
    return chosen


class BaseApplication:
    """Accepts every transaction, proposal and vote extension; no state, no snapshots (the
    snapshot answers are empty, as CometBFT's: state sync is not offered)."""

    async def info(self, request: abci.RequestInfo) -> abci.ResponseInfo:
        return abci.ResponseInfo()

    async def query(self, request: abci.RequestQuery) -> abci.ResponseQuery:
        return abci.ResponseQuery()

    async def check_tx(self, request: abci.RequestCheckTx) -> abci.ResponseCheckTx:
        return abci.ResponseCheckTx(code=OK)

    async def init_chain(self, request: abci.RequestInitChain) -> abci.ResponseInitChain:
        return abci.ResponseInitChain()

    async def prepare_proposal(
        self, request: abci.RequestPrepareProposal
    ) -> abci.ResponsePrepareProposal:
        txs = compute_default_proposal(list(request.txs), request.max_tx_bytes)
        return abci.ResponsePrepareProposal(txs=txs)

    async def process_proposal(
        self, request: abci.RequestProcessProposal
    ) -> abci.ResponseProcessProposal:
        return abci.ResponseProcessProposal(status=abci.ResponseProcessProposal.ACCEPT)

    async def extend_vote(self, request: abci.RequestExtendVote) -> abci.ResponseExtendVote:
        return abci.ResponseExtendVote()

    async def verify_vote_extension(
        self, request: abci.RequestVerifyVoteExtension
    ) -> abci.ResponseVerifyVoteExtension:
        return abci.ResponseVerifyVoteExtension(status=abci.ResponseVerifyVoteExtension.ACCEPT)

    async def finalize_block(
        self, request: abci.RequestFinalizeBlock
    ) -> abci.ResponseFinalizeBlock:
        results = [abci.ExecTxResult(code=OK) for _ in request.txs]
        return abci.ResponseFinalizeBlock(tx_results=results)

    async def commit(self, request: abci.RequestCommit) -> abci.ResponseCommit:
        return abci.ResponseCommit()

    async def list_snapshots(
        self, request: abci.RequestListSnapshots
    ) -> abci.ResponseListSnapshots:
        return abci.ResponseListSnapshots()

    async def offer_snapshot(
        self, request: abci.RequestOfferSnapshot
    ) -> abci.ResponseOfferSnapshot:
        return abci.ResponseOfferSnapshot()

    async def load_snapshot_chunk(
        self, request: abci.RequestLoadSnapshotChunk
    ) -> abci.ResponseLoadSnapshotChunk:
        return abci.ResponseLoadSnapshotChunk()

    async def apply_snapshot_chunk(
        self, request: abci.RequestApplySnapshotChunk
    ) -> abci.ResponseApplySnapshotChunk:
        return abci.ResponseApplySnapshotChunk()
