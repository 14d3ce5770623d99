"""A submission agent says why a block is not ready to post once it has waited a while
(chain/l1/agent.py, `StallReporter`): with the node's reason, again when the reason changes,
and not at every look."""

from chain.l1.agent import STALL_REPEAT_S, STALL_REPORT_S, StallReporter
from chain.l1.errors import L1Error
from chain.types import Height


class Node:
    def __init__(self) -> None:
        self.reason = "ZK block 7: 1 of 1 operations unproven: job … held by nobody"
        self.asked = 0

    def explain(self) -> str | None:
        self.asked += 1
        return self.reason


def test_a_short_wait_is_not_reported_and_does_not_ask_the_node() -> None:
    node = Node()
    stall = StallReporter(node.explain)
    assert stall.observe(Height(7), 100.0) is None
    assert stall.observe(Height(7), 100.0 + STALL_REPORT_S - 0.1) is None
    assert node.asked == 0


def test_a_long_wait_is_reported_once_with_the_nodes_reason_then_on_change() -> None:
    node = Node()
    stall = StallReporter(node.explain)
    stall.observe(Height(7), 100.0)
    line = stall.observe(Height(7), 100.0 + STALL_REPORT_S)
    assert line == f"ZK block 7 not ready to post after {STALL_REPORT_S:.0f} s: {node.reason}"
    assert stall.observe(Height(7), 100.0 + STALL_REPORT_S + 1) is None  # same reason
    node.reason = "ZK block 7: every operation proven, not aggregated: job … held by 0x…"
    changed = stall.observe(Height(7), 100.0 + STALL_REPORT_S + 2)
    assert changed is not None and changed.endswith(node.reason)
    again = stall.observe(Height(7), 100.0 + STALL_REPORT_S + 2 + STALL_REPEAT_S)
    assert again is not None and again.endswith(node.reason)  # a reminder, a minute on


def test_the_wait_restarts_for_the_next_block_and_ends_when_nothing_waits() -> None:
    node = Node()
    stall = StallReporter(node.explain)
    stall.observe(Height(7), 100.0)
    assert stall.observe(Height(8), 100.0 + STALL_REPORT_S) is None  # block 7 went; 8 is new
    assert stall.observe(None, 200.0) is None
    assert stall.observe(Height(8), 201.0) is None


def test_a_node_that_cannot_say_why_is_reported_as_such() -> None:
    def unreachable() -> str | None:
        raise L1Error("connection refused")

    stall = StallReporter(unreachable)
    stall.observe(Height(7), 0.0)
    line = stall.observe(Height(7), STALL_REPORT_S)
    assert line is not None and line.endswith("the node cannot say why: connection refused")
