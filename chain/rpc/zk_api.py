"""The ZK chain's JSON-RPC: Ethereum reads (blocks, ERC-20/721 views) and duet_* operations.

Operations are EIP-712 signed objects sent with `duet_sendOperation`; their progress
(pending → committed → proven → settled) is read with `duet_getOperation` and
`duet_getProofStatus`. Submission agents read what they post to L1 with
`duet_getSettlementHeights` and `duet_getSettlementBlock`. docs/rpc.md lists every method.
"""

from collections.abc import Callable
from typing import Any

from chain.config import CLIENT_VERSION
from chain.fast.chain import compute_prev_randao
from chain.l1.attestation import AttestedBlock
from chain.l1.op_signing import compute_op_signatures
from chain.ledger.blocks import LedgerBlock
from chain.ledger.store import ZkOpRecord
from chain.market.settlement_wait import format_settlement_wait
from chain.node import Node
from chain.prover.errors import ProverError
from chain.prover.ownership import compute_token_paths, format_token_paths
from chain.rpc.errors import EXECUTION_REVERTED, TX_REJECTED, RpcError, invalid_params
from chain.rpc.format import format_block, hx
from chain.rpc.params import (
    MAX_COUNT,
    expect_params,
    parse_address,
    parse_call_data,
    parse_count,
    parse_hash,
    parse_object,
    parse_optional_bool,
    parse_quantity,
)
from chain.types import Height
from chain.zk.chain import compute_epoch
from chain.zk.ops import InvalidOp
from chain.zk.signing import InvalidSignature
from chain.zk.state import (
    MAX_COLLECTIONS,
    MAX_SERIALS,
    compute_token_key,
    get_account,
    get_account_index,
    get_nft,
    get_stake,
    get_total_supply,
)
from chain.zk.views import ViewRevert, compute_call, encode_revert

HEAD_TAGS = (None, "latest", "pending", "safe", "finalized")
MAX_SETTLEMENT_HEIGHTS = 1000  # per duet_getSettlementHeights call


