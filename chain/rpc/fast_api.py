"""Ethereum JSON-RPC methods of the fast chain."""

import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from eth_abi import decode as abi_decode

from chain.config import (
    CLIENT_VERSION,
    RPC_MAX_LOG_BLOCK_RANGE,
    RPC_MAX_LOGS,
    SUGGESTED_TIP_WEI,
)
from chain.fast.chain import compute_base_fee, compute_prev_randao
from chain.fast.executor import BlockEnv, CallMsg, ExecutionError, GasBudgetExhausted
from chain.fast.receipts import decode_stored_log, decode_stored_receipt
from chain.fast.time_limit import RPC_CALL_TIME_LIMIT_S, time_limit
from chain.fast.txs import FastTx, InvalidTransaction, decode_stored_transaction
from chain.ledger.blocks import LedgerBlock
from chain.ledger.store import TxRecord
from chain.node import Node
from chain.rpc.dev_accounts import DevAccountsApi
from chain.rpc.dev_controls import DevControlsApi
from chain.rpc.dev_state import DevStateApi
from chain.rpc.errors import (
    EXECUTION_REVERTED,
    LIMIT_EXCEEDED,
    TX_REJECTED,
    RpcError,
    invalid_params,
)
from chain.rpc.filters import FilterApi
from chain.rpc.format import (
    format_block,
    format_call_frame,
    format_log,
    format_pending_log,
    format_receipt,
    format_transaction,
    hx,
)
from chain.rpc.overrides import parse_state_overrides
from chain.rpc.params import (
    expect_params,
    parse_address,
    parse_call_data,
    parse_hash,
    parse_hex_bytes,
    parse_object,
    parse_optional_address,
    parse_optional_bool,
    parse_optional_quantity,
    parse_quantity,
)
from chain.rpc.simulate import (
    SIMULATE_GAS_CAP,
    compute_envs,
    format_simulation,
    parse_simulation,
)
from chain.types import Address, Height

Handler = Callable[[list[Any]], Any]
ERROR_SELECTOR = bytes.fromhex("08c379a0")  # Error(string)
PANIC_SELECTOR = bytes.fromhex("4e487b71")  # Panic(uint256)
MAX_FEE_HISTORY_BLOCKS = 1024
MIN_BLOB_BASE_FEE = 1  # EIP-4844's floor: no blob transactions here, so it stays there
BLOCK_NOT_FOUND = -32001
HASH_HEX_CHARS = 66  # "0x" and 32 bytes

# A transaction that may burn more gas than this is not simulated for `pendingLogs`: a game
# move burns tens of thousands; a forecast is not worth a block's worth of work at admission.
PENDING_GAS_CAP = 1_000_000


def describe_revert(data: bytes | None) -> str:
    if not data:
        return "execution reverted"
    try:
        if data[:4] == ERROR_SELECTOR:
            return f"execution reverted: {abi_decode(['string'], data[4:])[0]}"
        if data[:4] == PANIC_SELECTOR:
            return f"execution reverted: panic code {abi_decode(['uint256'], data[4:])[0]:#x}"
    except Exception:
        pass
    return "execution reverted: custom error " + hx(data[:4])


# Reads that may run on py-evm (chain/fast/time_limit.py): stopped past RPC_CALL_TIME_LIMIT_S.
TIME_LIMITED = (
    "eth_call",
    "eth_estimateGas",
    "eth_createAccessList",
    "eth_simulateV1",
    "debug_traceCall",
    "debug_traceTransaction",
)


def limit_time(handler: Handler) -> Handler:
    def limited(params: Any) -> Any:
        with time_limit(RPC_CALL_TIME_LIMIT_S):
            return handler(params)

    return limited


def execution_error(exc: ExecutionError) -> RpcError:
    if exc.data is not None:
        return RpcError(EXECUTION_REVERTED, describe_revert(exc.data), hx(exc.data))
    return RpcError(TX_REJECTED, str(exc))


