"""The deterministic development ceremony that makes each circuit's Groth16 keys.

Powers of tau (2^14, shared by every circuit), then per circuit: compile with circom2,
`groth16 setup`, a public `zkey beacon`, the snarkjs verification key, and a groth16py
proving key saved for fast loading. Every step is deterministic (public beacons, no secret
contribution), so anyone rebuilds the same keys: they are for development, not for value.

Two ways to the same bytes: snarkjs runs the ceremony's steps (half an hour on two cores),
or devkeys (`chain.prover.native`, a Rust helper) computes their outputs straight from the
public secrets, in seconds. The default is devkeys; `DUET_CEREMONY=snarkjs` asks for snarkjs,
which also serves when cargo is missing. Their outputs are identical (the tests compare the
files byte for byte), so their cache entries are shared.

The ceremony is slow, so its outputs live in the cache (`$DUET_CACHE_DIR`), keyed by a hash
of everything that shapes them, and are built in a temporary directory renamed into place:
an entry exists only once it is complete, and a killed build leaves nothing that looks done.
A file lock per entry lets parallel processes (pytest-xdist, two shells) share the cache.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import multiprocessing
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Literal

import groth16py

from chain.prover.errors import ProverError
from chain.prover.native import compute_devkeys_hash, run_devkeys, setup_devkeys

CEREMONY_FORMAT_VERSION = 1  # bump when the steps or the entry layout change
PTAU_CURVE = "bn128"
PTAU_POWER = 14  # 2^14 constraints at most: the circuits are designed to stay under ~16k
# Public beacons in place of secret contributions: anyone can recompute them.
BEACON_HASH_HEX = "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
BEACON_ITERATIONS_EXP = 10  # the beacon hashes 2^10 times
BEACON_NAME = "duet development beacon"
# Each circuit's `zkey beacon` hashes its own beacon, SHA-256(fixed beacon ‖ circuit name),
# so no two circuits share δ: with τ, α, β shared, a shared δ would let a prover use one
# circuit's private-wire key points in another circuit's proof.
# groth16py's import_zkey compiles the circuit again, at full simplification, for its witness
# generator: the zkey must come from the same wires, or proving fails (index out of bounds).
CIRCOM_SIMPLIFICATION = "--O2"
CIRCUIT_HASH_CHARS = 16  # hex characters of the circuit hash in an entry's directory name

CACHE_DIR_ENV = "DUET_CACHE_DIR"
# A finalized multi-party ceremony's directory (`duet ceremony finalize`): its keys replace the
# development cache's. Unset, the node uses the deterministic development keys.
KEYS_DIR_ENV = "DUET_KEYS_DIR"
CEREMONY_ENV = "DUET_CEREMONY"  # "native" (devkeys, the default) or "snarkjs"
DEFAULT_CACHE_DIR = Path.home() / ".cache" / "duet"
PROJECT_ROOT = Path(__file__).resolve().parents[2]
PTAU_FILE_NAME = f"pot{PTAU_POWER}_final.ptau"
MANIFEST_FILE_NAME = "manifest.json"  # written last: its presence marks an entry complete
VERIFICATION_KEY_FILE_NAME = "verification_key.json"
LOCK_FILE_SUFFIX = ".lock"
BUILD_DIR_PREFIX = ".build-"
MAX_PARALLEL_CIRCUITS = 2  # the development machines have two cores
R1CS_HEADER_SECTION = 1
INCLUDE = re.compile(r'^\s*include\s+"([^"]+)"\s*;', re.MULTILINE)
TOOL_ERROR_TAIL_CHARS = 2000  # how much of a failing tool's output goes into the error

Status = Literal["built", "cached"]
Method = Literal["native", "snarkjs"]
METHODS: tuple[Method, ...] = ("native", "snarkjs")
Report = Callable[[str], None]


def get_default_cache_dir() -> Path:
    return Path(os.environ.get(CACHE_DIR_ENV) or DEFAULT_CACHE_DIR).expanduser()


def get_default_tools_dir() -> Path:
    return get_default_cache_dir() / "devkeys"


@dataclass(frozen=True)
class CeremonyPaths:
    """Where the ceremony reads sources and writes keys; tests point it at fixtures."""

    project_root: Path  # holds node_modules/
    circuits_dir: Path  # <name>.circom main files, shared templates in lib/
    cache_dir: Path  # circuits/<name>-<hash>/ entries
    ptau_dir: Path  # the shared powers of tau, keyed by its parameters only
    # The devkeys helper's builds, one per machine whatever the circuits (cargo's target
    # directory and a binary per source hash).
    tools_dir: Path = field(default_factory=get_default_tools_dir)
    # Set: each circuit's keys come from this finalized ceremony (`<keys_dir>/<name>/`), never
    # built here; None: from the development cache.
    keys_dir: Path | None = None

    @property
    def node_modules(self) -> Path:
        return self.project_root / "node_modules"

    @property
    def ptau_file(self) -> Path:
        return self.ptau_dir / PTAU_FILE_NAME


@dataclass(frozen=True)
class Ceremony:
    """How the keys get computed: by the devkeys binary, or (None) by snarkjs."""

    devkeys: Path | None = None

    @property
    def method(self) -> Method:
        return "snarkjs" if self.devkeys is None else "native"


@dataclass(frozen=True)
class CircuitEntry:
    """One circuit's cache entry: `<cache>/circuits/<name>-<hash16>/`."""

    name: str
    directory: Path

    @property
    def r1cs(self) -> Path:
        return self.directory / f"{self.name}.r1cs"

    @property
    def wasm(self) -> Path:
        return self.directory / f"{self.name}.wasm"

    @property
    def zkey(self) -> Path:
        return self.directory / f"{self.name}.zkey"

    @property
    def verification_key(self) -> Path:
        return self.directory / VERIFICATION_KEY_FILE_NAME

    @property
    def proving_key(self) -> Path:
        return self.directory / f"{self.name}.pk"

    @property
    def manifest(self) -> Path:
        return self.directory / MANIFEST_FILE_NAME


