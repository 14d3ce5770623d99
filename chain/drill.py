"""`duet drill fast-chain-compromise`: what a fast chain gone bad can cost, measured.

The fast chain is not proven, so the design assumes it can be taken over (DESIGN.md, "Cross-
chain and the damage bound"). This drill runs a real node, lets users move ZKPoW onto the
fast chain, then has the fast chain turn: its blocks carry forged messages that no
transaction sent (releases to the attacker, more than the escrow, replays of applied messages,
mass reward-mint requests in the authorised game's name, requests from a stranger). Every
forged message goes through the ZK chain's real rules. The report shows, per user, what they
had on the fast chain (all of it at the attacker's mercy) against what they lost on the ZK
chain, and what the attacker took against the bound: the escrow plus the mint caps.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from eth_account import Account as EthAccount

from chain.fast.genesis import dev_keys
from chain.ledger.blocks import seal
from chain.ledger.messages import ReleaseMessage, RewardMessage, encode_message
from chain.node import open_node
from chain.types import Address
from chain.zk.genesis import GAME_PASS_COLLECTION, REWARD_COLLECTION
from chain.zk.ops import SetMinter, SignedBody, ToFast
from chain.zk.signing import format_signed_operation, sign_operation
from chain.zk.state import FAST_MINTER, get_account, get_account_index, get_collection

ZKPOW = 10**18
DRILL_USERS = 4  # dev accounts 1..4; account 0 is the collections' minter
MOVED_PER_USER = (25 * ZKPOW, 10 * ZKPOW, 3 * ZKPOW, 0)  # ZkToFast on top of the genesis balance
MASS_MINT_REQUESTS = 100  # reward requests the compromised fast chain sends in one epoch
MINTS_PER_FORGED_ROUND = 5  # more than the round cap, in every round
COLLECTIONS = (GAME_PASS_COLLECTION, REWARD_COLLECTION)
# Addresses the compromised fast chain speaks for: its "game" (made the reward minter before
# the compromise, as a real game would be) and the attacker who collects.
GAME = Address(bytes.fromhex("6a3e" * 10))
ATTACKER = Address(bytes.fromhex("bad0" * 10))
STRANGER = Address(bytes.fromhex("5e1f" * 10))

Report = Callable[[str], None]


@dataclass
class UserLine:
    address: str
    zk_before: int
    on_fast: int  # the fast-chain balance when it turned: what the user could lose
    zk_after: int

    @property
    def zk_lost(self) -> int:
        return self.zk_before - self.zk_after


@dataclass
class DrillResult:
    users: list[UserLine]
    escrow_before: int
    released_to_attacker: int
    rewards_to_attacker: int  # tokens of any collection
    epoch_caps: dict[int, int]  # collection → its per-epoch cap
    epochs: int
    refusals: dict[str, int] = field(default_factory=dict)  # reason → count

    @property
    def mint_bound(self) -> int:
        """Only collections handed to a fast-chain contract can be minted from there."""
        return sum(self.epoch_caps.values()) * self.epochs

    @property
    def within_bound(self) -> bool:
        return (
            self.released_to_attacker <= self.escrow_before
            and self.rewards_to_attacker <= self.mint_bound
            and all(u.zk_lost <= 0 for u in self.users)
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "users": [
                {
                    "address": u.address,
                    "zkBefore": u.zk_before,
                    "onFastChain": u.on_fast,
                    "zkAfter": u.zk_after,
                    "zkLost": u.zk_lost,
                }
                for u in self.users
            ],
            "escrowBefore": self.escrow_before,
            "releasedToAttacker": self.released_to_attacker,
            "rewardsToAttacker": self.rewards_to_attacker,
            "epochCaps": {str(c): cap for c, cap in self.epoch_caps.items()},
            "mintBound": self.mint_bound,
            "refusals": self.refusals,
            "withinBound": self.within_bound,
        }


class Drill:
    def __init__(self, data_dir: Path, report: Report = lambda line: None) -> None:
        self.node = open_node(data_dir)
        self.report = report
        self.keys = dev_keys()
        self.seq = 0  # the compromised fast chain's own message numbers

    def close(self) -> None:
        self.node.close()

    # -- driving the node -------------------------------------------------------------------

    def send(self, key: bytes, body: SignedBody) -> None:
        node = self.node
        signer = int(EthAccount.from_key(key).address, 16)
        nonce = node.query.get_zk_pending_nonce(signer)
        index = get_account_index(node.query.zk_state, signer) or 0  # none: refused anyway
        fee, domain = node.config.zk_min_fee, node.query.signing_domain
        signed = sign_operation(body, fee, nonce, domain, key, index)
        node.submit_operation(format_signed_operation(signed))

    def settle(self) -> None:
        """A ZK block, then the fast block that delivers its messages."""
        self.node.produce_zk_block()
        self.node.produce_fast_block()

    def forge(self, messages: list[bytes]) -> None:
        """A fast block carrying `messages` that no transaction sent, then the ZK block that
        takes them: what a compromised fast chain's sequencer can do."""
        node = self.node
        fast = node.make_fast_block([], 0)
        block = seal(replace(fast.block, messages=(*fast.block.messages, *messages)))
        node.commit_fast_block(replace(fast, block=block, emitted=[*fast.emitted, *messages]))
        node.produce_zk_block()

    def release(self, amount: int) -> bytes:
        message = encode_message(ReleaseMessage(self.seq, GAME, ATTACKER, amount))
        self.seq += 1
        return message

    def reward(self, sender: Address, collection: int, round_: int) -> bytes:
        message = encode_message(RewardMessage(self.seq, sender, collection, round_, ATTACKER, 1))
        self.seq += 1
        return message

    # -- the drill ----------------------------------------------------------------------------

    def run(self) -> DrillResult:
        node = self.node
        users = [EthAccount.from_key(k).address for k in self.keys[1 : 1 + DRILL_USERS]]
        self.report("honest phase: the game becomes the reward minter, users move ZKPoW over")
        game = int.from_bytes(GAME, "big")
        self.send(self.keys[0], SetMinter(REWARD_COLLECTION, game, fast_chain=1))
        for key, address, amount in zip(self.keys[1:], users, MOVED_PER_USER, strict=False):
            if amount:
                self.send(key, ToFast(int(address, 16), amount))
        self.settle()
        self.settle()  # the root messages of the first block, delivered
        before = {a: self.zk_balance(a) for a in users}
        on_fast = {a: node.account(Address(bytes.fromhex(a[2:]))).balance for a in users}
        escrow_before = node.query.zk_state.escrow
        attacker_before = self.zk_balance(ATTACKER)
        self.report(f"the fast chain turns; escrow {escrow_before / ZKPOW:,.2f} ZKPoW")

        self.report("forged releases: more than the escrow, then the escrow in halves, then more")
        first = self.release(escrow_before // 2)
        self.forge([self.release(escrow_before + 1), first])
        self.report("replays of an applied release")
        self.forge([first, first])
        self.forge([self.release(escrow_before - escrow_before // 2), self.release(1)])
        minters = {c: get_collection(node.query.zk_state, c).minter for c in COLLECTIONS}
        for collection, minter in minters.items():
            self.report(
                f"{MASS_MINT_REQUESTS} mint requests for collection {collection} "
                f"in its minter's name"
            )
            sender = Address((minter % FAST_MINTER).to_bytes(20, "big"))
            rounds = range(MASS_MINT_REQUESTS // MINTS_PER_FORGED_ROUND)
            mass = [
                self.reward(sender, collection, r)
                for r in rounds
                for _ in range(MINTS_PER_FORGED_ROUND)
            ]
            self.forge(mass)
        self.report("requests from a contract that is not the minter")
        self.forge([self.reward(STRANGER, GAME_PASS_COLLECTION, 0) for _ in range(3)])
        self.settle()

        rewards = sum(
            1
            for nft in node.query.zk_state.nft_records.values()
            if nft.owner == int(ATTACKER.hex(), 16)
        )
        return DrillResult(
            users=[UserLine(a, before[a], on_fast[a], self.zk_balance(a)) for a in users],
            escrow_before=escrow_before,
            released_to_attacker=self.zk_balance(ATTACKER) - attacker_before,
            rewards_to_attacker=rewards,
            epoch_caps={
                c: get_collection(node.query.zk_state, c).epoch_cap
                for c in COLLECTIONS
                if get_collection(node.query.zk_state, c).minter >= FAST_MINTER
            },
            epochs=1,  # the whole drill runs within one epoch of ZK blocks
            refusals=self.count_refusals(),
        )

    def zk_balance(self, address: str | bytes) -> int:
        value = int(address, 16) if isinstance(address, str) else int.from_bytes(address, "big")
        return get_account(self.node.query.zk_state, value).balance

    def count_refusals(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for seq in range(self.seq):
            for record in self.node.query.list_zk_messages(seq):
                if record.refused is not None:
                    # "message 4 is a replay: ..." and the like, counted as one reason
                    reason = re.sub(r"\d+", "N", record.refused.split(":")[0])
                    counts[reason] = counts.get(reason, 0) + 1
        return counts


def run_compromise_drill(data_dir: Path, report: Report = lambda line: None) -> DrillResult:
    drill = Drill(data_dir, report)
    try:
        return drill.run()
    finally:
        drill.close()
