"""Every ZK operation type, defined once: its `OpSpec` (docs/zk-state.md; DESIGN.md, "One
checked state transition per chain").

An operation type is a body (a dataclass of chain/zk/ops.py), the `process_*` function that
applies it there, its circuit (`contracts/circuits/<circuit>.circom`) and the spec below,
which joins them to every other fact about the type: the circuit's id on L1, the EIP-712
struct its signer signs, its words of public input, the trees it writes, how its witness and
its words are computed from a transition, and how its body is read back from its words.
Every table elsewhere (the signing types, the rollup's tables, the calldata, the rebuild from
L1) is derived from `OPS`; a body or circuit that no spec names is `UnknownOperation`.

The circuit ids are the rollup's: it knows each circuit by its id, so a new type takes the
next id, and the ids of the escape statements (chain/l1/calldata.py) follow the last one.
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeAlias, TypeVar

from chain.ensure import ensure
from chain.zk.op_inputs import (
    CircuitInputs,
    StateSummary,
    compute_buy_inputs,
    compute_credit_inputs,
    compute_header_fields,
    compute_header_only_inputs,
    compute_heartbeat_inputs,
    compute_market_settle_inputs,
    compute_mint_fields,
    compute_mint_inputs,
    compute_nft_write_inputs,
    compute_register_key_inputs,
    compute_reward_mint_inputs,
    compute_seller_fields,
    compute_set_minter_inputs,
    compute_settle_fields,
    compute_slash_fields,
    compute_slash_inputs,
    compute_stake_claim_inputs,
    compute_stake_write_inputs,
    compute_transfer_inputs,
)
from chain.zk.ops import (
    GWEI,
    MARKET_ENTRIES,
    BlockContext,
    Bond,
    Buy,
    CancelListing,
    ClaimStake,
    Deposit,
    Heartbeat,
    InvalidOp,
    ListNft,
    MarketSettle,
    Mint,
    OpBody,
    Operation,
    RegisterKey,
    Release,
    RewardMint,
    SetMinter,
    SettleEntry,
    Slash,
    ToFast,
    Transfer,
    TransferNft,
    Unbond,
    Withdraw,
    process_bond,
    process_buy,
    process_cancel,
    process_claim_stake,
    process_deposit,
    process_heartbeat,
    process_list,
    process_market_settle,
    process_mint,
    process_register_key,
    process_release,
    process_reward_mint,
    process_set_minter,
    process_slash,
    process_to_fast,
    process_transfer,
    process_transfer_nft,
    process_unbond,
    process_unsigned,
    process_withdraw,
)
from chain.zk.state import (
    ACTIVE_UNTIL_BITS,
    ADDRESS_BITS,
    AMOUNT_BITS,
    BALANCE_OFFSET,
    PROVER_BALANCE_BITS,
    ROUND_BITS,
    SEQ_BITS,
    SERIAL_BITS,
    Touch,
    TreeName,
    ZkState,
    undo_touches,
)
from chain.zk.words import (
    ACCOUNT_INDEX_BITS,
    COLLECTION_BITS,
    HEADER_LAYOUT,
    MINT_LAYOUTS,
    PROVER_INDEX_BITS,
    TOKEN_KEY_BITS,
    WHOLE_FIELD,
    InvalidWitness,
    Layout,
    pack_layouts,
    unpack_layouts,
)

CircuitName: TypeAlias = str  # an operation circuit's name: contracts/circuits/<name>.circom
B = TypeVar("B")
Member: TypeAlias = tuple[str, str, str]  # an EIP-712 member: wire name, Solidity type, attribute


class UnknownOperation(InvalidOp):
    """A body type or circuit that no `OpSpec` defines."""


class InvalidRegistry(Exception):
    """Specs that contradict each other or the rollup's order."""


@dataclass(frozen=True)
class SignedStruct:
    """The EIP-712 struct a signer signs (its members; the header's follow them, see
    chain/zk/signing.py). `within`: members that the words hold as the top bits of another
    field, (member, (word field, bits below it)): a mint signs its collection, its words hold
    the new token's key."""

    primary: str
    members: tuple[Member, ...]
    within: tuple[tuple[str, tuple[str, int]], ...] = ()