@dataclass
class SetupResult:
    name: str  # a circuit's name, or "ptau"
    status: Status
    seconds: float
    path: Path
    steps: dict[str, float] = field(default_factory=dict)  # step → seconds


@dataclass(frozen=True)
class R1csHeader:
    n_wires: int
    n_public_outputs: int
    n_public_inputs: int
    n_private_inputs: int
    n_constraints: int


def get_default_paths() -> CeremonyPaths:
    cache_dir = get_default_cache_dir()
    keys_dir = os.environ.get(KEYS_DIR_ENV)
    return CeremonyPaths(
        project_root=PROJECT_ROOT,
        circuits_dir=PROJECT_ROOT / "contracts" / "circuits",
        cache_dir=cache_dir,
        ptau_dir=cache_dir / "ptau",
        tools_dir=cache_dir / "devkeys",
        keys_dir=Path(keys_dir).expanduser().resolve() if keys_dir else None,
    )


def get_requested_method() -> Method:
    """The ceremony `$DUET_CEREMONY` asks for: "native" unless it says "snarkjs"."""
    method = os.environ.get(CEREMONY_ENV) or "native"
    if method not in METHODS:
        raise ProverError(f"{CEREMONY_ENV}={method!r}: expected one of {', '.join(METHODS)}")
    return method


_ceremonies: dict[tuple[Path, Method], Ceremony] = {}


def setup_ceremony(
    paths: CeremonyPaths, report: Report | None = None, method: Method | None = None
) -> Ceremony:
    """The ceremony asked for (default: `$DUET_CEREMONY`), building devkeys first if native;
    snarkjs if devkeys cannot be built. Decided once per process."""
    method = method or get_requested_method()
    key = (paths.tools_dir, method)
    if key not in _ceremonies:
        devkeys = None
        if method == "native":
            devkeys = setup_devkeys(paths.tools_dir, report or print_progress)
        _ceremonies[key] = Ceremony(devkeys)
    return _ceremonies[key]


def get_circuit_names(paths: CeremonyPaths) -> list[str]:
    """Every main circuit: `<circuits_dir>/<name>.circom` (templates in lib/ are not mains)."""
    return sorted(source.stem for source in paths.circuits_dir.glob("*.circom"))


