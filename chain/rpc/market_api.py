"""duet_* methods of the prover market, served on the ZK endpoint (docs/rpc.md).

`duet_submitProof` takes a prover's result for a job it holds; `duet_getProverJobs` and the
WebSocket subscription `proverJobs` hand provers their jobs; `duet_getProverMarket` and
`duet_getMarketBlock` show the market to anyone; `duet_getCircuits` lists the circuit files
a prover outside the node proves with (chain/rpc/circuit_files.py).
"""

from collections.abc import Callable
from typing import Any

from chain.market.book import Job, ProverState, get_active_provers
from chain.market.desk import SubmissionRefused
from chain.market.events import decode_events, format_events
from chain.market.signing import MAX_RESULT_BYTES, InvalidSubmissionSignature, recover_submitter
from chain.node import Node
from chain.prover.errors import ProverError
from chain.rpc.circuit_files import CircuitCatalog
from chain.rpc.errors import INTERNAL_ERROR, TX_REJECTED, RpcError, invalid_params
from chain.rpc.format import hx
from chain.rpc.params import (
    expect_params,
    parse_address,
    parse_count,
    parse_hash,
    parse_hex_bytes,
    parse_object,
)
from chain.types import Height, JobId, ProverId
from chain.zk.state import get_prover


def format_prover(address: int, state: ProverState | None, height: int) -> dict[str, Any] | None:
    """The prover's record; `active` at `height`: the next block's, where proofs submitted
    now count and new jobs are assigned."""
    if state is None:
        return None
    return {
        "address": hx(address.to_bytes(20, "big")),
        "activeUntil": state.active_until,
        "active": height <= state.active_until,
        "balance": str(state.balance),  # decimal wei, signed: a debt is negative
        "proven": state.proven,
        "missed": state.missed,
        "invalid": state.invalid,
    }


class MarketApi:
    def __init__(self, node: Node, circuits: CircuitCatalog | None = None) -> None:
        self.node = node
        self.circuits = circuits or CircuitCatalog()
        self.methods: dict[str, Callable[[list[Any]], Any]] = {
            "duet_submitProof": self.submit_proof,
            "duet_getProverJobs": self.get_prover_jobs,
            "duet_getProverMarket": self.get_prover_market,
            "duet_getMarketBlock": self.get_market_block,
            "duet_getCircuits": self.get_circuits,
        }

    def submit_proof(self, params: Any) -> Any:
        (obj,) = expect_params(params, 1, 1)
        obj = parse_object(obj, "submission")
        job_id = JobId(parse_hash(obj.get("jobId"), "jobId"))
        result = parse_hex_bytes(obj.get("proof"), "proof")
        if len(result) > MAX_RESULT_BYTES:
            raise invalid_params(f"proof is over {MAX_RESULT_BYTES} bytes")
        signature = parse_hex_bytes(obj.get("signature"), "signature", 65)
        if obj.get("prover") is not None:
            named = int.from_bytes(parse_address(obj["prover"], "prover"), "big")
            try:
                signer = recover_submitter(self.node.config.zk_chain_id, job_id, result, signature)
            except InvalidSubmissionSignature as exc:
                raise invalid_params(str(exc)) from None
            if named != signer:
                raise invalid_params("the signature is not the named prover's")
        try:
            verdict = self.node.submit_proof(job_id, result, signature)
        except SubmissionRefused as exc:
            raise RpcError(TX_REJECTED, f"submission refused: {exc}") from None
        return {
            "jobId": hx(job_id),
            "kind": verdict.job.kind,
            "valid": verdict.valid,
            "prover": hx(verdict.prover.to_bytes(20, "big")),
            "countsAt": self.node.query.zk_head.height + 1,
        }

    def get_prover_jobs(self, params: Any) -> Any:
        (address,) = expect_params(params, 1, 1)
        return self.format_prover_jobs(int.from_bytes(parse_address(address), "big"), None)

    def format_prover_jobs(self, prover: int, assigned_at: int | None) -> dict[str, Any]:
        """The prover's record and its jobs (only those assigned at `assigned_at`, if given):
        what `duet_getProverJobs` answers and `proverJobs` pushes each ZK block."""
        query = self.node.query
        height = query.zk_head.height
        jobs = query.list_assignments(ProverId(prover))
        if assigned_at is not None:
            jobs = [job for job in jobs if job.assigned_at == assigned_at]
        return {
            "height": height,
            "prover": format_prover(prover, query.market.provers.get(ProverId(prover)), height + 1),
            "jobs": [query.format_job(job, Height(height + 1)) for job in jobs],
        }

    def get_prover_market(self, params: Any) -> Any:
        expect_params(params, 0, 0)
        query = self.node.query
        market = query.market
        height = query.zk_head.height
        provers = []
        for address, state in sorted(market.provers.items()):
            entry = format_prover(address, state, height + 1)
            assert entry is not None
            entry["stateBalance"] = str(get_prover(query.zk_state, address).balance)
            provers.append(entry)
        return {
            "height": height,
            # In the next block, as `active` and the bounties (priced for that block) are.
            "activeProvers": len(get_active_provers(market, Height(height + 1))),
            "feePool": hex(query.zk_state.fee_pool),
            "config": {k: v for k, v in vars(query.market_config).items()},
            "provers": provers,
            "jobs": [self._format_open_job(job, height) for job in sorted_jobs(market.jobs)],
        }

    def _format_open_job(self, job: Job, height: int) -> dict[str, Any]:
        assignee = job.assignee
        return {
            "jobId": hx(job.job_id),
            "kind": job.kind,
            "height": job.height,
            "waited": height + 1 - job.created,
            "bounty": hex(self.node.query.compute_bounty(job, Height(height + 1))),
            "assignee": None if assignee is None else hx(assignee.to_bytes(20, "big")),
            "deadline": job.deadline,
            "attempt": job.attempt,
        }

    def get_market_block(self, params: Any) -> Any:
        """The market events stored with ZK block `height`: replaying them from the first
        block rebuilds the market (chain/market/book.py)."""
        (height,) = expect_params(params, 1, 1)
        raw = self.node.query.get_market_events(Height(parse_count(height, "height")))
        return (
            None if raw is None else {"height": height, "events": format_events(decode_events(raw))}
        )

    def get_circuits(self, params: Any) -> Any:
        expect_params(params, 0, 0)
        try:
            return self.circuits.format()
        except ProverError as exc:
            raise RpcError(
                INTERNAL_ERROR, f"this node has no circuit files to serve: {exc}"
            ) from None


def sorted_jobs(jobs: Any) -> list[Job]:
    return sorted(jobs.values(), key=lambda job: (job.created, job.job_id))