@dataclass(frozen=True)
class OpSpec(Generic[B]):
    """One operation type. A signed type's words start with HEADER_LAYOUT and its witness
    with the header's inputs; an unsigned one (`signed` None) has neither."""

    circuit_id: int  # its id on L1: its place in OPS
    circuit: CircuitName
    body: type[B]
    signed: SignedStruct | None
    words: tuple[Layout, ...]  # w1, w2, ...: the public inputs after the two roots
    trees: tuple[TreeName, ...]  # the trees it writes, in trace (and circuit) order
    process: Callable[[ZkState, Operation, B, BlockContext, list[Touch]], None]
    # Its words' fields besides the header's, from the body and the transition's trace.
    fields: Callable[[B, BlockContext, Sequence[Touch]], dict[str, int]]
    # Its circuit's private inputs besides the globals and the header's, from the trace and
    # the roots and counters of the state before it.
    inputs: Callable[[StateSummary, Sequence[Touch]], CircuitInputs]
    # The body its words' fields say (those left out follow from the state).
    decode: Callable[[Mapping[str, int]], B]
    message: bool = False  # it comes from the fast chain's outbox


TRANSFER_STRUCT = (("to", "address", "to"), ("amount", "uint256", "amount"))
AMOUNT_WORD: Layout = (("amount", AMOUNT_BITS),)
PROVERS_WRITE: tuple[TreeName, ...] = ("provers",)
STAKE_EPOCH_WORD: Layout = (("stakeIndex", ACCOUNT_INDEX_BITS), ("epoch", ROUND_BITS))
SETTLE_ENTRY_WORDS = tuple(
    ((f"proverIndex{i}", PROVER_INDEX_BITS), (f"deltaOffset{i}", PROVER_BALANCE_BITS))
    for i in range(MARKET_ENTRIES)
)


def compute_collection_of(token_key: int) -> int:
    return token_key >> SERIAL_BITS


