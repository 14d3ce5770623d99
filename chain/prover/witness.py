"""Circuit inputs for the ZK chain's operations (docs/zk-state.md, "Public inputs", "Circuits").

After `apply_operation(pre, op, ctx)` returns `(post, trace)`, `compute_witness(pre, op, ctx,
post, trace)` gives what the operation's circuit (`contracts/circuits/<name>.circom`) takes:
every input signal by name, and the public inputs in the verifier's order. Everything here is
pure: the trace already holds each touched leaf's record and path, so no tree is walked again.

The operation's fields travel as words of public input, packed little-endian (the first field
takes the lowest bits). `pack_word` / `unpack_word` do that for anyone who reads them back:
tests, and whoever rebuilds the state from the L1 calldata.
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, TypeAlias, get_args

from chain.prover.errors import ProverError
from chain.zk.ops import (
    FEE_GWEI_BITS,
    GWEI,
    MARKET_ENTRIES,
    BlockContext,
    Buy,
    CancelListing,
    Deposit,
    Heartbeat,
    ListNft,
    MarketSettle,
    Mint,
    Operation,
    RegisterKey,
    Release,
    RewardMint,
    SetMinter,
    ToFast,
    Transfer,
    TransferNft,
    Withdraw,
    is_unsigned,
)
from chain.zk.poseidon import FIELD_MODULUS
from chain.zk.state import (
    ACCOUNT_LEVELS,
    ACTIVE_UNTIL_BITS,
    ADDRESS_BITS,
    AMOUNT_BITS,
    BALANCE_OFFSET,
    COLLECTION_LEVELS,
    NFT_LEVELS,
    NONCE_BITS,
    PROVER_BALANCE_BITS,
    PROVER_LEVELS,
    ROUND_BITS,
    SEQ_BITS,
    Account,
    Collection,
    Nft,
    Prover,
    Touch,
    TreeName,
    ZkState,
    compute_state_root,
)

CircuitName = Literal[
    "transfer",
    "mint",
    "transfer_nft",
    "list",
    "cancel",
    "buy",
    "to_fast",
    "set_minter",
    "register_key",
    "release",
    "reward_mint",
    # Circuit ids are indices here, and the rollup knows each circuit by its id: a new
    # circuit goes at the end.
    "deposit",
    "withdraw",
    "heartbeat",
    "market_settle",
]
CIRCUIT_NAMES: tuple[CircuitName, ...] = get_args(CircuitName)
# Circuits that prove a statement about one state rather than an operation: the ceremony
# builds them beside the operations', but none of the tables below lists them. `exit` and
# `refuse_withdraw` are L1's escape hatch and forced inclusion (chain/prover/escape.py).
StatementName = Literal["ownership", "exit", "refuse_withdraw"]
STATEMENT_NAMES: tuple[StatementName, ...] = get_args(StatementName)

ACCOUNT_INDEX_BITS = 2 * ACCOUNT_LEVELS
TOKEN_KEY_BITS = 2 * NFT_LEVELS
COLLECTION_BITS = 2 * COLLECTION_LEVELS
PROVER_INDEX_BITS = 2 * PROVER_LEVELS
WHOLE_FIELD = 254  # the width of a field that is any field element (metadata, keyHash)

CIRCUIT_OF_BODY: dict[type, CircuitName] = {
    Transfer: "transfer",
    Mint: "mint",
    TransferNft: "transfer_nft",
    ListNft: "list",
    CancelListing: "cancel",
    Buy: "buy",
    ToFast: "to_fast",
    SetMinter: "set_minter",
    RegisterKey: "register_key",
    Release: "release",
    RewardMint: "reward_mint",
    Deposit: "deposit",
    Withdraw: "withdraw",
    Heartbeat: "heartbeat",
    MarketSettle: "market_settle",
}

# A word's fields, lowest bits first: (name, width in bits). Names are unique across one
# circuit's words, so a circuit's fields read as one flat mapping.
Layout: TypeAlias = tuple[tuple[str, int], ...]
HEADER_LAYOUT: Layout = (
    ("from", ADDRESS_BITS),
    ("fromIndex", ACCOUNT_INDEX_BITS),
    ("nonce", NONCE_BITS),
    ("feeGwei", FEE_GWEI_BITS),
)
# A mint's own fields, the same whether the minter signs it or the fast chain sends it.
MINT_LAYOUTS: tuple[Layout, ...] = (
    (
        ("to", ADDRESS_BITS),
        ("tokenKey", TOKEN_KEY_BITS),
        ("round", ROUND_BITS),
        ("epoch", ROUND_BITS),
    ),
    (("metadata", WHOLE_FIELD),),
)
WORD_LAYOUTS: dict[CircuitName, tuple[Layout, ...]] = {
    "transfer": (
        HEADER_LAYOUT,
        (("to", ADDRESS_BITS), ("toIndex", ACCOUNT_INDEX_BITS)),
        (("amount", AMOUNT_BITS),),
    ),
    "mint": (HEADER_LAYOUT, *MINT_LAYOUTS),
    "transfer_nft": (HEADER_LAYOUT, (("to", ADDRESS_BITS), ("tokenKey", TOKEN_KEY_BITS))),
    "list": (HEADER_LAYOUT, (("tokenKey", TOKEN_KEY_BITS), ("price", AMOUNT_BITS))),
    "cancel": (HEADER_LAYOUT, (("tokenKey", TOKEN_KEY_BITS),)),
    "buy": (
        HEADER_LAYOUT,
        (
            ("seller", ADDRESS_BITS),
            ("sellerIndex", ACCOUNT_INDEX_BITS),
            ("tokenKey", TOKEN_KEY_BITS),
        ),
        (("price", AMOUNT_BITS),),
    ),
    "to_fast": (HEADER_LAYOUT, (("to", ADDRESS_BITS),), (("amount", AMOUNT_BITS),)),
    "set_minter": (
        HEADER_LAYOUT,
        (("collection", COLLECTION_BITS), ("minter", ADDRESS_BITS), ("fastChain", 1)),
    ),
    "register_key": (HEADER_LAYOUT, (("keyHash", WHOLE_FIELD),)),
    # A fast-chain message has no header: its first word starts with its message number.
    "release": (
        (("seq", SEQ_BITS), ("to", ADDRESS_BITS), ("toIndex", ACCOUNT_INDEX_BITS)),
        (("amount", AMOUNT_BITS),),
    ),
    "reward_mint": ((("seq", SEQ_BITS), ("sender", ADDRESS_BITS)), *MINT_LAYOUTS),
    # A deposit has no header either: its first word starts with the rollup's deposit number.
    "deposit": (
        (("index", SEQ_BITS), ("to", ADDRESS_BITS), ("toIndex", ACCOUNT_INDEX_BITS)),
        (("amount", AMOUNT_BITS),),
    ),
    "withdraw": (HEADER_LAYOUT, (("to", ADDRESS_BITS),), (("amount", AMOUNT_BITS),)),
    "heartbeat": (
        HEADER_LAYOUT,
        (("proverIndex", PROVER_INDEX_BITS), ("activeUntil", ACTIVE_UNTIL_BITS)),
    ),
    # A settlement has no header either: what it pays, then one word per entry (the delta
    # signed through its offset). An entry names its prover by index alone: the heartbeat that
    # made the prover put its address and index in its words.
    "market_settle": (
        (("paid", AMOUNT_BITS),),
        *(
            ((f"proverIndex{i}", PROVER_INDEX_BITS), (f"deltaOffset{i}", PROVER_BALANCE_BITS))
            for i in range(MARKET_ENTRIES)
        ),
    ),
}
PROVERS_WRITES: tuple[TreeName, ...] = ("provers",)
# The trees that each operation writes, in trace (and circuit) order.
TRACE_TREES: dict[CircuitName, tuple[TreeName, ...]] = {
    "transfer": ("accounts", "accounts"),
    "mint": ("accounts", "collections", "nfts"),
    "transfer_nft": ("accounts", "nfts"),
    "list": ("accounts", "nfts"),
    "cancel": ("accounts", "nfts"),
    "buy": ("accounts", "accounts", "nfts"),
    "to_fast": ("accounts",),
    "set_minter": ("accounts", "collections"),
    "register_key": ("accounts", "accounts"),  # the header's write, then the keyHash's
    "release": ("accounts",),
    "reward_mint": ("collections", "nfts"),
    "deposit": ("accounts",),
    "withdraw": ("accounts",),
    "heartbeat": ("accounts", "provers"),
    "market_settle": PROVERS_WRITES * MARKET_ENTRIES,
}

# An int, a Merkle path (list[list[int]]), or a list of either, one per entry of a settlement.
SignalValue: TypeAlias = int | list[int] | list[list[int]] | list[list[list[int]]]
CircuitInputs: TypeAlias = dict[str, SignalValue]


@dataclass(frozen=True)
class CircuitWitness:
    """What one proof takes: the circuit, its inputs, and its public inputs."""

    circuit: CircuitName | StatementName
    inputs: CircuitInputs  # every input signal by name, public ones included
    # In the verifier's order: [preRoot, postRoot, w1, w2, ...] for an operation.
    public_inputs: list[int]


def circuit_name(op: Operation) -> CircuitName:
    """The circuit that proves `op`, i.e. `contracts/circuits/<name>.circom`."""
    name = CIRCUIT_OF_BODY.get(type(op.body))
    if name is None:
        raise ProverError(f"no circuit proves a {type(op.body).__name__}")
    return name


def pack_word(layout: Layout, fields: Mapping[str, int]) -> int:
    """The fields of `layout` (read from `fields`) as one word, the first in the lowest bits."""
    word = 0
    offset = 0
    for name, width in layout:
        value = fields[name]
        if not is_field_in_range(value, width):
            raise ProverError(f"word field {name} = {value} does not fit {width} bits")
        word |= value << offset
        offset += width
    return word


def unpack_word(layout: Layout, word: int) -> dict[str, int]:
    """The fields of a word packed by `pack_word`; rejects bits beyond the layout's."""
    if not 0 <= word < FIELD_MODULUS or word >> compute_layout_width(layout):
        raise ProverError(f"word {word:#x} has bits beyond its {compute_layout_width(layout)}")
    fields = {}
    for name, width in layout:
        fields[name] = word & ((1 << width) - 1)
        word >>= width
    return fields