def get_circuit_source(paths: CeremonyPaths, name: str) -> Path:
    source = paths.circuits_dir / f"{name}.circom"
    if not source.is_file():
        raise ProverError(f"no circuit {name!r}: {source} does not exist")
    return source


def get_circuit_entry(paths: CeremonyPaths, name: str) -> CircuitEntry:
    if paths.keys_dir is not None:
        return get_ceremony_entry(paths.keys_dir, paths, name)
    digest = compute_circuit_hash(paths, name)[:CIRCUIT_HASH_CHARS]
    return CircuitEntry(name, paths.cache_dir / "circuits" / f"{name}-{digest}")


def get_ceremony_entry(keys_dir: Path, paths: CeremonyPaths, name: str) -> CircuitEntry:
    """Circuit `name`'s keys in a finalized ceremony's directory; ProverError if its sources
    changed since: its keys are then for another circuit, and a new ceremony is needed."""
    entry = CircuitEntry(name, keys_dir / name)
    if is_entry_complete(entry):
        recorded = json.loads(entry.manifest.read_text()).get("sources")
        if recorded != compute_source_hashes(paths, name):
            raise ProverError(
                f"circuit {name}: its sources changed since the ceremony in {keys_dir}, so its "
                "keys no longer fit: run a new ceremony (duet ceremony)"
            )
    return entry


def is_entry_complete(entry: CircuitEntry) -> bool:
    return entry.manifest.is_file()


