"""The multi-party ceremony (`duet ceremony`, chain.prover.phase2) on the fixture circuit
`multiply`, over a small powers of tau made here with snarkjs (a second or two): new →
two contributions → verify → finalize, then a proof with the finalized keys; and every way
the ceremony refuses a broken chain."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from chain.prover.ceremony import (
    CeremonyPaths,
    get_circuit_entry,
    setup_circuit,
    setup_circuits,
)
from chain.prover.errors import ProverError
from chain.prover.groth16 import load_circuit, prove
from chain.prover.key_policy import get_keys_are_dev
from chain.prover.phase2 import (
    CEREMONY_FILE_NAME,
    CeremonyError,
    compute_file_hash,
    contribute,
    finalize,
    get_keys_paths,
    new_ceremony,
    read_manifest,
    verify,
    write_manifest,
)
from tests.prover.conftest import make_paths
from tests.prover.test_embedded_prover import is_accepted_by_snarkjs

CIRCUIT = "multiply"
SMALL_PTAU_POWER = 4  # multiply has a few constraints
BEACON = "5a" * 32
MULTIPLY_INPUTS = {"a": 3, "b": 5, "d": 9}
MULTIPLY_SIGNALS = [15, 9]  # c = a·b, then the public input d = a²
QUIET = print  # progress lands in the captured output, shown when a test fails


def make_small_ptau(paths: CeremonyPaths, directory: Path) -> Path:
    """A prepared powers of tau of one (public) contribution: not the development one."""
    snarkjs = str(paths.node_modules / ".bin" / "snarkjs")
    fresh, contributed, final = (directory / f"{n}.ptau" for n in ("new", "one", "final"))
    for command in (
        ["powersoftau", "new", "bn128", str(SMALL_PTAU_POWER), str(fresh)],
        ["powersoftau", "contribute", str(fresh), str(contributed), "-e=test", "--name=test"],
        ["powersoftau", "prepare", "phase2", str(contributed), str(final)],
    ):
        subprocess.run([snarkjs, *command], check=True, capture_output=True)
    return final


@pytest.fixture(scope="module")
def ceremony_paths(tmp_path_factory: pytest.TempPathFactory) -> CeremonyPaths:
    return make_paths(tmp_path_factory.mktemp("phase2"))


@pytest.fixture(scope="module")
def small_ptau(ceremony_paths: CeremonyPaths) -> Path:
    return make_small_ptau(ceremony_paths, ceremony_paths.cache_dir)


@pytest.fixture(scope="module")
def contributed(ceremony_paths: CeremonyPaths, small_ptau: Path) -> Path:
    """A ceremony with two contributions, not finalized."""
    directory = ceremony_paths.cache_dir.parent / "contributed"
    new_ceremony(ceremony_paths, small_ptau, directory, [CIRCUIT], QUIET)
    contribute(ceremony_paths, directory, "alice", report=QUIET)
    contribute(ceremony_paths, directory, "bob", "bob's dice rolls", QUIET)
    return directory


@pytest.fixture(scope="module")
def finalized(ceremony_paths: CeremonyPaths, contributed: Path) -> Path:
    directory = contributed.with_name("finalized")
    shutil.copytree(contributed, directory)
    finalize(ceremony_paths, directory, BEACON, report=QUIET)
    return directory


CopyOf = Callable[[Path], Path]


@pytest.fixture
def copy_of(tmp_path: Path) -> CopyOf:
    """Copies a module-scoped ceremony, for a test that changes it."""

    def copy(directory: Path) -> Path:
        return Path(shutil.copytree(directory, tmp_path / directory.name))

    return copy


def test_two_contributions_verify_and_are_recorded(
    ceremony_paths: CeremonyPaths, contributed: Path
) -> None:
    checks = verify(ceremony_paths, contributed, report=QUIET)

    assert [(check.circuit, check.ok) for check in checks] == [(CIRCUIT, True)]
    assert [c["name"] for c in checks[0].contributions] == ["alice", "bob"]
    manifest = read_manifest(contributed)
    hashes = [step["zkeys"][CIRCUIT]["contribution_hash"] for step in manifest["contributions"]]
    assert [c["hash"] for c in checks[0].contributions] == hashes
    assert all(len(h) == 128 for h in hashes)  # BLAKE2b-512, as participants publish it
    assert {p.name for p in (contributed / CIRCUIT).glob("*.zkey")} == {
        "multiply_0000.zkey",
        "multiply_0001.zkey",
        "multiply_0002.zkey",
    }
    assert not manifest["ptau"]["is_dev"]


def test_finalized_keys_prove_and_are_not_the_dev_keys(
    ceremony_paths: CeremonyPaths, finalized: Path, tmp_path: Path
) -> None:
    keys_paths = get_keys_paths(ceremony_paths, finalized)

    checks = verify(ceremony_paths, finalized, report=QUIET)
    keys = load_circuit(CIRCUIT, keys_paths)
    proof = prove(keys, MULTIPLY_INPUTS, MULTIPLY_SIGNALS)  # checked with the exported vk

    assert checks[0].ok, checks[0].reason
    assert [c["name"] for c in checks[0].contributions] == ["alice", "bob", "final beacon"]
    assert keys.entry.directory == finalized / CIRCUIT
    assert is_accepted_by_snarkjs(keys, proof, MULTIPLY_SIGNALS, tmp_path)
    setup_circuit(ceremony_paths, CIRCUIT, QUIET)  # the development keys of the same circuit
    dev_vk = json.loads(get_circuit_entry(ceremony_paths, CIRCUIT).verification_key.read_text())
    final_vk = json.loads(keys.entry.verification_key.read_text())
    assert final_vk["vk_delta_2"] != dev_vk["vk_delta_2"]
    assert final_vk["vk_alpha_1"] != dev_vk["vk_alpha_1"]
    assert json.loads(keys.entry.manifest.read_text())["dev"] is False
    assert not get_keys_are_dev(keys_paths, [CIRCUIT])
    assert get_keys_are_dev(ceremony_paths, [CIRCUIT])


def test_contribution_never_writes_or_prints_its_entropy(
    ceremony_paths: CeremonyPaths,
    contributed: Path,
    copy_of: CopyOf,
    capsys: pytest.CaptureFixture[str],
) -> None:
    directory = copy_of(contributed)
    entropy = "carol-entropy-7f3a9c"

    step = contribute(ceremony_paths, directory, "carol", entropy)

    assert step["index"] == 3
    assert entropy not in capsys.readouterr().out
    assert entropy not in (directory / CEREMONY_FILE_NAME).read_text()


def test_rejects_tampered_zkey_naming_the_circuit(
    ceremony_paths: CeremonyPaths, contributed: Path, copy_of: CopyOf
) -> None:
    directory = copy_of(contributed)
    zkey = directory / CIRCUIT / "multiply_0002.zkey"
    data = bytearray(zkey.read_bytes())
    data[-100] ^= 1  # inside the last contribution's public key
    zkey.write_bytes(bytes(data))

    [check] = verify(ceremony_paths, directory, report=QUIET)

    assert not check.ok
    assert check.reason.startswith(f"circuit {CIRCUIT}: multiply_0002.zkey is missing or not")


def test_rejects_tampered_zkey_whose_hash_was_rewritten(
    ceremony_paths: CeremonyPaths, contributed: Path, copy_of: CopyOf
) -> None:
    """The manifest's hashes bind nothing by themselves: snarkjs finds the broken key."""
    directory = copy_of(contributed)
    zkey = directory / CIRCUIT / "multiply_0002.zkey"
    data = bytearray(zkey.read_bytes())
    data[-100] ^= 1
    zkey.write_bytes(bytes(data))
    manifest = read_manifest(directory)
    manifest["contributions"][-1]["zkeys"][CIRCUIT]["sha256"] = compute_file_hash(zkey)
    write_manifest(directory, manifest)

    [check] = verify(ceremony_paths, directory, report=QUIET)

    assert not check.ok
    assert check.reason.startswith(f"circuit {CIRCUIT}: snarkjs zkey verify failed: INVALID")


