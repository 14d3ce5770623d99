"""Submission agents: post each fully proven ZK block that holds operations to the rollup, in
order, in the agent's own slot.

An agent keeps no state of its own: before every submission it reads what L1 has settled
(`settledHeight`, `settledRoot`) and offers only the next ZK block with operations above that
height, whose first pre-root must be the settled root. So a restarted agent, or one whose L1
was restarted, resumes from what L1 says: it never posts a block twice and never skips one.
Losing a race to another agent (the block settled meanwhile, or the slot turned) is an
ordinary outcome, not an error. docs/l1.md, "Submission agents", has the whole protocol.

`SubmissionAgent.step` is one look (read, decide, maybe submit); `run` loops it until told
to stop. The node is read through `SettlementSource`: over JSON-RPC (`NodeSource`, the
node's `duet_getSettlementHeights` / `duet_getSettlementBlock`) or, in tests, from memory.
"""

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any, Protocol

from eth_typing import ChecksumAddress
from web3.exceptions import Web3Exception

from chain.jsonrpc import RpcClient, RpcError
from chain.l1.attestation import BlockHeader
from chain.l1.calldata import SettledOp, StateRoot, decode_ops
from chain.l1.config import AGENT_POLL_S, AGENT_RETRY_S
from chain.l1.errors import L1Error, L1Revert
from chain.l1.rollup import RollupClient, SettledState
from chain.types import Height

log = logging.getLogger("duet.agent")

NODE_TIMEOUT_S = 10.0
# A block that is not ready to post after this long is reported at INFO with the node's
# reason (which job holds it, by whom, until when); again when the reason changes, or
# after STALL_REPEAT_S. Shorter waits are the ordinary pace of proving.
STALL_REPORT_S = 10.0
STALL_REPEAT_S = 60.0
# Refusals that mean another agent got there first: the block is settled, the settled root
# moved on, or the slot turned between the look and the transaction.
RACE_ERRORS = frozenset({"BlockAlreadySettled", "WrongPreRoot", "NotYourSlot"})
# What a look can fail on without anything being wrong with the agent: an endpoint that
# does not answer (NodeUnreachable and requests' errors are OSErrors), refuses a read
# (RpcError), or answers garbage.
UNREACHABLE = (OSError, Web3Exception, L1Error, RpcError, ValueError, KeyError)


@dataclass(frozen=True)
class Attestation:
    """The sequencer's signature of a block, as settlement `number` at `timestamp`."""

    number: int
    timestamp: int  # seconds
    signatures: bytes


@dataclass(frozen=True)
class SettlementBlock:
    """A ZK block as the rollup takes it, with what is not proven yet."""

    height: Height
    pre_root: StateRoot  # the first operation's pre-root (0 for a block without operations)
    ops: tuple[SettledOp, ...]  # only when every operation is proven
    op_count: int
    unproven: int
    aggregated: bool = True  # an aggregation job has assembled and checked it (the market's)
    attestation: Attestation | None = None  # none: the node has no sequencer key for L1
    signatures: bytes = b""  # the signed operations' signatures, in block order

    @property
    def is_ready(self) -> bool:
        return self.op_count > 0 and self.unproven == 0 and self.aggregated

    @property
    def header(self) -> BlockHeader:
        assert self.attestation is not None
        return BlockHeader(self.height, self.attestation.timestamp, self.pre_root)


class SettlementSource(Protocol):
    def get_next_height(self, after: Height) -> Height | None:
        """The lowest height above `after` of a ZK block with operations, if any."""
        ...

    def get_settlement_block(self, height: Height) -> SettlementBlock | None: ...

    def explain_wait(self) -> str | None:
        """Why the next block is not ready, as the node tells it (None: it cannot say)."""
        ...


class NodeSource:
    """A node's ZK endpoint, read over JSON-RPC."""

    def __init__(self, url: str, timeout_s: float = NODE_TIMEOUT_S) -> None:
        self.url = url
        self.node = RpcClient(url, timeout_s)

    def call(self, method: str, params: list[Any]) -> Any:
        return self.node.call(method, params)

    def get_next_height(self, after: Height) -> Height | None:
        heights = self.call("duet_getSettlementHeights", [int(after), 1])
        return Height(int(heights[0])) if heights else None

    def get_settlement_block(self, height: Height) -> SettlementBlock | None:
        answer = self.call("duet_getSettlementBlock", [int(height)])
        return None if answer is None else parse_settlement_block(answer)

    def explain_wait(self) -> str | None:
        return str(self.call("duet_getSettlementStatus", [])["detail"])