class ZkApi:
    def __init__(self, node: Node) -> None:
        self.node = node
        self.chain_id = node.config.zk_chain_id
        self.methods: dict[str, Callable[[list[Any]], Any]] = {
            "web3_clientVersion": lambda p: self._noargs(p, CLIENT_VERSION),
            "net_version": lambda p: self._noargs(p, str(self.chain_id)),
            "eth_chainId": lambda p: self._noargs(p, hex(self.chain_id)),
            "eth_syncing": lambda p: self._noargs(p, False),
            "eth_blockNumber": lambda p: self._noargs(p, hex(self.node.query.zk_head.height)),
            "eth_getBlockByNumber": self.get_block_by_number,
            "eth_getBlockByHash": self.get_block_by_hash,
            "eth_call": self.call,
            "eth_getBalance": self.get_balance,
            "eth_getTransactionCount": self.get_transaction_count,
            "duet_sendOperation": self.send_operation,
            "duet_getSigningDomain": lambda p: self._noargs(
                p, self.node.query.signing_domain.to_json()
            ),
            "duet_getOperation": self.get_operation,
            "duet_getProofStatus": self.get_proof_status,
            "duet_getAccount": self.get_account,
            "duet_getStake": self.get_stake,
            "duet_getToken": self.get_token,
            "duet_getListings": self.get_listings,
            "duet_getTotals": self.get_totals,
            "duet_getFastMessage": self.get_fast_message,
            "duet_getTokenPaths": self.get_token_paths,
            "duet_getSettlementHeights": self.get_settlement_heights,
            "duet_getSettlementBlock": self.get_settlement_block,
            "duet_getSettlementStatus": self.get_settlement_status,
        }

    @staticmethod
    def _noargs(params: Any, value: Any) -> Any:
        expect_params(params, 0, 0)
        return value

    def _format(self, block: LedgerBlock | None, full: Any) -> Any:
        full = parse_optional_bool(full, "full transactions")
        return (
            None
            if block is None
            else format_block(block, compute_prev_randao(block.prev_hash), [] if full else None)
        )

    def get_block_by_number(self, params: Any) -> Any:
        tag, full = expect_params(params, 1, 2)
        head = self.node.query.zk_head
        if tag in (None, "latest", "pending", "safe", "finalized"):
            return self._format(head, full)
        height = 0 if tag == "earliest" else parse_quantity(tag, "block")
        return self._format(self.node.query.get_block(self.chain_id, height), full)

    def get_block_by_hash(self, params: Any) -> Any:
        block_hash, full = expect_params(params, 1, 2)
        block = self.node.query.get_block_by_hash(parse_hash(block_hash, "block hash"))
        if block is not None and block.chain_id != self.chain_id:
            block = None
        return self._format(block, full)

    # -- state reads: only the head state is kept -------------------------------------------

    def _check_head_tag(self, tag: Any) -> None:
        if tag in HEAD_TAGS:
            return
        is_number = isinstance(tag, str) and tag.startswith("0x")
        if is_number and parse_quantity(tag, "block") == self.node.query.zk_head.height:
            return
        raise invalid_params("the ZK chain serves its state at the head only (use 'latest')")

    def call(self, params: Any) -> Any:
        call, tag = expect_params(params, 1, 2)
        call = parse_object(call, "call object")
        self._check_head_tag(tag)
        if call.get("to") is None:
            raise invalid_params("call needs a 'to' address")
        to = int.from_bytes(parse_address(call["to"], "to"), "big")
        data = parse_call_data(call)
        try:
            return hx(compute_call(self.node.query.zk_state, to, data))
        except ViewRevert as exc:
            raise RpcError(
                EXECUTION_REVERTED, f"execution reverted: {exc}", hx(encode_revert(str(exc)))
            ) from None

    def get_balance(self, params: Any) -> Any:
        address, tag = expect_params(params, 1, 2)
        self._check_head_tag(tag)
        owner = int.from_bytes(parse_address(address), "big")
        return hex(get_account(self.node.query.zk_state, owner).balance)

    def get_transaction_count(self, params: Any) -> Any:
        address, tag = expect_params(params, 1, 2)
        owner = int.from_bytes(parse_address(address), "big")
        nonce = get_account(self.node.query.zk_state, owner).nonce
        if tag == "pending":
            return hex(self.node.query.get_zk_pending_nonce(owner))
        self._check_head_tag(tag)
        return hex(nonce)

    def get_account(self, params: Any) -> Any:
        (address,) = expect_params(params, 1, 1)
        owner = int.from_bytes(parse_address(address), "big")
        state = self.node.query.zk_state
        account = get_account(state, owner)
        return {
            "address": address,
            "index": get_account_index(state, owner),
            "balance": hex(account.balance),
            "nonce": hex(account.nonce),
            "pendingNonce": hex(self.node.query.get_zk_pending_nonce(owner)),
            "keyHash": hex(account.key_hash),  # 0x0: no ownership key registered
        }

    def get_stake(self, params: Any) -> Any:
        """A validator's stake (docs/zk-state.md, "Stake"): bonded (what its power counts),
        unbonding, and the epoch from which the unbonding stake may be claimed."""
        (address,) = expect_params(params, 1, 1)
        validator = int.from_bytes(parse_address(address), "big")
        state = self.node.query.zk_state
        stake = get_stake(state, validator)
        return {
            "address": address,
            "bonded": hex(stake.bonded),
            "unbonding": hex(stake.unbonding),
            "unlockEpoch": stake.unlock_epoch,
            "epoch": compute_epoch(self.node.query.zk_head.timestamp),
        }

    # -- operations ---------------------------------------------------------------------------

    def send_operation(self, params: Any) -> Any:
        (operation,) = expect_params(params, 1, 1)
        try:
            return hx(self.node.submit_operation(operation))
        except InvalidSignature as exc:
            raise invalid_params(str(exc)) from None
        except InvalidOp as exc:
            raise RpcError(TX_REJECTED, f"operation rejected: {exc}") from None

    def _uncommitted_status(self, op_id: bytes) -> dict[str, Any]:
        """The status of an operation that no block holds: waiting, refused, or never seen."""
        if self.node.query.is_zk_op_pending(op_id):
            return {"status": "pending"}
        reason = self.node.query.get_lost_reason(op_id)
        if reason is not None:
            return {"status": "rejected", "reason": reason}
        return {"status": "unknown"}

    def get_operation(self, params: Any) -> Any:
        (op_id,) = expect_params(params, 1, 1)
        key = parse_hash(op_id, "operation id")
        record = self.node.query.get_zk_op(key)
        if record is None:
            return {"id": op_id, **self._uncommitted_status(key)}
        return {
            "id": op_id,
            "status": record.status,
            "blockNumber": record.height,
            "index": record.index,
            "operation": record.body,
            "circuit": record.circuit,
        }

    def get_proof_status(self, params: Any) -> Any:
        (op_id,) = expect_params(params, 1, 1)
        key = parse_hash(op_id, "operation id")
        record = self.node.query.get_zk_op(key)
        if record is None:
            return {"id": op_id, **self._uncommitted_status(key)}
        return {
            "id": op_id,
            "status": record.status,
            "height": hex(record.height),
            "index": hex(record.index),
            "circuit": record.circuit,
            "publicInputs": [hex(x) for x in record.public_inputs],
            "proof": None if record.proof is None else hx(record.proof),
        }

    # -- settlement on L1 ----------------------------------------------------------------------

    def get_settlement_heights(self, params: Any) -> Any:
        """Heights above `after` of the ZK blocks that hold operations: the ones L1 settles
        (the empty ones in between leave the root as it is)."""
        after, limit = expect_params(params, 1, 2)
        after = parse_count(after, "after")
        limit = MAX_SETTLEMENT_HEIGHTS if limit is None else parse_count(limit, "limit")
        heights = self.node.query.list_zk_op_heights(
            Height(after), min(limit, MAX_SETTLEMENT_HEIGHTS)
        )
        return [int(h) for h in heights]

    def get_settlement_block(self, params: Any) -> Any:
        """ZK block `height` as Rollup.submitBlock takes it: each operation's circuit,
        post-root, words and proof (`unproven` lists those without one); `ready` once the
        market's aggregation job has made `aggregate`, the `ops` calldata agents post; and
        the sequencer's `attestation` (settlement number, timestamp, signatures)."""
        (height,) = expect_params(params, 1, 1)
        height = parse_count(height, "height")
        block = self.node.query.get_block(self.chain_id, height)
        if block is None:
            return None
        ops = self.node.query.list_zk_ops_at(Height(height))
        unproven = [hx(op.op_id) for op in ops if op.proof is None]
        aggregate = self.node.query.get_zk_aggregate(Height(height))
        attested = self.node.query.get_attestation(Height(height))
        return {
            "height": height,
            "stateRoot": hx(block.state_root),
            "ready": aggregate is not None,
            "unproven": unproven,
            "aggregate": None if aggregate is None else hx(aggregate),
            "attestation": None if attested is None else format_attestation(attested),
            "signatures": hx(compute_op_signatures(ops)),
            "ops": [format_settlement_op(op) for op in ops],
        }

    def get_settlement_status(self, params: Any) -> Any:
        """L1's settled height as the node last read it, the next ZK block to settle and what
        it waits for: proofs, its aggregation, or an agent; with the jobs, held or not."""
        expect_params(params, 0, 0)
        return format_settlement_wait(self.node.query.explain_settlement())

    # -- NFTs and the market ------------------------------------------------------------------

    def get_token(self, params: Any) -> Any:
        collection, serial = expect_params(params, 2, 2)
        collection = parse_quantity(collection, "collection")
        serial = parse_quantity(serial, "token id")
        if collection >= MAX_COLLECTIONS or serial >= MAX_SERIALS:
            raise invalid_params("no such collection or token id")
        return self._format_token(compute_token_key(collection, serial))

    def _format_token(self, key: int) -> Any:
        nft = get_nft(self.node.query.zk_state, key)
        if not nft.exists:
            return None
        return {
            "collection": key >> 12,
            "tokenId": key & (MAX_SERIALS - 1),
            "tokenKey": key,
            "owner": hx(nft.owner.to_bytes(20, "big")),
            "metadata": hex(nft.metadata),
            "price": hex(nft.price),
            "listed": nft.price > 0,
        }

    def get_token_paths(self, params: Any) -> Any:
        """A token's leaf and its owner's account leaf with their Merkle paths, at the ZK head:
        what the owner adds their secret to, to prove ownership (chain/client/pass_proof.py)."""
        collection, serial = expect_params(params, 2, 2)
        collection = parse_quantity(collection, "collection")
        serial = parse_quantity(serial, "token id")
        if collection >= MAX_COLLECTIONS or serial >= MAX_SERIALS:
            raise invalid_params("no such collection or token id")
        try:
            paths = compute_token_paths(
                self.node.query.zk_state, compute_token_key(collection, serial)
            )
        except ProverError as exc:
            raise invalid_params(str(exc)) from None
        return {"height": self.node.query.zk_head.height, **format_token_paths(paths)}

    def get_listings(self, params: Any) -> Any:
        expect_params(params, 0, 0)
        records = self.node.query.zk_state.nft_records
        return [self._format_token(key) for key in sorted(records) if records[key].price > 0]

    def get_totals(self, params: Any) -> Any:
        expect_params(params, 0, 0)
        state = self.node.query.zk_state
        return {
            "totalSupply": hex(get_total_supply(state)),
            "escrow": hex(state.escrow),
            "feePool": hex(state.fee_pool),
            "nextFastMessage": hex(state.inbox),
        }

    def get_fast_message(self, params: Any) -> Any:
        """What the ZK chain made of fast-chain message `seq`: pending, applied or refused
        (each time it arrived: a replay shows as a second, refused, arrival)."""
        (seq,) = expect_params(params, 1, 1)
        seq = parse_quantity(seq, "message number", MAX_COUNT)
        arrivals = [
            {
                "blockNumber": r.height,
                "operationId": hx(r.op_id),
                "status": "applied" if r.refused is None else "refused",
                "reason": r.refused,
            }
            for r in self.node.query.list_zk_messages(seq)
        ]
        waiting = any(
            getattr(m, "seq", None) == seq for m in self.node.query.list_pending_fast_messages()
        )
        return {"seq": hex(seq), "pending": waiting, "arrivals": arrivals}


def format_attestation(attested: AttestedBlock) -> dict[str, Any]:
    return {
        "number": attested.number,
        "timestamp": attested.header.timestamp,
        "opsHash": hx(attested.ops_hash),
        "signatures": hx(attested.attestation),
    }


def format_settlement_op(op: ZkOpRecord) -> dict[str, Any]:
    pre_root, post_root, *words = op.public_inputs
    return {
        "id": hx(op.op_id),
        "status": op.status,
        "circuit": op.circuit,
        "preRoot": hex(pre_root),
        "postRoot": hex(post_root),
        "words": [hex(w) for w in words],
        "proof": None if op.proof is None else hx(op.proof),
    }
