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
from typing import Literal, TypeAlias

from chain.prover.errors import ProverError
from chain.zk.ops import (
    FEE_GWEI_BITS,
    GWEI,
    BlockContext,
    Buy,
    CancelListing,
    ListNft,
    Mint,
    Operation,
    ToFast,
    Transfer,
    TransferNft,
)
from chain.zk.poseidon import FIELD_MODULUS
from chain.zk.state import (
    ACCOUNT_LEVELS,
    ADDRESS_BITS,
    AMOUNT_BITS,
    NFT_LEVELS,
    NONCE_BITS,
    ROUND_BITS,
    Account,
    Collection,
    Nft,
    Touch,
    TreeName,
    ZkState,
    compute_state_root,
)

CircuitName = Literal["transfer", "mint", "transfer_nft", "list", "cancel", "buy", "to_fast"]
CIRCUIT_NAMES: tuple[CircuitName, ...] = (
    "transfer",
    "mint",
    "transfer_nft",
    "list",
    "cancel",
    "buy",
    "to_fast",
)

ACCOUNT_INDEX_BITS = 2 * ACCOUNT_LEVELS
TOKEN_KEY_BITS = 2 * NFT_LEVELS
WHOLE_FIELD = 254  # the width of a field that is any field element (mint's metadata)

CIRCUIT_OF_BODY: dict[type, CircuitName] = {
    Transfer: "transfer",
    Mint: "mint",
    TransferNft: "transfer_nft",
    ListNft: "list",
    CancelListing: "cancel",
    Buy: "buy",
    ToFast: "to_fast",
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
WORD_LAYOUTS: dict[CircuitName, tuple[Layout, ...]] = {
    "transfer": (
        HEADER_LAYOUT,
        (("to", ADDRESS_BITS), ("toIndex", ACCOUNT_INDEX_BITS)),
        (("amount", AMOUNT_BITS),),
    ),
    "mint": (
        HEADER_LAYOUT,
        (
            ("to", ADDRESS_BITS),
            ("tokenKey", TOKEN_KEY_BITS),
            ("round", ROUND_BITS),
            ("epoch", ROUND_BITS),
        ),
        (("metadata", WHOLE_FIELD),),
    ),
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
}
# The trees that each operation writes, in trace (and circuit) order.
TRACE_TREES: dict[CircuitName, tuple[TreeName, ...]] = {
    "transfer": ("accounts", "accounts"),
    "mint": ("accounts", "collections", "nfts"),
    "transfer_nft": ("accounts", "nfts"),
    "list": ("accounts", "nfts"),
    "cancel": ("accounts", "nfts"),
    "buy": ("accounts", "accounts", "nfts"),
    "to_fast": ("accounts",),
}

SignalValue: TypeAlias = int | list[list[int]]
CircuitInputs: TypeAlias = dict[str, SignalValue]


@dataclass(frozen=True)
class CircuitWitness:
    """What one operation's proof takes: the circuit, its inputs, and its public inputs."""

    circuit: CircuitName
    inputs: CircuitInputs  # every input signal by name, public ones included
    public_inputs: list[int]  # [preRoot, postRoot, w1, w2, ...], as the verifier takes them


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
    fields = compute_header_fields(op, trace[0])
    body = op.body
    if isinstance(body, Transfer):
        fields.update(to=body.to, toIndex=trace[1].index, amount=body.amount)
    elif isinstance(body, Mint):
        token_key = trace[2].index
        fields.update(to=body.to, tokenKey=token_key, round=body.round, epoch=ctx.epoch)
        fields.update(metadata=body.metadata)
    elif isinstance(body, TransferNft):
        fields.update(to=body.to, tokenKey=body.token_key)
    elif isinstance(body, ListNft):
        fields.update(tokenKey=body.token_key, price=body.price)
    elif isinstance(body, CancelListing):
        fields.update(tokenKey=body.token_key)
    elif isinstance(body, ToFast):
        fields.update(to=body.to, amount=body.amount)
    else:
        seller = trace[1]
        fields.update(seller=get_account_record(seller, "after").address, sellerIndex=seller.index)
        fields.update(tokenKey=body.token_key, price=body.price)
    return fields


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
    inputs.update(compute_signer_inputs(pre_state, trace[0]))
    inputs.update(PRIVATE_INPUTS[circuit](pre_state, trace))
    return CircuitWitness(circuit, inputs, public_inputs)


def compute_signer_inputs(pre_state: ZkState, signer: Touch) -> CircuitInputs:
    """The header's private inputs, which every circuit has."""
    account = get_account_record(signer, "before")
    return {
        "feePool": pre_state.fee_pool,
        "escrow": pre_state.escrow,
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
    collection = trace[1].before
    if not isinstance(collection, Collection):
        raise ProverError(f"mint's second write is not a collection: {collection}")
    return {
        "roundCap": collection.round_cap,
        "epochCap": collection.epoch_cap,
        "collectionRound": collection.round,
        "roundCount": collection.round_count,
        "collectionEpoch": collection.epoch,
        "epochCount": collection.epoch_count,
        "collectionPath": trace[1].path,
        "nftPath": trace[2].path,
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


def compute_to_fast_inputs(pre_state: ZkState, trace: Sequence[Touch]) -> CircuitInputs:
    return {"nftsRoot": pre_state.nfts.root, "collectionsRoot": pre_state.collections.root}


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


# Each circuit's private inputs besides the header's.
PRIVATE_INPUTS: dict[CircuitName, Callable[[ZkState, Sequence[Touch]], CircuitInputs]] = {
    "transfer": compute_transfer_inputs,
    "mint": compute_mint_inputs,
    "transfer_nft": compute_nft_write_inputs,
    "list": compute_nft_write_inputs,
    "cancel": compute_nft_write_inputs,
    "buy": compute_buy_inputs,
    "to_fast": compute_to_fast_inputs,
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
