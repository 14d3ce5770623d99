"""`duet drill censorship`: a sequencer that ignores one user cannot keep the user's assets.

On a real dev stack (chain/drills/stack.py) the sequencer settles blocks while it ignores one
user, who then queues a Withdraw on the rollup itself. Once the Withdraw is `forceDelay` old,
the sequencer tries to settle a block past it, and L1 refuses. Then, by `mode`:

- `include`: the sequencer gives in; its next block starts with the Withdraw, which settles;
- `freeze`: it keeps refusing; after `freezeDelay` anyone freezes the rollup, and every
  account exits on L1 with exactly its balance under the last settled root.
"""

import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from eth_utils import to_checksum_address

from chain.client.l1_bridge import make_forced_withdraw
from chain.drills.stack import DrillStack, open_stack, prove_record
from chain.drills.stack import send as send_signed
from chain.l1.attestation import Attestor
from chain.l1.calldata import SettledOp, StateRoot, encode_op
from chain.l1.config import DEV_ESCAPE
from chain.l1.errors import L1Revert
from chain.l1.op_signing import compute_op_signatures
from chain.node import open_node
from chain.prover.escape import compute_exit_inputs
from chain.prover.groth16 import load_circuit, prove
from chain.zk.ops import SignedBody, Transfer
from chain.zk.state import ZkState, compute_state_root, get_account, get_account_index

Mode = Literal["include", "freeze"]
Report = Callable[[str], None]
IGNORED_USER = 6  # dev accounts: the user the sequencer ignores
ACTIVE_USERS = (1, 2)  # whose transfers keep the chain busy meanwhile
WITHDRAWN = 10**18
L1_RECIPIENT = "0x00000000000000000000000000000000000beef1"


@dataclass
class CensorshipResult:
    mode: Mode
    forced_included: bool = False
    frozen: bool = False
    exited_accounts: int = 0
    exit_mismatches: int = 0
    lost_wei: int = 0
    refusals: dict[str, str] = field(default_factory=dict)  # attempt → the L1 error

    def to_json(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "forced_included": self.forced_included,
            "frozen": self.frozen,
            "exited_accounts": self.exited_accounts,
            "exit_mismatches": self.exit_mismatches,
            "lost_wei": self.lost_wei,
            "refusals": self.refusals,
        }

    @property
    def passed(self) -> bool:
        held = self.refusals.get("settle_past_forced") == "ForcedOperationPending"
        if self.mode == "include":
            return held and self.forced_included and not self.frozen
        return held and self.frozen and self.exit_mismatches == 0 and self.lost_wei == 0


def send(stack: DrillStack, index: int, body: SignedBody) -> None:
    send_signed(stack.node, bytes(stack.account(index).key), body)


def make_activity(stack: DrillStack) -> None:
    """A transfer from each active user: the chain stays busy while one user is ignored."""
    for index in ACTIVE_USERS:
        send(stack, index, Transfer(int(stack.account(index + 1).address, 16), WITHDRAWN))


def force_withdrawal(stack: DrillStack) -> None:
    """The ignored user queues a Withdraw of its own on L1."""
    user = stack.account(IGNORED_USER)
    node = stack.node
    address = int(user.address, 16)
    index = get_account_index(node.query.zk_state, address)
    assert index is not None
    nonce = get_account(node.query.zk_state, address).nonce
    words, signature = make_forced_withdraw(
        stack.domain, bytes(user.key), index, nonce, node.config.zk_min_fee, L1_RECIPIENT, WITHDRAWN
    )
    stack.client(user).force_withdraw(words, signature)


def try_settling_past(stack: DrillStack, scratch: Path) -> str:
    """The censoring sequencer's attempt: a block of other ops, made on a copy of its node
    (which has not read the queue), settled once the Withdraw is due. Returns L1's error."""
    copy = scratch / "censoring"
    copy.mkdir()
    stack.node.backup_to(copy / "duet.db")
    censor = open_node(copy)
    try:
        censor.use_signing_domain(stack.domain)
        censor.use_attestor(Attestor(stack.domain, (stack.sequencer_key,)))
        make_activity(DrillStack(stack.w3, censor, stack.rollup, stack.sequencer_key))
        block = censor.produce_zk_block()
        records = censor.query.list_zk_ops_at(block.height)
        attested = censor.get_attestation(block.height)
        assert attested is not None
        ops = [prove_record(record) for record in records]
        try:
            stack.rollup.submit_block(
                attested.header, ops, compute_op_signatures(records), attested.attestation
            )
        except L1Revert as refusal:
            return refusal.error
        return "settled"
    finally:
        censor.close()


def exit_everyone(
    stack: DrillStack, state: ZkState, result: CensorshipResult, report: Report
) -> None:
    """Each account of the settled state exits; what L1 pays is held to its leaf."""
    for index, account in sorted(state.account_records.items()):
        if account.balance == 0:
            continue
        witness = compute_exit_inputs(state, index)
        proof = prove(load_circuit(witness.circuit), witness.inputs, witness.public_inputs)
        _, word, balance = witness.public_inputs
        statement = encode_op(SettledOp("exit", StateRoot(word), (balance,), proof))
        to = to_checksum_address(account.address.to_bytes(20, "big"))
        before = stack.rollup.get_token_balance(to)
        stack.rollup.exit(statement)
        paid = stack.rollup.get_token_balance(to) - before
        result.exited_accounts += 1
        if paid != account.balance:
            result.exit_mismatches += 1
        result.lost_wei += account.balance - paid
        report(f"account {index} exited with {paid / 10**18:,.4f} ZKPoW")


def run_censorship_drill(
    data_dir: Path, mode: Mode, report: Report = lambda line: None
) -> CensorshipResult:
    result = CensorshipResult(mode)
    with open_stack(data_dir) as stack, tempfile.TemporaryDirectory() as scratch:
        report("the sequencer settles blocks while it ignores one user")
        make_activity(stack)
        stack.settle(stack.make_block())
        force_withdrawal(stack)
        report("the user queued a Withdraw on L1; the sequencer does not read the queue")
        stack.move_time(DEV_ESCAPE.force_delay_s + 1)
        result.refusals["settle_past_forced"] = try_settling_past(stack, Path(scratch))
        report(f"settling past the due Withdraw: {result.refusals['settle_past_forced']}")
        if mode == "include":
            stack.read_forced()
            stack.settle(stack.make_block())
            queued, included = stack.rollup.get_forced_queue()
            result.forced_included = included == queued == 1
            report("the sequencer gave in: the Withdraw settled")
        else:
            stack.move_time(DEV_ESCAPE.freeze_delay_s)
            stack.rollup.freeze()
            result.frozen = stack.rollup.is_frozen()
            report("it kept refusing: the rollup is frozen; every account exits")
            state = stack.node.query.zk_state
            assert compute_state_root(state) == stack.rollup.get_settled_root()
            exit_everyone(stack, state, result, report)
    return result
