"""`duet drill malicious-sequencer`: the sequencer's own keys and the proving keys are not
enough to take users' assets on L1.

On a real dev stack (chain/drills/stack.py) a party that holds the sequencer's attestation
key and the ceremony's proving keys builds blocks by hand from the settled state, each proven
with real proofs and attested with the sequencer's key, and sends them to the rollup:

- a Withdraw of a victim's balance to itself and a Transfer from the victim, proven valid
  but signed by the attacker, not by the victim;
- a Release of more than the escrow (no true proof exists: it borrows another op's) and
  reward mints past the caps (a later epoch's, whose caps are fresh, spent now);
- an honest block attested as a later settlement (a skipped number), reordered, and cut in
  half, each under the attestation of the block as it was made.

Every attempt must be refused, each by its own rule; the report names the L1 error.
"""

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from eth_account import Account

from chain.drills.stack import (
    DrillStack,
    attempt,
    attest,
    forge_block,
    open_stack,
    sign_ops_with,
)
from chain.drills.stack import send as send_signed
from chain.l1.calldata import SettledOp
from chain.l1.op_signing import compute_op_signatures
from chain.zk.genesis import REWARD_COLLECTION
from chain.zk.ops import (
    Operation,
    Release,
    RewardMint,
    SetMinter,
    SignedBody,
    Transfer,
    Withdraw,
)
from chain.zk.state import get_account, get_collection

Report = Callable[[str], None]
VICTIM = 3  # dev accounts
COLLECTION_MINTER = 0  # the dev genesis's minter: hands the reward collection to a game
GAME = 0x6A3E6A3E6A3E6A3E6A3E6A3E6A3E6A3E6A3E6A3E  # the fast-chain game allowed to mint
HONEST_SENDERS = (1, 2)


@dataclass
class SequencerDrillResult:
    refusals: dict[str, str] = field(default_factory=dict)  # attempt → L1's error, or "settled"

    @property
    def settled_forgeries(self) -> int:
        return sum(1 for error in self.refusals.values() if error == "settled")

    @property
    def passed(self) -> bool:
        return bool(self.refusals) and self.settled_forgeries == 0

    def to_json(self) -> dict[str, Any]:
        return {
            "attempts": len(self.refusals),
            "settled_forgeries": self.settled_forgeries,
            "refusals": self.refusals,
        }


def send(stack: DrillStack, index: int, body: SignedBody) -> None:
    send_signed(stack.node, bytes(stack.account(index).key), body)


def prepare(stack: DrillStack) -> None:
    """The honest past: the reward collection handed to a fast-chain game, settled."""
    send(stack, COLLECTION_MINTER, SetMinter(REWARD_COLLECTION, GAME, fast_chain=1))
    stack.settle(stack.make_block())


def steal(stack: DrillStack, attacker: int, result: SequencerDrillResult) -> None:
    """Valid transitions the victim never signed: a Withdraw to the attacker, a Transfer."""
    state = stack.node.query.zk_state
    victim = int(stack.account(VICTIM).address, 16)
    account = get_account(state, victim)
    fee = stack.node.config.zk_min_fee
    thefts: dict[str, SignedBody] = {
        "withdraw_not_signed_by_from": Withdraw(attacker, account.balance - fee),
        "transfer_not_signed_by_from": Transfer(attacker, account.balance - fee),
    }
    for name, body in thefts.items():
        forged = forge_block(stack, [Operation(body, victim, fee, account.nonce)])
        signatures = sign_ops_with(stack, forged.ops, stack.sequencer_key)
        attestation = attest(stack, forged.header, forged.ops, [stack.sequencer_key])
        result.refusals[name] = attempt(
            stack.rollup, forged.header, forged.ops, signatures, attestation
        )


def break_the_bounds(stack: DrillStack, attacker: int, result: SequencerDrillResult) -> None:
    """A Release beyond the escrow (no proof of it exists: it borrows a true release's), and
    reward mints past the caps (true only in a later epoch, which resets them)."""
    state = stack.node.query.zk_state
    honest = forge_block(stack, [Operation(Release(state.inbox, attacker, 1), 0, 0, 0)])
    release = honest.ops[0]
    beyond = replace(release, words=(release.words[0], state.escrow + 1))
    key = [stack.sequencer_key]
    result.refusals["release_beyond_escrow"] = attempt(
        stack.rollup, honest.header, [beyond], b"", attest(stack, honest.header, [beyond], key)
    )
    collection = get_collection(state, REWARD_COLLECTION)
    # A round each (the round cap is lower), every one in the next epoch: the caps of a
    # later epoch, spent now.
    mints = [
        Operation(
            RewardMint(state.inbox + i, GAME, REWARD_COLLECTION, collection.round + i, attacker, i),
            0,
            0,
            0,
        )
        for i in range(collection.epoch_cap)
    ]
    later = forge_block(stack, mints, epoch_shift=1)
    attestation = attest(stack, later.header, later.ops, key)
    result.refusals["reward_mint_beyond_caps"] = attempt(
        stack.rollup, later.header, later.ops, b"", attestation
    )


def bend_an_honest_block(stack: DrillStack, result: SequencerDrillResult) -> None:
    """An honest block of two transfers, proven, then sent as a later settlement, reordered
    and halved under its own attestation (which names its number, its ops and its roots)."""
    for index in HONEST_SENDERS:
        send(stack, index, Transfer(int(stack.account(index + 4).address, 16), 10**18))
    block = stack.make_block()
    attested = stack.node.get_attestation(block.height)
    assert attested is not None
    signatures = compute_op_signatures(block.records)
    header, key = attested.header, [stack.sequencer_key]
    number = stack.rollup.get_settlement_count() + 1
    skipped = attest(stack, header, block.ops, key, number=number + 1)
    result.refusals["skipped_height"] = attempt(
        stack.rollup, header, block.ops, signatures, skipped
    )
    swapped: list[SettledOp] = [block.ops[1], block.ops[0]]
    half = signatures[: len(signatures) // 2]
    result.refusals["reordered_block"] = attempt(
        stack.rollup, header, swapped, signatures[65:] + signatures[:65], attested.attestation
    )
    result.refusals["split_block"] = attempt(
        stack.rollup, header, block.ops[:1], half, attested.attestation
    )
    stack.settle(block)  # as made and attested, it settles


def run_malicious_sequencer_drill(
    data_dir: Path, report: Report = lambda line: None
) -> SequencerDrillResult:
    result = SequencerDrillResult()
    with open_stack(data_dir) as stack:
        attacker = int(Account.from_key(stack.sequencer_key).address, 16)
        prepare(stack)
        report("the attacker holds the sequencer's key and the proving keys")
        steal(stack, attacker, result)
        break_the_bounds(stack, attacker, result)
        bend_an_honest_block(stack, result)
        for name, error in result.refusals.items():
            report(f"{name}: {error}")
    return result
