"""Dev-mode genesis of the ZK chain: funded dev accounts, the game-pass and reward collections.

The fast chain's genesis balances are ZKPoW too, so the same amount starts in escrow: the
fast chain never holds ZKPoW that the ZK chain has not locked for it.
"""

from collections.abc import Mapping
from dataclasses import replace

from chain.types import Address
from chain.zk.state import (
    AMOUNT_BITS,
    Account,
    Collection,
    ZkState,
    compute_stake_address,
    put_account,
    put_collection,
)

GAME_PASS_COLLECTION = 0
REWARD_COLLECTION = 1
COLLECTION_NAMES = {
    GAME_PASS_COLLECTION: ("Duet Game Pass", "DPASS"),
    REWARD_COLLECTION: ("Duet Reward", "DRWD"),
}
# A game pass is sold, not earned: its caps only bound a runaway minter key.
PASS_ROUND_CAP = 1_000
PASS_EPOCH_CAP = 1_000
# Rewards come from game rounds: at most this many per round, and per epoch across rounds.
ROUND_MINT_CAP = 3
EPOCH_MINT_CAP = 30


def compute_genesis_state(
    alloc: Mapping[int, int],
    minter: int,
    fast_chain_escrow: int,
    stakes: Mapping[int, int] | None = None,
) -> ZkState:
    """`alloc` maps addresses to ZKPoW balances (wei); `minter` may mint in both collections;
    `stakes` maps validators to their bonded stake (wei), in stake accounts after the others."""
    stakes = stakes or {}
    # The circuits range-check balances to 96 bits and caps to 32: a genesis beyond either
    # would make honest operations unprovable.
    amounts = [*alloc.values(), *stakes.values()]
    if any(not 0 <= balance < 1 << AMOUNT_BITS for balance in amounts):
        raise ValueError(f"genesis balances must be below 2^{AMOUNT_BITS} wei")
    if sum(amounts) + fast_chain_escrow >= 1 << AMOUNT_BITS:
        raise ValueError(f"total ZKPoW supply must stay below 2^{AMOUNT_BITS} wei")
    state = ZkState()
    accounts = [*alloc.items(), *((compute_stake_address(v), s) for v, s in stakes.items())]
    for index, (address, balance) in enumerate(accounts):
        put_account(state, index, Account(address, balance=balance))
    base = Collection(minter=minter)
    put_collection(
        state,
        GAME_PASS_COLLECTION,
        replace(base, round_cap=PASS_ROUND_CAP, epoch_cap=PASS_EPOCH_CAP),
    )
    put_collection(
        state, REWARD_COLLECTION, replace(base, round_cap=ROUND_MINT_CAP, epoch_cap=EPOCH_MINT_CAP)
    )
    state.escrow = fast_chain_escrow
    return state


def compute_dev_genesis_state(
    alloc: Mapping[Address, int], stakes: Mapping[int, int] | None = None
) -> ZkState:
    """A dev network's ZK genesis from its fast-chain alloc (address bytes → wei): the same
    accounts funded on the ZK chain, the first of them minter of both collections, and the
    fast chain's genesis balances in escrow; and a decentralized network's validators'
    `stakes` (address → wei). The node and `duet reconstruct` both start here."""
    return compute_genesis_state(
        {int.from_bytes(address, "big"): balance for address, balance in alloc.items()},
        minter=int.from_bytes(next(iter(alloc)), "big"),
        fast_chain_escrow=sum(alloc.values()),
        stakes=stakes,
    )
