"""States and transitions for the circuit tests, made by the real state machine (chain/zk).

A valid transition comes from `apply_operation` (`run`; it, the test genesis and its signers
live in `chain.testing.proven_blocks`, which the settlement benchmark shares). A forged one
(`forge`) comes from the same code with its rules switched off and its arithmetic taken
modulo p: exactly the writes that a circuit missing a rule would accept, so the circuit alone
must reject them.

The circuit tests import the shared names (the genesis, its signers, `run`) from here, with
the rest of their scenarios.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any
from unittest.mock import patch

from chain.prover.ownership import compute_key_hash
from chain.testing.proven_blocks import (
    ALICE,
    BOB,
    CTX,
    ETHER,
    FEE,
    MINTER,
    Transition,
    compute_test_genesis,
    make_op,
    run,
)
from chain.testing.proven_blocks import CAROL as CAROL
from chain.testing.proven_blocks import EPOCH_CAPPED_COLLECTION as EPOCH_CAPPED_COLLECTION
from chain.testing.proven_blocks import FIRST_SEQ as FIRST_SEQ
from chain.testing.proven_blocks import SIGNER_KEYS as SIGNER_KEYS
from chain.zk import ops
from chain.zk.genesis import REWARD_COLLECTION
from chain.zk.ops import (
    MARKET_ENTRIES,
    UNUSED_ENTRY,
    BlockContext,
    Buy,
    Deposit,
    Heartbeat,
    ListNft,
    MarketSettle,
    MessageBody,
    Mint,
    OpBody,
    Operation,
    RegisterKey,
    RewardMint,
    SetMinter,
    SettleEntry,
    Transfer,
)
from chain.zk.poseidon import FIELD_MODULUS
from chain.zk.state import (
    BALANCE_OFFSET,
    Prover,
    Touch,
    ZkState,
    compute_token_key,
    put_account,
    put_prover,
)

REWARDER = 0xFA57000000000000000000000000000000C0FFEE  # a fast-chain contract: it mints by message
REWARD_ROUND = 5
# An L1 deposit number: the rollup keeps the deposit queue, the ZK state holds no counter of it.
FIRST_DEPOSIT = 4
FIRST_REWARD = compute_token_key(REWARD_COLLECTION, 0)
LIST_PRICE = 3 * ETHER
# Alice's ownership secret (chain/zk/ownership.py derives a real one from her key's signature).
SECRET = 0x5EC2E7_A11CE
# The market's heartbeats keep a prover active through here (the node's rule: height + 30).
ACTIVE_UNTIL = CTX.height + 30
BOUNTY = 3 * FEE  # a bounty, and a penalty, small enough for the fee pool of a few ops
PENALTY = 10 * FEE


def run_all(state: ZkState, steps: list[tuple[int, OpBody]], ctx: BlockContext = CTX) -> ZkState:
    for signer, body in steps:
        state = run(state, make_op(state, signer, body), ctx).post
    return state


def make_message(body: MessageBody) -> Operation:
    """A fast-chain message as the chain applies it: nobody signs it and nobody pays a fee."""
    return Operation(body, signer=0, fee=0, nonce=0)


def deliver(state: ZkState, body: MessageBody, ctx: BlockContext = CTX) -> Transition:
    return run(state, make_message(body), ctx)


def make_settle(paid: int, *entries: tuple[int, int]) -> Operation:
    """A market settlement of (prover index, delta) entries, padded with unused ones."""
    padding = (UNUSED_ENTRY,) * (MARKET_ENTRIES - len(entries))
    body = MarketSettle(paid, (*(SettleEntry(i, d) for i, d in entries), *padding))
    return Operation(body, signer=0, fee=0, nonce=0)


def make_deposit(to: int, amount: int, index: int = FIRST_DEPOSIT) -> Operation:
    """L1 deposit `index` as the chain applies it: nobody signs it and nobody pays a fee."""
    return Operation(Deposit(index, to, amount), signer=0, fee=0, nonce=0)


def reward(state: ZkState, collection: int, round_: int, to: int = BOB) -> RewardMint:
    """REWARDER's request for a token, numbered as the next message the chain expects."""
    return RewardMint(state.inbox, REWARDER, collection, round_, to, metadata=0xD1CE)


@contextmanager
def rules_disabled() -> Iterator[None]:
    def replace_in_field(record: Any, **changes: int) -> Any:
        in_field = {k: v % FIELD_MODULUS for k, v in changes.items()}
        if isinstance(record, Prover) and "balance" in changes:  # the leaf holds balance + 2^127
            in_field["balance"] = (changes["balance"] + BALANCE_OFFSET) % FIELD_MODULUS
            in_field["balance"] -= BALANCE_OFFSET
        return dataclasses.replace(record, **in_field)

    def ignore(condition: bool, error_type: type[Exception], message: str) -> None:
        pass

    with patch.object(ops, "ensure", ignore), patch.object(ops, "replace", replace_in_field):
        yield


