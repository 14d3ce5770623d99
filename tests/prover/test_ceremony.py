"""The development ceremony's cache: built once, reused, rebuilt on change, never half-made."""

from __future__ import annotations

import json
import multiprocessing
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from chain.prover import ceremony, native
from chain.prover.ceremony import (
    CEREMONY_ENV,
    CeremonyPaths,
    SetupResult,
    compute_circuit_hash,
    compute_r1cs_header,
    compute_zkey_beacon_hex,
    get_circuit_entry,
    get_circuit_names,
    is_entry_complete,
    setup_ceremony,
    setup_circuit,
    setup_circuits,
)
from chain.prover.errors import ProverError
from chain.prover.native import DEVKEYS_SOURCE, compute_devkeys_hash, setup_devkeys

REPORT = print  # progress lines land in the captured output, shown when a test fails


def get_mtimes(directory: Path) -> dict[str, int]:
    return {path.name: path.stat().st_mtime_ns for path in directory.iterdir()}


def test_fixture_circuits_are_the_main_files(paths: CeremonyPaths) -> None:
    assert get_circuit_names(paths) == ["hash_preimage", "multiply"]


def test_setup_builds_a_complete_entry(
    paths: CeremonyPaths, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(CEREMONY_ENV, raising=False)  # the default: devkeys

    result = setup_circuit(paths, "multiply", REPORT)

    entry = get_circuit_entry(paths, "multiply")
    assert result.status == "built"
    assert result.path == entry.directory
    assert entry.directory.name == f"multiply-{compute_circuit_hash(paths, 'multiply')[:16]}"
    for artifact in (entry.r1cs, entry.wasm, entry.zkey, entry.verification_key, entry.proving_key):
        assert artifact.stat().st_size > 0, artifact
    assert is_entry_complete(entry)
    assert {"compile", "zkey (devkeys)", "groth16py import_zkey"} <= set(result.steps)


def test_snarkjs_ceremony_makes_the_same_entry(
    paths: CeremonyPaths, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both ways give the same bytes, so both may use one cache entry."""
    native_result = setup_circuit(paths, "multiply", REPORT)
    slow_paths = CeremonyPaths(
        paths.project_root, paths.circuits_dir, tmp_path / "slow", paths.ptau_dir
    )
    monkeypatch.setenv(CEREMONY_ENV, "snarkjs")

    slow_result = setup_circuit(slow_paths, "multiply", REPORT)

    assert {"groth16 setup", "zkey beacon"} <= set(slow_result.steps)
    assert native_result.path.name == slow_result.path.name
    for native_file in sorted(native_result.path.iterdir()):
        if native_file.name != ceremony.MANIFEST_FILE_NAME:
            assert native_file.read_bytes() == (slow_result.path / native_file.name).read_bytes()


def test_rejects_unknown_ceremony(paths: CeremonyPaths, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(CEREMONY_ENV, "fast")

    with pytest.raises(ProverError, match="DUET_CEREMONY='fast': expected one of native, snarkjs"):
        setup_circuit(paths, "multiply", REPORT)


def test_without_cargo_the_ceremony_runs_in_snarkjs(
    paths: CeremonyPaths, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(native, "CARGO", "no-such-cargo")
    lines: list[str] = []
    no_tools = CeremonyPaths(
        paths.project_root, paths.circuits_dir, paths.cache_dir, paths.ptau_dir, tmp_path
    )

    assert setup_ceremony(no_tools, lines.append).method == "snarkjs"
    assert len(lines) == 1 and lines[0].startswith("==> devkeys: cargo not found")


def test_failed_devkeys_build_leaves_snarkjs(tmp_path: Path) -> None:
    source = tmp_path / "devkeys"
    shutil.copytree(DEVKEYS_SOURCE / "src", source / "src")
    (source / "Cargo.toml").write_text("not a manifest\n")
    (source / "Cargo.lock").write_text("")
    lines: list[str] = []

    assert setup_devkeys(tmp_path / "tools", lines.append, source) is None
    assert lines[-1].startswith("==> devkeys: cargo build failed")


def test_devkeys_hash_covers_its_sources(tmp_path: Path) -> None:
    source = tmp_path / "devkeys"
    shutil.copytree(DEVKEYS_SOURCE, source, ignore=shutil.ignore_patterns("target"))
    before = compute_devkeys_hash(source)
    main = source / "src" / "main.rs"
    main.write_text(main.read_text() + "\n// an edit\n")

    assert compute_devkeys_hash(DEVKEYS_SOURCE) == before
    assert compute_devkeys_hash(source) != before


def test_second_setup_reuses_the_entry(paths: CeremonyPaths) -> None:
    setup_circuit(paths, "multiply", REPORT)
    entry = get_circuit_entry(paths, "multiply")
    before = get_mtimes(entry.directory)

    again = setup_circuits(paths, ["multiply"], report=REPORT)

    assert [result.status for result in again] == ["cached"]
    assert get_mtimes(entry.directory) == before


def test_changed_main_file_gives_a_new_entry(paths: CeremonyPaths) -> None:
    old_hash = compute_circuit_hash(paths, "multiply")
    source = paths.circuits_dir / "multiply.circom"
    source.write_text(source.read_text() + "\n// an edit\n")

    assert compute_circuit_hash(paths, "multiply") != old_hash
    assert get_circuit_entry(paths, "multiply").directory.name.startswith("multiply-")


def test_changed_lib_file_changes_every_circuit_hash(paths: CeremonyPaths) -> None:
    old = {name: compute_circuit_hash(paths, name) for name in get_circuit_names(paths)}
    (paths.circuits_dir / "lib" / "extra.circom").write_text("pragma circom 2.1.0;\n")

    new = {name: compute_circuit_hash(paths, name) for name in get_circuit_names(paths)}
    assert all(new[name] != old[name] for name in old)


def test_shared_file_keys_only_the_circuits_that_include_it(paths: CeremonyPaths) -> None:
    # A file outside lib/ (e.g. read/membership.circom) keys the circuits that include it.
    old = {name: compute_circuit_hash(paths, name) for name in get_circuit_names(paths)}
    shared = paths.circuits_dir / "read" / "shared.circom"
    shared.parent.mkdir()
    shared.write_text("pragma circom 2.1.0;\n")
    assert {name: compute_circuit_hash(paths, name) for name in old} == old  # nobody includes it
    multiply = paths.circuits_dir / "multiply.circom"
    multiply.write_text(
        multiply.read_text().replace(
            'include "lib/square.circom";',
            'include "lib/square.circom";\ninclude "read/shared.circom";',
        )
    )
    included = compute_circuit_hash(paths, "multiply")
    assert included != old["multiply"]

    shared.write_text("pragma circom 2.1.0;\n// an edit\n")

    assert compute_circuit_hash(paths, "multiply") != included
    assert compute_circuit_hash(paths, "hash_preimage") == old["hash_preimage"]


def test_other_circuit_edit_keeps_the_hash(paths: CeremonyPaths) -> None:
    old_hash = compute_circuit_hash(paths, "multiply")
    source = paths.circuits_dir / "hash_preimage.circom"
    source.write_text(source.read_text() + "\n// an edit\n")

    assert compute_circuit_hash(paths, "multiply") == old_hash


def test_interrupted_build_leaves_no_entry(
    paths: CeremonyPaths, monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupt(*args: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(ceremony, "_import_zkey", interrupt)  # after the zkey, before the key
    with pytest.raises(KeyboardInterrupt):
        setup_circuit(paths, "multiply", REPORT)

    entry = get_circuit_entry(paths, "multiply")
    assert not entry.directory.exists()
    assert not list(entry.directory.parent.glob(".build-*"))


def test_rejects_source_edited_during_setup(
    paths: CeremonyPaths, monkeypatch: pytest.MonkeyPatch
) -> None:
    entry = get_circuit_entry(paths, "multiply")
    source = paths.circuits_dir / "multiply.circom"
    import_zkey = ceremony._import_zkey

    def edit_then_import(*args: Any) -> None:
        source.write_text(source.read_text() + "\n// an edit mid-build\n")
        import_zkey(*args)

    monkeypatch.setattr(ceremony, "_import_zkey", edit_then_import)
    with pytest.raises(ProverError, match="sources changed during setup"):
        setup_circuit(paths, "multiply", REPORT)
    assert not entry.directory.exists()
    assert not get_circuit_entry(paths, "multiply").directory.exists()


def test_killed_build_is_cleaned_and_redone(paths: CeremonyPaths) -> None:
    entry = get_circuit_entry(paths, "multiply")
    leftover = entry.directory.parent / f".build-{entry.directory.name}-killed"
    leftover.mkdir(parents=True)
    (leftover / "multiply.zkey").write_bytes(b"half a key")  # what SIGKILL leaves behind

    assert not is_entry_complete(entry)
    assert setup_circuit(paths, "multiply", REPORT).status == "built"
    assert not leftover.exists()


def test_concurrent_setups_build_once(paths: CeremonyPaths) -> None:
    context = multiprocessing.get_context("spawn")
    with context.Pool(2) as pool:
        results: list[SetupResult] = pool.starmap(setup_circuit, [(paths, "multiply")] * 2)

    assert sorted(result.status for result in results) == ["built", "cached"]
    assert is_entry_complete(get_circuit_entry(paths, "multiply"))


def test_rejects_unknown_circuit(paths: CeremonyPaths) -> None:
    with pytest.raises(ProverError, match="no circuit 'nosuch'"):
        setup_circuit(paths, "nosuch", REPORT)


def test_rejects_circuit_that_does_not_compile(paths: CeremonyPaths) -> None:
    (paths.circuits_dir / "broken.circom").write_text("pragma circom 2.1.0;\ntemplate {\n")

    with pytest.raises(ProverError, match="circom2"):
        setup_circuit(paths, "broken", REPORT)
    assert not get_circuit_entry(paths, "broken").directory.exists()


def test_r1cs_header_counts_public_signals(built_paths: CeremonyPaths) -> None:
    entry = get_circuit_entry(built_paths, "multiply")

    header = compute_r1cs_header(entry.r1cs.read_bytes())

    assert (header.n_public_outputs, header.n_public_inputs, header.n_private_inputs) == (1, 1, 2)
    assert header.n_constraints == 2


def test_each_circuit_has_its_own_delta(built_paths: CeremonyPaths) -> None:
    deltas = [
        json.loads(get_circuit_entry(built_paths, name).verification_key.read_text())["vk_delta_2"]
        for name in get_circuit_names(built_paths)
    ]
    assert deltas[0] != deltas[1]
    assert compute_zkey_beacon_hex("multiply") != compute_zkey_beacon_hex("hash_preimage")


def test_cli_reports_up_to_date(built_paths: CeremonyPaths) -> None:
    command = [sys.executable, "-m", "chain.prover", "setup"]
    command += ["--circuits-dir", str(built_paths.circuits_dir)]
    env = os.environ | {"DUET_CACHE_DIR": str(built_paths.cache_dir)}

    completed = subprocess.run(command, env=env, capture_output=True, text=True, check=True)

    assert "==> circuit multiply: up to date" in completed.stdout
    assert "==> circuits: 2 up to date" in completed.stdout