def parse_settlement_block(obj: dict[str, Any]) -> SettlementBlock:
    """A `duet_getSettlementBlock` answer; its ops only once the market has aggregated it:
    then they are the aggregate, as the aggregation job produced and the node checked."""
    ops = obj["ops"]
    unproven = sum(1 for op in ops if op["proof"] is None)
    pre_root = StateRoot(int(ops[0]["preRoot"], 16) if ops else 0)
    aggregate = obj.get("aggregate")
    settled = () if aggregate is None else tuple(decode_ops(bytes.fromhex(aggregate[2:])))
    height = Height(int(obj["height"]))
    attested = obj.get("attestation")
    attestation = (
        None
        if attested is None
        else Attestation(
            int(attested["number"]),
            int(attested["timestamp"]),
            bytes.fromhex(attested["signatures"][2:]),
        )
    )
    signatures = bytes.fromhex(obj.get("signatures", "0x")[2:])
    return SettlementBlock(
        height,
        pre_root,
        settled,
        len(ops),
        unproven,
        aggregate is not None,
        attestation,
        signatures,
    )


class StallReporter:
    """Says why a block has not been ready to post for a while: once it has waited
    STALL_REPORT_S, then when the node's reason changes or every STALL_REPEAT_S."""

    def __init__(self, explain: Callable[[], str | None]) -> None:
        self.explain = explain
        self.height: Height | None = None
        self.since = 0.0
        self.reason = ""
        self.logged = 0.0

    def observe(self, waiting: Height | None, now: float) -> str | None:
        """`waiting`: the block not ready at `now` (None: nothing waits). The line to log."""
        if waiting != self.height:
            self.height, self.since, self.reason = waiting, now, ""
        if waiting is None or now - self.since < STALL_REPORT_S:
            return None
        try:
            reason = self.explain() or "the node does not say why"
        except UNREACHABLE as exc:
            reason = f"the node cannot say why: {exc}"
        if reason == self.reason and now - self.logged < STALL_REPEAT_S:
            return None
        self.reason, self.logged = reason, now
        return f"ZK block {waiting} not ready to post after {now - self.since:.0f} s: {reason}"


class Outcome(Enum):
    IDLE = "nothing to settle"
    UNPROVEN = "waiting for proofs"
    UNATTESTED = "not attested by a sequencer"
    SLOT = "waiting for its slot"
    PENDING = "waiting for its own pending transaction"
    MISMATCH = "cannot settle"
    SUBMITTED = "settled"
    RACED = "another agent settled first"


REPORT_LEVELS = {
    Outcome.UNPROVEN: logging.DEBUG,
    Outcome.UNATTESTED: logging.WARNING,
    Outcome.PENDING: logging.INFO,
    Outcome.SLOT: logging.INFO,
    Outcome.MISMATCH: logging.ERROR,
}


@dataclass(frozen=True)
class Step:
    """What one look did."""

    outcome: Outcome
    height: Height | None = None
    detail: str = ""
    ops: int = 0
    gas: int = 0
    l1_block: int = 0
    tx_hash: str = ""


