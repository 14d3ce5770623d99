"""`duet stake` against a real dev node: bond and unbond commit and `show` reads back what
the ZK chain holds; a claim before the unlock epoch is refused with the chain's reason; a bad
amount or a `show` that names nobody is a usage error; `register` says what is missing when
the home has no keys or its CometBFT is not running."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from chain.consensus.network import init_home, write_attest_key
from chain.testing.node_process import NodeProcess, duet_command
from tests.conftest import NodeFactory
from tests.integration.cometbft_net import COMETBFT, MISSING_REASON
from tests.integration.support import dev_account, rpc_result

ZKPOW = 10**18
STAKER = 5  # dev accounts of this module's own node
EARLY_CLAIMER = 6


@pytest.fixture(scope="module")
def stake_node(module_node_factory: NodeFactory) -> Iterator[NodeProcess]:
    yield module_node_factory()


def run_stake(node: NodeProcess, *args: str) -> subprocess.CompletedProcess[str]:
    command = [*duet_command(), "stake", *args, "--node-url", node.zk_http]
    return subprocess.run(command, capture_output=True, text=True, timeout=180)


def test_bond_and_unbond_commit_and_show_reads_them_back(stake_node: NodeProcess) -> None:
    bonded = run_stake(stake_node, "bond", "3", "--dev-account", str(STAKER))
    assert bonded.returncode == 0, bonded.stderr
    assert "bond: operation 0x" in bonded.stdout
    assert "3 ZKPoW bonded, 0 ZKPoW unbonding" in bonded.stdout
    unbonded = run_stake(stake_node, "unbond", "1.5", "--dev-account", str(STAKER))
    assert unbonded.returncode == 0, unbonded.stderr
    assert "1.5 ZKPoW bonded, 1.5 ZKPoW unbonding, unlocks at epoch" in unbonded.stdout
    address = dev_account(STAKER).address
    shown = run_stake(stake_node, "show", address)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.startswith(f"{address}: 1.5 ZKPoW bonded, 1.5 ZKPoW unbonding")
    stake = rpc_result(stake_node.zk_http, "duet_getStake", [address])
    assert (int(stake["bonded"], 16), int(stake["unbonding"], 16)) == (3 * ZKPOW // 2,) * 2
    assert stake["unlockEpoch"] == stake["epoch"] + 2  # UNBONDING_EPOCHS, unbonded just now


def test_rejects_a_claim_before_the_unlock_epoch(stake_node: NodeProcess) -> None:
    for action in ("bond", "unbond"):
        done = run_stake(stake_node, action, "1", "--dev-account", str(EARLY_CLAIMER))
        assert done.returncode == 0, done.stderr
    claimed = run_stake(stake_node, "claim", "--dev-account", str(EARLY_CLAIMER))
    assert claimed.returncode == 1
    assert "the stake unbonds until epoch" in " ".join(claimed.stderr.split())  # rich wraps
    stake = rpc_result(stake_node.zk_http, "duet_getStake", [dev_account(EARLY_CLAIMER).address])
    assert int(stake["unbonding"], 16) == ZKPOW  # still unbonding


def test_rejects_a_bad_amount_or_nobody_to_show(stake_node: NodeProcess) -> None:
    negative = run_stake(stake_node, "bond", "-1", "--dev-account", str(STAKER))
    assert negative.returncode == 2
    assert "not a positive whole number of wei" in " ".join(negative.stderr.split())
    nobody = run_stake(stake_node, "show")
    assert nobody.returncode == 2
    assert "name an ADDRESS" in " ".join(nobody.stderr.split())


def test_register_says_what_is_missing(stake_node: NodeProcess, tmp_path: Path) -> None:
    empty = run_stake(stake_node, "register", "--cometbft-home", str(tmp_path / "nothing"))
    assert empty.returncode == 1
    assert "has no attester key" in " ".join(empty.stderr.split())


@pytest.mark.skipif(COMETBFT is None, reason=MISSING_REASON)
def test_register_needs_the_validators_cometbft_running(
    stake_node: NodeProcess, tmp_path: Path
) -> None:
    assert COMETBFT is not None
    home = tmp_path / "home"
    init_home(COMETBFT, home)
    write_attest_key(home)
    done = run_stake(stake_node, "register", "--cometbft-home", str(home))
    assert done.returncode == 1
    assert "does not answer: start its node first" in " ".join(done.stderr.split())
