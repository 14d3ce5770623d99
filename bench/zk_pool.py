"""The ZK operation pool: admitting operations, and admitting them all again after a block.

A node applies every waiting operation again after each ZK block (chain/zk/pool.py), on the
thread that makes blocks, so a full pool's re-admission is a delay that every block pays.
This measures it on a state of `--accounts` accounts with `--ops` transfers waiting (each
account sends in turn, nonces counting up, within the per-sender cap), in one process:

- `pool`: the pool as the node runs it (unhashed state, operations applied in place);
- `hashed_copies`: each operation applied to a hashed copy of the state, as the pool did
  before (`apply_operation`), on the first `--baseline-ops` operations only (it is slow),
  reported per operation.

    .venv/bin/python bench/zk_pool.py [--accounts 4000] [--ops 10000] [--baseline-ops 1000]

Prints one JSON object: {"pool": {"admit_s", "readmit_s", "per_op_us"},
"hashed_copies": {"ops", "admit_s", "per_op_us"}, "speedup": ..., "params": {...}}.
"""

from __future__ import annotations

import argparse
import json
import platform
import time

from chain.testing.proven_blocks import CAROL, CTX, FEE, compute_test_genesis
from chain.zk.ops import Operation, Transfer
from chain.zk.pool import MAX_PENDING_OPS, MAX_PENDING_PER_SENDER, OpPool
from chain.zk.registry import apply_operation
from chain.zk.signing import SignedOperation
from chain.zk.state import Account, ZkState, compute_next_account_index, put_account

FIRST_SENDER = 0x1000
BALANCE = 10**21


def build_state(accounts: int) -> ZkState:
    state = compute_test_genesis()
    for k in range(accounts):
        put_account(state, compute_next_account_index(state), Account(FIRST_SENDER + k, BALANCE))
    return state


def build_ops(accounts: int, count: int) -> list[SignedOperation]:
    """`count` transfers of 1 wei to Carol, account after account, each account's nonces
    counting up from 0."""
    return [
        SignedOperation(
            Operation(Transfer(CAROL, 1), FIRST_SENDER + k % accounts, FEE, k // accounts),
            signature=b"",
            op_id=k.to_bytes(8, "big"),
        )
        for k in range(count)
    ]


def measure_pool(state: ZkState, ops: list[SignedOperation]) -> dict[str, float]:
    pool = OpPool(state)
    started = time.perf_counter()
    for signed in ops:
        pool.admit(signed, CTX)
    admitted = time.perf_counter()
    dropped = pool.reset(state, set(), CTX)  # a block that took none of them
    readmitted = time.perf_counter()
    if dropped or len(pool.ops) != len(ops):
        raise SystemExit(f"the pool dropped {len(dropped)} of {len(ops)} operations")
    return {
        "admit_s": round(admitted - started, 4),
        "readmit_s": round(readmitted - admitted, 4),
        "per_op_us": round((readmitted - admitted) / len(ops) * 1e6, 2),
    }


def measure_hashed_copies(state: ZkState, ops: list[SignedOperation]) -> dict[str, float]:
    started = time.perf_counter()
    tip = state
    for signed in ops:
        tip, _ = apply_operation(tip, signed.op, CTX)
    took = time.perf_counter() - started
    return {
        "ops": len(ops),
        "admit_s": round(took, 4),
        "per_op_us": round(took / len(ops) * 1e6, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--accounts", type=int, default=4000)
    parser.add_argument("--ops", type=int, default=MAX_PENDING_OPS)
    parser.add_argument("--baseline-ops", type=int, default=1000)
    args = parser.parse_args()
    if args.ops > args.accounts * MAX_PENDING_PER_SENDER:
        parser.error(f"--ops over {MAX_PENDING_PER_SENDER} per account: the pool refuses them")
    state = build_state(args.accounts)
    ops = build_ops(args.accounts, args.ops)
    pool = measure_pool(state, ops)
    baseline = measure_hashed_copies(state, ops[: args.baseline_ops])
    print(
        json.dumps(
            {
                "pool": pool,
                "hashed_copies": baseline,
                "speedup": round(baseline["per_op_us"] / pool["per_op_us"], 1),
                "params": {
                    "accounts": args.accounts,
                    "ops": args.ops,
                    "baseline_ops": args.baseline_ops,
                },
                "machine": {"python": platform.python_version()},
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