OPS: tuple[OpSpec[Any], ...] = (
    OpSpec(
        circuit_id=0,
        circuit="transfer",
        body=Transfer,
        signed=SignedStruct("Transfer", TRANSFER_STRUCT),
        words=(HEADER_LAYOUT, (("to", ADDRESS_BITS), ("toIndex", ACCOUNT_INDEX_BITS)), AMOUNT_WORD),
        trees=("accounts", "accounts"),
        process=process_transfer,
        fields=lambda b, ctx, trace: {"to": b.to, "toIndex": trace[1].index, "amount": b.amount},
        inputs=compute_transfer_inputs,
        decode=lambda f: Transfer(f["to"], f["amount"]),
    ),
    OpSpec(
        circuit_id=1,
        circuit="mint",
        body=Mint,
        signed=SignedStruct(
            "Mint",
            (
                ("collection", "uint8", "collection"),
                ("to", "address", "to"),
                ("metadata", "uint256", "metadata"),
                ("round", "uint32", "round"),
            ),
            within=(("collection", ("tokenKey", SERIAL_BITS)),),
        ),
        words=(HEADER_LAYOUT, *MINT_LAYOUTS),
        trees=("accounts", "collections", "nfts"),
        process=process_mint,
        fields=lambda b, ctx, trace: compute_mint_fields(b, ctx, trace[2]),
        inputs=compute_mint_inputs,
        decode=lambda f: Mint(
            compute_collection_of(f["tokenKey"]), f["to"], f["metadata"], f["round"]
        ),
    ),
    OpSpec(
        circuit_id=2,
        circuit="transfer_nft",
        body=TransferNft,
        signed=SignedStruct(
            "TransferNft", (("tokenKey", "uint16", "token_key"), ("to", "address", "to"))
        ),
        words=(HEADER_LAYOUT, (("to", ADDRESS_BITS), ("tokenKey", TOKEN_KEY_BITS))),
        trees=("accounts", "nfts"),
        process=process_transfer_nft,
        fields=lambda b, ctx, trace: {"to": b.to, "tokenKey": b.token_key},
        inputs=compute_nft_write_inputs,
        decode=lambda f: TransferNft(f["tokenKey"], f["to"]),
    ),
    OpSpec(
        circuit_id=3,
        circuit="list",
        body=ListNft,
        signed=SignedStruct(
            "List", (("tokenKey", "uint16", "token_key"), ("price", "uint256", "price"))
        ),
        words=(HEADER_LAYOUT, (("tokenKey", TOKEN_KEY_BITS), ("price", AMOUNT_BITS))),
        trees=("accounts", "nfts"),
        process=process_list,
        fields=lambda b, ctx, trace: {"tokenKey": b.token_key, "price": b.price},
        inputs=compute_nft_write_inputs,
        decode=lambda f: ListNft(f["tokenKey"], f["price"]),
    ),
    OpSpec(
        circuit_id=4,
        circuit="cancel",
        body=CancelListing,
        signed=SignedStruct("Cancel", (("tokenKey", "uint16", "token_key"),)),
        words=(HEADER_LAYOUT, (("tokenKey", TOKEN_KEY_BITS),)),
        trees=("accounts", "nfts"),
        process=process_cancel,
        fields=lambda b, ctx, trace: {"tokenKey": b.token_key},
        inputs=compute_nft_write_inputs,
        decode=lambda f: CancelListing(f["tokenKey"]),
    ),
    OpSpec(
        circuit_id=5,
        circuit="buy",
        body=Buy,
        signed=SignedStruct(
            "Buy", (("tokenKey", "uint16", "token_key"), ("price", "uint256", "price"))
        ),
        words=(
            HEADER_LAYOUT,
            (
                ("seller", ADDRESS_BITS),
                ("sellerIndex", ACCOUNT_INDEX_BITS),
                ("tokenKey", TOKEN_KEY_BITS),
            ),
            (("price", AMOUNT_BITS),),
        ),
        trees=("accounts", "accounts", "nfts"),
        process=process_buy,
        fields=lambda b, ctx, trace: {
            **compute_seller_fields(trace[1]),
            "tokenKey": b.token_key,
            "price": b.price,
        },
        inputs=compute_buy_inputs,
        decode=lambda f: Buy(f["tokenKey"], f["price"]),
    ),
    OpSpec(
        circuit_id=6,
        circuit="to_fast",
        body=ToFast,
        signed=SignedStruct("ToFast", TRANSFER_STRUCT),
        words=(HEADER_LAYOUT, (("to", ADDRESS_BITS),), AMOUNT_WORD),
        trees=("accounts",),
        process=process_to_fast,
        fields=lambda b, ctx, trace: {"to": b.to, "amount": b.amount},
        inputs=compute_header_only_inputs,
        decode=lambda f: ToFast(f["to"], f["amount"]),
    ),
    OpSpec(
        circuit_id=7,
        circuit="set_minter",
        body=SetMinter,
        signed=SignedStruct(
            "SetMinter",
            (
                ("collection", "uint8", "collection"),
                ("minter", "address", "minter"),
                ("fastChain", "uint8", "fast_chain"),
            ),
        ),
        words=(
            HEADER_LAYOUT,
            (("collection", COLLECTION_BITS), ("minter", ADDRESS_BITS), ("fastChain", 1)),
        ),
        trees=("accounts", "collections"),
        process=process_set_minter,
        fields=lambda b, ctx, trace: {
            "collection": b.collection,
            "minter": b.minter,
            "fastChain": b.fast_chain,
        },
        inputs=compute_set_minter_inputs,
        decode=lambda f: SetMinter(f["collection"], f["minter"], f["fastChain"]),
    ),
    OpSpec(
        circuit_id=8,
        circuit="register_key",
        body=RegisterKey,
        signed=SignedStruct("RegisterKey", (("keyHash", "uint256", "key_hash"),)),
        words=(HEADER_LAYOUT, (("keyHash", WHOLE_FIELD),)),
        trees=("accounts", "accounts"),  # the header's write, then the keyHash's
        process=process_register_key,
        fields=lambda b, ctx, trace: {"keyHash": b.key_hash},
        inputs=compute_register_key_inputs,
        decode=lambda f: RegisterKey(f["keyHash"]),
    ),
    # A fast-chain message has no header: its first word starts with its message number.
    OpSpec(
        circuit_id=9,
        circuit="release",
        body=Release,
        signed=None,
        words=(
            (("seq", SEQ_BITS), ("to", ADDRESS_BITS), ("toIndex", ACCOUNT_INDEX_BITS)),
            AMOUNT_WORD,
        ),
        trees=("accounts",),
        process=process_release,
        fields=lambda b, ctx, trace: {
            "seq": b.seq,
            "to": b.to,
            "toIndex": trace[0].index,
            "amount": b.amount,
        },
        inputs=compute_credit_inputs,
        decode=lambda f: Release(f["seq"], f["to"], f["amount"]),
        message=True,
    ),
    OpSpec(
        circuit_id=10,
        circuit="reward_mint",
        body=RewardMint,
        signed=None,
        words=((("seq", SEQ_BITS), ("sender", ADDRESS_BITS)), *MINT_LAYOUTS),
        trees=("collections", "nfts"),
        process=process_reward_mint,
        fields=lambda b, ctx, trace: {
            "seq": b.seq,
            "sender": b.sender,
            **compute_mint_fields(b, ctx, trace[1]),
        },
        inputs=compute_reward_mint_inputs,
        decode=lambda f: RewardMint(
            f["seq"],
            f["sender"],
            compute_collection_of(f["tokenKey"]),
            f["round"],
            f["to"],
            f["metadata"],
        ),
        message=True,
    ),
    # A deposit has no header either: its first word starts with the rollup's deposit number.
    OpSpec(
        circuit_id=11,
        circuit="deposit",
        body=Deposit,
        signed=None,
        words=(
            (("index", SEQ_BITS), ("to", ADDRESS_BITS), ("toIndex", ACCOUNT_INDEX_BITS)),
            AMOUNT_WORD,
        ),
        trees=("accounts",),
        process=process_deposit,
        fields=lambda b, ctx, trace: {
            "index": b.index,
            "to": b.to,
            "toIndex": trace[0].index,
            "amount": b.amount,
        },
        inputs=compute_credit_inputs,
        decode=lambda f: Deposit(f["index"], f["to"], f["amount"]),
    ),
    OpSpec(
        circuit_id=12,
        circuit="withdraw",
        body=Withdraw,
        signed=SignedStruct("Withdraw", TRANSFER_STRUCT),
        words=(HEADER_LAYOUT, (("to", ADDRESS_BITS),), AMOUNT_WORD),
        trees=("accounts",),
        process=process_withdraw,
        fields=lambda b, ctx, trace: {"to": b.to, "amount": b.amount},
        inputs=compute_header_only_inputs,
        decode=lambda f: Withdraw(f["to"], f["amount"]),
    ),
    OpSpec(
        circuit_id=13,
        circuit="heartbeat",
        body=Heartbeat,
        signed=SignedStruct("Heartbeat", (("activeUntil", "uint32", "active_until"),)),
        words=(
            HEADER_LAYOUT,
            (("proverIndex", PROVER_INDEX_BITS), ("activeUntil", ACTIVE_UNTIL_BITS)),
        ),
        trees=("accounts", "provers"),
        process=process_heartbeat,
        fields=lambda b, ctx, trace: {"proverIndex": trace[1].index, "activeUntil": b.active_until},
        inputs=compute_heartbeat_inputs,
        decode=lambda f: Heartbeat(f["activeUntil"]),
    ),
    # A settlement has no header either: what it pays, then one word per entry (the delta
    # signed through its offset). An entry names its prover by index alone: the heartbeat that
    # made the prover put its address and index in its words.
    OpSpec(
        circuit_id=14,
        circuit="market_settle",
        body=MarketSettle,
        signed=None,
        words=((("paid", AMOUNT_BITS),), *SETTLE_ENTRY_WORDS),
        trees=PROVERS_WRITE * MARKET_ENTRIES,
        process=process_market_settle,
        fields=lambda b, ctx, trace: compute_settle_fields(b),
        inputs=compute_market_settle_inputs,
        decode=lambda f: MarketSettle(
            f["paid"],
            tuple(
                SettleEntry(f[f"proverIndex{i}"], f[f"deltaOffset{i}"] - BALANCE_OFFSET)
                for i in range(MARKET_ENTRIES)
            ),
        ),
    ),
    # Stake (docs/zk-state.md, "Stake"): each names the signer's stake account by index, as
    # a transfer names its recipient; the circuit derives the account's address from `from`.
    OpSpec(
        circuit_id=15,
        circuit="bond",
        body=Bond,
        signed=SignedStruct("Bond", (("amount", "uint256", "amount"),)),
        words=(HEADER_LAYOUT, (("stakeIndex", ACCOUNT_INDEX_BITS),), AMOUNT_WORD),
        trees=("accounts", "accounts"),
        process=process_bond,
        fields=lambda b, ctx, trace: {"stakeIndex": trace[1].index, "amount": b.amount},
        inputs=compute_transfer_inputs,
        decode=lambda f: Bond(f["amount"]),
    ),
    OpSpec(
        circuit_id=16,
        circuit="unbond",
        body=Unbond,
        signed=SignedStruct("Unbond", (("amount", "uint256", "amount"),)),
        words=(HEADER_LAYOUT, STAKE_EPOCH_WORD, AMOUNT_WORD),
        trees=("accounts", "accounts"),
        process=process_unbond,
        fields=lambda b, ctx, trace: {
            "stakeIndex": trace[1].index,
            "epoch": ctx.epoch,
            "amount": b.amount,
        },
        inputs=compute_stake_write_inputs,
        decode=lambda f: Unbond(f["amount"]),
    ),
    OpSpec(
        circuit_id=17,
        circuit="claim_stake",
        body=ClaimStake,
        signed=SignedStruct("ClaimStake", ()),
        words=(HEADER_LAYOUT, STAKE_EPOCH_WORD),
        trees=("accounts", "accounts", "accounts"),  # the header, the stake, the payment
        process=process_claim_stake,
        fields=lambda b, ctx, trace: {"stakeIndex": trace[1].index, "epoch": ctx.epoch},
        inputs=compute_stake_claim_inputs,
        decode=lambda f: ClaimStake(),
    ),
    # A slash has no header: the validators decide it from CometBFT's evidence. Its words say
    # how much bonded stake it burned, so that anyone reading L1 follows the bonded stake.
    OpSpec(
        circuit_id=18,
        circuit="slash",
        body=Slash,
        signed=None,
        words=(
            (("validator", ADDRESS_BITS), ("stakeIndex", ACCOUNT_INDEX_BITS)),
            (("bondedSlashed", AMOUNT_BITS),),
        ),
        trees=("accounts",),
        process=process_slash,
        fields=lambda b, ctx, trace: compute_slash_fields(b, trace[0]),
        inputs=compute_slash_inputs,
        decode=lambda f: Slash(f["validator"]),
    ),
)

