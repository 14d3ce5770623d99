"""`duet drill malicious-sequencer | outsider | censorship` as a user runs them (each on a
stack of its own: anvil, the rollup, a dev node, real proofs): every forgery is refused by
its own L1 rule, the rollup stays live, and a censored user gets its Withdraw in or exits
with exactly its settled balance, like every account (docs/l1.md, "Trust: who can do what")."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

from tests.integration.support import REPO

DRILL_TIMEOUT_S = 300


def run_drill(*args: str) -> dict[str, Any]:
    command = [sys.executable, "-m", "chain.cli", "drill", *args, "--json"]
    done = subprocess.run(
        command, cwd=REPO, capture_output=True, text=True, timeout=DRILL_TIMEOUT_S
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_the_sequencers_own_keys_settle_no_forgery() -> None:
    result = run_drill("malicious-sequencer")
    assert result["settled_forgeries"] == 0
    assert result["refusals"] == {
        "withdraw_not_signed_by_from": "NotSignedByFrom",
        "transfer_not_signed_by_from": "NotSignedByFrom",
        "release_beyond_escrow": "InvalidProofBatch",
        "reward_mint_beyond_caps": "WrongEpoch",
        "skipped_height": "NotAttested",
        "reordered_block": "InvalidProofBatch",
        "split_block": "NotAttested",
    }
    assert result["attempts"] == len(result["refusals"])


def test_an_outsider_neither_settles_nor_bricks() -> None:
    result = run_drill("outsider")
    assert result["settled_forgeries"] == 0
    assert result["rollup_live_after"] is True
    assert result["refusals"] == {
        "own_block_after_grace": "NotAttested",
        "brick_with_huge_height": "NotAttested",
        "unattested_block": "MalformedAttestation",
    }


@pytest.mark.parametrize("mode", ["include", "freeze"])
def test_a_censored_user_gets_its_withdraw_in_or_everyone_exits(mode: str) -> None:
    result = run_drill("censorship", "--mode", mode)
    assert result["refusals"] == {"settle_past_forced": "ForcedOperationPending"}
    if mode == "include":
        assert (result["forced_included"], result["frozen"]) == (True, False)
        assert result["exited_accounts"] == 0
    else:
        assert (result["forced_included"], result["frozen"]) == (False, True)
        assert result["exited_accounts"] == 10  # every dev account held a balance
        assert (result["exit_mismatches"], result["lost_wei"]) == (0, 0)
