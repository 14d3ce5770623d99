"""eth_simulateV1 (execution-apis): blocks of calls simulated on a block's state, each call
on what the calls before it left, as viem's `simulateCalls` and ethers' simulations send it.

Served: `blockStateCalls` of `calls` (the `from`, `to`, `value`, `data`/`input` and `gas` of
eth_call), `returnFullTransactions: false`. Refused with -32602, by name: state and block
overrides, `validation: true` (calls run at gas price 0, as eth_call), `traceTransfers`.
Each simulated block follows the last, a second later; its answer has the block's number,
time, gas and calls. A simulated block never exists: its `hash` and its calls'
`transactionHash` are keccak of what identifies them in this answer, nothing more. The calls
run on py-evm on the thread that makes blocks, so they spend at most SIMULATE_GAS_CAP in
all (docs/rpc.md).
"""

from dataclasses import replace
from typing import Any

from chain.encoding import keccak
from chain.fast.executor import BlockEnv, SimulatedCall
from chain.ledger.blocks import LedgerBlock
from chain.rpc.errors import invalid_params
from chain.rpc.format import hx
from chain.rpc.params import parse_object, parse_optional_bool
from chain.types import Height

SIMULATE_GAS_CAP = 3_000_000  # as a trace's: py-evm on the block thread
MAX_SIMULATED_BLOCKS = 16
MAX_SIMULATED_CALLS = 256  # in all blocks together
REVERTED = 3  # execution-apis: a call that reverted
VM_ERROR = -32015  # execution-apis: a call that failed otherwise
SERVED_FIELDS = {"blockStateCalls", "validation", "traceTransfers", "returnFullTransactions"}
SERVED_BLOCK_FIELDS = {"calls", "stateOverrides", "blockOverrides"}


def parse_simulation(payload: Any) -> list[list[Any]]:
    """The calls (raw call objects) of each simulated block; RpcError naming what is not
    served."""
    payload = parse_object(payload, "simulation")
    unknown = set(payload) - SERVED_FIELDS
    if unknown:
        raise invalid_params(f"unknown fields {sorted(unknown)}")
    for flag in ("validation", "traceTransfers", "returnFullTransactions"):
        if parse_optional_bool(payload.get(flag), flag):
            raise invalid_params(f"{flag}: true is not served (docs/rpc.md)")
    blocks = payload.get("blockStateCalls")
    if not isinstance(blocks, list) or not blocks:
        raise invalid_params("blockStateCalls must be a list of 1 or more blocks")
    if len(blocks) > MAX_SIMULATED_BLOCKS:
        raise invalid_params(f"at most {MAX_SIMULATED_BLOCKS} blocks are simulated at once")
    calls: list[list[Any]] = []
    for block in blocks:
        block = parse_object(block, "block state call")
        unknown = set(block) - SERVED_BLOCK_FIELDS
        if unknown:
            raise invalid_params(f"unknown fields {sorted(unknown)} in a block state call")
        for overrides in ("stateOverrides", "blockOverrides"):
            given = block.get(overrides)
            if given is not None and parse_object(given, overrides):
                raise invalid_params(f"{overrides} are not served yet (docs/rpc.md)")
        block_calls = block.get("calls")
        if block_calls is None:
            block_calls = []
        if not isinstance(block_calls, list):
            raise invalid_params("calls must be a list of call objects")
        calls.append(block_calls)
    if sum(len(c) for c in calls) > MAX_SIMULATED_CALLS:
        raise invalid_params(f"at most {MAX_SIMULATED_CALLS} calls are simulated at once")
    return calls


def compute_envs(base: LedgerBlock, env: BlockEnv, count: int) -> list[BlockEnv]:
    """The simulated blocks' environments: each the one after `base`, a second later."""
    return [
        replace(env, number=Height(base.height + i + 1), timestamp=base.timestamp + i + 1)
        for i in range(count)
    ]


def format_simulation(
    base: LedgerBlock, envs: list[BlockEnv], results: list[list[SimulatedCall]]
) -> list[dict[str, Any]]:
    answer = []
    parent: bytes = base.hash
    for env, calls in zip(envs, results, strict=True):
        block_hash = keccak(b"duet/simulated-block" + parent + env.number.to_bytes(8, "big"))
        hashes = [
            keccak(b"duet/simulated-call" + block_hash + i.to_bytes(4, "big"))
            for i in range(len(calls))
        ]
        formatted = []
        log_index = 0
        for i, call in enumerate(calls):
            logs = []
            for log in call.logs:
                logs.append(
                    {
                        "address": hx(log.address),
                        "topics": [hx(t) for t in log.topics],
                        "data": hx(log.data),
                        "blockNumber": hex(env.number),
                        "blockHash": hx(block_hash),
                        "blockTimestamp": hex(env.timestamp),
                        "transactionHash": hx(hashes[i]),
                        "transactionIndex": hex(i),
                        "logIndex": hex(log_index),
                        "removed": False,
                    }
                )
                log_index += 1
            entry: dict[str, Any] = {
                "returnData": hx(call.output),
                "logs": logs,
                "gasUsed": hex(call.gas_used),
                "status": "0x1" if call.success else "0x0",
            }
            if not call.success:
                entry["error"] = (
                    {"code": REVERTED, "message": "execution reverted", "data": hx(call.output)}
                    if call.reverted
                    else {"code": VM_ERROR, "message": call.error}
                )
            formatted.append(entry)
        answer.append(
            {
                "number": hex(env.number),
                "hash": hx(block_hash),
                "parentHash": hx(parent),
                "timestamp": hex(env.timestamp),
                "gasLimit": hex(env.gas_limit),
                "gasUsed": hex(sum(c.gas_used for c in calls)),
                "baseFeePerGas": hex(env.base_fee),
                "miner": hx(env.coinbase),
                "transactions": [hx(h) for h in hashes],
                "calls": formatted,
            }
        )
        parent = block_hash
    return answer