# The tables the rest of the code reads, all derived from OPS.
CIRCUIT_NAMES: tuple[CircuitName, ...] = tuple(spec.circuit for spec in OPS)
SPEC_OF_BODY: dict[type, OpSpec[Any]] = {spec.body: spec for spec in OPS}
SPEC_OF_CIRCUIT: dict[CircuitName, OpSpec[Any]] = {spec.circuit: spec for spec in OPS}
CIRCUIT_OF_BODY: dict[type, CircuitName] = {spec.body: spec.circuit for spec in OPS}
WORD_LAYOUTS: dict[CircuitName, tuple[Layout, ...]] = {spec.circuit: spec.words for spec in OPS}
TRACE_TREES: dict[CircuitName, tuple[TreeName, ...]] = {spec.circuit: spec.trees for spec in OPS}


def check_registry(ops: Sequence[OpSpec[Any]]) -> None:
    """What every spec must be: its id its place (the rollup's order), one spec per body and
    per circuit, a header word exactly when someone signs it."""
    for place, spec in enumerate(ops):
        message = f"{spec.circuit} has id {spec.circuit_id}, its place is {place}"
        ensure(spec.circuit_id == place, InvalidRegistry, message)
        signed = spec.signed is not None
        ensure(
            (spec.words[:1] == (HEADER_LAYOUT,)) == signed,
            InvalidRegistry,
            f"{spec.circuit}: a header word exactly when signed",
        )
        ensure(not (signed and spec.message), InvalidRegistry, f"{spec.circuit}: a signed message")
    ensure(len({s.body for s in ops}) == len(ops), InvalidRegistry, "a body with two specs")
    ensure(len({s.circuit for s in ops}) == len(ops), InvalidRegistry, "a circuit with two specs")