def compute_circuit_hash(paths: CeremonyPaths, name: str) -> str:
    """The cache key: a hash of everything that shapes a circuit's keys."""
    canonical = json.dumps(compute_hash_inputs(paths, name), sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


def compute_hash_inputs(paths: CeremonyPaths, name: str) -> dict[str, object]:
    """What the cache key covers, kept in the manifest so a rebuild can be explained."""
    inputs: dict[str, object] = {
        "format": CEREMONY_FORMAT_VERSION,
        "circuit": name,
        **compute_source_hashes(paths, name),
        # The compilers and key formats shape the outputs as much as the sources do.
        "packages": {
            package: _get_npm_version(paths, package)
            for package in ("circomlib", "circom2", "snarkjs")
        },
        "groth16py": groth16py.__version__,
        "ptau": [PTAU_CURVE, PTAU_POWER, BEACON_HASH_HEX, BEACON_ITERATIONS_EXP],
        "zkey_beacon": [compute_zkey_beacon_hex(name), BEACON_ITERATIONS_EXP],
    }
    return inputs


def find_shared_includes(circuits_dir: Path, source: Path) -> list[Path]:
    """The files outside lib/ that `source` includes from the circuits folder (e.g.
    read/membership.circom): templates that a few circuits share, so that a change to them
    rebuilds those circuits alone, where one in lib/ rebuilds all. Read one level deep: a
    shared file includes circomlib or lib/ only."""
    circuits, lib = circuits_dir.resolve(), (circuits_dir / "lib").resolve()
    found = set()
    for include in INCLUDE.findall(source.read_text()):
        path = (source.parent / include).resolve()
        if path.is_file() and path.is_relative_to(circuits) and not path.is_relative_to(lib):
            found.add(path)
    return sorted(found)


def compute_source_hashes(paths: CeremonyPaths, name: str) -> dict[str, object]:
    """SHA-256 of circuit `name`'s main file and of every shared template: what its r1cs is
    compiled from."""
    lib_dir = paths.circuits_dir / "lib"
    lib_files = sorted(p for p in lib_dir.rglob("*") if p.is_file()) if lib_dir.is_dir() else []
    source = get_circuit_source(paths, name)
    hashes: dict[str, object] = {
        "main": _compute_file_hash(source),
        "lib": {p.relative_to(lib_dir).as_posix(): _compute_file_hash(p) for p in lib_files},
    }
    # Only when there are some, so that the keys of circuits that include none stay cached.
    shared = find_shared_includes(paths.circuits_dir, source)
    if shared:
        hashes["shared"] = {
            p.relative_to(paths.circuits_dir.resolve()).as_posix(): _compute_file_hash(p)
            for p in shared
        }
    return hashes


def compute_zkey_beacon_hex(name: str) -> str:
    """The beacon of circuit `name`'s `zkey beacon`, whence its δ."""
    return hashlib.sha256(bytes.fromhex(BEACON_HASH_HEX) + name.encode()).hexdigest()


def compute_r1cs_header(r1cs: bytes) -> R1csHeader:
    """Parse the header section of a circom `.r1cs` (iden3 binfileutils layout)."""
    if r1cs[:4] != b"r1cs":
        raise ProverError("not an r1cs file")
    offset = 12  # magic, version, section count
    for _ in range(_read_u32(r1cs, 8)):
        kind = _read_u32(r1cs, offset)
        size = int.from_bytes(r1cs[offset + 4 : offset + 12], "little")
        offset += 12
        if kind == R1CS_HEADER_SECTION:
            start = offset + 4 + _read_u32(r1cs, offset)  # skip the field size and the prime
            return R1csHeader(
                n_wires=_read_u32(r1cs, start),
                n_public_outputs=_read_u32(r1cs, start + 4),
                n_public_inputs=_read_u32(r1cs, start + 8),
                n_private_inputs=_read_u32(r1cs, start + 12),
                n_constraints=_read_u32(r1cs, start + 24),  # after the label count (u64)
            )
        offset += size
    raise ProverError("r1cs file has no header section")


def _read_u32(data: bytes, offset: int) -> int:
    return int.from_bytes(data[offset : offset + 4], "little")


def setup_circuits(
    paths: CeremonyPaths,
    names: Sequence[str] | None = None,
    jobs: int = MAX_PARALLEL_CIRCUITS,
    report: Report | None = None,
    ceremony: Ceremony | None = None,
) -> list[SetupResult]:
    """Make sure every named circuit (default: all) has a complete entry; build what is missing.

    With more than one to build and `jobs` > 1, they build in worker processes, which report
    with print_progress rather than `report`.
    """
    report = report or print_progress
    names = list(names) if names is not None else get_circuit_names(paths)
    entries = {name: get_circuit_entry(paths, name) for name in names}
    missing = [name for name in names if not is_entry_complete(entries[name])]
    if missing and paths.keys_dir is not None:
        raise _missing_ceremony_keys(paths.keys_dir, missing)
    results = {
        name: _get_cached_result(entries[name], report) for name in names if name not in missing
    }
    if missing:
        ceremony = ceremony or setup_ceremony(paths, report)
        setup_ptau(paths, report, ceremony)
    if len(missing) > 1 and jobs > 1:
        # Worker processes report with print_progress. Spawned, not forked: a fork of a process
        # whose groth16py thread pool is running can deadlock.
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(min(jobs, len(missing)), mp_context=context) as pool:
            futures = {
                name: pool.submit(setup_circuit, paths, name, None, ceremony) for name in missing
            }
            results |= {name: future.result() for name, future in futures.items()}
    else:
        results |= {name: setup_circuit(paths, name, report, ceremony) for name in missing}
    return [results[name] for name in names]


def setup_ptau(
    paths: CeremonyPaths, report: Report | None = None, ceremony: Ceremony | None = None
) -> SetupResult:
    """The shared powers of tau: `new` → public `beacon` → `prepare phase2` (or what they
    write, from devkeys)."""
    report = report or print_progress
    target = paths.ptau_file
    if target.is_file():
        return SetupResult("ptau", "cached", 0.0, target)
    ceremony = ceremony or setup_ceremony(paths, report)
    paths.ptau_dir.mkdir(parents=True, exist_ok=True)
    with locked(paths.ptau_dir / (PTAU_FILE_NAME + LOCK_FILE_SUFFIX)):
        if target.is_file():  # another process built it while this one waited
            return SetupResult("ptau", "cached", 0.0, target)
        _remove_stale_builds(paths.ptau_dir, BUILD_DIR_PREFIX)
        duration = "seconds" if ceremony.devkeys else "about 10 minutes on 2 cores"
        report(f"==> ptau 2^{PTAU_POWER}: building {target} once ({duration})")
        with building(paths.ptau_dir, BUILD_DIR_PREFIX) as build:
            steps = _Steps(f"ptau 2^{PTAU_POWER}", report)
            if ceremony.devkeys:
                _build_ptau_natively(ceremony.devkeys, build, steps)
            else:
                _build_ptau(paths, build, steps)
            os.replace(build / PTAU_FILE_NAME, target)
    return SetupResult("ptau", "built", steps.total, target, steps.seconds)


def setup_circuit(
    paths: CeremonyPaths,
    name: str,
    report: Report | None = None,
    ceremony: Ceremony | None = None,
) -> SetupResult:
    """One circuit's entry, built unless a complete one with the same hash exists."""
    report = report or print_progress
    entry = get_circuit_entry(paths, name)
    if is_entry_complete(entry):
        return _get_cached_result(entry, report)
    if paths.keys_dir is not None:  # never mix development keys into a ceremony's
        raise _missing_ceremony_keys(paths.keys_dir, [name])
    entry.directory.parent.mkdir(parents=True, exist_ok=True)
    with locked(entry.directory.with_name(entry.directory.name + LOCK_FILE_SUFFIX)):
        if is_entry_complete(entry):
            return _get_cached_result(entry, report)
        ceremony = ceremony or setup_ceremony(paths, report)
        setup_ptau(paths, report, ceremony)
        prefix = f"{BUILD_DIR_PREFIX}{entry.directory.name}-"
        _remove_stale_builds(entry.directory.parent, prefix)
        with building(entry.directory.parent, prefix) as build:
            steps = _Steps(f"circuit {name}", report)
            _build_circuit(paths, CircuitEntry(name, build), steps, ceremony)
            if get_circuit_entry(paths, name) != entry:  # an edit mid-build: keys of neither
                raise ProverError(f"circuit {name}: its sources changed during setup; run again")
            build.rename(entry.directory)
    report(f"==> circuit {name}: ready in {steps.total:.1f} s ({entry.directory})")
    return SetupResult(name, "built", steps.total, entry.directory, steps.seconds)


def _missing_ceremony_keys(keys_dir: Path, names: Sequence[str]) -> ProverError:
    return ProverError(
        f"no finalized keys for circuit(s) {', '.join(names)} in {keys_dir} ({KEYS_DIR_ENV}): "
        "run duet ceremony for them, or unset it for the development keys"
    )


def print_progress(line: str) -> None:
    print(line, flush=True)


def _build_ptau(paths: CeremonyPaths, build: Path, steps: _Steps) -> None:
    fresh, beaconed, final = build / "new.ptau", build / "beacon.ptau", build / PTAU_FILE_NAME
    with steps.step("powersoftau new"):
        run_snarkjs(paths, "powersoftau", "new", PTAU_CURVE, str(PTAU_POWER), str(fresh))
    with steps.step("powersoftau beacon"):
        beacon = _beacon_args(BEACON_HASH_HEX)
        run_snarkjs(paths, "powersoftau", "beacon", str(fresh), str(beaconed), *beacon)
    with steps.step("powersoftau prepare phase2"):
        run_snarkjs(paths, "powersoftau", "prepare", "phase2", str(beaconed), str(final))


def _build_ptau_natively(devkeys: Path, build: Path, steps: _Steps) -> None:
    with steps.step("powers of tau (devkeys)"):
        run_devkeys(
            devkeys,
            "ptau",
            str(build / PTAU_FILE_NAME),
            "--power",
            str(PTAU_POWER),
            *_devkeys_beacon_args(BEACON_HASH_HEX),
        )


def _build_circuit(
    paths: CeremonyPaths, build: CircuitEntry, steps: _Steps, ceremony: Ceremony
) -> None:
    source = get_circuit_source(paths, build.name)
    with steps.step("compile") as note:
        header = compile_circuit(paths, source, build)
        note(f"{header.n_constraints:,} constraints")
    if ceremony.devkeys:
        _make_zkey_natively(ceremony.devkeys, build, steps)
    else:
        _make_zkey(paths, build, steps)
    with steps.step("groth16py import_zkey"):
        _import_zkey(paths, source, build, header)
    with steps.step("groth16py load check"):
        groth16py.ProvingKey.load(str(build.proving_key))  # fails here, not in the node, if broken
    _write_manifest(paths, build, header, steps.seconds, ceremony)


def _make_zkey_natively(devkeys: Path, build: CircuitEntry, steps: _Steps) -> None:
    """What `groth16 setup` → `zkey beacon` → `zkey export verificationkey` write."""
    with steps.step("zkey (devkeys)"):
        ptau = ["--power", str(PTAU_POWER), *_devkeys_beacon_args(BEACON_HASH_HEX, "ptau-")]
        beacon = _devkeys_beacon_args(compute_zkey_beacon_hex(build.name))
        zkey = [str(build.r1cs), str(build.zkey), *ptau, *beacon]
        run_devkeys(devkeys, "zkey", *zkey)
    with steps.step("export verification key (devkeys)"):
        run_devkeys(devkeys, "vkey", str(build.zkey), str(build.verification_key))


def _make_zkey(paths: CeremonyPaths, build: CircuitEntry, steps: _Steps) -> None:
    initial_zkey = build.directory / f"{build.name}_0000.zkey"
    with steps.step("groth16 setup"):
        run_snarkjs(
            paths, "groth16", "setup", str(build.r1cs), str(paths.ptau_file), str(initial_zkey)
        )
    with steps.step("zkey beacon"):
        beacon = _beacon_args(compute_zkey_beacon_hex(build.name))
        run_snarkjs(paths, "zkey", "beacon", str(initial_zkey), str(build.zkey), *beacon)
        initial_zkey.unlink()
    with steps.step("export verification key"):
        run_snarkjs(
            paths, "zkey", "export", "verificationkey", str(build.zkey), str(build.verification_key)
        )


def compile_circuit(paths: CeremonyPaths, source: Path, build: CircuitEntry) -> R1csHeader:
    circom = paths.node_modules / ".bin" / "circom2"
    # circom2 runs as WebAssembly and finds an include only below its working directory (it
    # cannot resolve `..`), so it runs where both the sources and circomlib are below it.
    cwd = Path(os.path.commonpath([paths.circuits_dir, paths.node_modules]))
    libraries = ["-l", str(paths.node_modules)]
    outputs = ["--r1cs", "--wasm", "--sym", CIRCOM_SIMPLIFICATION, "-o", str(build.directory)]
    _run_tool([str(circom), str(source), *libraries, *outputs], cwd=cwd)
    js_dir = build.directory / f"{build.name}_js"
    (js_dir / f"{build.name}.wasm").rename(build.wasm)
    shutil.rmtree(js_dir)  # the JS witness calculator: snarkjs and groth16py need only the .wasm
    return compute_r1cs_header(build.r1cs.read_bytes())


def make_proving_key(paths: CeremonyPaths, entry: CircuitEntry, header: R1csHeader) -> None:
    """groth16py's proving key for `entry.zkey` (it compiles the circuit again), loaded once
    so that a broken one fails here rather than in the node."""
    _import_zkey(paths, get_circuit_source(paths, entry.name), entry, header)
    groth16py.ProvingKey.load(str(entry.proving_key))


def _import_zkey(
    paths: CeremonyPaths, source: Path, build: CircuitEntry, header: R1csHeader
) -> None:
    with _captured_stdout() as read_output:  # its compiler prints a summary to fd 1
        proving_key, _ = groth16py.import_zkey(
            str(build.zkey), str(source), [str(paths.node_modules)]
        )
        wires = re.search(r"^wires: (\d+)", read_output(), re.MULTILINE)
    if wires and int(wires[1]) != header.n_wires:
        raise ProverError(
            f"circuit {build.name}: groth16py compiled {wires[1]} wires, circom2 "
            f"{header.n_wires}; their simplification levels differ, so proofs would fail"
        )
    proving_key.save(str(build.proving_key))


def _write_manifest(
    paths: CeremonyPaths,
    build: CircuitEntry,
    header: R1csHeader,
    seconds: dict[str, float],
    ceremony: Ceremony,
) -> None:
    manifest = {
        "circuit": build.name,
        # Public toxic waste: refused outside dev chains (chain.prover.key_policy).
        "dev": True,
        "hash": compute_circuit_hash(paths, build.name),
        "hash_inputs": compute_hash_inputs(paths, build.name),
        # Not in the hash: both ways give the same bytes, so either may reuse the other's entry.
        "made_by": {
            "method": ceremony.method,
            "devkeys": compute_devkeys_hash() if ceremony.devkeys else None,
        },
        "r1cs": vars(header),
        "n_public": header.n_public_outputs + header.n_public_inputs,
        "step_seconds": {step: round(s, 3) for step, s in seconds.items()},
    }
    build.manifest.write_text(json.dumps(manifest, indent=2) + "\n")


def _get_cached_result(entry: CircuitEntry, report: Report) -> SetupResult:
    report(f"==> circuit {entry.name}: up to date ({entry.directory.name})")
    return SetupResult(entry.name, "cached", 0.0, entry.directory)


def _beacon_args(beacon_hex: str) -> list[str]:
    return [beacon_hex, str(BEACON_ITERATIONS_EXP), f"-n={BEACON_NAME}"]


def _devkeys_beacon_args(beacon_hex: str, prefix: str = "") -> list[str]:
    beacon = [f"--{prefix}beacon", beacon_hex, f"--{prefix}name", BEACON_NAME]
    return [*beacon, f"--{prefix}iterations-exp", str(BEACON_ITERATIONS_EXP)]


def run_snarkjs(paths: CeremonyPaths, *args: str) -> None:
    """Run a snarkjs command from the project's node_modules; ProverError if it fails."""
    _run_tool([str(paths.node_modules / ".bin" / "snarkjs"), *args], cwd=paths.project_root)


def _run_tool(command: list[str], cwd: Path) -> None:
    try:
        completed = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)
    except FileNotFoundError as error:
        raise ProverError(f"{command[0]} not found: run ./demo.sh setup") from error
    # snarkjs reports some failures on stdout with exit status 0, so callers also check outputs.
    if completed.returncode != 0 or "[ERROR]" in completed.stdout:
        output = (completed.stdout + completed.stderr)[-TOOL_ERROR_TAIL_CHARS:]
        raise ProverError(f"{Path(command[0]).name} {' '.join(command[1:3])} failed:\n{output}")


