"""A multi-party Groth16 phase 2 (`duet ceremony`): keys whose toxic waste nobody holds.

The development ceremony (`chain.prover.ceremony`) is public by construction. Here every
circuit's key starts from a powers of tau the user supplies (`snarkjs groth16 setup`), then
takes one secret contribution per participant (`zkey contribute`) and ends with a public
random beacon (`zkey beacon`): the keys are sound if one participant destroyed their secret.
snarkjs, from the project's node_modules, does all the cryptography; this module keeps the
files in order and the record of who contributed what.

A ceremony is a directory:

    ceremony.json                 the manifest: ptau, circuits, the chain of contributions
    <name>/<name>.r1cs .wasm .sym the compiled circuit
    <name>/<name>_0000.zkey       groth16 setup; _0001, _0002: one per contribution
    <name>/<name>.zkey            finalized: after the beacon
    <name>/verification_key.json  finalized: with <name>.pk (groth16py) and manifest.json,
                                  the layout of a development cache entry, so the node loads
                                  the directory in its place ($DUET_KEYS_DIR)

The manifest's chain is bound to the zkeys twice: each step records its files' SHA-256 (checked
before every step), and `verify` checks that the contributions snarkjs finds inside each
zkey (name and hash) are the manifest's, in order.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from chain.prover.ceremony import (
    MANIFEST_FILE_NAME,
    VERIFICATION_KEY_FILE_NAME,
    CeremonyPaths,
    CircuitEntry,
    compile_circuit,
    compute_r1cs_header,
    compute_source_hashes,
    get_circuit_names,
    get_circuit_source,
    make_proving_key,
)
from chain.prover.errors import ProverError
from chain.prover.key_policy import is_dev_verification_key

CEREMONY_KIND = "duet-groth16-phase2"
CEREMONY_FORMAT_VERSION = 1
CEREMONY_FILE_NAME = "ceremony.json"
ZKEY_INDEX_DIGITS = 4
ENTROPY_BYTES = 64  # os.urandom; snarkjs mixes its own 64 random bytes in as well
# snarkjs's `zkey beacon` takes 2^exp hash iterations, exp in [10, 63].
MIN_BEACON_ITERATIONS_EXP = 10
MAX_BEACON_ITERATIONS_EXP = 63
DEFAULT_BEACON_ITERATIONS_EXP = 10
MIN_BEACON_BYTES = 16
BEACON_NAME = "final beacon"
MAX_NAME_CHARS = 100
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ._@'-]*")  # shown in snarkjs's listings
TOOL_ERROR_TAIL_CHARS = 2000
HASH_BYTES = 64  # snarkjs's contribution hashes are BLAKE2b-512
ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")
HASH_LINES = r"((?:\s+[0-9a-f]{8}){16})"
CONTRIBUTION_HASH = re.compile(r"Contribution Hash:" + HASH_LINES)
LISTED_CONTRIBUTION = re.compile(r"contribution #(\d+) (.*?):" + HASH_LINES)
VERIFY_OK = "ZKey Ok!"
SNARKJS_FAILURE = re.compile(r"^.*(?:\[ERROR\]|^INVALID).*$", re.MULTILINE)
DEV_PTAU_WARNING = (
    "this powers of tau is Duet's public development one: keys made on it are development "
    "keys, whatever the contributions (refused outside dev chains). Use a ptau from a real "
    "phase 1 ceremony for value"
)

Report = Callable[[str], None]
Manifest = dict[str, Any]


class CeremonyError(ProverError):
    """A ceremony step refused or failed; `circuit` names the circuit when one is at fault."""

    def __init__(self, message: str, circuit: str | None = None) -> None:
        super().__init__(f"circuit {circuit}: {message}" if circuit else message)
        self.circuit = circuit


@dataclass(frozen=True)
class CircuitCheck:
    """`verify`'s finding for one circuit: ok, or the reason it is not."""

    circuit: str
    ok: bool
    reason: str
    contributions: list[dict[str, str]]


# -- paths and the manifest -----------------------------------------------------------------


def get_manifest_path(directory: Path) -> Path:
    return directory / CEREMONY_FILE_NAME


def get_entry(directory: Path, name: str) -> CircuitEntry:
    return CircuitEntry(name, directory / name)


def compute_zkey_file_name(name: str, index: int) -> str:
    return f"{name}_{index:0{ZKEY_INDEX_DIGITS}d}.zkey"


