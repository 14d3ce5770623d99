"""Keys, proofs and witness checks for the circuit tests.

`groth16py.setup_circom` takes about 3 s a circuit and loading a saved key under 1 s, so the
keys are cached in `$DUET_CACHE_DIR` (default ~/.cache/duet), keyed by a hash of the circuit's
sources, behind a file lock so that pytest-xdist workers build each circuit once. An entry is
built in a temporary directory and renamed into place: it exists only once complete.

`groth16py.prove` does not check the constraints: a witness that breaks one still yields a
proof, which then fails verification. To tell *which* rule a rejected witness breaks, the
tests also run the circuit's circom2 wasm under snarkjs's witness calculator, which stops at
the first failing constraint and names its template and line (`WitnessFailure`).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field, replace
from pathlib import Path

import groth16py

from chain.prover.ceremony import building, find_shared_includes, locked
from chain.prover.witness import CircuitWitness, StatementName
from chain.zk.op_inputs import CircuitInputs
from chain.zk.registry import CircuitName

PROJECT_ROOT = Path(__file__).resolve().parents[2]
CIRCUITS_DIR = PROJECT_ROOT / "contracts" / "circuits"
NODE_MODULES = PROJECT_ROOT / "node_modules"
CIRCOM = NODE_MODULES / ".bin" / "circom2"
CIRCOM_FLAGS = ["--O2", "-l", "node_modules"]  # the ceremony's simplification, circomlib found
HERE = Path(__file__).resolve().parent
CACHE_FORMAT = 2  # bump when an entry's layout changes
PROVING_KEY_FILE = "proving.key"
VERIFYING_KEY_FILE = "verifying.key"
COMPILER_REPORT_FILE = "circom2.txt"
FAILURE_FRAME = re.compile(r"Error in template (\w+?)_\d+ line: (\d+)")

Keys = tuple[groth16py.ProvingKey, groth16py.VerifyingKey]
AnyCircuit = CircuitName | StatementName  # an operation's circuit, or ownership


def get_cache_dir() -> Path:
    return Path(os.environ.get("DUET_CACHE_DIR", Path.home() / ".cache" / "duet")) / "circuit-tests"


def compute_circuit_hash(name: str) -> str:
    """Everything that shapes a circuit's keys: its main file, the shared lib, the tools."""
    digest = hashlib.sha256(f"format {CACHE_FORMAT} groth16py {groth16py.__version__}\n".encode())
    main = CIRCUITS_DIR / f"{name}.circom"
    sources = [main, *sorted((CIRCUITS_DIR / "lib").rglob("*.circom"))]
    sources += find_shared_includes(CIRCUITS_DIR, main)  # read/membership.circom, for some
    sources.append(NODE_MODULES / "circomlib" / "package.json")
    sources.append(NODE_MODULES / "circom2" / "package.json")
    for source in sources:
        digest.update(f"{source.relative_to(PROJECT_ROOT)}\n".encode())
        digest.update(hashlib.sha256(source.read_bytes()).digest())
    return digest.hexdigest()[:16]


def run_node(script: str, payload: object) -> object:
    """Runs one of the node scripts beside this file on a JSON payload; returns its JSON answer."""
    done = subprocess.run(
        ["node", str(HERE / script)],
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        check=True,
        timeout=120,
    )
    return json.loads(done.stdout.splitlines()[-1])


def encode_inputs(value: object) -> object:
    """Circuit inputs as JSON for snarkjs: field elements as decimal strings."""
    if isinstance(value, dict):
        return {key: encode_inputs(item) for key, item in value.items()}
    if isinstance(value, list):
        return [encode_inputs(item) for item in value]
    return str(value)


@dataclass(frozen=True)
class WitnessFailure:
    """Where the witness calculator stopped: (template, line) frames, innermost first."""

    circuit: AnyCircuit
    frames: tuple[tuple[str, int], ...]

    @property
    def templates(self) -> list[str]:
        return [template for template, _ in self.frames]

    def get_line(self, template: str) -> str:
        """The source line of `template`'s frame, in the file that defines it (the main file
        or lib/), e.g. the assignment that ran the failing sub-component."""
        line = dict(self.frames)[template]
        source = find_template_source(self.circuit, template).read_text().splitlines()
        return source[line - 1].strip()


def find_template_source(circuit: AnyCircuit, template: str) -> Path:
    """The file that defines `template`: the circuit's main file, one in lib/, or a shared file
    it includes."""
    definition = re.compile(rf"^template {template}\(", re.MULTILINE)
    main = CIRCUITS_DIR / f"{circuit}.circom"
    shared = find_shared_includes(CIRCUITS_DIR, main)
    for source in [main, *sorted(CIRCUITS_DIR.glob("lib/*.circom")), *shared]:
        if definition.search(source.read_text()):
            return source
    raise AssertionError(f"no circuit source defines template {template}")