class FastApi:
    def __init__(self, node: Node, dev_keys: list[bytes] | None = None) -> None:
        """`dev_keys`: the dev accounts a dev node signs for (chain/rpc/dev_accounts.py)."""
        self.node = node
        self.chain_id = node.config.fast_chain_id
        self.methods: dict[str, Handler] = {
            "web3_clientVersion": lambda p: self._noargs(p, CLIENT_VERSION),
            "net_version": lambda p: self._noargs(p, str(self.chain_id)),
            "net_listening": lambda p: self._noargs(p, True),
            "eth_chainId": lambda p: self._noargs(p, hex(self.chain_id)),
            "eth_syncing": lambda p: self._noargs(p, False),
            "eth_blockNumber": lambda p: self._noargs(p, hex(self.node.query.fast_head.height)),
            "eth_gasPrice": lambda p: self._noargs(
                p, hex(self._next_base_fee() + SUGGESTED_TIP_WEI)
            ),
            "eth_maxPriorityFeePerGas": lambda p: self._noargs(p, hex(SUGGESTED_TIP_WEI)),
            "eth_getBalance": self.get_balance,
            "eth_getTransactionCount": self.get_transaction_count,
            "eth_getCode": self.get_code,
            "eth_getStorageAt": self.get_storage_at,
            "eth_call": self.call,
            "eth_estimateGas": self.estimate_gas,
            "eth_createAccessList": self.create_access_list,
            "debug_traceTransaction": self.trace_transaction,
            "debug_traceCall": self.trace_call,
            "eth_simulateV1": self.simulate_v1,
            "eth_feeHistory": self.fee_history,
            "eth_sendRawTransaction": self.send_raw_transaction,
            "eth_getTransactionByHash": self.get_transaction_by_hash,
            "eth_getTransactionReceipt": self.get_transaction_receipt,
            "eth_getBlockByNumber": self.get_block_by_number,
            "eth_getBlockByHash": self.get_block_by_hash,
            "eth_getBlockTransactionCountByNumber": self.get_block_tx_count,
            "eth_getLogs": self.get_logs,
            "eth_getBlockTransactionCountByHash": self.get_block_tx_count_by_hash,
            "eth_getTransactionByBlockNumberAndIndex": self.get_transaction_by_number_index,
            "eth_getTransactionByBlockHashAndIndex": self.get_transaction_by_hash_index,
            "eth_getRawTransactionByHash": self.get_raw_transaction_by_hash,
            "eth_getRawTransactionByBlockNumberAndIndex": self.get_raw_by_number_index,
            "eth_getRawTransactionByBlockHashAndIndex": self.get_raw_by_hash_index,
            "eth_getBlockReceipts": self.get_block_receipts,
            "eth_blobBaseFee": lambda p: self._noargs(p, hex(MIN_BLOB_BASE_FEE)),
            "net_peerCount": lambda p: self._noargs(p, "0x0"),
        }
        self.filters = FilterApi(
            self.chain_id,
            lambda: self.node.query.fast_head.height,
            self._block_hash_at,
            self.get_logs,
        )
        self.methods |= self.filters.methods
        for name in TIME_LIMITED:  # they may run on py-evm, on the thread that makes blocks
            self.methods[name] = limit_time(self.methods[name])
        self.dev_accounts = DevAccountsApi(
            node,
            dev_keys,
            self._estimate_at_head,
            self._next_base_fee,
            self.node.submit_raw,
            self.node.submit_impersonated,
        )
        self.methods |= self.dev_accounts.methods
        self.dev_controls = DevControlsApi()  # a dev node hands it its sequencer's `mine`
        self.methods |= self.dev_controls.methods
        self.dev_state = DevStateApi()  # and its `write_accounts`
        self.methods |= self.dev_state.methods

    def _estimate_at_head(self, msg: CallMsg) -> int:
        head = self.node.query.fast_head
        try:
            return self.node.query.estimate_gas(head.state_root, self._env(head), msg)
        except ExecutionError as exc:
            raise execution_error(exc) from None

    def _block_hash_at(self, height: Height) -> bytes:
        block = self.node.query.get_block(self.chain_id, height)
        assert block is not None, f"fast block {height} at or below the head is missing"
        return block.hash

    @staticmethod
    def _noargs(params: Any, value: Any) -> Any:
        expect_params(params, 0, 0)
        return value

    # -- blocks --------------------------------------------------------------------------

    def resolve_block(self, tag: Any, what: str = "block") -> LedgerBlock:
        query, head = self.node.query, self.node.query.fast_head
        if tag is None or tag in ("latest", "pending", "safe", "finalized"):
            return head
        if tag == "earliest":
            height = 0
        elif isinstance(tag, dict):
            parse_optional_bool(tag.get("requireCanonical"), "requireCanonical")
            if "blockHash" in tag:
                found = self._block_by_hash(tag["blockHash"])
                if found is None:
                    raise RpcError(BLOCK_NOT_FOUND, f"block {tag['blockHash']} not found")
                return found
            height = parse_quantity(tag.get("blockNumber"), "blockNumber")
        else:
            height = parse_quantity(tag, what)
        block = query.get_block(self.chain_id, height)
        if block is None:
            raise RpcError(BLOCK_NOT_FOUND, f"block {height} not found; the head is {head.height}")
        return block

    def _block_json(self, block: LedgerBlock, full: bool) -> dict[str, Any]:
        txs = None
        if full:
            txs = []
            for index, tx_hash in enumerate(block.tx_hashes):
                record = self.node.query.get_tx(tx_hash)
                assert record is not None
                txs.append(format_transaction(self._decode(record.raw), block, index))
        return format_block(block, compute_prev_randao(block.prev_hash), txs)

    def get_block_by_number(self, params: Any) -> Any:
        tag, full = expect_params(params, 1, 2)
        full = parse_optional_bool(full, "full transactions")
        block = self._block_by_tag(tag)
        return None if block is None else self._block_json(block, full)

    def get_block_by_hash(self, params: Any) -> Any:
        block_hash, full = expect_params(params, 1, 2)
        full = parse_optional_bool(full, "full transactions")
        block = self._block_by_hash(block_hash)
        return None if block is None else self._block_json(block, full)

    def get_block_tx_count(self, params: Any) -> Any:
        (tag,) = expect_params(params, 1, 1)
        return hex(len(self.resolve_block(tag).tx_hashes))

    def get_block_tx_count_by_hash(self, params: Any) -> Any:
        (block_hash,) = expect_params(params, 1, 1)
        block = self._block_by_hash(block_hash)
        return None if block is None else hex(len(block.tx_hashes))

    def _block_by_hash(self, value: Any) -> LedgerBlock | None:
        block = self.node.query.get_block_by_hash(parse_hash(value, "block hash"))
        return block if block is not None and block.chain_id == self.chain_id else None

    def _block_by_tag(self, tag: Any) -> LedgerBlock | None:
        try:
            return self.resolve_block(tag)
        except RpcError as exc:
            if exc.code == BLOCK_NOT_FOUND:
                return None
            raise

    def _tx_in(self, block: LedgerBlock | None, index: Any) -> TxRecord | None:
        """The committed transaction at `index` of `block` (None past its end)."""
        position = parse_quantity(index, "transaction index")
        if block is None or position >= len(block.tx_hashes):
            return None
        return self.node.query.get_tx(block.tx_hashes[position])

    def _tx_json(self, record: TxRecord | None) -> Any:
        if record is None:
            return None
        block = self.node.query.get_block(self.chain_id, record.height)
        return format_transaction(self._decode(record.raw), block, record.index)

    def get_transaction_by_number_index(self, params: Any) -> Any:
        tag, index = expect_params(params, 2, 2)
        return self._tx_json(self._tx_in(self._block_by_tag(tag), index))

    def get_transaction_by_hash_index(self, params: Any) -> Any:
        block_hash, index = expect_params(params, 2, 2)
        return self._tx_json(self._tx_in(self._block_by_hash(block_hash), index))

    def get_raw_by_number_index(self, params: Any) -> Any:
        tag, index = expect_params(params, 2, 2)
        record = self._tx_in(self._block_by_tag(tag), index)
        return None if record is None else hx(record.raw)

    def get_raw_by_hash_index(self, params: Any) -> Any:
        block_hash, index = expect_params(params, 2, 2)
        record = self._tx_in(self._block_by_hash(block_hash), index)
        return None if record is None else hx(record.raw)

    def get_block_receipts(self, params: Any) -> Any:
        """Every receipt of a block named by number, tag, hash or EIP-1898 object
        (execution-apis), in order."""
        (ref,) = expect_params(params, 1, 1)
        is_hash = isinstance(ref, str) and len(ref) == HASH_HEX_CHARS
        block = self._block_by_hash(ref) if is_hash else self._block_by_tag(ref)
        if block is None:
            return None
        receipts = []
        for tx_hash in block.tx_hashes:
            record = self.node.query.get_tx(tx_hash)
            assert record is not None, f"transaction {tx_hash.hex()} of a stored block missing"
            receipt = decode_stored_receipt(record.receipt)
            receipts.append(format_receipt(receipt, record.hash, block, record.index))
        return receipts

    # -- state -----------------------------------------------------------------------------

    def _account_at(self, params: Any) -> Any:
        address, tag = expect_params(params, 1, 2)
        block = self.resolve_block(tag)
        return self.node.query.get_account(parse_address(address), block.state_root)

    def get_balance(self, params: Any) -> Any:
        return hex(self._account_at(params).balance)

    def get_transaction_count(self, params: Any) -> Any:
        address, tag = expect_params(params, 1, 2)
        if tag == "pending":
            return hex(self.node.query.get_pending_nonce(parse_address(address)))
        return hex(self._account_at(params).nonce)

    def get_code(self, params: Any) -> Any:
        return hx(self._account_at(params).code)

    def get_storage_at(self, params: Any) -> Any:
        address, slot, tag = expect_params(params, 2, 3)
        block = self.resolve_block(tag)
        value = self.node.query.get_storage(
            block.state_root, parse_address(address), parse_quantity(slot, "storage slot")
        )
        return f"0x{value:064x}"

    # -- execution ---------------------------------------------------------------------------

    def _env(self, block: LedgerBlock) -> BlockEnv:
        return BlockEnv(
            number=block.height,
            timestamp=block.timestamp,
            coinbase=Address(self.node.config.fee_recipient),
            gas_limit=self.node.config.fast_block_gas_limit,
            base_fee=block.base_fee,
            prev_randao=compute_prev_randao(block.prev_hash),
            prev_hashes=self.node.query.list_recent_fast_hashes(),
            chain_id=self.chain_id,
        )

    def format_pending_logs(self, tx: FastTx) -> list[dict[str, Any]]:
        """The logs an admitted transaction emits when simulated on the head state, in the
        next block's environment (`pendingLogs`, chain/rpc/subscriptions.py); none if the
        simulation fails, or if the transaction may burn more than PENDING_GAS_CAP (its
        forecast would cost admission what its block costs the sequencer)."""
        if tx.gas > PENDING_GAS_CAP:
            return []
        head = self.node.query.fast_head
        env = replace(
            self._env(head),
            number=Height(head.height + 1),
            timestamp=max(head.timestamp, int(time.time())),
            base_fee=self._next_base_fee(),
        )
        msg = CallMsg(sender=tx.sender, to=tx.to, value=tx.value, data=tx.data, gas=tx.gas)
        try:
            with time_limit(RPC_CALL_TIME_LIMIT_S):  # a forecast, on the block thread too
                logs = self.node.query.simulate(head.state_root, env, msg)
        except ExecutionError:
            return []
        return [format_pending_log(log, tx.hash, i) for i, log in enumerate(logs)]

    def _call_msg(self, obj: Any) -> CallMsg:
        """The call object, its gas capped at the block gas limit (geth's RPCGasCap): a
        caller-chosen 2^64 would send the call to py-evm, uncapped, on the thread that makes
        the blocks."""
        call = parse_object(obj, "call object")
        gas = call.get("gas")
        cap = self.node.config.fast_block_gas_limit
        return CallMsg(
            sender=parse_optional_address(call.get("from"), "from"),
            to=parse_optional_address(call.get("to"), "to"),
            value=parse_optional_quantity(call.get("value"), "value", 0),
            data=parse_call_data(call),
            gas=None if gas is None else min(parse_quantity(gas, "gas"), cap),
        )

    def call(self, params: Any) -> Any:
        obj, tag, overrides = expect_params(params, 1, 3)
        changes = parse_state_overrides(overrides, "eth_call")
        msg = self._call_msg(obj)
        block = self.resolve_block(tag)
        try:
            output, _ = self.node.query.call(block.state_root, self._env(block), msg, changes)
        except ExecutionError as exc:
            raise execution_error(exc) from None
        return hx(output)

    def create_access_list(self, params: Any) -> Any:
        """eth_createAccessList: the call's access list and the gas it uses with it, as geth
        and anvil answer (the object's own accessList is not taken as a start)."""
        obj, tag = expect_params(params, 1, 2)
        msg = self._call_msg(obj)
        block = self.resolve_block(tag)
        try:
            access, gas_used = self.node.query.create_access_list(
                block.state_root, self._env(block), msg
            )
        except ExecutionError as exc:
            raise execution_error(exc) from None
        return {
            "accessList": [
                {
                    "address": hx(address),
                    "storageKeys": [hx(slot.to_bytes(32, "big")) for slot in slots],
                }
                for address, slots in access
            ],
            "gasUsed": hex(gas_used),
        }

    def trace_transaction(self, params: Any) -> Any:
        """debug_traceTransaction(hash, {"tracer": "callTracer"}): the call tree of a mined
        transaction, its block run again up to it (chain/fast/call_trace.py)."""
        tx_hash, options = expect_params(params, 1, 2)
        only_top = parse_trace_options(options)
        record = self.node.query.get_tx(parse_hash(tx_hash, "transaction hash"))
        if record is None or record.chain_id != self.chain_id:
            raise invalid_params("transaction not found")
        rerun = decode_stored_receipt(record.receipt).cumulative_gas_used
        if rerun > TRACE_GAS_CAP:
            raise RpcError(
                LIMIT_EXCEEDED,
                f"tracing this transaction runs its block again up to it, {rerun} gas, more "
                f"than the {TRACE_GAS_CAP} a trace may take (docs/rpc.md)",
            )
        return format_call_frame(self.node.query.trace_transaction(record), only_top)

    def simulate_v1(self, params: Any) -> Any:
        """eth_simulateV1(simulation, block): chain/rpc/simulate.py says what is served."""
        payload, tag = expect_params(params, 1, 2)
        raw_blocks = parse_simulation(payload)
        base = self.resolve_block(tag)
        msgs = [[self._call_msg(call) for call in calls] for calls in raw_blocks]
        envs = compute_envs(base, self._env(base), len(msgs))
        try:
            results = self.node.query.simulate_blocks(base.state_root, envs, msgs, SIMULATE_GAS_CAP)
        except GasBudgetExhausted as exc:
            raise RpcError(LIMIT_EXCEEDED, str(exc)) from None
        except ExecutionError as exc:
            raise execution_error(exc) from None
        return format_simulation(base, envs, results)

    def trace_call(self, params: Any) -> Any:
        """debug_traceCall(call, block, {"tracer": "callTracer"}): eth_call's call tree; a
        call that fails is traced too, its error in the frame."""
        obj, tag, options = expect_params(params, 1, 3)
        only_top = parse_trace_options(options)
        msg = self._call_msg(obj)
        msg = replace(msg, gas=min(msg.gas or TRACE_GAS_CAP, TRACE_GAS_CAP))
        block = self.resolve_block(tag)
        try:
            frame = self.node.query.trace_call(block.state_root, self._env(block), msg)
        except ExecutionError as exc:
            raise execution_error(exc) from None
        return format_call_frame(frame, only_top)

    def estimate_gas(self, params: Any) -> Any:
        obj, tag, overrides = expect_params(params, 1, 3)
        changes = parse_state_overrides(overrides, "eth_estimateGas")
        msg = self._call_msg(obj)
        block = self.resolve_block(tag)
        env = self._env(block)
        try:
            return hex(self.node.query.estimate_gas(block.state_root, env, msg, changes))
        except ExecutionError as exc:
            raise execution_error(exc) from None

    # -- fees ----------------------------------------------------------------------------------

    def _next_base_fee(self) -> int:
        return compute_base_fee(self.node.query.fast_head, self.node.config.min_base_fee)

    def fee_history(self, params: Any) -> Any:
        count, newest, percentiles = expect_params(params, 2, 3)
        count = parse_quantity(count, "blockCount")
        if count > MAX_FEE_HISTORY_BLOCKS:
            raise invalid_params(f"blockCount is at most {MAX_FEE_HISTORY_BLOCKS}")
        if percentiles is not None and not is_percentiles(percentiles):
            raise invalid_params("rewardPercentiles must be increasing numbers in [0, 100]")
        last = self.resolve_block(newest, "newestBlock")
        first_height = max(0, last.height - count + 1)
        blocks = (
            [
                b
                for h in range(first_height, last.height + 1)
                if (b := self.node.query.get_block(self.chain_id, h)) is not None
            ]
            if count
            else []
        )
        result: dict[str, Any] = {
            "oldestBlock": hex(first_height),
            "baseFeePerGas": [hex(b.base_fee) for b in blocks]
            + [hex(compute_base_fee(last, self.node.config.min_base_fee))],
            "gasUsedRatio": [b.gas_used / b.gas_limit if b.gas_limit else 0.0 for b in blocks],
            "baseFeePerBlobGas": ["0x0"] * (len(blocks) + 1),
            "blobGasUsedRatio": [0.0] * len(blocks),
        }
        if percentiles is not None:
            result["reward"] = [self._rewards(b, percentiles) for b in blocks]
        return result

    def _rewards(self, block: LedgerBlock, percentiles: list[float]) -> list[str]:
        tips = sorted(
            self._decode(record.raw).effective_gas_price(block.base_fee) - block.base_fee
            for h in block.tx_hashes
            if (record := self.node.query.get_tx(h)) is not None
        )
        if not tips:
            return ["0x0"] * len(percentiles)
        return [hex(tips[min(len(tips) - 1, int(len(tips) * p / 100))]) for p in percentiles]

    # -- transactions ----------------------------------------------------------------------------

    def _decode(self, raw: bytes) -> FastTx:
        return decode_stored_transaction(raw, self.chain_id)

    def send_raw_transaction(self, params: Any) -> Any:
        (raw,) = expect_params(params, 1, 1)
        try:
            return hx(self.node.submit_raw(parse_hex_bytes(raw, "raw transaction")))
        except InvalidTransaction as exc:
            raise RpcError(TX_REJECTED, str(exc)) from None

    def get_transaction_by_hash(self, params: Any) -> Any:
        (tx_hash,) = expect_params(params, 1, 1)
        tx_hash = parse_hash(tx_hash, "transaction hash")
        record = self.node.query.get_tx(tx_hash)
        if record is None:
            pending = self.node.query.get_pending_tx(tx_hash)
            return None if pending is None else format_transaction(pending)
        block = self.node.query.get_block(self.chain_id, record.height)
        return format_transaction(self._decode(record.raw), block, record.index)

    def get_raw_transaction_by_hash(self, params: Any) -> Any:
        (tx_hash,) = expect_params(params, 1, 1)
        tx_hash = parse_hash(tx_hash, "transaction hash")
        record = self.node.query.get_tx(tx_hash)
        if record is not None:
            return hx(record.raw)
        pending = self.node.query.get_pending_tx(tx_hash)
        return None if pending is None else hx(pending.raw)

    def get_transaction_receipt(self, params: Any) -> Any:
        (tx_hash,) = expect_params(params, 1, 1)
        record = self.node.query.get_tx(parse_hash(tx_hash, "transaction hash"))
        if record is None:
            return None
        block = self.node.query.get_block(self.chain_id, record.height)
        assert block is not None, f"block {record.height} of a committed transaction missing"
        receipt = decode_stored_receipt(record.receipt)
        return format_receipt(receipt, record.hash, block, record.index)

    # -- logs ------------------------------------------------------------------------------------

    def get_logs(self, params: Any) -> Any:
        (obj,) = expect_params(params, 1, 1)
        query = parse_object(obj, "filter")
        if query.get("blockHash") is not None:
            if query.get("fromBlock") is not None or query.get("toBlock") is not None:
                raise invalid_params("blockHash cannot be combined with fromBlock/toBlock")
            block = self.resolve_block({"blockHash": query["blockHash"]})
            first = last = block.height
        else:
            first = self.resolve_block(query.get("fromBlock"), "fromBlock").height
            last = self.resolve_block(query.get("toBlock"), "toBlock").height
        if last - first > RPC_MAX_LOG_BLOCK_RANGE:
            raise RpcError(
                LIMIT_EXCEEDED, f"block range too large: at most {RPC_MAX_LOG_BLOCK_RANGE}"
            )
        matcher = LogFilter.parse(query)
        logs = []
        blocks: dict[Height, LedgerBlock] = {}
        for height, log_index, raw in self.node.query.get_logs(
            self.chain_id, Height(first), Height(last), matcher.addresses
        ):
            if height not in blocks:
                found = self.node.query.get_block(self.chain_id, height)
                assert found is not None, f"block {height} of a stored log missing"
                blocks[height] = found
            block = blocks[height]
            stored = decode_stored_log(raw)
            log = format_log(stored.log, block, stored.tx_hash, stored.tx_index, log_index)
            if matcher.matches(log):
                logs.append(log)
                if len(logs) > RPC_MAX_LOGS:
                    raise RpcError(LIMIT_EXCEEDED, f"query returns more than {RPC_MAX_LOGS} logs")
        return logs


