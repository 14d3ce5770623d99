"""Each operation's circuit inputs beyond the shared ones (docs/zk-state.md, "Circuits").

Two kinds of function per operation, both pure over the trace that `apply_operation` left
(each touched leaf's record before and after, and its path), so no tree is walked again:

- `compute_*_fields`: the fields its words carry, by name (chain/zk/words.py packs them);
- `compute_*_inputs`: its circuit's private inputs besides the globals and the header's,
  from the trace and a `StateSummary` of the state before it (its roots and counters):
  all a circuit reads of the whole state, so the node keeps that rather than the state
  until a prover is served the job (chain/prover/witness_source.py).

The operation's `OpSpec` (chain/zk/registry.py) names which of them it uses;
chain/prover/witness.py assembles them into a whole witness.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, TypeAlias

from chain.zk.ops import GWEI, BlockContext, MarketSettle, Mint, Operation, RewardMint, Slash
from chain.zk.poseidon import poseidon
from chain.zk.state import BALANCE_OFFSET, Account, Collection, Nft, Prover, Touch, ZkState
from chain.zk.words import InvalidWitness

# An int, a Merkle path (list[list[int]]), or a list of either, one per entry of a settlement.
SignalValue: TypeAlias = int | list[int] | list[list[int]] | list[list[list[int]]]
CircuitInputs: TypeAlias = dict[str, SignalValue]


@dataclass(frozen=True)
class StateSummary:
    """What a circuit reads of a whole state besides the leaves it touches: the four tree
    roots and the three global counters, which the state root hashes together."""

    accounts_root: int
    nfts_root: int
    collections_root: int
    provers_root: int
    fee_pool: int
    escrow: int
    inbox: int


def compute_state_summary(state: ZkState) -> StateSummary:
    return StateSummary(
        accounts_root=state.accounts.root,
        nfts_root=state.nfts.root,
        collections_root=state.collections.root,
        provers_root=state.provers.root,
        fee_pool=state.fee_pool,
        escrow=state.escrow,
        inbox=state.inbox,
    )


def compute_summary_globals_hash(pre: StateSummary) -> int:
    """The globals' part of the state root (chain/zk/state.py, compute_globals_hash)."""
    return poseidon(pre.fee_pool, pre.escrow, pre.inbox)


# -- the words' fields --------------------------------------------------------------------------


def compute_header_fields(op: Operation, signer: Touch) -> dict[str, int]:
    """The first word of every signed operation: who signed it, from which leaf, and what for."""
    if op.fee % GWEI:
        raise InvalidWitness(f"fee {op.fee} wei is not a whole number of gwei")
    return {
        "from": op.signer,
        "fromIndex": signer.index,
        "nonce": op.nonce,
        "feeGwei": op.fee // GWEI,
    }


def compute_mint_fields(body: Mint | RewardMint, ctx: BlockContext, token: Touch) -> dict[str, int]:
    """A new token's fields; its key comes from the trace (serial = the collection's supply)."""
    return {
        "to": body.to,
        "tokenKey": token.index,
        "round": body.round,
        "epoch": ctx.epoch,
        "metadata": body.metadata,
    }


def compute_settle_fields(body: MarketSettle) -> dict[str, int]:
    fields = {"paid": body.paid}
    for i, entry in enumerate(body.entries):
        fields[f"proverIndex{i}"] = entry.prover
        fields[f"deltaOffset{i}"] = entry.delta + BALANCE_OFFSET
    return fields


def compute_slash_fields(body: Slash, stake: Touch) -> dict[str, int]:
    before, after = get_account_record(stake, "before"), get_account_record(stake, "after")
    return {
        "validator": body.validator,
        "stakeIndex": stake.index,
        "bondedSlashed": before.balance - after.balance,
    }


def compute_seller_fields(seller: Touch) -> dict[str, int]:
    """A buy's seller, as the credit to it left its account leaf."""
    return {"seller": get_account_record(seller, "after").address, "sellerIndex": seller.index}


# -- the private inputs -------------------------------------------------------------------------


def compute_transfer_inputs(pre: StateSummary, trace: Sequence[Touch]) -> CircuitInputs:
    return {
        "nftsRoot": pre.nfts_root,
        "collectionsRoot": pre.collections_root,
        **compute_account_inputs("recipient", trace[1]),
    }


def compute_mint_inputs(pre: StateSummary, trace: Sequence[Touch]) -> CircuitInputs:
    return compute_new_token_inputs(trace[1], trace[2])


def compute_new_token_inputs(collection: Touch, token: Touch) -> CircuitInputs:
    """A mint's two writes (lib/mint.circom): the collection before it, whose minter the
    circuit knows already and whose supply is the serial, and the two paths."""
    return {
        **compute_collection_inputs(get_collection_record(collection)),
        "collectionPath": collection.path,
        "nftPath": token.path,
    }


def compute_collection_inputs(collection: Collection) -> CircuitInputs:
    """A collection's caps and counts, which a mint counts on and a new minter keeps."""
    return {
        "roundCap": collection.round_cap,
        "epochCap": collection.epoch_cap,
        "collectionRound": collection.round,
        "roundCount": collection.round_count,
        "collectionEpoch": collection.epoch,
        "epochCount": collection.epoch_count,
    }


def compute_nft_write_inputs(pre: StateSummary, trace: Sequence[Touch]) -> CircuitInputs:
    """transfer_nft, list and cancel: the header, then one write to the token."""
    token = get_nft_record(trace[1])
    return {
        "collectionsRoot": pre.collections_root,
        "metadata": token.metadata,
        "price": token.price,
        "nftPath": trace[1].path,
    }