class SubmitGate:
    """What lets a dev node take its chains and its L1 back (evm_revert) with no submission
    crossing it: the node takes both back holding `lock`, then counts a `revision`; the
    embedded agent sends a block only holding `lock`, and only if no revision came since it
    began to read that block from the node (else the block may be one the node no longer
    has, and L1, taken back, would settle it)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.revision = 0


class SubmissionAgent:
    """Posts `source`'s proven ZK blocks through `rollup`, whose sender is the agent's key."""

    def __init__(
        self,
        source: SettlementSource,
        rollup: RollupClient,
        poll_s: float = AGENT_POLL_S,
        retry_s: float = AGENT_RETRY_S,
        gate: SubmitGate | None = None,
    ) -> None:
        if rollup.sender is None:
            raise L1Error("a submission agent needs a key to sign with")
        self.source = source
        self.rollup = rollup
        self.gate = gate or SubmitGate()
        self.address: ChecksumAddress = rollup.sender.address
        self.poll_s = poll_s
        self.retry_s = retry_s
        self.submitted: list[Step] = []
        self._last_report: tuple[Outcome, Height | None, str] | None = None
        self._stall = StallReporter(source.explain_wait)

    # -- one look -------------------------------------------------------------------------

    def step(self) -> Step:
        revision = self.gate.revision
        settled = self.rollup.get_settled_state()
        height = self.source.get_next_height(settled.height)
        if height is None:
            return Step(Outcome.IDLE)
        block = self.source.get_settlement_block(height)
        if block is None or block.op_count == 0:
            return Step(Outcome.IDLE)
        if not block.is_ready:
            detail = f"{block.unproven} of {block.op_count} operations unproven"
            if not block.unproven:
                detail = f"all {block.op_count} operations proven, the aggregate not made yet"
            return Step(Outcome.UNPROVEN, height, detail)
        if block.attestation is None:
            detail = "the node has no sequencer key for this rollup (duet node --sequencer-key)"
            return Step(Outcome.UNATTESTED, height, detail)
        if block.pre_root != settled.root:
            detail = f"it starts from root {block.pre_root:#x}, L1 has {settled.root:#x}"
            return Step(Outcome.MISMATCH, height, detail)
        if self.has_pending_transaction():
            return Step(Outcome.PENDING, height)
        next_block = settled.l1_block + 1
        if not self.rollup.may_submit(self.address, next_block):
            holder = self.rollup.get_slot_agent(next_block)
            return Step(Outcome.SLOT, height, f"L1 block {next_block} is {holder}'s")
        with self.gate.lock:
            if self.gate.revision != revision:
                return Step(Outcome.RACED, height, "the node took its chain back (evm_revert)")
            return self.submit(settled, block)

    def submit(self, settled: SettledState, block: SettlementBlock) -> Step:
        try:
            assert block.attestation is not None
            receipt = self.rollup.submit_block(
                block.header, block.ops, block.signatures, block.attestation.signatures
            )
        except L1Revert as refusal:
            if refusal.error in RACE_ERRORS:
                return Step(Outcome.RACED, block.height, str(refusal))
            raise
        except L1Error as failure:
            # Sent, and reverted on chain: lost a race if L1 moved on or the slot turned.
            if self.rollup.get_settled_height() >= block.height:
                return Step(Outcome.RACED, block.height, str(failure))
            raise
        step = Step(
            Outcome.SUBMITTED,
            block.height,
            ops=len(block.ops),
            gas=int(receipt["gasUsed"]),
            l1_block=int(receipt["blockNumber"]),
            tx_hash="0x" + bytes(receipt["transactionHash"]).hex(),
        )
        self.submitted.append(step)
        return step

    def has_pending_transaction(self) -> bool:
        """A transaction of ours sent but not mined (say, by a previous run killed while it
        waited): the next must wait for it, or it would settle the same block again."""
        eth = self.rollup.w3.eth
        return eth.get_transaction_count(self.address, "pending") > eth.get_transaction_count(
            self.address, "latest"
        )

    # -- the loop -------------------------------------------------------------------------

    def run(self, stop: threading.Event) -> None:
        """Look, submit what is due, repeat, until `stop` is set."""
        self.log_start()
        while not stop.is_set():
            try:
                step = self.step()
            except L1Revert as refusal:
                # Not a race: the block itself was refused (the node's proofs, or its chain).
                self.report_once(Outcome.MISMATCH, None, f"L1 refused: {refusal}", logging.ERROR)
                stop.wait(self.retry_s)
                continue
            except UNREACHABLE as exc:
                self.report_once(Outcome.IDLE, None, f"cannot look: {exc}", logging.WARNING)
                stop.wait(self.retry_s)
                continue
            self.report(step)
            if step.outcome not in (Outcome.SUBMITTED, Outcome.RACED):
                stop.wait(self.poll_s)

    def log_start(self) -> None:
        try:
            schedule = self.rollup.get_schedule()
            agents: Sequence[str] = self.rollup.list_agents()
        except UNREACHABLE as exc:
            log.warning("agent %s: cannot read the rollup yet: %s", self.address, exc)
            return
        registered = "registered" if self.address in agents else "not registered"
        log.info(
            "agent %s (%s) on rollup %s: %d agents, slots of %d L1 blocks, grace %d",
            self.address,
            registered,
            self.rollup.address,
            len(agents),
            schedule.slot_blocks,
            schedule.grace_blocks,
        )

    def report(self, step: Step) -> None:
        if step.outcome is Outcome.SUBMITTED:
            self._last_report = None
            log.info(
                "settled ZK block %d (%d ops) in L1 block %d: %s gas, %s per op, tx %s",
                step.height,
                step.ops,
                step.l1_block,
                f"{step.gas:,}",
                f"{step.gas // max(step.ops, 1):,}",
                step.tx_hash,
            )
        elif step.outcome is Outcome.RACED:
            self._last_report = None
            log.info("ZK block %d: %s (%s)", step.height, step.outcome.value, step.detail)
        elif step.outcome is not Outcome.IDLE:
            self.report_once(step.outcome, step.height, step.detail, REPORT_LEVELS[step.outcome])
        waiting = step.height if step.outcome is Outcome.UNPROVEN else None
        line = self._stall.observe(waiting, time.monotonic())
        if line is not None:
            log.info("%s", line)

    def report_once(self, outcome: Outcome, height: Height | None, detail: str, level: int) -> None:
        """Log a waiting state when it begins, not at every look."""
        key = (outcome, height, detail if level >= logging.WARNING else "")
        if key != self._last_report:
            self._last_report = key
            where = "" if height is None else f"ZK block {height}: "
            log.log(level, "%s%s%s", where, outcome.value, f" ({detail})" if detail else "")