def is_percentiles(value: Any) -> bool:
    """eth_feeHistory's rewardPercentiles: numbers (not booleans) in [0, 100], increasing."""
    return (
        isinstance(value, list)
        and all(
            isinstance(p, int | float) and not isinstance(p, bool) and 0 <= p <= 100 for p in value
        )
        and value == sorted(value)
    )


class LogFilter:
    """The address and topic part of an eth_getLogs / logs-subscription filter."""

    def __init__(self, addresses: list[bytes] | None, topics: list[set[str] | None]) -> None:
        self.addresses = addresses
        self.topics = topics
        self._address_hex = None if addresses is None else {hx(a) for a in addresses}

    @classmethod
    def parse(cls, query: dict[str, Any]) -> "LogFilter":
        address = query.get("address")
        if address is None:
            addresses = None
        elif isinstance(address, list):
            addresses = [bytes(parse_address(a)) for a in address] or None
        else:
            addresses = [bytes(parse_address(address))]
        topics_in = query.get("topics")
        if topics_in is None:
            topics_in = []
        if not isinstance(topics_in, list) or len(topics_in) > 4:
            raise invalid_params("topics must be an array of at most 4 entries")
        topics: list[set[str] | None] = []
        for entry in topics_in:
            if entry is None:
                topics.append(None)
            elif isinstance(entry, list):
                topics.append({hx(parse_hash(t, "topic")) for t in entry} or None)
            else:
                topics.append({hx(parse_hash(entry, "topic"))})
        return cls(addresses, topics)

    def may_match(self, to: Address | None) -> bool:
        """Whether `pendingLogs` simulates a transaction to `to` for this filter: any, unless
        the filter names addresses, then only one sent to one of them."""
        return self._address_hex is None or (to is not None and hx(to) in self._address_hex)

    def matches(self, log: dict[str, Any]) -> bool:
        if self._address_hex is not None and log["address"] not in self._address_hex:
            return False
        log_topics = log["topics"]
        for i, wanted in enumerate(self.topics):
            if wanted is None:
                continue
            if i >= len(log_topics) or log_topics[i] not in wanted:
                return False
        return True


