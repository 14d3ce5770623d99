"""The embedded Groth16 prover: load a circuit's keys, prove in-process, verify.

groth16py computes the witness (the circuit's .wasm under wasmi) and the proof in this
process; the keys come from the development ceremony (`chain.prover.ceremony`), so browser
provers running snarkjs on the same zkey, and `snarkjs groth16 verify`, agree with it.
"""

from __future__ import annotations

import functools
import json
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeAlias

import groth16py

from chain.prover.ceremony import (
    CeremonyPaths,
    CircuitEntry,
    get_circuit_entry,
    get_default_paths,
    is_entry_complete,
    run_snarkjs,
)
from chain.prover.errors import ProverError

# groth16py's proof blob is what an Ethereum verifier takes: uint256[8], big-endian words
# A.x, A.y, B.x.c1, B.x.c0, B.y.c1, B.y.c0, C.x, C.y (G2 coordinates imaginary part first,
# the EIP-197 order). snarkjs's proof.json lists each Fp2 real part first.
WORD_BYTES = 32
PROOF_WORDS = 8
PROOF_BYTES = WORD_BYTES * PROOF_WORDS
SNARKJS_PROTOCOL = "groth16"
SNARKJS_CURVE = "bn128"
PROOF_JSON_POINTS = ("pi_a", "pi_b", "pi_c")
WTNS_HEADER_SECTION = 1
WTNS_VALUES_SECTION = 2
SETUP_HINT = "run ./demo.sh setup"

InputValue: TypeAlias = "int | Sequence[InputValue]"
CircuitInputs: TypeAlias = Mapping[str, InputValue]


@dataclass(frozen=True)
class Proof:
    """A Groth16 proof as the 256-byte Ethereum blob (layout above)."""

    blob: bytes

    def __post_init__(self) -> None:
        if len(self.blob) != PROOF_BYTES:
            raise ProverError(f"a proof is {PROOF_BYTES} bytes, got {len(self.blob)}")

    @property
    def words(self) -> list[int]:
        """The eight uint256 an Ethereum verifier's `verifyProof(a, b, c, ...)` takes, in order."""
        return [
            int.from_bytes(self.blob[i : i + WORD_BYTES], "big")
            for i in range(0, PROOF_BYTES, WORD_BYTES)
        ]

    def to_snarkjs(self) -> dict[str, Any]:
        """The `proof.json` shape of `snarkjs groth16 prove` (projective, z = 1)."""
        ax, ay, bx1, bx0, by1, by0, cx, cy = (str(word) for word in self.words)
        return {
            "pi_a": [ax, ay, "1"],
            "pi_b": [[bx0, bx1], [by0, by1], ["1", "0"]],
            "pi_c": [cx, cy, "1"],
            "protocol": SNARKJS_PROTOCOL,
            "curve": SNARKJS_CURVE,
        }

    @classmethod
    def from_snarkjs(cls, proof_json: Mapping[str, Any]) -> Proof:
        try:
            (ax, ay, _), (bx, by, _), (cx, cy, _) = (proof_json[k] for k in PROOF_JSON_POINTS)
            words = [ax, ay, bx[1], bx[0], by[1], by[0], cx, cy]
            return cls(b"".join(int(word).to_bytes(WORD_BYTES, "big") for word in words))
        except (KeyError, TypeError, ValueError, OverflowError) as error:
            raise ProverError(f"not a snarkjs Groth16 proof: {error!r}") from error


@dataclass(frozen=True)
class CircuitVerifier:
    """What checking a circuit's proofs takes: far smaller and faster to load than CircuitKeys."""

    name: str
    entry: CircuitEntry
    verifying_key: groth16py.VerifyingKey
    verifier: groth16py.Verifier

    @property
    def n_public(self) -> int:
        return int(self.verifying_key.n_public)


@dataclass(frozen=True)
class CircuitKeys:
    """What proving a circuit takes (and verifying, so a prover can check its own proofs)."""

    name: str
    paths: CeremonyPaths
    entry: CircuitEntry
    proving_key: groth16py.ProvingKey
    verifying_key: groth16py.VerifyingKey
    verifier: groth16py.Verifier

    @property
    def n_public(self) -> int:
        return int(self.verifying_key.n_public)


def load_circuit(name: str, paths: CeremonyPaths | None = None) -> CircuitKeys:
    """The keys the ceremony made for circuit `name`, loaded once per process."""
    return _load_circuit_cached(name, paths or get_default_paths())


def load_verifier(name: str, paths: CeremonyPaths | None = None) -> CircuitVerifier:
    """The verifying key alone, loaded once per process: for a node that checks, not proves."""
    return _load_verifier_cached(name, paths or get_default_paths())


@functools.cache
def _load_circuit_cached(name: str, paths: CeremonyPaths) -> CircuitKeys:
    checking = _load_verifier_cached(name, paths)
    try:
        proving_key = groth16py.ProvingKey.load(str(checking.entry.proving_key))
    except (groth16py.SetupError, OSError) as error:
        raise ProverError(f"proving key of {name!r} is broken ({error}): {SETUP_HINT}") from error
    return CircuitKeys(
        name, paths, checking.entry, proving_key, checking.verifying_key, checking.verifier
    )


