"""duet_* methods: the braided view of the ledger, served on both chains' endpoints."""

from collections.abc import Callable, Mapping
from typing import Any

from chain.config import RPC_MAX_LEDGER_PAGE
from chain.ledger.blocks import LedgerBlock
from chain.node import Node
from chain.nodefile import Endpoint
from chain.rpc.format import hx
from chain.rpc.params import expect_params, parse_count, parse_hash
from chain.types import Seq


def format_ledger_entry(block: LedgerBlock, fast_chain_id: int) -> dict[str, Any]:
    return {
        "seq": block.seq,
        "chain": "fast" if block.chain_id == fast_chain_id else "zk",
        "chainId": block.chain_id,
        "height": block.height,
        "hash": hx(block.hash),
        "parentHash": hx(block.parent_hash),
        "prevHash": hx(block.prev_hash),
        "stateRoot": hx(block.state_root),
        "transactionsRoot": hx(block.transactions_root),
        "receiptsRoot": hx(block.receipts_root),
        "txCount": len(block.tx_hashes),
        "timestamp": block.timestamp,
        "timestampMs": block.timestamp_ms,
        "messages": [hx(m) for m in block.messages],
        "commitCertificate": hx(block.commit_certificate),
    }


class DuetApi:
    def __init__(self, node: Node, endpoints: Mapping[str, Endpoint] | None = None) -> None:
        self.node = node
        self.endpoints = endpoints if endpoints is not None else {}  # filled as they start
        self.methods: dict[str, Callable[[list[Any]], Any]] = {
            "duet_endpoints": self.get_endpoints,
            "duet_getEvidence": self.get_evidence,
            "duet_heads": self.heads,
            "duet_getLedger": self.get_ledger,
            "duet_getTransactionStatus": self.get_transaction_status,
        }

    def get_endpoints(self, params: Any) -> Any:
        """Both chains' endpoints as this node serves them: a client given one finds the
        other (`duet play --rpc URL`)."""
        expect_params(params, 0, 0)
        return {
            name: {"http": ep.http, "ws": ep.ws, "chainId": hex(ep.chain_id)}
            for name, ep in self.endpoints.items()
        }

    def get_evidence(self, params: Any) -> Any:
        """CometBFT's evidence of misbehaviour the decentralized mode's blocks brought, and
        the validators it jailed (chain/consensus/evidence.py); both empty in dev mode."""
        expect_params(params, 0, 0)
        evidence, jailed = self.node.query.list_evidence()
        return {"evidence": evidence, "jailed": jailed}

    def heads(self, params: Any) -> Any:
        expect_params(params, 0, 0)
        node = self.node
        return {
            "ledger": {"seq": node.query.log_head.seq, "hash": hx(node.query.log_head.hash)},
            "fast": {
                "chainId": node.config.fast_chain_id,
                "height": node.query.fast_head.height,
                "hash": hx(node.query.fast_head.hash),
            },
            "zk": {
                "chainId": node.config.zk_chain_id,
                "height": node.query.zk_head.height,
                "hash": hx(node.query.zk_head.hash),
            },
        }

    def get_ledger(self, params: Any) -> Any:
        from_seq, limit = expect_params(params, 1, 2)
        from_seq = parse_count(from_seq, "fromSeq")
        limit = RPC_MAX_LEDGER_PAGE if limit is None else parse_count(limit, "limit")
        blocks = self.node.query.iter_ledger(Seq(from_seq), min(limit, RPC_MAX_LEDGER_PAGE))
        return [format_ledger_entry(b, self.node.config.fast_chain_id) for b in blocks]

    def get_transaction_status(self, params: Any) -> Any:
        (tx_hash,) = expect_params(params, 1, 1)
        status, height, reason = self.node.query.get_tx_status(
            parse_hash(tx_hash, "transaction hash")
        )
        return {"status": status, "blockNumber": height, "reason": reason}
