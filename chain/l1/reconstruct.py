"""Rebuild the ZK chain's state from L1 alone: every settled block's calldata, replayed from
genesis (docs/l1.md, "Reconstruction").

Each operation's words carry every field it applies, the indices of the accounts it writes
included (docs/zk-state.md, "Public inputs"), so `compute_operation_from_words` turns them
back into the operation and `apply_operation` (the chain's one state transition) replays it.
No signature is needed: the rollup settled the block only after the proofs vouched for each
transition, so the replay recomputes what they vouched for, and checks after every operation
that its root is the calldata's post-root and that the words it would have published are the
words L1 holds. It re-checks no admission policy the proofs do not cover: the minimum fee
is the node's, not a rule of the state.

The replay (`compute_replay` and below) is pure. Reading L1 (`read_settlements`,
`read_settled_blocks`, `reconstruct`) is the only I/O: the rollup's `BlockSettled` events
from its deployment block, and for each the transaction's `submitBlock` arguments.
"""

import contextlib
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_typing import ChecksumAddress
from eth_utils import to_checksum_address
from web3.exceptions import BadFunctionCallOutput, ContractLogicError, Web3Exception

from chain.fast.genesis import dev_alloc
from chain.l1.calldata import SettledOp, StateRoot, compute_block_commitment, decode_ops
from chain.l1.errors import L1Error
from chain.l1.link import make_l1_web3
from chain.l1.rollup import RollupClient, SettledState, Settlement
from chain.nodefile import read_node_file
from chain.types import Hash32, Height
from chain.zk.genesis import compute_dev_genesis_state
from chain.zk.ops import BlockContext, InvalidOp
from chain.zk.registry import (
    WORD_LAYOUTS,
    CircuitName,
    apply_operation,
    compute_collection_of,
    compute_op_words,
    compute_operation_from_words,
    unpack_words,
)
from chain.zk.state import SERIAL_BITS, ZkState, compute_state_root, get_total_supply
from chain.zk.words import InvalidWitness

# The minimum fee is the node's admission policy, which no circuit checks: a settled op paid
# whatever its proof says, so the replay admits any fee.
REPLAY_MIN_FEE = 0
NO_EPOCH = 0  # the context of an op that reads none (only mints read the epoch)
LOG_CHUNK_BLOCKS = 10_000  # L1 blocks per eth_getLogs request: endpoints cap the range
SUBMIT_BLOCK = "submitBlock"
# A dev node's data directory: node.json (while it runs) and the rollup it deployed.
DEPLOYMENT_PATH = Path("l1") / "deployment.json"

Progress = Callable[[str, int, int], None]  # (phase, done, total)