check_registry(OPS)


def get_op_spec(body: OpBody) -> OpSpec[Any]:
    """The spec of `body`'s type; UnknownOperation if no spec defines it."""
    spec = SPEC_OF_BODY.get(type(body))
    if spec is None:
        raise UnknownOperation(f"no operation type {type(body).__name__}")
    return spec


def get_circuit_spec(circuit: str) -> OpSpec[Any]:
    """The spec whose circuit is `circuit`; UnknownOperation if none."""
    spec = SPEC_OF_CIRCUIT.get(circuit)
    if spec is None:
        raise UnknownOperation(f"no operation has the circuit {circuit!r}")
    return spec


def circuit_name(op: Operation) -> CircuitName:
    """The circuit that proves `op`, i.e. `contracts/circuits/<name>.circom`."""
    return get_op_spec(op.body).circuit


def is_unsigned(body: OpBody) -> bool:
    """Whether nobody signs `body`: a fast-chain message, an L1 deposit, a market settlement."""
    return get_op_spec(body).signed is None


def apply_operation(
    state: ZkState, op: Operation, ctx: BlockContext
) -> tuple[ZkState, list[Touch]]:
    """The state after `op`, and the leaf writes a circuit proves, in circuit order.

    Raises InvalidOp if `op` breaks a rule (UnknownOperation if no spec defines its type);
    `state` itself is never modified, so a rejected operation leaves nothing behind.
    """
    spec = get_op_spec(op.body)
    if spec.signed is None:
        process_unsigned(op)
    post = state.copy()
    trace: list[Touch] = []
    spec.process(post, op, op.body, ctx, trace)
    return post, trace


