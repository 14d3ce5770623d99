"""The ZK chain's state transition: `apply_block` turns ordered operations into a block.

Execution is a pure function of the parent state, the L1 deposits it credits, the fast
chain's messages and the operations in their order, and the timestamp handed in by the
sequencer, so any node (or anyone reading L1) recomputes it. The market's settlements of the
block come first (docs/market.md), then deposits, then the
messages (the fast block that sent them is earlier in the ledger), then the operations. An
operation that breaks a rule when its turn comes is left out and reported, never half
applied; a message that breaks one is refused, which is recorded; a deposit that breaks one
waits, with every later deposit (the rollup takes them in order). The block's state root is
the root after its last operation.

`state_transition(chain, proposal)` checks a block another node proposed: its place in the
ledger, then its body applied to the checker's state (every operation in it must apply),
then every root the header claims (chain/ledger/claims.py). `produce_block` makes the block
this node proposes from a body, leaving out operations that break a rule, under the same
header rules. Neither changes anything: the caller commits the block once it is accepted.
"""

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

from eth_utils import keccak, to_checksum_address

from chain.ensure import ensure
from chain.ledger.blocks import LedgerBlock, seal
from chain.ledger.claims import InvalidBody, check_claims
from chain.ledger.log import LedgerHeads, compute_next_position, validate_append
from chain.ledger.messages import (
    CreditMessage,
    InvalidMessage,
    ReleaseMessage,
    RewardMessage,
    RootMessage,
    decode_message,
    encode_message,
)
from chain.trie import compute_ordered_root
from chain.types import Address, ChainId, Hash32, Root
from chain.zk.ops import (
    BlockContext,
    Deposit,
    InvalidOp,
    MarketSettle,
    Operation,
    Release,
    RewardMint,
    Slash,
    ToFast,
    Withdraw,
)
from chain.zk.registry import apply_operation
from chain.zk.signing import SignedOperation, format_signed_operation
from chain.zk.state import ADDRESS_BITS, Touch, ZkState, compute_state_root

EMPTY_TRIE_ROOT = Root(
    bytes.fromhex("56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421")
)
# Mint caps count per epoch: EPOCH_SECONDS of the ZK block's timestamp, which the sequencer
# attests and L1 bounds (never backwards, never ahead of L1's clock), so a compromised fast
# chain or sequencer cannot make epochs pass faster than time does (docs/l1.md, "Epochs").
EPOCH_SECONDS = 600


@dataclass(frozen=True)
class AppliedOp:
    """One operation as the block applied it: what its proof will be about."""

    op_id: bytes
    op: Operation
    # The signed operation, the fast chain's raw message, or b"" (a deposit, a settlement).
    source: SignedOperation | bytes
    pre_state: ZkState
    post_state: ZkState
    trace: list[Touch]
    pre_root: int
    post_root: int
    # A Withdraw queued on L1 that the block records as refused (post = pre): why, and its
    # words as queued, which the refuse_withdraw statement proves invalid.
    refusal: str | None = None
    forced_words: tuple[int, int, int] | None = None


ForcedWords = tuple[int, int, int]
# Why a queued Withdraw with these words cannot apply at this state, or None if it can (the
# refuse_withdraw circuit's rules: chain/prover/escape.py, handed in by the node).
Refuser = Callable[[ZkState, ForcedWords], str | None]


@dataclass(frozen=True)
class ForcedWithdrawal:
    """A Withdraw queued on the rollup (`forceWithdraw`), which settlement must take first and
    in order: executed (`signed`, its signature recovered in the node's domain), or recorded
    as refused. `signed` is None when the words make no operation the node can check."""

    index: int
    words: ForcedWords
    signed: SignedOperation | None


def compute_forced_refusal_id(index: int) -> bytes:
    """A refused queued Withdraw's operation ID: one per place in the rollup's queue."""
    return keccak(b"duet-l1-forced-refusal" + index.to_bytes(8, "big"))