@dataclass
class CircuitLab:
    cache_dir: Path
    _keys: dict[str, Keys] = field(default_factory=dict)
    _entries: dict[str, Path] = field(default_factory=dict)  # hashed once per session

    def get_keys(self, name: AnyCircuit) -> Keys:
        if name not in self._keys:
            entry = self._get_entry(name)
            self._keys[name] = (
                groth16py.ProvingKey.load(str(entry / PROVING_KEY_FILE)),
                groth16py.VerifyingKey.load(str(entry / VERIFYING_KEY_FILE)),
            )
        return self._keys[name]

    def get_compiler_report(self, name: AnyCircuit) -> str:
        """What `circom2 --r1cs --wasm --inspect --O2` said of the circuit's current sources."""
        return (self._get_entry(name) / COMPILER_REPORT_FILE).read_text()

    def prove(self, name: AnyCircuit, inputs: CircuitInputs) -> bytes:
        return groth16py.prove(self.get_keys(name)[0], dict(inputs))

    def verify(self, name: AnyCircuit, proof: bytes, public_inputs: list[int]) -> bool:
        return groth16py.Verifier(self.get_keys(name)[1]).verify(proof, public_inputs)

    def find_witness_failures(
        self, name: AnyCircuit, batch: list[CircuitInputs]
    ) -> list[WitnessFailure | None]:
        wasm = self._get_entry(name) / f"{name}.wasm"
        payload = {"wasm": str(wasm), "inputs": [encode_inputs(inputs) for inputs in batch]}
        messages = run_node("witness_check.mjs", payload)
        assert isinstance(messages, list)
        return [None if message is None else parse_failure(name, message) for message in messages]

    def find_witness_failure(
        self, name: AnyCircuit, inputs: CircuitInputs
    ) -> WitnessFailure | None:
        return self.find_witness_failures(name, [inputs])[0]

    def _get_entry(self, name: AnyCircuit) -> Path:
        if name not in self._entries:
            self._entries[name] = self._build_entry(name)
        return self._entries[name]

    def _build_entry(self, name: AnyCircuit) -> Path:
        entry = self.cache_dir / f"{name}-{compute_circuit_hash(name)}"
        if entry.is_dir():
            return entry
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        with locked(self.cache_dir / f"{entry.name}.lock"):
            if not entry.is_dir():
                with building(self.cache_dir, f".build-{name}-") as build:
                    build_entry(name, build)
                    build.rename(entry)
        return entry


def parse_failure(name: AnyCircuit, message: str) -> WitnessFailure:
    frames = tuple((template, int(line)) for template, line in FAILURE_FRAME.findall(message))
    assert frames, f"the witness calculator failed without naming a constraint: {message}"
    return WitnessFailure(name, frames)


def build_entry(name: str, build: Path) -> None:
    """Keys, wasm and compiler report of one circuit, into the empty directory `build`."""
    source = CIRCUITS_DIR / f"{name}.circom"
    proving_key, verifying_key = groth16py.setup_circom(str(source), [str(NODE_MODULES)])
    proving_key.save(str(build / PROVING_KEY_FILE))
    verifying_key.save(str(build / VERIFYING_KEY_FILE))
    # circom2 (WebAssembly) sees only paths under its working directory: run it from the root.
    # The same compile checks the circuit (--inspect) and counts it (--r1cs): keep its report.
    relative = str(source.relative_to(PROJECT_ROOT))
    compiled = subprocess.run(
        [str(CIRCOM), relative, "--r1cs", "--wasm", "--inspect", *CIRCOM_FLAGS, "-o", str(build)],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    report = compiled.stdout + compiled.stderr
    assert compiled.returncode == 0, report
    (build / COMPILER_REPORT_FILE).write_text(report)
    (build / f"{name}.r1cs").unlink()  # groth16py keeps its own; the report has the counts
    (build / f"{name}_js" / f"{name}.wasm").rename(build / f"{name}.wasm")
    shutil.rmtree(build / f"{name}_js")


def assert_rejected(
    lab: CircuitLab,
    witness: CircuitWitness,
    templates: list[str],
    lines: dict[str, str] | None = None,
) -> None:
    """The circuit rejects `witness`, where the test expects: the witness calculator stops in
    `templates` (innermost first; `lines` names, for some of them, a piece of the line it
    stopped at), and the proof groth16py makes anyway fails verification."""
    failure = lab.find_witness_failure(witness.circuit, witness.inputs)
    assert failure is not None, "the witness satisfies the circuit"
    assert failure.templates == templates, failure
    for template, piece in (lines or {}).items():
        assert piece in failure.get_line(template), (template, failure.get_line(template))
    proof = lab.prove(witness.circuit, witness.inputs)
    assert not lab.verify(witness.circuit, proof, witness.public_inputs)


def assert_proves(lab: CircuitLab, witness: CircuitWitness) -> None:
    proof = lab.prove(witness.circuit, witness.inputs)
    assert lab.verify(witness.circuit, proof, witness.public_inputs)


def with_changed_sibling(
    witness: CircuitWitness, path_input: str, level: int, child: int
) -> CircuitWitness:
    """`witness` with one child in one level of a Merkle path changed."""
    path = witness.inputs[path_input]
    assert isinstance(path, list)
    changed = [list(children) for children in path]
    changed[level][child] += 1
    return replace(witness, inputs=witness.inputs | {path_input: changed})
