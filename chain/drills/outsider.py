"""`duet drill outsider`: an account that is neither sequencer nor agent cannot settle
anything of its own, and cannot brick the rollup.

On a real dev stack (chain/drills/stack.py) the outsider waits out the grace period (after it
anyone may relay an attested block) and then sends blocks of its own making: a valid, proven
Transfer it signed itself, attested with its own key; the same at a height of 2^64 - 1 (which
once bricked the rollup: every later block became a replay); and one with no attestation at
all. Each must be refused, and the sequencer's next block must still settle.
"""

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from chain.drills.stack import (
    DrillStack,
    attempt,
    attest,
    forge_block,
    open_stack,
    send,
    sign_ops_with,
)
from chain.types import Height
from chain.zk.ops import Operation, Transfer
from chain.zk.state import get_account

Report = Callable[[str], None]
OUTSIDER = 7  # a dev account: funded, neither the rollup's agent nor its sequencer
HUGE_HEIGHT = Height(2**64 - 1)


@dataclass
class OutsiderDrillResult:
    refusals: dict[str, str] = field(default_factory=dict)  # attempt → L1's error, or "settled"
    rollup_live_after: bool = False

    @property
    def settled_forgeries(self) -> int:
        return sum(1 for error in self.refusals.values() if error == "settled")

    @property
    def passed(self) -> bool:
        return bool(self.refusals) and self.settled_forgeries == 0 and self.rollup_live_after

    def to_json(self) -> dict[str, Any]:
        return {
            "attempts": len(self.refusals),
            "settled_forgeries": self.settled_forgeries,
            "rollup_live_after": self.rollup_live_after,
            "refusals": self.refusals,
        }


def mine_past_grace(stack: DrillStack) -> None:
    """L1 blocks until anyone may submit: the grace period after the last settlement."""
    schedule = stack.rollup.get_schedule()
    blocks = [hex(schedule.grace_blocks + 1)]
    stack.w3.provider.make_request("anvil_mine", blocks)  # type: ignore[arg-type]


def run_outsider_drill(data_dir: Path, report: Report = lambda line: None) -> OutsiderDrillResult:
    result = OutsiderDrillResult()
    with open_stack(data_dir) as stack:
        outsider = stack.account(OUTSIDER)
        key = bytes(outsider.key)
        address = int(outsider.address, 16)
        as_outsider = stack.client(outsider)
        mine_past_grace(stack)
        assert stack.rollup.may_submit(outsider.address, stack.w3.eth.block_number + 1)
        report("the grace period is over: anyone may submit")
        nonce = get_account(stack.node.query.zk_state, address).nonce
        fee = stack.node.config.zk_min_fee
        own = forge_block(stack, [Operation(Transfer(address, 10**18), address, fee, nonce)])
        signatures = sign_ops_with(stack, own.ops, key)  # its own op: truly signed
        result.refusals["own_block_after_grace"] = attempt(
            as_outsider, own.header, own.ops, signatures, attest(stack, own.header, own.ops, [key])
        )
        huge = replace(own.header, height=HUGE_HEIGHT)
        result.refusals["brick_with_huge_height"] = attempt(
            as_outsider, huge, own.ops, signatures, attest(stack, huge, own.ops, [key])
        )
        result.refusals["unattested_block"] = attempt(
            as_outsider, own.header, own.ops, signatures, b""
        )
        for name, error in result.refusals.items():
            report(f"{name}: {error}")
        # The rollup is live: the sequencer's next block, the outsider's transfer in it
        # (sent to the node this time), settles.
        send(stack.node, key, Transfer(address, 10**18))
        stack.settle(stack.make_block())
        result.rollup_live_after = stack.rollup.get_settlement_count() == 1
        report(f"the sequencer's next block settled: {result.rollup_live_after}")
    return result