@dataclass(frozen=True)
class ZkBlock:
    block: LedgerBlock
    state: ZkState
    ctx: BlockContext
    applied: list[AppliedOp]
    rejected: list[tuple[SignedOperation, str]]
    refused: dict[int, str]  # position in the inbox → why the message was not applied
    deposits_taken: int  # how many of the deposits handed in it credited (a prefix)
    forced_taken: int  # how many of the queued Withdraws handed in it took (a prefix)
    deposit_refused: str | None  # why the next one was not, if one was not
    forced_refused: str | None = None  # why a queued Withdraw stopped the queue (a bug)


def compute_epoch(timestamp_s: int) -> int:
    """The mint epoch of a ZK block made at `timestamp_s` (seconds): the rollup's rule."""
    return timestamp_s // EPOCH_SECONDS


def compute_root_bytes(state: ZkState) -> Root:
    return Root(compute_state_root(state).to_bytes(32, "big"))


def compute_block_context(height: int, timestamp_ms: int, min_fee: int) -> BlockContext:
    return BlockContext(height=height, epoch=compute_epoch(timestamp_ms // 1000), min_fee=min_fee)


def compute_receipt(applied: AppliedOp) -> bytes:
    """What the receipts root commits to per operation: its ID and the roots around it."""
    return (
        applied.op_id + applied.pre_root.to_bytes(32, "big") + applied.post_root.to_bytes(32, "big")
    )


def compute_message_id(raw: bytes) -> bytes:
    """A fast-chain message's operation ID: the same bytes, sent twice, have one ID."""
    return keccak(b"duet-fast-message" + raw)


def compute_message_operation(raw: bytes) -> Operation:
    """The operation a fast-chain message asks for; raises InvalidOp if it asks for none."""
    try:
        message = decode_message(raw)
    except InvalidMessage as exc:
        raise InvalidOp(f"malformed message: {exc}") from None
    if isinstance(message, ReleaseMessage):
        to = int.from_bytes(message.to, "big")
        return Operation(Release(message.seq, to, message.amount), signer=0, fee=0, nonce=0)
    if isinstance(message, RewardMessage):
        body = RewardMint(
            seq=message.seq,
            sender=int.from_bytes(message.sender, "big"),
            collection=message.collection,
            round=message.round,
            to=int.from_bytes(message.to, "big"),
            metadata=message.metadata,
        )
        return Operation(body, signer=0, fee=0, nonce=0)
    raise InvalidOp(f"the fast chain cannot send a {type(message).__name__}")


def compute_deposit_id(index: int) -> bytes:
    """An L1 deposit's operation ID: one per deposit number of the rollup."""
    return keccak(b"duet-l1-deposit" + index.to_bytes(8, "big"))


def compute_settle_id(height: int, position: int) -> bytes:
    """A market settlement's operation ID: one per position in its block."""
    return keccak(b"duet-market-settle" + height.to_bytes(8, "big") + position.to_bytes(2, "big"))


def compute_slash_id(height: int, position: int) -> bytes:
    """A slash's operation ID: one per position in its block."""
    return keccak(b"duet-stake-slash" + height.to_bytes(8, "big") + position.to_bytes(2, "big"))


def format_operation(applied: AppliedOp) -> dict[str, Any]:
    """An applied operation's JSON form: the signed wire form, or an unsigned one's fields
    (with the fast-chain message's bytes, for a message)."""
    if isinstance(applied.source, SignedOperation):
        return format_signed_operation(applied.source)
    if applied.forced_words is not None:
        w1, w2, w3 = applied.forced_words
        return {
            "type": "RefusedWithdraw",
            "w1": hex(w1),
            "w2": hex(w2),
            "w3": hex(w3),
            "reason": applied.refusal,
        }
    out: dict[str, Any] = {"type": type(applied.op.body).__name__}
    for name, value in asdict(applied.op.body).items():
        out[name] = format_field(name, value)
    if applied.source:
        out["message"] = "0x" + applied.source.hex()
    return out


def format_field(name: str, value: Any) -> Any:
    """An unsigned operation's field: an address, a number, or a settlement's entries."""
    if isinstance(value, tuple):
        return [{k: format_field(k, v) for k, v in item.items()} for item in value]
    if name in MESSAGE_ADDRESS_FIELDS:
        return to_checksum_address(value.to_bytes(20, "big"))
    return hex(value)


MESSAGE_ADDRESS_FIELDS = frozenset({"sender", "to", "validator"})


def compute_messages(
    applied: list[AppliedOp], height: int, root: int, nfts_root: int
) -> list[bytes]:
    """What the block sends the fast chain: a credit per ZKPoW lock, in operation order, then
    the block's roots for the root oracle."""
    messages = [
        encode_message(CreditMessage(Address(a.op.body.to.to_bytes(20, "big")), a.op.body.amount))
        for a in applied
        if isinstance(a.op.body, ToFast)
    ]
    roots = RootMessage(height, root.to_bytes(32, "big"), nfts_root.to_bytes(32, "big"))
    return [*messages, encode_message(roots)]


def apply_block(
    state: ZkState,
    heads: LedgerHeads,
    chain_id: ChainId,
    timestamp_ms: int,
    ops: list[SignedOperation],
    min_fee: int,
    inbox: Sequence[bytes] = (),
    deposits: Sequence[Deposit] = (),
    settles: Sequence[MarketSettle] = (),
    market_digest: bytes | None = None,
    forced: Sequence[ForcedWithdrawal] = (),
    refuse: Refuser | None = None,
    slashes: Sequence[Slash] = (),
) -> ZkBlock:
    """Take the L1 queue's `forced` Withdraws first (the rollup requires a block to start
    with them): each executes if `refuse` finds nothing against it, else it is recorded as
    refused; then apply the market's `settles` and the validators' `slashes` (which must
    apply: they are the node's own), the L1
    `deposits` (in order, up to the first that cannot be credited: the rollup takes them
    only in order), the fast chain's messages `inbox`, then `ops`, as the next ZK block.
    `market_digest`, the digest of the block's market events, is the receipts root's last
    leaf."""
    seq, prev_hash, height, parent_hash = compute_next_position(heads, chain_id)
    parent = heads.chains.get(chain_id)
    ctx = compute_block_context(height, timestamp_ms, min_fee)
    applied: list[AppliedOp] = []
    rejected: list[tuple[SignedOperation, str]] = []
    refused: dict[int, str] = {}
    root = compute_state_root(state)

    def process(
        op_id: bytes, op: Operation, source: SignedOperation | bytes, op_ctx: BlockContext = ctx
    ) -> None:
        nonlocal state, root
        post, trace = apply_operation(state, op, op_ctx)
        post_root = compute_state_root(post)
        applied.append(AppliedOp(op_id, op, source, state, post, trace, root, post_root))
        state, root = post, post_root

    # The minimum fee is the node's admission policy, which no circuit sees: a queued
    # Withdraw cannot be refused for it, so it does not apply to them.
    forced_ctx = replace(ctx, min_fee=0)
    forced_taken = 0
    forced_refused: str | None = None
    for entry in forced:
        reason = "its words make no operation" if entry.signed is None else None
        if reason is None and refuse is not None:
            reason = refuse(state, entry.words)
        if reason is None and entry.signed is not None:
            try:
                process(entry.signed.op_id, entry.signed.op, entry.signed, forced_ctx)
            except InvalidOp as exc:  # the refuser missed a rule: no proof could refuse it
                forced_refused = f"queued Withdraw {entry.index}: {exc}"
                break
        else:
            op = Operation(
                Withdraw(entry.words[1], entry.words[2]),
                entry.words[0] & ((1 << ADDRESS_BITS) - 1),
                0,
                0,
            )
            op_id = compute_forced_refusal_id(entry.index)
            applied.append(
                AppliedOp(op_id, op, b"", state, state, [], root, root, reason, entry.words)
            )
        forced_taken += 1

    for position, settle in enumerate(settles):
        process(compute_settle_id(height, position), Operation(settle, 0, 0, 0), b"")
    for position, slash in enumerate(slashes):
        process(compute_slash_id(height, position), Operation(slash, 0, 0, 0), b"")
    deposits_taken = 0
    deposit_refused: str | None = None
    for deposit in deposits:
        try:
            process(compute_deposit_id(deposit.index), Operation(deposit, 0, 0, 0), b"")
        except InvalidOp as exc:
            deposit_refused = f"deposit {deposit.index}: {exc}"
            break
        deposits_taken += 1
    for position, raw in enumerate(inbox):
        try:
            process(compute_message_id(raw), compute_message_operation(raw), raw)
        except InvalidOp as exc:
            refused[position] = str(exc)
    for signed in ops:
        try:
            process(signed.op_id, signed.op, signed)
        except InvalidOp as exc:
            rejected.append((signed, str(exc)))
    receipts = [compute_receipt(a) for a in applied]
    if market_digest is not None:
        receipts.append(market_digest)
    block = seal(
        LedgerBlock(
            seq=seq,
            prev_hash=prev_hash,
            chain_id=chain_id,
            height=height,
            parent_hash=parent_hash,
            state_root=Root(root.to_bytes(32, "big")),
            transactions_root=Root(compute_ordered_root([a.op_id for a in applied])),
            receipts_root=Root(compute_ordered_root(receipts)),
            timestamp_ms=timestamp_ms if parent is None else max(timestamp_ms, parent.timestamp_ms),
            tx_hashes=tuple(Hash32(a.op_id) for a in applied),
            messages=tuple(compute_messages(applied, height, root, state.nfts.root)),
        )
    )
    return ZkBlock(
        block,
        state,
        ctx,
        applied,
        rejected,
        refused,
        deposits_taken,
        forced_taken,
        deposit_refused,
        forced_refused,
    )


@dataclass(frozen=True)
class ZkChainState:
    """What the next ZK block is checked against, and the chain's rules for it."""

    state: ZkState
    heads: LedgerHeads
    chain_id: ChainId
    min_fee: int
    refuse: Refuser | None = None


@dataclass(frozen=True)
class ZkBody:
    """What a ZK block applies, in the order `apply_block` takes it."""

    ops: tuple[SignedOperation, ...] = ()
    inbox: tuple[bytes, ...] = ()
    deposits: tuple[Deposit, ...] = ()
    settles: tuple[MarketSettle, ...] = ()
    market_digest: bytes | None = None
    forced: tuple[ForcedWithdrawal, ...] = ()
    slashes: tuple[Slash, ...] = ()  # the decentralized mode's, from CometBFT's evidence


@dataclass(frozen=True)
class ZkProposal:
    """A ZK block as one node proposes it to another: the header and its body."""

    header: LedgerBlock
    body: ZkBody


def produce_block(chain: ZkChainState, body: ZkBody, timestamp_ms: int) -> ZkBlock:
    """The next block from `body`, leaving out the operations that break a rule."""
    zk = apply_block(
        chain.state,
        chain.heads,
        chain.chain_id,
        timestamp_ms,
        list(body.ops),
        chain.min_fee,
        body.inbox,
        body.deposits,
        body.settles,
        body.market_digest,
        body.forced,
        chain.refuse,
        body.slashes,
    )
    validate_append(chain.heads, zk.block)
    return zk


def compute_proposal(zk: ZkBlock, body: ZkBody) -> ZkProposal:
    """The proposal of a block `produce_block` made from `body`: without what it left out."""
    left_out = {signed.op_id for signed, _ in zk.rejected}
    ops = tuple(signed for signed in body.ops if signed.op_id not in left_out)
    return ZkProposal(zk.block, replace(body, ops=ops))


def state_transition(chain: ZkChainState, proposal: ZkProposal) -> ZkBlock:
    """Check `proposal` against `chain`: raises a kind of InvalidBlock naming the false claim
    (chain/ledger/claims.py), else returns the block as applied, for the caller to commit."""
    header = proposal.header
    validate_append(chain.heads, header)
    zk = produce_block(chain, proposal.body, header.timestamp_ms)
    for signed, reason in zk.rejected:
        ensure(False, InvalidBody, f"operation {signed.op_id.hex()} cannot apply: {reason}")
    ensure(zk.forced_refused is None, InvalidBody, f"{zk.forced_refused}")
    check_claims(header, zk.block)
    return zk
