"""The development ceremony without snarkjs's arithmetic: devkeys, a small Rust helper.

The ceremony's secrets are public by design (fixed beacons), so its outputs can be computed
from them directly instead of through snarkjs's slow group arithmetic in WebAssembly. devkeys
(`chain/prover/devkeys/`, arkworks) writes the same bytes snarkjs writes: the prepared powers
of tau, each circuit's final `.zkey` and its `verification_key.json` (the tests compare them
byte for byte), in seconds where snarkjs takes half an hour.

It is built once with cargo into the cache (`$DUET_CACHE_DIR/devkeys/`), next to the keys,
and again only when its sources change. Without cargo, or if the build fails, the ceremony
runs in snarkjs as before, after one line saying so.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from chain.prover.errors import ProverError

DEVKEYS_SOURCE = Path(__file__).resolve().parent / "devkeys"
DEVKEYS_SOURCE_FILES = ("Cargo.toml", "Cargo.lock", "src")
DEVKEYS_HASH_CHARS = 16  # hex characters of the source hash in the binary's name
CARGO = "cargo"
CARGO_LOG_FILE_NAME = "cargo-build.log"
TOOL_ERROR_TAIL_CHARS = 2000

Report = Callable[[str], None]


def compute_devkeys_hash(source: Path = DEVKEYS_SOURCE) -> str:
    """A hash of the helper's sources (manifest, lock file, code): its build's cache key."""
    digest = hashlib.sha256()
    for top in DEVKEYS_SOURCE_FILES:
        files = sorted(p for p in (source / top).rglob("*") if p.is_file())
        for path in files if (source / top).is_dir() else [source / top]:
            digest.update(path.relative_to(source).as_posix().encode() + b"\0")
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def get_devkeys_binary(tools_dir: Path, source: Path = DEVKEYS_SOURCE) -> Path:
    """Where the helper built from the current sources lives (whether built yet or not)."""
    return tools_dir / f"devkeys-{compute_devkeys_hash(source)[:DEVKEYS_HASH_CHARS]}"


def setup_devkeys(tools_dir: Path, report: Report, source: Path = DEVKEYS_SOURCE) -> Path | None:
    """The helper for the current sources, built once with cargo if missing; None, after one
    line saying why, where it cannot be built (then the ceremony runs in snarkjs)."""
    binary = get_devkeys_binary(tools_dir, source)
    if binary.is_file():
        report(f"==> devkeys: up to date ({binary})")
        return binary
    if shutil.which(CARGO) is None:
        report(
            "==> devkeys: cargo not found, so the ceremony runs in snarkjs (about 36 minutes "
            "from nothing); install Rust (rustup.rs) to make it seconds"
        )
        return None
    tools_dir.mkdir(parents=True, exist_ok=True)
    with _locked(tools_dir / "build.lock"):
        if binary.is_file():  # another process built it while this one waited
            return binary
        return _build_devkeys(tools_dir, source, binary, report)


def _build_devkeys(tools_dir: Path, source: Path, binary: Path, report: Report) -> Path | None:
    report("==> devkeys: building the native ceremony helper with cargo (once)")
    log = tools_dir / CARGO_LOG_FILE_NAME
    start = time.monotonic()
    command = [CARGO, "build", "--release", "--locked", "--manifest-path"]
    command.append(str(source / "Cargo.toml"))
    env = os.environ | {"CARGO_TARGET_DIR": str(tools_dir / "target")}
    with log.open("w") as output:
        completed = subprocess.run(
            command, stdout=output, stderr=subprocess.STDOUT, env=env, check=False
        )
    built = tools_dir / "target" / "release" / "devkeys"
    if completed.returncode != 0 or not built.is_file():
        report(
            f"==> devkeys: cargo build failed (its output: {log}), so the ceremony runs in "
            "snarkjs (about 36 minutes from nothing)"
        )
        return None
    # Binaries of other sources stay: worktrees sharing this cache may still run them.
    handle, partial = tempfile.mkstemp(prefix=".devkeys-", dir=tools_dir)
    os.close(handle)  # a file open for writing cannot be run (ETXTBSY)
    shutil.copy2(built, partial)
    os.replace(partial, binary)
    report(f"==> devkeys: built in {time.monotonic() - start:.1f} s ({binary})")
    return binary


@contextmanager
def _locked(lock_file: Path) -> Iterator[None]:
    with lock_file.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # parallel setups build the helper once
        yield


def run_devkeys(binary: Path, *args: str) -> None:
    """Run the helper; ProverError with its message if it fails."""
    completed = subprocess.run([str(binary), *args], capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        output = (completed.stdout + completed.stderr)[-TOOL_ERROR_TAIL_CHARS:]
        raise ProverError(f"devkeys {args[0]} failed:\n{output}")