def compute_layout_width(layout: Layout) -> int:
    return sum(width for _, width in layout)


def is_field_in_range(value: int, width: int) -> bool:
    bound = FIELD_MODULUS if width == WHOLE_FIELD else 1 << width
    return 0 <= value < bound


def pack_words(circuit: CircuitName, fields: Mapping[str, int]) -> list[int]:
    """The words w1, w2, ... of `circuit` from its fields by name (see WORD_LAYOUTS)."""
    return [pack_word(layout, fields) for layout in WORD_LAYOUTS[circuit]]


def unpack_words(circuit: CircuitName, words: Sequence[int]) -> dict[str, int]:
    """The fields by name of `circuit`'s words w1, w2, ...: the inverse of `pack_words`."""
    layouts = WORD_LAYOUTS[circuit]
    if len(words) != len(layouts):
        raise ProverError(f"{circuit} takes {len(layouts)} words, got {len(words)}")
    fields: dict[str, int] = {}
    for layout, word in zip(layouts, words, strict=True):
        fields.update(unpack_word(layout, word))
    return fields


def compute_op_fields(op: Operation, ctx: BlockContext, trace: Sequence[Touch]) -> dict[str, int]:
    """The fields that the words of `op` carry, by name: the signed ones, plus the tree keys
    (from the trace) that let anyone rebuild the state from the operations alone."""
    circuit = circuit_name(op)
    check_trace(circuit, trace)
    body = op.body
    fields = {} if is_unsigned(body) else compute_header_fields(op, trace[0])
    if isinstance(body, Transfer):
        fields.update(to=body.to, toIndex=trace[1].index, amount=body.amount)
    elif isinstance(body, Mint):
        fields.update(compute_mint_fields(body, ctx, trace[2]))
    elif isinstance(body, TransferNft):
        fields.update(to=body.to, tokenKey=body.token_key)
    elif isinstance(body, ListNft):
        fields.update(tokenKey=body.token_key, price=body.price)
    elif isinstance(body, CancelListing):
        fields.update(tokenKey=body.token_key)
    elif isinstance(body, ToFast):
        fields.update(to=body.to, amount=body.amount)
    elif isinstance(body, SetMinter):
        fields.update(collection=body.collection, minter=body.minter, fastChain=body.fast_chain)
    elif isinstance(body, RegisterKey):
        fields.update(keyHash=body.key_hash)
    elif isinstance(body, Release):
        fields.update(seq=body.seq, to=body.to, toIndex=trace[0].index, amount=body.amount)
    elif isinstance(body, RewardMint):
        fields.update(seq=body.seq, sender=body.sender)
        fields.update(compute_mint_fields(body, ctx, trace[1]))
    elif isinstance(body, Deposit):
        fields.update(index=body.index, to=body.to, toIndex=trace[0].index, amount=body.amount)
    elif isinstance(body, Withdraw):
        fields.update(to=body.to, amount=body.amount)
    elif isinstance(body, Heartbeat):
        fields.update(proverIndex=trace[1].index, activeUntil=body.active_until)
    elif isinstance(body, MarketSettle):
        fields.update(compute_settle_fields(body))
    else:
        seller = trace[1]
        fields.update(seller=get_account_record(seller, "after").address, sellerIndex=seller.index)
        fields.update(tokenKey=body.token_key, price=body.price)
    return fields