def forge(state: ZkState, op: Operation, ctx: BlockContext = CTX) -> Transition:
    """What `op` would write if no rule stopped it."""
    with rules_disabled():
        transition = run(state, op, ctx)
    wrap_globals(transition.post)
    return transition


def forge_with(
    state: ZkState, op: Operation, process: Callable[[ZkState, list[Touch]], None]
) -> Transition:
    """A transition whose writes `process` makes by hand, for forgeries that `forge` cannot
    express (a credit into the wrong slot, a token minted off its serial)."""
    post = state.copy()
    trace: list[Touch] = []
    with rules_disabled():
        process(post, trace)
    wrap_globals(post)
    return Transition(state, op, CTX, post, trace)


def wrap_globals(state: ZkState) -> None:
    """The global counters taken modulo p, as a circuit computes them (an escrow released
    beyond what it holds wraps to p - x)."""
    state.fee_pool %= FIELD_MODULUS
    state.escrow %= FIELD_MODULUS
    state.inbox %= FIELD_MODULUS


def compute_minted_state() -> ZkState:
    """Genesis, then the minter gives Alice the first reward token."""
    mint = Mint(REWARD_COLLECTION, ALICE, metadata=0xC0FFEE, round=REWARD_ROUND)
    return run_all(compute_test_genesis(), [(MINTER, mint)])


def compute_rewarder_state(*collections: int) -> ZkState:
    """Genesis, then the minter hands `collections` (default: the rewards) to REWARDER, as a
    fast-chain contract: its messages mint."""
    handovers: list[tuple[int, OpBody]] = [
        (MINTER, SetMinter(c, REWARDER, fast_chain=1)) for c in collections or [REWARD_COLLECTION]
    ]
    return run_all(compute_test_genesis(), handovers)


def with_account(state: ZkState, address: int) -> ZkState:
    """`state` after Alice sends `address` 1 ZKPoW, which opens its account: it can sign."""
    return run_all(state, [(ALICE, Transfer(address, ETHER))])


def compute_registered_state() -> ZkState:
    """The minted state, then Alice registers the hash of her secret: she can prove she owns
    the first reward token."""
    return run_all(compute_minted_state(), [(ALICE, RegisterKey(compute_key_hash(SECRET)))])


def compute_listed_state(price: int = LIST_PRICE) -> ZkState:
    """The first reward token, Alice's, listed at `price`."""
    return run_all(compute_minted_state(), [(ALICE, ListNft(FIRST_REWARD, price))])


def compute_bought(state: ZkState, buyer: int = BOB) -> Transition:
    return run(state, make_op(state, buyer, Buy(FIRST_REWARD, LIST_PRICE)))


def with_balance(state: ZkState, index: int, balance: int) -> ZkState:
    """`state` with one account's balance set (e.g. near 2^96), rebuilt through the trees."""
    changed = state.copy()
    put_account(changed, index, replace(changed.account_records[index], balance=balance))
    return changed


def compute_prover_state() -> ZkState:
    """Genesis, then Alice (prover 0) and Bob (prover 1) send their first heartbeats: the fee
    pool holds their fees, 2 FEE. Carol is no prover."""
    beat = Heartbeat(ACTIVE_UNTIL)
    return run_all(compute_test_genesis(), [(ALICE, beat), (BOB, beat)])


STAKE = 20 * ETHER  # what Alice bonds in the stake scenarios
UNBONDED = 8 * ETHER  # what she then unbonds


def compute_bonded_state() -> ZkState:
    """Genesis, then Alice bonds STAKE: her stake account opens at the next free index."""
    return run_all(compute_test_genesis(), [(ALICE, ops.Bond(STAKE))])


def compute_unbonding_state() -> ZkState:
    """The bonded state, then Alice unbonds UNBONDED in CTX's epoch: claimable from
    CTX.epoch + UNBONDING_EPOCHS."""
    return run_all(compute_bonded_state(), [(ALICE, ops.Unbond(UNBONDED))])


def compute_unlocked_ctx() -> BlockContext:
    """The first block context in which the unbonding state's stake may be claimed."""
    return replace(CTX, epoch=CTX.epoch + ops.UNBONDING_EPOCHS)


def compute_settled_state() -> ZkState:
    """The prover state, then one settlement: Alice earned BOUNTY, Bob was penalised, and
    more fees came in to pay for it."""
    state = compute_prover_state()
    state.fee_pool += 10 * FEE
    return run(state, make_settle(BOUNTY, (0, BOUNTY), (1, -PENALTY))).post


def with_prover_balance(state: ZkState, index: int, balance: int) -> ZkState:
    """`state` with one prover's market balance set (e.g. at the edge of its range)."""
    changed = state.copy()
    put_prover(changed, index, dataclasses.replace(changed.prover_records[index], balance=balance))
    return changed