def test_rejects_manifest_whose_chain_was_edited(
    ceremony_paths: CeremonyPaths, contributed: Path, copy_of: CopyOf
) -> None:
    directory = copy_of(contributed)
    manifest = read_manifest(directory)
    manifest["contributions"][0]["name"] = "mallory"  # claims alice's contribution
    write_manifest(directory, manifest)

    [check] = verify(ceremony_paths, directory, report=QUIET)

    assert not check.ok
    assert "manifest's contributions ['mallory', 'bob'] are not the zkey's" in check.reason
    assert "['alice', 'bob']" in check.reason


def test_rejects_manifest_with_a_contribution_removed(
    ceremony_paths: CeremonyPaths, contributed: Path, copy_of: CopyOf
) -> None:
    directory = copy_of(contributed)
    manifest = read_manifest(directory)
    del manifest["contributions"][0]
    write_manifest(directory, manifest)

    [check] = verify(ceremony_paths, directory, report=QUIET)

    assert not check.ok
    assert "['bob'] are not the zkey's ['alice', 'bob']" in check.reason


def test_rejects_finalize_with_no_contribution(
    ceremony_paths: CeremonyPaths, small_ptau: Path, tmp_path: Path
) -> None:
    directory = tmp_path / "empty"
    new_ceremony(ceremony_paths, small_ptau, directory, [CIRCUIT], QUIET)

    with pytest.raises(CeremonyError, match="refusing to finalize a ceremony with no contribution"):
        finalize(ceremony_paths, directory, BEACON, report=QUIET)
    assert read_manifest(directory)["beacon"] is None