def compute_settle_fields(body: MarketSettle) -> dict[str, int]:
    fields = {"paid": body.paid}
    for i, entry in enumerate(body.entries):
        fields[f"proverIndex{i}"] = entry.prover
        fields[f"deltaOffset{i}"] = entry.delta + BALANCE_OFFSET
    return fields


def compute_mint_fields(body: Mint | RewardMint, ctx: BlockContext, token: Touch) -> dict[str, int]:
    """A new token's fields; its key comes from the trace (serial = the collection's supply)."""
    return {
        "to": body.to,
        "tokenKey": token.index,
        "round": body.round,
        "epoch": ctx.epoch,
        "metadata": body.metadata,
    }


def compute_header_fields(op: Operation, signer: Touch) -> dict[str, int]:
    if op.fee % GWEI:
        raise ProverError(f"fee {op.fee} wei is not a whole number of gwei")
    return {
        "from": op.signer,
        "fromIndex": signer.index,
        "nonce": op.nonce,
        "feeGwei": op.fee // GWEI,
    }


def compute_op_words(op: Operation, ctx: BlockContext, trace: Sequence[Touch]) -> list[int]:
    """The words w1, w2, ... of `op`: its public inputs besides the two roots."""
    return pack_words(circuit_name(op), compute_op_fields(op, ctx, trace))