def read_manifest(directory: Path) -> Manifest:
    path = get_manifest_path(directory)
    try:
        manifest = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise CeremonyError(f"{path}: not a ceremony manifest ({error})") from error
    if not isinstance(manifest, dict) or manifest.get("kind") != CEREMONY_KIND:
        raise CeremonyError(f"{path}: not a {CEREMONY_KIND} manifest")
    if manifest.get("format") != CEREMONY_FORMAT_VERSION:
        raise CeremonyError(f"{path}: format {manifest.get('format')}, expected 1")
    return manifest


def write_manifest(directory: Path, manifest: Manifest) -> None:
    """Written beside and renamed into place: a killed step leaves the previous manifest."""
    path = get_manifest_path(directory)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps(manifest, indent=2) + "\n")
    os.replace(temporary, path)


def get_steps(manifest: Manifest) -> list[dict[str, Any]]:
    """The chain in order: the initial zkeys, each contribution, the beacon if finalized."""
    beacon = [manifest["beacon"]] if manifest.get("beacon") else []
    return [manifest["initial"], *manifest["contributions"], *beacon]


def compute_expected_listing(manifest: Manifest, name: str) -> list[dict[str, str]]:
    """What snarkjs should list inside circuit `name`'s latest zkey: (name, hash), in order."""
    return [
        {"name": step["name"], "hash": step["zkeys"][name]["contribution_hash"]}
        for step in get_steps(manifest)[1:]
    ]


def compute_file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# -- the steps ------------------------------------------------------------------------------


def new_ceremony(
    paths: CeremonyPaths,
    ptau: Path,
    directory: Path,
    names: Sequence[str] | None = None,
    report: Report = print,
    dev_ptau: Path | None = None,
) -> Manifest:
    """Compile each circuit into `directory` and make its initial zkey on `ptau`."""
    available = get_circuit_names(paths)
    names = list(names) if names else available
    unknown = sorted(set(names) - set(available))
    if unknown:
        raise CeremonyError(f"no such circuit(s) {unknown} in {paths.circuits_dir}")
    if not ptau.is_file():
        raise CeremonyError(f"no powers of tau file {ptau}")
    if directory.exists() and any(directory.iterdir()):
        raise CeremonyError(
            f"{directory} is not empty: a new ceremony needs a directory of its own"
        )
    ptau_hash = compute_file_hash(ptau)
    ptau_is_dev = (
        dev_ptau is not None and dev_ptau.is_file() and (compute_file_hash(dev_ptau) == ptau_hash)
    )
    if ptau_is_dev:
        report(f"==> ceremony: WARNING: {DEV_PTAU_WARNING}")
    directory.mkdir(parents=True, exist_ok=True)
    circuits, zkeys = {}, {}
    try:
        for name in names:
            circuits[name], zkeys[name] = _new_circuit(paths, ptau, directory, name, report)
    except ProverError:
        _empty_directory(directory)  # so that the same command can simply run again
        raise
    manifest: Manifest = {
        "kind": CEREMONY_KIND,
        "format": CEREMONY_FORMAT_VERSION,
        "created": _now(),
        "ptau": {"file": str(ptau.resolve()), "sha256": ptau_hash, "is_dev": ptau_is_dev},
        "circuits": circuits,
        "initial": {"name": "groth16 setup", "zkeys": zkeys},
        "contributions": [],
        "beacon": None,
    }
    write_manifest(directory, manifest)
    report(f"==> ceremony: {len(names)} circuit(s) ready for contributions in {directory}")
    return manifest


def _empty_directory(directory: Path) -> None:
    for child in directory.iterdir():
        shutil.rmtree(child) if child.is_dir() else child.unlink()


def _new_circuit(
    paths: CeremonyPaths, ptau: Path, directory: Path, name: str, report: Report
) -> tuple[dict[str, Any], dict[str, str]]:
    entry = get_entry(directory, name)
    entry.directory.mkdir()
    report(f"==> ceremony: {name}: compiling")
    header = compile_circuit(paths, get_circuit_source(paths, name), entry)
    report(f"==> ceremony: {name}: {header.n_constraints:,} constraints; groth16 setup")
    zkey = entry.directory / compute_zkey_file_name(name, 0)
    run_snarkjs(paths, ["groth16", "setup", str(entry.r1cs), str(ptau), str(zkey)], name)
    circuit = {
        "r1cs_sha256": compute_file_hash(entry.r1cs),
        "sources": compute_source_hashes(paths, name),
        "r1cs": vars(header),
    }
    return circuit, {"file": zkey.name, "sha256": compute_file_hash(zkey)}


