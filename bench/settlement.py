"""L1 gas per settled ZK operation: batched verification against one verifier call per proof.

On a throwaway anvil, for blocks of 1, 8, 32 and 128 transfers (real operations of the ZK
state machine, proven with the ceremony's keys): the gas of `Rollup.submitBlock` divided by
the block's operations, measured in the steady state (the rollup has settled a block before,
so no storage slot is written for the first time). Against it, the gas of one transaction
calling the snarkjs-exported Solidity verifier (`snarkjs zkey export solidityverifier`) on
one transfer proof: what settling op by op would cost at the least, with no state kept.

    .venv/bin/python bench/settlement.py [--sizes 1,8,32,128] [--json-only]

Prints one JSON object on stdout:
{"gas_per_op": {"1": ..., "8": ..., "32": ..., "128": ...}, "gas_per_op_unbatched": ...,
 "ratio_32": ...}. Issue 5's targets: ≤ 60k gas per op at 32 ops, ≤ 0.3× unbatched.

Not here yet: `commit_to_settled_s` (an operation's commit to its settlement on L1 in the dev
stack), which needs the submission agents. Needs `./demo.sh setup` (keys, contracts).
Proving takes about half a second an operation, so the default sizes take about a minute.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the proven blocks and the baseline are the tests' (tests/l1)

from web3 import Web3  # noqa: E402

from chain.l1.anvil import Anvil  # noqa: E402
from tests.integration.support import dev_account  # noqa: E402
from tests.l1.harness import get_transfer_chain, measure_settlement  # noqa: E402

DEFAULT_SIZES = (1, 8, 32, 128)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=",".join(map(str, DEFAULT_SIZES)))
    parser.add_argument("--json-only", action="store_true", help="no progress on stderr")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]

    def progress(line: str) -> None:
        if not args.json_only:
            print(line, file=sys.stderr, flush=True)

    start = time.monotonic()
    progress(f"proving {max(sizes) + 1} transfers ...")
    get_transfer_chain(max(sizes) + 1)
    progress(f"proved in {time.monotonic() - start:.0f} s; settling on anvil ...")
    with Anvil() as url, tempfile.TemporaryDirectory() as workdir:
        w3 = Web3(Web3.HTTPProvider(url, request_kwargs={"timeout": 120}))
        report = measure_settlement(w3, dev_account(0), sizes, Path(workdir))
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