def compute_public_inputs(
    pre_state: ZkState,
    op: Operation,
    ctx: BlockContext,
    post_state: ZkState,
    trace: Sequence[Touch],
) -> list[int]:
    """[preRoot, postRoot, w1, w2, ...]: the statement that `op` takes pre_state to post_state."""
    roots = [compute_state_root(pre_state), compute_state_root(post_state)]
    return roots + compute_op_words(op, ctx, trace)


def compute_witness(
    pre_state: ZkState,
    op: Operation,
    ctx: BlockContext,
    post_state: ZkState,
    trace: Sequence[Touch],
) -> CircuitWitness:
    """The inputs of `op`'s circuit, from the transition that `apply_operation` made."""
    circuit = circuit_name(op)
    public_inputs = compute_public_inputs(pre_state, op, ctx, post_state, trace)
    public_names = ["preRoot", "postRoot"] + [f"w{i + 1}" for i in range(len(public_inputs) - 2)]
    inputs: CircuitInputs = dict(zip(public_names, public_inputs, strict=True))
    inputs.update(compute_globals_inputs(pre_state))
    if "provers" not in TRACE_TREES[circuit]:  # the circuit passes the provers root through
        inputs["proversRoot"] = pre_state.provers.root
    if not is_unsigned(op.body):  # a signed operation: the header's inputs
        inputs.update(compute_signer_inputs(trace[0]))
    inputs.update(PRIVATE_INPUTS[circuit](pre_state, trace))
    return CircuitWitness(circuit, inputs, public_inputs)


def compute_globals_inputs(pre_state: ZkState) -> CircuitInputs:
    """The global counters before the operation, which every circuit hashes into its roots."""
    return {"feePool": pre_state.fee_pool, "escrow": pre_state.escrow, "inbox": pre_state.inbox}


def compute_signer_inputs(signer: Touch) -> CircuitInputs:
    """The header's private inputs, which every signed operation's circuit has."""
    account = get_account_record(signer, "before")
    return {
        "signerBalance": account.balance,
        "signerKeyHash": account.key_hash,
        "signerPath": signer.path,
    }


def compute_transfer_inputs(pre_state: ZkState, trace: Sequence[Touch]) -> CircuitInputs:
    return {
        "nftsRoot": pre_state.nfts.root,
        "collectionsRoot": pre_state.collections.root,
        **compute_account_inputs("recipient", trace[1]),
    }


def compute_mint_inputs(pre_state: ZkState, trace: Sequence[Touch]) -> CircuitInputs:
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


def compute_nft_write_inputs(pre_state: ZkState, trace: Sequence[Touch]) -> CircuitInputs:
    """transfer_nft, list and cancel: the header, then one write to the token."""
    token = get_nft_record(trace[1])
    return {
        "collectionsRoot": pre_state.collections.root,
        "metadata": token.metadata,
        "price": token.price,
        "nftPath": trace[1].path,
    }


def compute_buy_inputs(pre_state: ZkState, trace: Sequence[Touch]) -> CircuitInputs:
    return {
        "collectionsRoot": pre_state.collections.root,
        **compute_account_inputs("seller", trace[1]),
        "metadata": get_nft_record(trace[2]).metadata,
        "nftPath": trace[2].path,
    }


def compute_header_only_inputs(pre_state: ZkState, trace: Sequence[Touch]) -> CircuitInputs:
    """to_fast and withdraw: the header's write alone; the other trees stay as they were."""
    return {"nftsRoot": pre_state.nfts.root, "collectionsRoot": pre_state.collections.root}