TRACERS = ("callTracer",)
# Traces run on py-evm, on the thread that makes blocks (revm gives no call tree): a trace
# may run at most this much gas, its block's transactions before it included, so that one
# request holds block production up for well under a second (a 30M-gas loop took 8 s).
TRACE_GAS_CAP = 3_000_000


def parse_trace_options(options: Any) -> bool:
    """The tracer options debug_trace* take; only geth's callTracer is served (the struct
    logger, the default, and prestateTracer are not). Returns its `onlyTopCall`."""
    options = {} if options is None else parse_object(options, "tracer options")
    tracer = options.get("tracer")
    if tracer not in TRACERS:
        raise invalid_params(
            f'tracer {tracer!r} is not served: pass {{"tracer": "callTracer"}} '
            "(the struct logger and the other tracers are not implemented)"
        )
    config = options.get("tracerConfig")
    config = {} if config is None else parse_object(config, "tracerConfig")
    only_top = parse_optional_bool(config.get("onlyTopCall"), "tracerConfig.onlyTopCall")
    with_log = parse_optional_bool(config.get("withLog"), "tracerConfig.withLog")
    unknown = set(config) - {"onlyTopCall", "withLog"}
    if unknown or with_log:
        raise invalid_params(
            f"tracerConfig takes onlyTopCall only, not {sorted(unknown) or 'withLog'}"
        )
    return only_top
