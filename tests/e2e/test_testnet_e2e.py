"""The end-to-end runner (chain/e2e/) on its manifests (tests/e2e/manifests/): each run is a
real four-validator `duet testnet` with its shared L1, perturbed under load, and must show
the chain committing while more than two thirds of the power is up and halting otherwise,
nothing acknowledged lost, every node with the same blocks and app hashes, and a ZK
operation settling on L1; a double signer's evidence reaching the application, which jails
it and slashes its stake on the ZK chain; a validator joining after genesis, whose votes and
attestations then count. kill-and-pause, double-signer and join run in the default suite; the
rest with --slow.
The CLI is run once, on a manifest it must refuse."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from chain.e2e.manifest import parse_manifest
from chain.e2e.runner import run_manifest
from chain.launcher import duet_command
from chain.zk.ops import SLASH_PERCENT
from tests.integration.cometbft_net import COMETBFT, MISSING_REASON

pytestmark = [pytest.mark.skipif(COMETBFT is None, reason=MISSING_REASON), pytest.mark.timeout(900)]

MANIFESTS = Path(__file__).parent / "manifests"
DEFAULT_RUN = "kill-and-pause"


@pytest.mark.parametrize(
    "name",
    [
        DEFAULT_RUN,
        "double-signer",
        "join",
        pytest.param("halt-and-resume", marks=pytest.mark.slow),
        pytest.param("unequal-power", marks=pytest.mark.slow),
    ],
)
def test_manifest_passes(name: str, tmp_path: Path) -> None:
    manifest = parse_manifest((MANIFESTS / f"{name}.toml").read_text(), name)
    report = run_manifest(manifest, tmp_path / "n")  # short: unix socket paths are capped
    outcomes = [event["chain"] for event in report["perturbations"]]
    assert len(outcomes) == len(manifest.perturbations)
    if name == "halt-and-resume":
        assert outcomes == ["committing", "halted", "committing", "halted", "committing"]
    if name == "double-signer":
        # Jailed, validator 3 has no power: one of the three left out halts the chain.
        assert outcomes == ["committing, validator 3 jailed", "halted", "committing"]
        offences = report["evidence"]["evidence"]  # one or more before the jailing took hold
        assert offences and {o["kind"] for o in offences} == {"duplicate vote"}
        assert {o["validator"] for o in offences} == set(report["evidence"]["jailed"])
        assert len(report["evidence"]["jailed"]) == 1
        # Its stake on the ZK chain lost SLASH_PERCENT, on every node (the runner waited).
        slashed = report["slashed"]["3"]
        assert slashed["bonded_after"] == slashed["bonded_before"] * (100 - SLASH_PERCENT) // 100
        assert slashed["bonded_before"] > 0
    if name == "join":
        # Validator 0's 10 of 15 is not more than two thirds: the joiner's votes count.
        assert outcomes == ["committing", "halted", "committing"]
        joined = report["joined"]["1"]
        assert joined["power"] == 5
        assert joined["registered_at_height"] > 0
        # The rollup made its attester a sequencer at its Bond (the runner checked the weight).
        assert report["l1_sequencers"][joined["attester"]] == 5 * 10**18
    assert report["transfers_committed"] > 0
    assert report["zk_operation_settled_s"] is not None


def test_cli_refuses_an_impossible_manifest(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("validators = 4\n[[perturbation]]\nvalidator = 9\naction = 'kill'\n")
    done = subprocess.run(
        [*duet_command(), "e2e", str(bad)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    assert "validator 9 is not one of 0..3" in done.stderr
