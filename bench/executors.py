"""In-process throughput of the fast chain's executors on blocks of game moves.

Each executor runs the same blocks: 50 `MoveBench.move` calls from 50 players (three
storage writes and an event each), signed beforehand, on an in-memory node store. Two
figures per executor:

- `moves_per_s`: `Executor.apply_block` alone (execution, fees, state root, trie nodes);
- `moves_per_s_with_block`: also decoding the signed transactions (signature recovery) and
  the block's receipts, bloom and transaction/receipt roots, as the node does per block.

    .venv/bin/python bench/executors.py [--blocks N] [--executors pyevm,revm]

Prints one JSON object on stdout.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_utils import keccak, to_checksum_address

from chain.fast.executor import BlockEnv, Executor
from chain.fast.receipts import compute_block_commitments
from chain.fast.txs import decode_transaction
from chain.node import EXECUTORS
from chain.types import Address, ChainId, Hash32, Height, Root

ROOT = Path(__file__).resolve().parent.parent
ARTIFACT = ROOT / "build" / "contracts" / "MoveBench.json"
CHAIN_ID = ChainId(7702)
PLAYERS = 50  # one move per player per block
WARMUP_BLOCKS = 2  # not timed: first touches of each player's slots
GAS_PER_MOVE = 100_000
GWEI = 10**9


def make_env(height: int) -> BlockEnv:
    return BlockEnv(
        number=Height(height),
        timestamp=1_700_000_000 + height,
        coinbase=Address(b"\x00" * 20),
        gas_limit=30_000_000,
        base_fee=GWEI,
        prev_randao=Hash32(keccak(b"%d" % height)),
        prev_hashes=(),
        chain_id=CHAIN_ID,
    )


def sign(key: Any, nonce: int, **fields: Any) -> bytes:
    tx = {
        "chainId": CHAIN_ID,
        "nonce": nonce,
        "value": 0,
        "maxFeePerGas": 2 * GWEI,
        "maxPriorityFeePerGas": 1,
        **fields,
    }
    return bytes(key.sign_transaction(tx).raw_transaction)


def make_blocks(count: int) -> tuple[dict[Address, int], bytes, list[list[bytes]]]:
    """Genesis allocation, the deployment, and `count` blocks of signed moves."""
    keys = [Account.from_key(keccak(b"bench-player-%d" % i)) for i in range(PLAYERS)]
    alloc = {Address(bytes.fromhex(k.address[2:])): 10**24 for k in keys}
    bytecode = bytes.fromhex(json.loads(ARTIFACT.read_text())["bytecode"].removeprefix("0x"))
    deployment = sign(keys[0], 0, data=bytecode, gas=1_000_000)
    contract = keccak(bytes.fromhex("d694") + bytes.fromhex(keys[0].address[2:]) + b"\x80")[12:]
    move = keccak(b"move(uint8)")[:4]
    blocks = []
    for n in range(count):
        blocks.append(
            [
                sign(
                    key,
                    n + (1 if i == 0 else 0),
                    to=to_checksum_address(contract),
                    data=move + (n % 4).to_bytes(32, "big"),
                    gas=GAS_PER_MOVE,
                )
                for i, key in enumerate(keys)
            ]
        )
    return alloc, deployment, blocks


def measure(
    name: str, alloc: dict[Address, int], deployment: bytes, blocks: list[list[bytes]]
) -> dict[str, Any]:
    store: dict[bytes, bytes] = {}
    executor: Executor = EXECUTORS[name](store.get)
    root, nodes = executor.make_genesis(alloc)
    store.update(nodes)

    def apply(height: int, root: Root, raw_txs: list[bytes]) -> tuple[Root, float, float]:
        start = time.perf_counter()
        txs = [decode_transaction(raw, CHAIN_ID) for raw in raw_txs]
        decoded = time.perf_counter()
        result = executor.apply_block(root, make_env(height), txs)
        executed = time.perf_counter()
        compute_block_commitments(result.outcomes)
        done = time.perf_counter()
        store.update(result.state_nodes)
        executor.remember_nodes(result.state_nodes, result.retired_nodes)
        assert len(result.outcomes) == len(txs) and all(o.success for o in result.outcomes)
        return result.state_root, executed - decoded, done - start

    root, _, _ = apply(1, root, [deployment])
    execute_s = block_s = 0.0
    timed_moves = 0
    for n, raw_txs in enumerate(blocks):
        root, execute, whole = apply(n + 2, root, raw_txs)
        if n >= WARMUP_BLOCKS:
            execute_s += execute
            block_s += whole
            timed_moves += len(raw_txs)
    return {
        "moves_per_s": round(timed_moves / execute_s, 1),
        "moves_per_s_with_block": round(timed_moves / block_s, 1),
        "block_ms": round(1000 * execute_s / (len(blocks) - WARMUP_BLOCKS), 2),
        "moves": timed_moves,
        "state_root": "0x" + root.hex(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--blocks", type=int, default=20, help="timed blocks (default 20)")
    parser.add_argument(
        "--executors", default="pyevm,revm", help="comma-separated (default pyevm,revm)"
    )
    args = parser.parse_args(argv)
    names = [n for n in args.executors.split(",") if n]
    unknown = [n for n in names if n not in EXECUTORS]
    if unknown or args.blocks < 1:
        parser.error(f"unknown executor(s) {unknown}; known: {sorted(EXECUTORS)}")
    alloc, deployment, blocks = make_blocks(args.blocks + WARMUP_BLOCKS)
    report: dict[str, Any] = {}
    for name in names:
        print(f"measuring {name} ...", file=sys.stderr)
        report[name] = measure(name, alloc, deployment, blocks)
    roots = {report[n]["state_root"] for n in names}
    report["same_state_root"] = len(roots) == 1
    if "pyevm" in report and "revm" in report:
        report["speedup"] = round(report["revm"]["moves_per_s"] / report["pyevm"]["moves_per_s"], 1)
    report["params"] = {"players": PLAYERS, "moves_per_block": PLAYERS, "blocks": args.blocks}
    report["machine"] = {"python": platform.python_version()}
    print(json.dumps(report, indent=2))
    return 0 if report["same_state_root"] else 1


if __name__ == "__main__":
    sys.exit(main())