def test_rejects_contribution_after_finalize(
    ceremony_paths: CeremonyPaths, finalized: Path, copy_of: CopyOf
) -> None:
    with pytest.raises(CeremonyError, match="finalized: it takes no more contributions"):
        contribute(ceremony_paths, copy_of(finalized), "late", report=QUIET)


@pytest.mark.parametrize(
    ("beacon", "iterations", "message"),
    [
        ("xyz", 10, "is not hex"),
        ("ab" * 8 + "a", 10, "is not hex"),
        ("ab" * 4, 10, "at least 16"),
        (BEACON, 9, "10 to 63"),
    ],
)
def test_rejects_bad_beacon(
    ceremony_paths: CeremonyPaths,
    contributed: Path,
    beacon: str,
    iterations: int,
    message: str,
) -> None:
    with pytest.raises(CeremonyError, match=message):
        finalize(ceremony_paths, contributed, beacon, iterations, QUIET)


def test_rejects_a_new_ceremony_in_a_used_directory(
    ceremony_paths: CeremonyPaths, small_ptau: Path, contributed: Path
) -> None:
    with pytest.raises(CeremonyError, match="is not empty"):
        new_ceremony(ceremony_paths, small_ptau, contributed, [CIRCUIT], QUIET)


def test_rejects_a_circuit_too_big_for_the_ptau_naming_it(
    ceremony_paths: CeremonyPaths, small_ptau: Path, tmp_path: Path
) -> None:
    directory = tmp_path / "too-big"

    with pytest.raises(
        CeremonyError, match=r"^circuit hash_preimage: snarkjs groth16 setup failed"
    ):
        new_ceremony(ceremony_paths, small_ptau, directory, ["hash_preimage"], QUIET)
    assert list(directory.iterdir()) == []  # nothing half-made: the same command runs again


def test_rejects_keys_whose_circuit_changed_since_the_ceremony(
    finalized: Path, tmp_path: Path
) -> None:
    paths = get_keys_paths(make_paths(tmp_path), finalized)
    source = paths.circuits_dir / f"{CIRCUIT}.circom"
    source.write_text(source.read_text() + "\n// edited\n")

    with pytest.raises(ProverError, match="sources changed since the ceremony"):
        get_circuit_entry(paths, CIRCUIT)


def test_keys_dir_never_gets_dev_keys_built_into_it(
    ceremony_paths: CeremonyPaths, finalized: Path
) -> None:
    paths = get_keys_paths(ceremony_paths, finalized)

    with pytest.raises(ProverError, match=r"no finalized keys for circuit\(s\) hash_preimage"):
        setup_circuits(paths, ["multiply", "hash_preimage"], jobs=1, report=QUIET)
    assert not (finalized / "hash_preimage").exists()
