"""The market's circuits as provers outside the node fetch them (the browser plugin).

`duet_getCircuits` lists, for each operation circuit, its files (the circom witness generator
`circuit.wasm`, the proving key `circuit.zkey`, the snarkjs `verification_key.json`), each
with its URL on this endpoint, SHA-256 and size, and the circuit's `vkHash`: keccak256 of its
verification key in the bytes the rollup takes (chain/l1/keys.py), the key L1 checks its
proofs with. A prover checks every file against its hash, and the key its proving key holds
against `vkHash`, before it proves with them: a node that serves another key wastes the
prover's time, never its proofs' validity.

The files are served read-only from the ceremony's cache, at `/circuits/<name>/<file>`.
"""

import contextlib
import hashlib
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_utils import keccak

from chain.l1.calldata import count_words, get_circuit_id
from chain.l1.keys import encode_verification_key
from chain.prover.ceremony import CeremonyPaths, get_circuit_entry, get_default_paths
from chain.prover.errors import ProverError
from chain.zk.registry import CIRCUIT_NAMES, CircuitName

log = logging.getLogger("duet.rpc")
ROUTE = "/circuits/{name}/{file}"
# The name each file is served under → the ceremony entry's file.
SERVED_FILES = {
    "wasm": "circuit.wasm",
    "zkey": "circuit.zkey",
    "vkey": "verification_key.json",
}
HASH_CHUNK = 1 << 20
HASHES_FILE = "served-hashes.json"  # beside the files: {file: {"size:mtime_ns": sha256}}


@dataclass(frozen=True)
class ServedFile:
    path: Path
    sha256: str  # hex
    size: int


@dataclass(frozen=True)
class ServedCircuit:
    name: CircuitName
    circuit_id: int  # its id in the rollup's `ops` calldata (chain/l1/calldata.py)
    n_public: int
    vk_hash: bytes
    files: dict[str, ServedFile]  # by SERVED_FILES key


def read_known_hashes(path: Path) -> dict[str, dict[str, str]]:
    try:
        known = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return known if isinstance(known, dict) else {}


def compute_vk_hash(vk: dict[str, Any]) -> bytes:
    """keccak256 of a snarkjs verification key in the rollup's encoding."""
    return keccak(encode_verification_key(vk))


def compute_file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def load_served_circuit(paths: CeremonyPaths, name: CircuitName) -> ServedCircuit:
    """Circuit `name`'s files as served; ProverError if setup has not made them. Their
    hashes are kept beside them (HASHES_FILE), by size and modification time, so a node
    hashes them once per machine, not at every start."""
    entry = get_circuit_entry(paths, name)
    sources = {"wasm": entry.wasm, "zkey": entry.zkey, "vkey": entry.verification_key}
    for path in sources.values():
        if not path.is_file():
            raise ProverError(f"{path} is missing: run ./demo.sh setup")
    vk = json.loads(entry.verification_key.read_text())
    known = read_known_hashes(entry.directory / HASHES_FILE)
    before = json.dumps(known, sort_keys=True)
    files = {}
    for kind, path in sources.items():
        stat = path.stat()
        stamp = f"{stat.st_size}:{stat.st_mtime_ns}"
        digest = known.get(path.name, {}).get(stamp) or compute_file_sha256(path)
        known[path.name] = {stamp: digest}
        files[kind] = ServedFile(path, digest, stat.st_size)
    after = json.dumps(known, sort_keys=True)
    if after != before:  # a file hashed anew: kept (a read-only directory: hashed next time)
        with contextlib.suppress(OSError):
            scratch = entry.directory / f"{HASHES_FILE}.{os.getpid()}"
            scratch.write_text(after)
            scratch.replace(entry.directory / HASHES_FILE)  # whole, whoever reads it meanwhile
    return ServedCircuit(
        name, get_circuit_id(name), 2 + count_words(name), compute_vk_hash(vk), files
    )


class CircuitCatalog:
    """The circuits this node serves, loaded once (chain/service.py preloads them in a worker
    thread at start-up)."""

    def __init__(self, paths: CeremonyPaths | None = None) -> None:
        self.paths = paths
        self._circuits: dict[str, ServedCircuit] | None = None

    @property
    def circuits(self) -> dict[str, ServedCircuit]:
        if self._circuits is None:
            paths = self.paths or get_default_paths()
            self._circuits = {name: load_served_circuit(paths, name) for name in CIRCUIT_NAMES}
        return self._circuits

    def preload(self) -> None:
        """Hash the files now (in a worker thread at start-up), not on the event loop at the
        first request: about 300 MB, most of a second. A node without keys says so."""
        try:
            self.circuits  # noqa: B018
        except ProverError as exc:
            log.warning("no circuit files to serve provers outside the node: %s", exc)

    def find_file(self, name: str, file: str) -> Path | None:
        """The file served as `/circuits/<name>/<file>`, or None: only the listed ones are."""
        circuit = self.circuits.get(name)
        kind = next((k for k, served in SERVED_FILES.items() if served == file), None)
        if circuit is None or kind is None:
            return None
        return circuit.files[kind].path

    def format(self) -> dict[str, Any]:
        return {"circuits": [format_circuit(c) for c in self.circuits.values()]}


def format_circuit(circuit: ServedCircuit) -> dict[str, Any]:
    return {
        "name": circuit.name,
        "id": circuit.circuit_id,
        "nPublic": circuit.n_public,
        "vkHash": "0x" + circuit.vk_hash.hex(),
        "files": {
            kind: {
                "url": f"/circuits/{circuit.name}/{SERVED_FILES[kind]}",
                "sha256": served.sha256,
                "size": served.size,
            }
            for kind, served in circuit.files.items()
        },
    }