def contribute(
    paths: CeremonyPaths,
    directory: Path,
    name: str,
    entropy: str | None = None,
    report: Report = print,
) -> dict[str, Any]:
    """One participant's contribution to every circuit; returns the step as recorded (with the
    contribution hashes the participant publishes). The entropy is never written anywhere."""
    check_participant_name(name)
    manifest = read_manifest(directory)
    ensure_not_finalized(manifest)
    check_files(directory, manifest)
    secret = entropy or os.urandom(ENTROPY_BYTES).hex()
    index = len(manifest["contributions"]) + 1
    zkeys = {}
    for circuit in manifest["circuits"]:
        previous = get_entry(directory, circuit).directory / _latest(manifest, circuit)["file"]
        target = previous.with_name(compute_zkey_file_name(circuit, index))
        command = ["zkey", "contribute", str(previous), str(target), f"--name={name}"]
        output = run_snarkjs(paths, command, circuit, stdin=secret + "\n")
        zkeys[circuit] = _record_zkey(target, output, circuit)
        report(f"==> ceremony: {circuit}: contribution #{index} by {name}")
    step = {"index": index, "name": name, "time": _now(), "zkeys": zkeys}
    manifest["contributions"].append(step)
    write_manifest(directory, manifest)
    return step


def finalize(
    paths: CeremonyPaths,
    directory: Path,
    beacon_hex: str,
    iterations_exp: int = DEFAULT_BEACON_ITERATIONS_EXP,
    report: Report = print,
) -> Manifest:
    """The public beacon as the last contribution, then each circuit's verification key and
    groth16py proving key: the directory becomes loadable as `$DUET_KEYS_DIR`."""
    check_beacon(beacon_hex, iterations_exp)
    manifest = read_manifest(directory)
    ensure_not_finalized(manifest)
    if not manifest["contributions"]:
        raise CeremonyError(
            "refusing to finalize a ceremony with no contribution: the beacon alone is public, "
            "so its keys would be no better than the development keys. Run `duet ceremony "
            "contribute` at least once (one honest participant is what makes it sound)"
        )
    check_files(directory, manifest)
    zkeys = {}
    for circuit in manifest["circuits"]:
        zkeys[circuit] = _finalize_circuit(
            paths, directory, manifest, circuit, beacon_hex, iterations_exp, report
        )
    manifest["beacon"] = {
        "name": BEACON_NAME,
        "beacon": beacon_hex.lower(),
        "iterations_exp": iterations_exp,
        "time": _now(),
        "zkeys": zkeys,
    }
    write_manifest(directory, manifest)
    for circuit in manifest["circuits"]:
        _write_entry_manifest(paths, directory, manifest, circuit)
    report(f"==> ceremony: finalized; use it with {_keys_dir_hint(directory)}")
    return manifest


def _finalize_circuit(
    paths: CeremonyPaths,
    directory: Path,
    manifest: Manifest,
    circuit: str,
    beacon_hex: str,
    iterations_exp: int,
    report: Report,
) -> dict[str, str]:
    entry = get_entry(directory, circuit)
    previous = entry.directory / _latest(manifest, circuit)["file"]
    beacon = [beacon_hex, str(iterations_exp), f"-n={BEACON_NAME}"]
    output = run_snarkjs(
        paths, ["zkey", "beacon", str(previous), str(entry.zkey), *beacon], circuit
    )
    record = _record_zkey(entry.zkey, output, circuit)
    report(f"==> ceremony: {circuit}: beacon applied")
    export = ["zkey", "export", "verificationkey", str(entry.zkey), str(entry.verification_key)]
    run_snarkjs(paths, export, circuit)
    header = compute_r1cs_header(entry.r1cs.read_bytes())
    make_proving_key(paths, entry, header)
    report(f"==> ceremony: {circuit}: verification key and groth16py proving key written")
    return record


def _write_entry_manifest(
    paths: CeremonyPaths, directory: Path, manifest: Manifest, circuit: str
) -> None:
    """The marker of a complete entry, in the development cache's place: written last."""
    entry = get_entry(directory, circuit)
    vk = json.loads(entry.verification_key.read_text())
    header = manifest["circuits"][circuit]["r1cs"]
    record = {
        "circuit": circuit,
        # False only when neither the ptau nor δ is the development ceremony's.
        "dev": bool(manifest["ptau"]["is_dev"]) or is_dev_verification_key(vk),
        "sources": manifest["circuits"][circuit]["sources"],
        "r1cs_sha256": manifest["circuits"][circuit]["r1cs_sha256"],
        "ptau_sha256": manifest["ptau"]["sha256"],
        "contributions": compute_expected_listing(manifest, circuit),
        "r1cs": header,
        "n_public": header["n_public_outputs"] + header["n_public_inputs"],
    }
    (entry.directory / MANIFEST_FILE_NAME).write_text(json.dumps(record, indent=2) + "\n")


