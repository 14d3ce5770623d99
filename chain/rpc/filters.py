"""Polling filters over HTTP, as ethers and web3.py use them: `eth_newFilter`,
`eth_newBlockFilter`, `eth_newPendingTransactionFilter`, `eth_getFilterChanges`,
`eth_getFilterLogs`, `eth_uninstallFilter`.

A filter remembers how far its owner has read: a log or block filter the last fast height
it reported, a pending-transaction filter the hashes admitted since its last poll. Like
geth's, a filter nobody polls for FILTER_TIMEOUT_S is removed; there are at most MAX_FILTERS
(a caller that creates filters without end is refused, not given memory), one poll reports
at most MAX_BLOCKS_PER_POLL blocks (the rest come with the next), and a pending-transaction
filter keeps the newest MAX_PENDING_HASHES hashes.
"""

from __future__ import annotations

import secrets
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from chain.fast.txs import FastTx
from chain.rpc.errors import LIMIT_EXCEEDED, RpcError, invalid_params
from chain.rpc.format import hx
from chain.rpc.params import expect_params, parse_object, parse_optional_bool, parse_quantity
from chain.types import ChainId, Height

FILTER_TIMEOUT_S = 300.0  # geth's deadline for a filter nobody polls
MAX_FILTERS = 1024
MAX_BLOCKS_PER_POLL = 1024
MAX_PENDING_HASHES = 10_000
BLOCK_TAGS = ("latest", "pending", "safe", "finalized")

GetLogs = Callable[[list[Any]], Any]


@dataclass
class Filter:
    kind: str  # "logs", "blocks" or "pendingTransactions"
    cursor: int  # the last fast height reported (logs, blocks)
    polled_at: float
    query: dict[str, Any] = field(default_factory=dict)  # a log filter's, as given
    to_height: int | None = None  # a log filter's toBlock, if a number
    hashes: deque[bytes] = field(default_factory=lambda: deque(maxlen=MAX_PENDING_HASHES))


class FilterApi:
    def __init__(
        self,
        chain_id: ChainId,
        head_height: Callable[[], int],
        block_hash: Callable[[Height], bytes],
        get_logs: GetLogs,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.chain_id = chain_id
        self._head_height = head_height
        self._block_hash = block_hash
        self._get_logs = get_logs
        self._clock = clock
        self.filters: dict[str, Filter] = {}
        self.methods = {
            "eth_newFilter": self.new_filter,
            "eth_newBlockFilter": self.new_block_filter,
            "eth_newPendingTransactionFilter": self.new_pending_filter,
            "eth_getFilterChanges": self.get_filter_changes,
            "eth_getFilterLogs": self.get_filter_logs,
            "eth_uninstallFilter": self.uninstall_filter,
        }

    # -- creating ----------------------------------------------------------------------------

    def new_filter(self, params: Any) -> str:
        (obj,) = expect_params(params, 1, 1)
        query = dict(parse_object(obj, "filter"))
        if query.get("blockHash") is not None:
            raise invalid_params("a polling filter takes fromBlock/toBlock, not blockHash")
        self._get_logs([{**query, "fromBlock": "latest", "toBlock": "latest"}])  # validates it
        from_height = parse_height(query.get("fromBlock"), "fromBlock")
        to_height = parse_height(query.get("toBlock"), "toBlock")
        head = self._head_height()
        # Changes are the logs of blocks after the filter's creation, from fromBlock on if it
        # is later (geth's rule); eth_getFilterLogs gives the whole range.
        cursor = head if from_height is None else max(head, from_height - 1)
        return self._add(Filter("logs", cursor, self._clock(), query, to_height))

    def new_block_filter(self, params: Any) -> str:
        expect_params(params, 0, 0)
        return self._add(Filter("blocks", self._head_height(), self._clock()))

    def new_pending_filter(self, params: Any) -> str:
        # ethers may pass a full-transactions flag; hashes it is, either way.
        (full,) = expect_params(params, 0, 1)
        parse_optional_bool(full, "full transactions")
        return self._add(Filter("pendingTransactions", self._head_height(), self._clock()))

    def _add(self, new: Filter) -> str:
        self._expire()
        if len(self.filters) >= MAX_FILTERS:
            raise RpcError(
                LIMIT_EXCEEDED,
                f"{MAX_FILTERS} filters exist already; uninstall some or let them expire",
            )
        filter_id = "0x" + secrets.token_hex(16)
        self.filters[filter_id] = new
        return filter_id

    # -- reading -----------------------------------------------------------------------------

    def get_filter_changes(self, params: Any) -> list[Any]:
        found = self._find(params)
        if found.kind == "pendingTransactions":
            hashes = [hx(h) for h in found.hashes]
            found.hashes.clear()
            return hashes
        head = self._head_height()
        last = min(head, found.cursor + MAX_BLOCKS_PER_POLL)
        first = found.cursor + 1
        if found.kind == "blocks":
            found.cursor = max(found.cursor, last)
            return [hx(self._block_hash(Height(h))) for h in range(first, last + 1)]
        if found.to_height is not None:
            last = min(last, found.to_height)
        if last < first:
            return []
        found.cursor = last
        return list(
            self._get_logs([{**found.query, "fromBlock": hex(first), "toBlock": hex(last)}])
        )

    def get_filter_logs(self, params: Any) -> list[Any]:
        found = self._find(params)
        if found.kind != "logs":
            raise invalid_params(f"filter is a {found.kind} filter, not a log filter")
        return list(self._get_logs([found.query]))

    def uninstall_filter(self, params: Any) -> bool:
        (filter_id,) = expect_params(params, 1, 1)
        filter_id = parse_filter_id(filter_id)
        self._expire()
        return self.filters.pop(filter_id, None) is not None

    def _find(self, params: Any) -> Filter:
        (filter_id,) = expect_params(params, 1, 1)
        filter_id = parse_filter_id(filter_id)
        self._expire()
        found = self.filters.get(filter_id)
        if found is None:
            raise RpcError(-32000, "filter not found")  # geth's words, which clients match
        found.polled_at = self._clock()
        return found

    def _expire(self) -> None:
        deadline = self._clock() - FILTER_TIMEOUT_S
        for filter_id in [i for i, f in self.filters.items() if f.polled_at < deadline]:
            del self.filters[filter_id]

    # -- feeding -----------------------------------------------------------------------------

    def on_admitted(self, tx: FastTx) -> None:
        """A fast transaction entered the pool: its hash to every pending-transaction filter."""
        for pending in self.filters.values():
            if pending.kind == "pendingTransactions":
                pending.hashes.append(tx.hash)


def parse_filter_id(value: Any) -> str:
    """A filter id is a string, as geth's: another type is a wrong parameter (-32602), not
    an id that names no filter. Null names none, as in geth (which reads it as "")."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise invalid_params(f"filter not found: a filter id is a string, not {value!r:.80}")
    return value


def parse_height(tag: Any, what: str) -> int | None:
    """A block number of a filter, None for a tag that follows the head."""
    if tag is None or tag in BLOCK_TAGS:
        return None
    if tag == "earliest":
        return 0
    return parse_quantity(tag, what)
