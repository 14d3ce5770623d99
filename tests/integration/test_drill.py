"""`duet drill fast-chain-compromise` as a user runs it: a fast chain that forges releases,
replays and mass mint requests costs no more than the escrow plus the mint caps, and nobody
loses anything they kept on the ZK chain."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.integration.support import REPO


def run_drill(*args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "chain.cli", "drill", "fast-chain-compromise", *args]
    return subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=300)


def test_compromised_fast_chain_loses_at_most_escrow_plus_caps() -> None:
    done = run_drill("--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["releasedToAttacker"] <= result["escrowBefore"]
    assert result["rewardsToAttacker"] <= result["mintBound"]
    assert result["mintBound"] == sum(result["epochCaps"].values())
    for user in result["users"]:
        assert user["zkLost"] == 0, user
        assert user["onFastChain"] > 0, "every user had something at stake on the fast chain"
    # Each kind of forgery reached the ZK chain and was refused by its own rule.
    refusals = result["refusals"]
    assert refusals["release of N exceeds the escrow"] >= 1
    assert refusals["message N is a replay"] >= 1
    assert refusals["round mint cap reached"] >= 1
    assert refusals["epoch mint cap reached"] >= 1
    assert refusals["sender is not the collection's minter"] >= 1
    assert result["withinBound"] is True


def test_drill_prints_a_table_per_user() -> None:
    done = run_drill()
    assert done.returncode == 0, done.stderr
    assert "Per user" in done.stdout
    assert "within the bound" in done.stdout