def verify(
    paths: CeremonyPaths,
    directory: Path,
    ptau: Path | None = None,
    report: Report = print,
) -> list[CircuitCheck]:
    """Every circuit's latest zkey against its r1cs and the ptau (`snarkjs zkey verify`), and
    the manifest's chain against the files and the contributions inside the zkeys."""
    manifest = read_manifest(directory)
    ptau = ptau or Path(manifest["ptau"]["file"])
    if not ptau.is_file():
        raise CeremonyError(f"no powers of tau file {ptau}: pass --ptau")
    if compute_file_hash(ptau) != manifest["ptau"]["sha256"]:
        raise CeremonyError(f"{ptau} is not the powers of tau this ceremony started from")
    checks = []
    for circuit in manifest["circuits"]:
        check = _verify_circuit(paths, directory, manifest, circuit, ptau)
        report(f"==> ceremony: {circuit}: {'ok' if check.ok else 'FAILED: ' + check.reason}")
        checks.append(check)
    return checks


def _verify_circuit(
    paths: CeremonyPaths, directory: Path, manifest: Manifest, circuit: str, ptau: Path
) -> CircuitCheck:
    entry = get_entry(directory, circuit)
    try:
        check_circuit_files(directory, manifest, circuit)
        latest = entry.directory / _latest(manifest, circuit)["file"]
        command = ["zkey", "verify", str(entry.r1cs), str(ptau), str(latest)]
        output = run_snarkjs(paths, command, circuit, ok_marker=VERIFY_OK)
        listed = parse_listed_contributions(output)
        expected = compute_expected_listing(manifest, circuit)
        if listed != expected:
            raise CeremonyError(
                f"the manifest's contributions {_names(expected)} are not the zkey's "
                f"{_names(listed)} (or their hashes differ): the chain was edited",
                circuit,
            )
        if manifest.get("beacon"):
            _check_final_key(paths, entry, circuit)
    except CeremonyError as error:
        return CircuitCheck(circuit, False, str(error), [])
    return CircuitCheck(circuit, True, "ok", listed)


def _check_final_key(paths: CeremonyPaths, entry: CircuitEntry, circuit: str) -> None:
    """The exported verification key is the final zkey's."""
    fresh = entry.directory / (VERIFICATION_KEY_FILE_NAME + ".check")
    try:
        export = ["zkey", "export", "verificationkey", str(entry.zkey), str(fresh)]
        run_snarkjs(paths, export, circuit)
        if json.loads(fresh.read_text()) != json.loads(entry.verification_key.read_text()):
            raise CeremonyError(f"{entry.verification_key.name} is not the final zkey's", circuit)
    except OSError as error:
        raise CeremonyError(f"cannot read its verification key ({error})", circuit) from error
    finally:
        fresh.unlink(missing_ok=True)


# -- checks ---------------------------------------------------------------------------------


def check_participant_name(name: str) -> None:
    if len(name) > MAX_NAME_CHARS or not NAME_PATTERN.fullmatch(name):
        raise CeremonyError(
            f"participant name {name!r}: letters, digits, spaces and ._@'- only "
            f"(at most {MAX_NAME_CHARS} characters), starting with a letter or digit"
        )


def check_beacon(beacon_hex: str, iterations_exp: int) -> None:
    if not re.fullmatch(r"(?:[0-9a-fA-F]{2})+", beacon_hex):
        raise CeremonyError(f"beacon {beacon_hex!r} is not hex (an even number of hex digits)")
    if len(beacon_hex) < 2 * MIN_BEACON_BYTES:
        raise CeremonyError(f"beacon is {len(beacon_hex) // 2} bytes: at least {MIN_BEACON_BYTES}")
    if not MIN_BEACON_ITERATIONS_EXP <= iterations_exp <= MAX_BEACON_ITERATIONS_EXP:
        raise CeremonyError(
            f"--iterations {iterations_exp}: snarkjs takes {MIN_BEACON_ITERATIONS_EXP} to "
            f"{MAX_BEACON_ITERATIONS_EXP} (the beacon is hashed 2^N times)"
        )


