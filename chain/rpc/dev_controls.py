"""A dev node's block controls, as anvil and Hardhat serve them: `evm_mine` makes a fast block
now (with what the pool holds, or empty), and `anvil_mine` / `hardhat_mine` make several.
Tests that wait for a block, or need the chain to move without a transaction, use them.

Only a dev node mines on request; a node whose blocks come from CometBFT refuses, saying so.
What Duet does not take (docs/rpc.md, "as anvil / differs"): a block's timestamp, which is
the sequencer's clock, as every block's (the braided ledger orders both chains by it), and
an interval between mined blocks.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chain.ledger.blocks import LedgerBlock
from chain.rpc.errors import RpcError, invalid_params
from chain.rpc.params import expect_params, parse_quantity

Handler = Callable[[list[Any]], Any]
Mine = Callable[[], LedgerBlock]
MAX_MINED_AT_ONCE = 1000  # a caller's count: each block costs a commit
NOT_A_DEV_NODE = -32601  # as a method the node does not serve
NO_TIMESTAMP = (
    "a mined block's timestamp is the sequencer's clock, as every block's (the braided ledger "
    "orders both chains by it): evm_mine takes no timestamp"
)

NO_INTERVAL = "anvil_mine takes no interval: each block's timestamp is the sequencer's clock"


class DevControlsApi:
    def __init__(self, mine: Mine | None = None) -> None:
        """`mine`: the dev sequencer's (set once it runs); None on a node that mines nothing
        on request."""
        self.mine = mine
        self.methods: dict[str, Handler] = {
            "evm_mine": self.evm_mine,
            "anvil_mine": self.anvil_mine,
            "hardhat_mine": self.anvil_mine,
        }

    def _mine(self, method: str, count: int) -> None:
        if self.mine is None:
            raise RpcError(
                NOT_A_DEV_NODE,
                f"{method}: only a dev node (duet node --dev) mines on request; this node's "
                "blocks come from its consensus",
            )
        for _ in range(count):
            self.mine()

    def evm_mine(self, params: Any) -> Any:
        """One block; returns "0x0" as anvil does. Params: none, null, or {"blocks": n}."""
        (options,) = expect_params(params, 0, 1)
        count = 1
        if isinstance(options, dict):
            if "timestamp" in options:
                raise invalid_params(NO_TIMESTAMP)
            count = self._count(options.get("blocks", 1))
        elif options is not None:
            raise invalid_params(NO_TIMESTAMP)
        self._mine("evm_mine", count)
        return "0x0"

    def anvil_mine(self, params: Any) -> Any:
        """`count` blocks (default 1); returns null. An interval other than 0 is refused."""
        count, interval = expect_params(params, 0, 2)
        if interval is not None and parse_quantity(interval, "interval") != 0:
            raise invalid_params(NO_INTERVAL)
        self._mine("anvil_mine", 1 if count is None else self._count(count))
        return None

    @staticmethod
    def _count(value: Any) -> int:
        count = value if isinstance(value, int) and not isinstance(value, bool) else None
        if count is None:
            count = parse_quantity(value, "blocks")
        if not 1 <= count <= MAX_MINED_AT_ONCE:
            raise invalid_params(f"blocks must be 1 to {MAX_MINED_AT_ONCE}, not {count}")
        return count