class ReplayMismatch(L1Error):
    """The replay disagrees with L1 at operation `op_index` of a block (None: its pre-root)."""

    def __init__(self, reason: str, op_index: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.op_index = op_index


class L1Unavailable(L1Error):
    """The L1 endpoint does not answer, or holds no rollup at the address."""


@dataclass(frozen=True)
class SettledBlock:
    """A ZK block as L1 holds it: submitBlock's arguments, and the transaction that sent them."""

    height: Height
    pre_root: StateRoot
    ops: tuple[SettledOp, ...]
    tx_hash: bytes
    l1_block: int


@dataclass(frozen=True)
class Mismatch:
    """Where the replay first parts from L1."""

    height: Height
    op_index: int | None  # None: before the block's first op (its pre-root), or at the end
    tx_hash: bytes | None
    l1_block: int | None
    reason: str

    def describe(self) -> str:
        where = f"ZK block {self.height}"
        if self.op_index is not None:
            where += f", op {self.op_index}"
        if self.tx_hash is not None:
            where += f" (L1 tx 0x{self.tx_hash.hex()}, L1 block {self.l1_block})"
        return f"{where}: {self.reason}"

    def to_json(self) -> dict[str, Any]:
        return {
            "height": self.height,
            "opIndex": self.op_index,
            "txHash": None if self.tx_hash is None else "0x" + self.tx_hash.hex(),
            "l1Block": self.l1_block,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class Replay:
    """The state after the last block that replayed as L1 says, and the first mismatch."""

    state: ZkState
    height: Height
    blocks: int
    ops: int
    mismatch: Mismatch | None

    @property
    def root(self) -> StateRoot:
        return StateRoot(compute_state_root(self.state))


# -- the genesis --------------------------------------------------------------------------------


def compute_network_genesis_state() -> ZkState:
    """The dev network's ZK state at height 0, as a dev node makes it."""
    return compute_dev_genesis_state(dev_alloc())


# -- one operation from its words ---------------------------------------------------------------


def compute_context_from_words(height: Height, fields: Mapping[str, int]) -> BlockContext:
    """The context the op was proven in: a mint's epoch is in its words (the proof is for that
    epoch, which the rollup checked against the block's attested time), any other op reads no
    epoch."""
    epoch = fields.get("epoch", NO_EPOCH)
    return BlockContext(height=height, epoch=epoch, min_fee=REPLAY_MIN_FEE)


# -- the replay ---------------------------------------------------------------------------------


def ensure_replayed(condition: bool, reason: str) -> None:
    if not condition:
        raise ReplayMismatch(reason)


def process_settled_op(state: ZkState, op: SettledOp, height: Height) -> ZkState:
    """The state after `op`; ReplayMismatch if its words do not replay to its post-root."""
    if op.circuit not in WORD_LAYOUTS:  # a queued Withdraw proven refused: no change
        root = compute_state_root(state)
        ensure_replayed(
            op.circuit == "refuse_withdraw" and op.post_root == root,
            f"{op.circuit}: {format_roots('post-root', op.post_root, root)}",
        )
        return state
    circuit: CircuitName = op.circuit
    try:
        fields = unpack_words(circuit, op.words)
    except InvalidWitness as exc:
        raise ReplayMismatch(f"{op.circuit}: its words do not unpack: {exc}") from None
    operation = compute_operation_from_words(circuit, fields)
    ctx = compute_context_from_words(height, fields)
    try:
        post, trace = apply_operation(state, operation, ctx)
    except InvalidOp as exc:
        raise ReplayMismatch(f"{op.circuit}: the chain's rules refuse it: {exc}") from None
    root = compute_state_root(post)
    ensure_replayed(
        root == op.post_root,
        f"{op.circuit}: {format_roots('post-root', op.post_root, root)}",
    )
    words = tuple(compute_op_words(operation, ctx, trace))
    ensure_replayed(
        words == op.words,
        f"{op.circuit}: words {format_words(op.words)} on L1, {format_words(words)} recomputed",
    )
    return post


def format_root(root: int) -> str:
    """A root as the ZK chain's blocks show it: 32 bytes of hex."""
    return f"0x{root:064x}"


def format_roots(what: str, on_l1: int, recomputed: int) -> str:
    return f"{what} {format_root(on_l1)} on L1, {format_root(recomputed)} recomputed"


def format_words(words: Iterable[int]) -> str:
    return "[" + ", ".join(f"{word:#x}" for word in words) + "]"


def apply_settled_block(state: ZkState, block: SettledBlock) -> ZkState:
    """The state after `block`'s ops, each checked against its post-root."""
    root = compute_state_root(state)
    ensure_replayed(
        block.pre_root == root,
        f"{format_roots('pre-root', block.pre_root, root)} (a block before it missed?)",
    )
    for index, op in enumerate(block.ops):
        try:
            state = process_settled_op(state, op, block.height)
        except ReplayMismatch as exc:
            raise ReplayMismatch(exc.reason, index) from None
    return state


def compute_replay(genesis: ZkState, blocks: Iterable[SettledBlock]) -> Replay:
    """Apply the settled blocks in order from `genesis`, up to the first that does not replay."""
    state, height, count, ops = genesis, Height(0), 0, 0
    for block in blocks:
        try:
            ensure_replayed(block.height > height, f"height {block.height} after {height}")
            post = apply_settled_block(state, block)
        except ReplayMismatch as exc:
            mismatch = Mismatch(
                block.height, exc.op_index, block.tx_hash, block.l1_block, exc.reason
            )
            return Replay(state, height, count, ops, mismatch)
        state, height, count, ops = post, block.height, count + 1, ops + len(block.ops)
    return Replay(state, height, count, ops, None)


def compute_final_mismatch(replay: Replay, settled: SettledState) -> Mismatch | None:
    """The replay's first mismatch, or where its end differs from what L1 has settled."""
    if replay.mismatch is not None:
        return replay.mismatch
    if (replay.height, replay.root) == (settled.height, settled.root):
        return None
    return Mismatch(
        replay.height,
        None,
        None,
        None,
        f"the replay ends at ZK height {replay.height} with root {format_root(replay.root)}, "
        f"L1 settled height {settled.height} with root {format_root(settled.root)}",
    )


# -- reading L1 ---------------------------------------------------------------------------------


def compute_settled_block(
    rollup: RollupClient, settlement: Settlement, tx: Mapping[str, Any]
) -> SettledBlock:
    """The block a BlockSettled event settled, from its transaction's submitBlock arguments,
    checked against the commitment the event logged."""
    tx_hash = f"0x{settlement.tx_hash.hex()}"
    if tx.get("to") != rollup.address:
        raise L1Error(f"{tx_hash} calls {tx.get('to')}, not the rollup: its calldata is not here")
    try:
        function, args = rollup.contract.decode_function_input(tx["input"])
    except ValueError as exc:
        raise L1Error(f"{tx_hash}: its calldata is not a call of the rollup: {exc}") from None
    if function.fn_name != SUBMIT_BLOCK:
        raise L1Error(f"{tx_hash} calls {function.fn_name}, not {SUBMIT_BLOCK}")
    ops_bytes = bytes(args["ops"])
    header = args["header"]
    pre_root = StateRoot(int(header["preRoot"]))
    commitment = compute_block_commitment(pre_root, settlement.post_root, ops_bytes)
    if int(header["height"]) != settlement.height or commitment != settlement.commitment:
        raise L1Error(f"{tx_hash}: its calldata is not the block that its event settled")
    return SettledBlock(
        settlement.height,
        pre_root,
        tuple(decode_ops(ops_bytes)),
        settlement.tx_hash,
        settlement.l1_block,
    )


def read_settlements(
    rollup: RollupClient, from_block: int, to_block: int, progress: Progress
) -> list[Settlement]:
    """BlockSettled events in L1 blocks from_block..to_block, oldest first."""
    settlements: list[Settlement] = []
    total = max(0, to_block - from_block + 1)
    for start in range(from_block, to_block + 1, LOG_CHUNK_BLOCKS):
        end = min(to_block, start + LOG_CHUNK_BLOCKS - 1)
        settlements.extend(rollup.list_settlements(start, end))
        progress("events", end - from_block + 1, total)
    return settlements


def read_settled_blocks(
    rollup: RollupClient, settlements: list[Settlement], progress: Progress
) -> Iterator[SettledBlock]:
    """Each settlement's block, read from its transaction as the replay asks for it."""
    for done, settlement in enumerate(settlements):
        tx = rollup.w3.eth.get_transaction(Hash32(settlement.tx_hash))
        yield compute_settled_block(rollup, settlement, tx)
        progress("blocks", done + 1, len(settlements))


@dataclass(frozen=True)
class Reconstruction:
    """A replay of everything a rollup settled, beside what the rollup says it settled."""

    rollup: ChecksumAddress
    from_block: int
    settled: SettledState
    genesis_root: StateRoot
    replay: Replay
    mismatch: Mismatch | None

    @property
    def matches(self) -> bool:
        return self.mismatch is None

    def to_json(self, with_state: bool = True) -> dict[str, Any]:
        replay = self.replay
        out: dict[str, Any] = {
            "rollup": self.rollup,
            "fromBlock": self.from_block,
            "l1Block": self.settled.l1_block,
            "genesisRoot": format_root(self.genesis_root),
            "settledHeight": self.settled.height,
            "settledRoot": format_root(self.settled.root),
            "recomputedHeight": replay.height,
            "recomputedRoot": format_root(replay.root),
            "match": self.matches,
            "mismatch": None if self.mismatch is None else self.mismatch.to_json(),
            "blocks": replay.blocks,
            "operations": replay.ops,
            "totals": compute_totals(replay.state),
        }
        if with_state:
            out["state"] = format_state(replay.state)
        return out


def compute_totals(state: ZkState) -> dict[str, Any]:
    return {
        "accounts": len(state.account_records),
        "provers": len(state.prover_records),
        "tokens": len(state.nft_records),
        "listed": sum(1 for nft in state.nft_records.values() if nft.price > 0),
        "totalSupply": hex(get_total_supply(state)),
        "escrow": hex(state.escrow),
        "feePool": hex(state.fee_pool),
        "nextFastMessage": state.inbox,
    }


def format_address(value: int) -> str:
    return to_checksum_address(value.to_bytes(20, "big"))


def format_state(state: ZkState) -> dict[str, Any]:
    """Every record of the rebuilt state, in the form of the ZK RPC's reads."""
    return {
        "accounts": [
            {
                "index": index,
                "address": format_address(a.address),
                "balance": hex(a.balance),
                "nonce": hex(a.nonce),
                "keyHash": hex(a.key_hash),
            }
            for index, a in sorted(state.account_records.items())
        ],
        "tokens": [
            {
                "tokenKey": key,
                "collection": compute_collection_of(key),
                "tokenId": key & ((1 << SERIAL_BITS) - 1),
                "owner": format_address(nft.owner),
                "metadata": hex(nft.metadata),
                "price": hex(nft.price),
            }
            for key, nft in sorted(state.nft_records.items())
        ],
        "collections": [
            {"collection": cid, "minter": hex(c.minter), "supply": c.supply}
            for cid, c in sorted(state.collection_records.items())
        ],
        "provers": [
            {
                "index": index,
                "address": format_address(p.address),
                "balance": hex(p.balance),  # signed: a debt is negative
                "activeUntil": p.active_until,
            }
            for index, p in sorted(state.prover_records.items())
        ],
    }


def connect_rollup(l1_url: str, address: str) -> RollupClient:
    """The rollup at `address` on `l1_url`; L1Unavailable if either is missing."""
    w3 = make_l1_web3(l1_url)
    rollup = RollupClient(w3, to_checksum_address(address))
    if not w3.eth.get_code(rollup.address):
        raise L1Unavailable(f"no contract at {rollup.address} on L1 chain {w3.eth.chain_id}")
    try:
        rollup.get_genesis_root()
    except (ContractLogicError, BadFunctionCallOutput) as exc:
        raise L1Unavailable(
            f"the contract at {rollup.address} is not a Duet rollup: {exc}"
        ) from None
    return rollup


def reconstruct(
    l1_url: str,
    rollup_address: str,
    from_block: int | None = None,
    genesis: ZkState | None = None,
    progress: Progress = lambda phase, done, total: None,
) -> Reconstruction:
    """Replay everything the rollup settled, from `from_block` (default the deployment's, its
    `scheduleStart`) and `genesis` (default the dev network's), against its settled root as of
    one L1 block. L1Unavailable if L1 or the rollup cannot be read; L1Error if a settlement's
    calldata cannot be found."""
    try:
        return _reconstruct(l1_url, rollup_address, from_block, genesis, progress)
    except (OSError, Web3Exception) as exc:  # requests' errors are OSErrors
        raise L1Unavailable(f"cannot read L1 at {l1_url}: {exc}") from None


def _reconstruct(
    l1_url: str,
    rollup_address: str,
    from_block: int | None,
    genesis: ZkState | None,
    progress: Progress,
) -> Reconstruction:
    rollup = connect_rollup(l1_url, rollup_address)
    start = rollup.get_schedule_start() if from_block is None else from_block
    settled = rollup.get_settled_state()
    genesis = compute_network_genesis_state() if genesis is None else genesis
    genesis_root = rollup.get_genesis_root()
    root = StateRoot(compute_state_root(genesis))
    if root != genesis_root:
        reason = f"{format_roots('genesis root', genesis_root, root)}: another network?"
        replay = Replay(genesis, Height(0), 0, 0, Mismatch(Height(0), None, None, None, reason))
        return Reconstruction(rollup.address, start, settled, genesis_root, replay, replay.mismatch)
    settlements = read_settlements(rollup, start, settled.l1_block, progress)
    replay = compute_replay(genesis, read_settled_blocks(rollup, settlements, progress))
    mismatch = compute_final_mismatch(replay, settled)
    return Reconstruction(rollup.address, start, settled, genesis_root, replay, mismatch)


def load_dev_endpoints(data_dir: Path) -> tuple[str | None, str | None, int | None]:
    """A dev node's L1 URL (from node.json, so only while it runs), its rollup and the rollup's
    deployment block (from l1/deployment.json, or node.json); None for what is not there."""
    url = rollup = block = None
    with contextlib.suppress(ValueError):  # no node runs there
        l1 = read_node_file(data_dir).l1
        if l1 is not None:
            url, rollup = l1.http, l1.rollup
    deployment_file = data_dir / DEPLOYMENT_PATH
    if deployment_file.is_file():
        deployment = json.loads(deployment_file.read_text())
        rollup = rollup or deployment["rollup"]
        # A node started with --rollup settles on a rollup it did not deploy.
        if deployment["rollup"] == rollup:
            block = int(deployment["block"])
    return url, rollup, block
