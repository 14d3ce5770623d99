"""L1 gas per settled ZK operation: batched verification against one verifier call per proof.

On a throwaway anvil, for blocks of 1, 8, 32 and 128 transfers (real operations of the ZK
state machine, proven with the ceremony's keys): the gas of `Rollup.submitBlock` divided by
the block's operations, measured in the steady state (the rollup has settled a block before,
so no storage slot is written for the first time). Against it, the gas of one transaction
calling the snarkjs-exported Solidity verifier (`snarkjs zkey export solidityverifier`) on
one transfer proof: what settling op by op would cost at the least, with no state kept.

Then the time from an operation's commit to its settlement on L1 in the dev stack: a real
`duet node --dev` (ZK interval 1 s, the default slot parameters, its embedded prover and
agent, its own anvil) is sent transfers one at a time; for each, the time from when
`duet_getProofStatus` first says `committed` to when it first says `settled` (both polled
every 100 ms by the client). The p50 over the operations is `commit_to_settled_s`.

    .venv/bin/python bench/settlement.py [--sizes 1,8,32,128] [--ops 10] [--no-gas]
                                         [--no-latency] [--json-only]

Prints one JSON object on stdout:
{"gas_per_op": {"1": ..., "8": ..., "32": ..., "128": ...}, "gas_per_op_unbatched": ...,
 "ratio_32": ..., "commit_to_settled_s": ..., "commit_to_settled_samples_s": [...]}.
Issue 5's targets: ≤ 60k gas per op at 32 ops, ≤ 0.3× unbatched, commit to settled ≤ 30 s.

Needs `./demo.sh setup` (keys, contracts). Proving takes about half a second an operation,
so the default sizes take about a minute, and the latency part about half a minute more.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from web3 import Web3

from chain.client.zk import ZkClient
from chain.l1.anvil import Anvil
from chain.testing.accounts import dev_account
from chain.testing.node_process import NodeProcess
from chain.testing.proven_blocks import get_transfer_chain
from chain.testing.settlement_gas import measure_settlement

DEFAULT_SIZES = (1, 8, 32, 128)
DEFAULT_OPS = 10
ZK_INTERVAL_S = 1.0
SETTLED_TIMEOUT_S = 120.0
TRANSFER_WEI = 10**15


def measure_commit_to_settled(ops: int, workdir: Path) -> dict[str, Any]:
    """Seconds from commit to settlement of `ops` transfers sent one after another to a
    fresh dev stack; the p50 and every sample."""
    node = NodeProcess(workdir / "node", "--zk-interval", str(ZK_INTERVAL_S)).start()
    try:
        client = ZkClient(node.zk_http, dev_account(1).key)
        samples = []
        for _ in range(ops):
            op = client.transfer(dev_account(2).address, TRANSFER_WEI)
            client.wait(op, "committed")
            committed = time.monotonic()
            client.wait(op, "settled", timeout_s=SETTLED_TIMEOUT_S)
            samples.append(round(time.monotonic() - committed, 2))
    finally:
        node.stop()
    return {
        "commit_to_settled_s": round(statistics.median(samples), 2),
        "commit_to_settled_samples_s": samples,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=",".join(map(str, DEFAULT_SIZES)))
    parser.add_argument("--ops", type=int, default=DEFAULT_OPS, help="operations timed")
    parser.add_argument("--no-gas", action="store_true", help="skip the gas measurement")
    parser.add_argument("--no-latency", action="store_true", help="skip commit to settled")
    parser.add_argument("--json-only", action="store_true", help="no progress on stderr")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]

    def progress(line: str) -> None:
        if not args.json_only:
            print(line, file=sys.stderr, flush=True)

    report: dict[str, Any] = {}
    if not args.no_gas:
        start = time.monotonic()
        progress(f"proving {max(sizes) + 1} transfers ...")
        get_transfer_chain(max(sizes) + 1)
        progress(f"proved in {time.monotonic() - start:.0f} s; settling on anvil ...")
        with Anvil() as url, tempfile.TemporaryDirectory() as workdir:
            w3 = Web3(Web3.HTTPProvider(url, request_kwargs={"timeout": 120}))
            report |= measure_settlement(w3, dev_account(0), sizes, Path(workdir))
    if not args.no_latency:
        progress(f"timing {args.ops} operations from commit to settled on a dev node ...")
        with tempfile.TemporaryDirectory() as workdir:
            report |= measure_commit_to_settled(args.ops, Path(workdir))
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