def ensure_not_finalized(manifest: Manifest) -> None:
    if manifest.get("beacon"):
        raise CeremonyError("this ceremony is finalized: it takes no more contributions")


def check_files(directory: Path, manifest: Manifest) -> None:
    for circuit in manifest["circuits"]:
        check_circuit_files(directory, manifest, circuit)


def check_circuit_files(directory: Path, manifest: Manifest, circuit: str) -> None:
    """The r1cs and the latest zkey are the manifest's, and so is any earlier zkey kept (a
    participant may delete those: their hashes stay in the manifest)."""
    entry = get_entry(directory, circuit)
    if not entry.r1cs.is_file():
        raise CeremonyError(f"{entry.r1cs} is missing", circuit)
    if compute_file_hash(entry.r1cs) != manifest["circuits"][circuit]["r1cs_sha256"]:
        raise CeremonyError(f"{entry.r1cs.name} is not the one the ceremony started from", circuit)
    steps = get_steps(manifest)
    for position, step in enumerate(steps):
        record = step["zkeys"].get(circuit)
        if record is None:
            raise CeremonyError(f"step {position} of the chain has no zkey for it", circuit)
        path = entry.directory / record["file"]
        if not path.is_file() and position < len(steps) - 1:
            continue
        if not path.is_file() or compute_file_hash(path) != record["sha256"]:
            raise CeremonyError(
                f"{record['file']} is missing or not the zkey the manifest records", circuit
            )


def parse_contribution_hash(output: str) -> str:
    match = CONTRIBUTION_HASH.search(output)
    if match is None:
        raise CeremonyError("snarkjs printed no contribution hash")
    return "".join(match[1].split())


def parse_listed_contributions(output: str) -> list[dict[str, str]]:
    """The contributions `zkey verify` lists (newest first), oldest first."""
    listed = [
        (int(index), {"name": name, "hash": "".join(hash_words.split())})
        for index, name, hash_words in LISTED_CONTRIBUTION.findall(output)
    ]
    return [entry for _, entry in sorted(listed, key=lambda item: item[0])]


# -- snarkjs --------------------------------------------------------------------------------


def run_snarkjs(
    paths: CeremonyPaths,
    args: Sequence[str],
    circuit: str | None = None,
    stdin: str | None = None,
    ok_marker: str | None = None,
) -> str:
    """snarkjs from the project's node_modules; its output without colours. snarkjs reports
    some failures with exit status 0, so `[ERROR]` (and a missing `ok_marker`) fail too."""
    command = [str(paths.node_modules / ".bin" / "snarkjs"), *args]
    try:
        completed = subprocess.run(
            command,
            cwd=paths.project_root,
            input=stdin or "",
            capture_output=True,
            text=True,
            check=False,
        )
    except FileNotFoundError as error:
        raise CeremonyError(f"{command[0]} not found: run ./demo.sh setup") from error
    output = ANSI_ESCAPE.sub("", completed.stdout + completed.stderr)
    failed = completed.returncode != 0 or SNARKJS_FAILURE.search(output) is not None
    if failed or (ok_marker is not None and ok_marker not in output):
        reason = _summarize_failure(output)
        raise CeremonyError(f"snarkjs {' '.join(args[:2])} failed: {reason}", circuit)
    return output


def _summarize_failure(output: str) -> str:
    lines = [line.strip() for line in SNARKJS_FAILURE.findall(output)]
    return "; ".join(lines) if lines else output[-TOOL_ERROR_TAIL_CHARS:].strip()


def _record_zkey(path: Path, output: str, circuit: str) -> dict[str, str]:
    try:
        contribution_hash = parse_contribution_hash(output)
    except CeremonyError as error:
        raise CeremonyError(str(error), circuit) from error
    return {
        "file": path.name,
        "sha256": compute_file_hash(path),
        "contribution_hash": contribution_hash,
    }


def _latest(manifest: Manifest, circuit: str) -> Mapping[str, str]:
    return get_steps(manifest)[-1]["zkeys"][circuit]


def _names(listing: Sequence[Mapping[str, str]]) -> list[str]:
    return [entry["name"] for entry in listing]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _keys_dir_hint(directory: Path) -> str:
    return f"DUET_KEYS_DIR={directory.resolve()}"


def get_keys_paths(paths: CeremonyPaths, directory: Path) -> CeremonyPaths:
    """`paths` loading its keys from the finalized ceremony in `directory`."""
    return replace(paths, keys_dir=directory.resolve())
