"""A market block's inputs as stored with its ZK block, and the digest the block commits to.

The node keeps each ZK block's `MarketEvents` beside it (chain/ledger/store.py) and hashes
them into the block's receipts root, so anyone holding the ledger replays the market: the
events decide everything else (docs/market.md, "Wiring it into the node").
"""

import json
from typing import Any

from eth_utils import keccak

from chain.market.book import HeartbeatEvent, MarketEvents, NewOpJob, Submission
from chain.types import Height, JobId, ProverId, Wei

EVENTS_DOMAIN = b"duet/market/events"


class InvalidEvents(Exception):
    """Stored market events that do not parse: a damaged database."""


def format_events(events: MarketEvents) -> dict[str, Any]:
    return {
        "heartbeats": [[hex(h.prover), h.active_until] for h in events.heartbeats],
        "submissions": [
            [hex(s.prover), "0x" + s.job_id.hex(), s.valid] for s in events.submissions
        ],
        "newOps": [["0x" + n.job_id.hex(), n.height] for n in events.new_ops],
        "newAggregates": list(events.new_aggregates),
        "feePool": hex(events.fee_pool),
        "settle": events.settle,
    }


def parse_events(obj: dict[str, Any]) -> MarketEvents:
    try:
        return MarketEvents(
            heartbeats=tuple(
                HeartbeatEvent(ProverId(int(p, 16)), Height(int(u))) for p, u in obj["heartbeats"]
            ),
            submissions=tuple(
                Submission(ProverId(int(p, 16)), JobId(bytes.fromhex(j[2:])), bool(v))
                for p, j, v in obj["submissions"]
            ),
            new_ops=tuple(
                NewOpJob(JobId(bytes.fromhex(j[2:])), Height(int(h))) for j, h in obj["newOps"]
            ),
            new_aggregates=tuple(Height(int(h)) for h in obj["newAggregates"]),
            fee_pool=Wei(int(obj["feePool"], 16)),
            settle=bool(obj["settle"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidEvents(f"market events do not parse: {exc!r}") from None


def encode_events(events: MarketEvents) -> bytes:
    """Canonical bytes: what is stored and what the digest covers."""
    return json.dumps(format_events(events), separators=(",", ":"), sort_keys=True).encode()


def decode_events(raw: bytes) -> MarketEvents:
    try:
        obj = json.loads(raw)
    except ValueError as exc:
        raise InvalidEvents(f"market events are not JSON: {exc}") from None
    if not isinstance(obj, dict):
        raise InvalidEvents("market events are not an object")
    return parse_events(obj)


def compute_events_digest(raw: bytes) -> bytes:
    """The receipts root's last leaf: keccak of the domain and the canonical events."""
    return keccak(EVENTS_DOMAIN + raw)
