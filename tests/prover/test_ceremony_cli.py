"""`duet ceremony` end to end on a real circuit, `ownership` (the smallest, 5.5k constraints),
over the development powers of tau that setup made: two participants, verify, finalize, then
a real ownership proof with the finalized keys. About a minute and three quarters, most of it
snarkjs (`groth16 setup` and `zkey verify`, about 30 s each), so it runs with --slow; the same
steps run by default on the fixture circuit `multiply` (test_phase2.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from chain.cli import main
from chain.prover.ceremony import KEYS_DIR_ENV, get_circuit_entry, get_default_paths
from chain.prover.groth16 import load_circuit, prove
from chain.prover.key_policy import DevKeysRefused, check_deploy_keys, get_keys_are_dev
from chain.prover.ownership import compute_ownership_inputs
from chain.prover.phase2 import get_keys_paths
from tests.circuits.scenarios import ALICE, FIRST_REWARD, SECRET, compute_registered_state
from tests.prover.test_embedded_prover import is_accepted_by_snarkjs

CIRCUIT = "ownership"
BEACON = "c0ffee" * 11  # 33 bytes of public randomness (e.g. a future block hash)
ROUND = 7
SESSION_KEY = 0x5E5510_4E70000000000000000000000000000002


def run_duet(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.slow
def test_two_participant_ceremony_on_ownership(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(KEYS_DIR_ENV, raising=False)
    paths = get_default_paths()
    directory = tmp_path / "ceremony"
    ptau = str(paths.ptau_file)

    code, out, _ = run_duet(
        capsys, "ceremony", "new", "--ptau", ptau, "--out", str(directory), "--circuits", CIRCUIT
    )
    assert code == 0, out
    assert "WARNING: this powers of tau is Duet's public development one" in out
    code, out, _ = run_duet(capsys, "ceremony", "contribute", str(directory), "--name", "alice")
    assert code == 0
    assert "publish these hashes" in out
    code, out, _ = run_duet(
        capsys, "ceremony", "contribute", str(directory), "--name", "bob", "--json"
    )
    assert code == 0
    bob = json.loads(out)
    code, _, err = run_duet(capsys, "ceremony", "finalize", str(directory), "--beacon", BEACON)
    assert code == 0, err
    code, out, err = run_duet(capsys, "ceremony", "verify", str(directory), "--json")
    assert code == 0, err
    report = json.loads(out)["circuits"][CIRCUIT]

    assert report["ok"]
    assert [c["name"] for c in report["contributions"]] == ["alice", "bob", "final beacon"]
    assert report["contributions"][1]["hash"] == bob["zkeys"][CIRCUIT]["contribution_hash"]
    keys_paths = get_keys_paths(paths, directory)
    keys = load_circuit(CIRCUIT, keys_paths)
    witness = compute_ownership_inputs(
        compute_registered_state(), ALICE, FIRST_REWARD, SECRET, ROUND, SESSION_KEY
    )
    proof = prove(keys, witness.inputs, witness.public_inputs)  # checked with the exported vk
    assert is_accepted_by_snarkjs(keys, proof, witness.public_inputs, tmp_path)
    dev_vk = json.loads(get_circuit_entry(paths, CIRCUIT).verification_key.read_text())
    final_vk = json.loads(keys.entry.verification_key.read_text())
    assert final_vk["vk_delta_2"] != dev_vk["vk_delta_2"]
    # Still development keys: the development ptau's τ, α, β are public.
    assert get_keys_are_dev(keys_paths, [CIRCUIT])
    with pytest.raises(DevKeysRefused):
        check_deploy_keys(1, get_keys_are_dev(keys_paths, [CIRCUIT]), allow_dev_keys=False)


def test_verify_exits_non_zero_naming_the_circuit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A broken ceremony directory: the exit status and the message a script reads."""
    code, _, err = run_duet(capsys, "ceremony", "verify", str(tmp_path))

    assert code == 1
    assert err.startswith("duet ceremony verify: ")
    assert "not a ceremony manifest" in err