def compute_buy_inputs(pre: StateSummary, trace: Sequence[Touch]) -> CircuitInputs:
    return {
        "collectionsRoot": pre.collections_root,
        **compute_account_inputs("seller", trace[1]),
        "metadata": get_nft_record(trace[2]).metadata,
        "nftPath": trace[2].path,
    }


def compute_header_only_inputs(pre: StateSummary, trace: Sequence[Touch]) -> CircuitInputs:
    """to_fast and withdraw: the header's write alone; the other trees stay as they were."""
    return {"nftsRoot": pre.nfts_root, "collectionsRoot": pre.collections_root}


def compute_set_minter_inputs(pre: StateSummary, trace: Sequence[Touch]) -> CircuitInputs:
    collection = get_collection_record(trace[1])
    return {
        "nftsRoot": pre.nfts_root,
        **compute_collection_inputs(collection),
        "supply": collection.supply,
        "collectionPath": trace[1].path,
    }


def compute_register_key_inputs(pre: StateSummary, trace: Sequence[Touch]) -> CircuitInputs:
    """The signer's path again, after the header's write: the keyHash's write starts there."""
    return {
        "nftsRoot": pre.nfts_root,
        "collectionsRoot": pre.collections_root,
        "keyPath": trace[1].path,
    }


def compute_credit_inputs(pre: StateSummary, trace: Sequence[Touch]) -> CircuitInputs:
    """release and deposit: no header, one credit against the pre-state's accounts root."""
    return {
        "accountsRoot": pre.accounts_root,
        "nftsRoot": pre.nfts_root,
        "collectionsRoot": pre.collections_root,
        **compute_account_inputs("recipient", trace[0]),
    }


def compute_reward_mint_inputs(pre: StateSummary, trace: Sequence[Touch]) -> CircuitInputs:
    return {"accountsRoot": pre.accounts_root, **compute_new_token_inputs(trace[0], trace[1])}


def compute_account_inputs(prefix: str, credit: Touch) -> CircuitInputs:
    """A credited account's slot before the credit (all zero for one that opens now)."""
    account = get_account_record(credit, "before")
    return {
        f"{prefix}Address": account.address,
        f"{prefix}Balance": account.balance,
        f"{prefix}Nonce": account.nonce,
        f"{prefix}KeyHash": account.key_hash,
        f"{prefix}Path": credit.path,
    }


def compute_heartbeat_inputs(pre: StateSummary, trace: Sequence[Touch]) -> CircuitInputs:
    """The header, then the signer's own prover slot as it was before."""
    prover = get_prover_record(trace[1])
    return {
        "nftsRoot": pre.nfts_root,
        "collectionsRoot": pre.collections_root,
        "proverAddress": prover.address,
        "proverBalanceOffset": prover.balance_offset,
        "proverActiveUntil": prover.active_until,
        "proverPath": trace[1].path,
    }


def compute_market_settle_inputs(pre: StateSummary, trace: Sequence[Touch]) -> CircuitInputs:
    """Each entry's prover slot before its write (an entry's path is in the tree that the
    previous entry left)."""
    provers = [get_prover_record(touch) for touch in trace]
    return {
        "accountsRoot": pre.accounts_root,
        "nftsRoot": pre.nfts_root,
        "collectionsRoot": pre.collections_root,
        "proverAddress": [prover.address for prover in provers],
        "proverBalanceOffset": [prover.balance_offset for prover in provers],
        "proverActiveUntil": [prover.active_until for prover in provers],
        "proverPath": [touch.path for touch in trace],
    }


def compute_stake_inputs(stake: Touch) -> CircuitInputs:
    """A stake account before its write (chain/zk/state.py, STAKE_FLAG): bonded, unbonding,
    unlock epoch, and its path."""
    account = get_account_record(stake, "before")
    return {
        "stakeBonded": account.balance,
        "stakeUnbonding": account.nonce,
        "stakeUnlockEpoch": account.key_hash,
        "stakePath": stake.path,
    }


def compute_stake_write_inputs(pre: StateSummary, trace: Sequence[Touch]) -> CircuitInputs:
    """unbond: the header, then the signer's stake account."""
    return {
        "nftsRoot": pre.nfts_root,
        "collectionsRoot": pre.collections_root,
        **compute_stake_inputs(trace[1]),
    }


def compute_stake_claim_inputs(pre: StateSummary, trace: Sequence[Touch]) -> CircuitInputs:
    """claim_stake: the header, the stake account, then the signer's path again (its leaf
    there is the header's new one)."""
    return {**compute_stake_write_inputs(pre, trace), "claimPath": trace[2].path}


def compute_slash_inputs(pre: StateSummary, trace: Sequence[Touch]) -> CircuitInputs:
    """slash: no header, one write to the validator's stake account."""
    return {
        "accountsRoot": pre.accounts_root,
        "nftsRoot": pre.nfts_root,
        "collectionsRoot": pre.collections_root,
        **compute_stake_inputs(trace[0]),
    }


# -- the trace's records ------------------------------------------------------------------------


def get_account_record(touch: Touch, when: Literal["before", "after"]) -> Account:
    record = touch.before if when == "before" else touch.after
    if not isinstance(record, Account):
        raise InvalidWitness(f"expected an account write, got {record}")
    return record


def get_nft_record(touch: Touch) -> Nft:
    if not isinstance(touch.before, Nft):
        raise InvalidWitness(f"expected a token write, got {touch.before}")
    return touch.before


def get_collection_record(touch: Touch) -> Collection:
    if not isinstance(touch.before, Collection):
        raise InvalidWitness(f"expected a collection write, got {touch.before}")
    return touch.before


def get_prover_record(touch: Touch) -> Prover:
    if not isinstance(touch.before, Prover):
        raise InvalidWitness(f"expected a prover write, got {touch.before}")
    return touch.before