def apply_operation_in_place(state: ZkState, op: Operation, ctx: BlockContext) -> None:
    """`op` applied to `state` itself, with no copy: what the operation pool does to its
    unhashed state, where a copy would cost more than the operation. If `op` breaks a rule,
    its writes are taken back and `state` is as it was (the exception goes on)."""
    spec = get_op_spec(op.body)
    if spec.signed is None:
        process_unsigned(op)
    counters = (state.fee_pool, state.escrow, state.inbox)
    trace: list[Touch] = []
    try:
        spec.process(state, op, op.body, ctx, trace)
    except BaseException:
        undo_touches(state, trace)
        state.fee_pool, state.escrow, state.inbox = counters
        raise


# -- words ----------------------------------------------------------------------------------


def pack_words(circuit: CircuitName, fields: Mapping[str, int]) -> list[int]:
    """The words w1, w2, ... of `circuit` from its fields by name (see WORD_LAYOUTS)."""
    return pack_layouts(get_circuit_spec(circuit).words, fields)


def unpack_words(circuit: CircuitName, words: Sequence[int]) -> dict[str, int]:
    """The fields by name of `circuit`'s words w1, w2, ...: the inverse of `pack_words`."""
    try:
        return unpack_layouts(get_circuit_spec(circuit).words, words)
    except InvalidWitness as exc:
        raise InvalidWitness(f"{circuit} {exc}") from None


def compute_op_fields(op: Operation, ctx: BlockContext, trace: Sequence[Touch]) -> dict[str, int]:
    """The fields that the words of `op` carry, by name: the signed ones, plus the tree keys
    (from the trace) that let anyone rebuild the state from the operations alone."""
    spec = get_op_spec(op.body)
    check_trace(spec, trace)
    header = {} if spec.signed is None else compute_header_fields(op, trace[0])
    return {**header, **spec.fields(op.body, ctx, trace)}


def compute_op_words(op: Operation, ctx: BlockContext, trace: Sequence[Touch]) -> list[int]:
    """The words w1, w2, ... of `op`: its public inputs besides the two roots."""
    return pack_words(circuit_name(op), compute_op_fields(op, ctx, trace))


def compute_operation_from_words(circuit: CircuitName, fields: Mapping[str, int]) -> Operation:
    """The operation whose words unpack to `fields`; an unsigned one (a fast-chain message, an
    L1 deposit, a market settlement) has no signer."""
    spec = get_circuit_spec(circuit)
    body = spec.decode(fields)
    if spec.signed is None:
        return Operation(body, signer=0, fee=0, nonce=0)
    return Operation(
        body, signer=fields["from"], fee=fields["feeGwei"] * GWEI, nonce=fields["nonce"]
    )


def check_trace(spec: OpSpec[Any], trace: Sequence[Touch]) -> None:
    trees = tuple(touch.tree for touch in trace)
    if trees != spec.trees:
        raise InvalidWitness(f"{spec.circuit} writes {spec.trees}, the trace has {trees}")