@functools.cache
def _load_verifier_cached(name: str, paths: CeremonyPaths) -> CircuitVerifier:
    entry = get_circuit_entry(paths, name)
    if not is_entry_complete(entry):
        raise ProverError(f"no keys for circuit {name!r} (or its sources changed): {SETUP_HINT}")
    try:
        verifying_key = groth16py.VerifyingKey.from_snarkjs_file(str(entry.verification_key))
    except (groth16py.EncodingError, OSError) as error:
        raise ProverError(f"verifying key of {name!r} is broken ({error}): {SETUP_HINT}") from error
    return CircuitVerifier(name, entry, verifying_key, groth16py.Verifier(verifying_key))


def prove(keys: CircuitKeys, inputs: CircuitInputs, public_signals: Sequence[int]) -> Proof:
    """Witness and proof in-process; checked against `public_signals` before it is returned.

    The check is needed, not paranoia: groth16py does not stop at a failed `===` in the
    witness, it returns a proof that verifies under no statement (about 2 ms to find out).
    """
    proof = Proof(_prove_blob(keys, inputs))
    if not verify(keys, proof, public_signals):
        raise ProverError(
            f"circuit {keys.name}: the inputs do not satisfy the circuit, or the public signals "
            f"{list(public_signals)} are not theirs"
        )
    return proof


def verify(
    keys: CircuitKeys | CircuitVerifier, proof: Proof, public_signals: Sequence[int]
) -> bool:
    """Whether `proof` proves circuit `keys.name` for these public signals.

    Malformed points and signals outside the field are a false proof, not an error: proofs
    arrive from untrusted provers. A wrong number of signals is the caller's bug.
    """
    if len(public_signals) != keys.n_public:
        raise ProverError(
            f"circuit {keys.name} has {keys.n_public} public signals, got {len(public_signals)}"
        )
    try:
        return bool(keys.verifier.verify(proof.blob, list(public_signals)))
    except groth16py.EncodingError:
        return False


def compute_snarkjs_public(public_signals: Sequence[int]) -> list[str]:
    """The `public.json` shape of snarkjs."""
    return [str(signal) for signal in public_signals]


def compute_public_signals(keys: CircuitKeys, inputs: CircuitInputs) -> list[int]:
    """The public signals (outputs, then public inputs) of these inputs, with snarkjs.

    A Node process per call (about half a second): for tests and debugging; the witness
    builder knows the signals without it. snarkjs also checks every `===` on the way.
    """
    with tempfile.TemporaryDirectory() as scratch:
        input_file, wtns_file = Path(scratch) / "input.json", Path(scratch) / "witness.wtns"
        input_file.write_text(json.dumps(_map_inputs(inputs, str)))
        run_snarkjs(
            keys.paths, "wtns", "calculate", str(keys.entry.wasm), str(input_file), str(wtns_file)
        )
        values = compute_wtns_values(wtns_file.read_bytes())
    return values[1 : 1 + keys.n_public]  # wire 0 is the constant 1


def compute_wtns_values(wtns: bytes) -> list[int]:
    """Every wire's value from a snarkjs/circom `.wtns` file (iden3 binfileutils layout)."""
    if wtns[:4] != b"wtns":
        raise ProverError("not a wtns file")
    sections: dict[int, bytes] = {}
    offset = 12  # magic, version, section count
    for _ in range(int.from_bytes(wtns[8:12], "little")):
        kind = int.from_bytes(wtns[offset : offset + 4], "little")
        size = int.from_bytes(wtns[offset + 4 : offset + 12], "little")
        sections[kind] = wtns[offset + 12 : offset + 12 + size]
        offset += 12 + size
    field_bytes = int.from_bytes(sections[WTNS_HEADER_SECTION][:4], "little")
    values = sections[WTNS_VALUES_SECTION]
    return [
        int.from_bytes(values[i : i + field_bytes], "little")
        for i in range(0, len(values), field_bytes)
    ]


def _prove_blob(keys: CircuitKeys, inputs: CircuitInputs) -> bytes:
    try:
        return bytes(groth16py.prove(keys.proving_key, _map_inputs(inputs, int)))
    except groth16py.WitnessError as error:
        raise ProverError(f"circuit {keys.name}: bad inputs: {error}") from error
    except BaseException as error:
        # A Rust panic surfaces as pyo3's PanicException, a BaseException that no
        # `except Exception` in a worker would catch; it means keys and circuit disagree.
        if type(error).__name__ != "PanicException":
            raise
        message = f"circuit {keys.name}: groth16py panicked ({error}): {SETUP_HINT}"
        raise ProverError(message) from None


def _map_inputs(inputs: CircuitInputs, leaf: Callable[[int], object]) -> dict[str, object]:
    """Inputs as plain dicts and lists, each number through `leaf`: groth16py takes ints, and
    snarkjs's input.json decimal strings (JSON numbers lose precision)."""

    def convert(value: InputValue) -> object:
        return leaf(value) if isinstance(value, int) else [convert(item) for item in value]

    return {name: convert(value) for name, value in inputs.items()}