def compute_set_minter_inputs(pre_state: ZkState, trace: Sequence[Touch]) -> CircuitInputs:
    collection = get_collection_record(trace[1])
    return {
        "nftsRoot": pre_state.nfts.root,
        **compute_collection_inputs(collection),
        "supply": collection.supply,
        "collectionPath": trace[1].path,
    }


def compute_register_key_inputs(pre_state: ZkState, trace: Sequence[Touch]) -> CircuitInputs:
    """The signer's path again, after the header's write: the keyHash's write starts there."""
    return {
        "nftsRoot": pre_state.nfts.root,
        "collectionsRoot": pre_state.collections.root,
        "keyPath": trace[1].path,
    }


def compute_credit_inputs(pre_state: ZkState, trace: Sequence[Touch]) -> CircuitInputs:
    """release and deposit: no header, one credit against the pre-state's accounts root."""
    return {
        "accountsRoot": pre_state.accounts.root,
        "nftsRoot": pre_state.nfts.root,
        "collectionsRoot": pre_state.collections.root,
        **compute_account_inputs("recipient", trace[0]),
    }


def compute_reward_mint_inputs(pre_state: ZkState, trace: Sequence[Touch]) -> CircuitInputs:
    return {"accountsRoot": pre_state.accounts.root, **compute_new_token_inputs(trace[0], trace[1])}


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


def compute_heartbeat_inputs(pre_state: ZkState, trace: Sequence[Touch]) -> CircuitInputs:
    prover = get_prover_record(trace[1])
    return {
        "nftsRoot": pre_state.nfts.root,
        "collectionsRoot": pre_state.collections.root,
        "proverAddress": prover.address,
        "proverBalanceOffset": prover.balance_offset,
        "proverActiveUntil": prover.active_until,
        "proverPath": trace[1].path,
    }


def compute_market_settle_inputs(pre_state: ZkState, trace: Sequence[Touch]) -> CircuitInputs:
    """Each entry's prover slot before its write (an entry's path is in the tree that the
    previous entry left)."""
    provers = [get_prover_record(touch) for touch in trace]
    return {
        "accountsRoot": pre_state.accounts.root,
        "nftsRoot": pre_state.nfts.root,
        "collectionsRoot": pre_state.collections.root,
        "proverAddress": [prover.address for prover in provers],
        "proverBalanceOffset": [prover.balance_offset for prover in provers],
        "proverActiveUntil": [prover.active_until for prover in provers],
        "proverPath": [touch.path for touch in trace],
    }


# Each circuit's private inputs besides the globals and the header's.
PRIVATE_INPUTS: dict[CircuitName, Callable[[ZkState, Sequence[Touch]], CircuitInputs]] = {
    "transfer": compute_transfer_inputs,
    "mint": compute_mint_inputs,
    "transfer_nft": compute_nft_write_inputs,
    "list": compute_nft_write_inputs,
    "cancel": compute_nft_write_inputs,
    "buy": compute_buy_inputs,
    "to_fast": compute_header_only_inputs,
    "set_minter": compute_set_minter_inputs,
    "register_key": compute_register_key_inputs,
    "release": compute_credit_inputs,
    "reward_mint": compute_reward_mint_inputs,
    "deposit": compute_credit_inputs,
    "withdraw": compute_header_only_inputs,
    "heartbeat": compute_heartbeat_inputs,
    "market_settle": compute_market_settle_inputs,
}


def check_trace(circuit: CircuitName, trace: Sequence[Touch]) -> None:
    trees = tuple(touch.tree for touch in trace)
    if trees != TRACE_TREES[circuit]:
        raise ProverError(f"{circuit} writes {TRACE_TREES[circuit]}, the trace has {trees}")


def get_account_record(touch: Touch, when: Literal["before", "after"]) -> Account:
    record = touch.before if when == "before" else touch.after
    if not isinstance(record, Account):
        raise ProverError(f"expected an account write, got {record}")
    return record


def get_nft_record(touch: Touch) -> Nft:
    if not isinstance(touch.before, Nft):
        raise ProverError(f"expected a token write, got {touch.before}")
    return touch.before


def get_collection_record(touch: Touch) -> Collection:
    if not isinstance(touch.before, Collection):
        raise ProverError(f"expected a collection write, got {touch.before}")
    return touch.before


def get_prover_record(touch: Touch) -> Prover:
    if not isinstance(touch.before, Prover):
        raise ProverError(f"expected a prover write, got {touch.before}")
    return touch.before