def _compute_file_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _get_npm_version(paths: CeremonyPaths, package: str) -> str:
    manifest = paths.node_modules / package / "package.json"
    if not manifest.is_file():
        raise ProverError(
            f"npm package {package} is missing from {paths.node_modules}: run ./demo.sh setup"
        )
    return str(json.loads(manifest.read_text())["version"])


@contextmanager
def _captured_stdout() -> Iterator[Callable[[], str]]:
    """Capture what native code writes to file descriptor 1, which sys.stdout never sees."""
    sys.stdout.flush()
    with tempfile.TemporaryFile() as capture:
        saved = os.dup(1)
        os.dup2(capture.fileno(), 1)
        try:
            yield lambda: _read_all(capture)
        finally:
            os.dup2(saved, 1)
            os.close(saved)


def _read_all(capture: IO[bytes]) -> str:
    capture.seek(0)
    return capture.read().decode(errors="replace")


@contextmanager
def locked(lock_file: Path) -> Iterator[None]:
    """Holds an exclusive lock on `lock_file` across processes (pytest-xdist workers too)."""
    with lock_file.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # released when the file closes, even on SIGKILL
        yield


@contextmanager
def building(parent: Path, prefix: str) -> Iterator[Path]:
    """A temporary build directory next to the target, removed unless renamed into place."""
    build = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
    try:
        yield build
    finally:
        shutil.rmtree(build, ignore_errors=True)


def _remove_stale_builds(parent: Path, prefix: str) -> None:
    """Builds left by a killed process; only called under the entry's lock, so none is live."""
    for stale in parent.glob(f"{prefix}*"):
        shutil.rmtree(stale, ignore_errors=True)


class _Steps:
    """Times each step and reports one line per step: `==> circuit x: compile (1.2 s)`."""

    def __init__(self, subject: str, report: Report) -> None:
        self.subject = subject
        self.report = report
        self.seconds: dict[str, float] = {}

    @property
    def total(self) -> float:
        return sum(self.seconds.values())

    @contextmanager
    def step(self, label: str) -> Iterator[Callable[[str], None]]:
        notes: list[str] = []
        start = time.monotonic()
        yield notes.append
        self.seconds[label] = time.monotonic() - start
        detail = "".join(f", {note}" for note in notes)
        self.report(f"==> {self.subject}: {label}{detail} ({self.seconds[label]:.1f} s)")
