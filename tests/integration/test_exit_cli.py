"""`duet exit` on a frozen rollup (a drill stack: anvil, the rollup, a dev node whose
sequencer ignores a queued Withdraw past the freeze delay): the account's leaf is proven from
the state rebuilt from L1's calldata alone, and L1 pays its settled balance, once."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from chain.drills.censorship import force_withdrawal, make_activity
from chain.drills.stack import open_stack
from chain.l1.config import DEV_ESCAPE
from chain.testing.node_process import duet_command
from chain.zk.state import get_account
from tests.integration.support import dev_account

EXITER = 3  # a dev account: a balance at genesis, and ETH on L1 for gas
EXIT_TIMEOUT_S = 300


def run_exit(url: str, rollup: str) -> subprocess.CompletedProcess[str]:
    command = [*duet_command(), "exit", "--dev-account", str(EXITER), "--json"]
    return subprocess.run(
        [*command, "--l1", url, "--rollup", rollup],
        capture_output=True,
        text=True,
        timeout=EXIT_TIMEOUT_S,
    )


def test_duet_exit_pays_the_settled_balance_once_after_a_freeze(tmp_path: Path) -> None:
    with open_stack(tmp_path) as stack:
        url = str(stack.w3.provider.endpoint_uri)  # type: ignore[attr-defined]
        refused = run_exit(url, stack.rollup.address)
        assert refused.returncode == 1
        assert "not frozen" in refused.stderr
        make_activity(stack)
        stack.settle(stack.make_block())
        force_withdrawal(stack)
        stack.move_time(DEV_ESCAPE.freeze_delay_s + 1)
        stack.rollup.freeze()
        address = dev_account(EXITER).address
        settled = get_account(stack.node.zk_state, int(address, 16)).balance
        before = stack.rollup.get_token_balance(address)

        done = run_exit(url, stack.rollup.address)

        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)["paid"] == settled
        assert stack.rollup.get_token_balance(address) - before == settled
        again = run_exit(url, stack.rollup.address)
        assert again.returncode == 1
        assert "AlreadyExited" in again.stderr
