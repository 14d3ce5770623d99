"""devkeys against snarkjs on a small ceremony (powers of tau 2^8) over the fixture circuits:
the same powers of tau, zkeys and verification keys, byte for byte; snarkjs's own
`zkey verify` accepts the keys, and proofs on them pass both verifiers; a key from another τ,
or with one byte changed, fails the check."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

import groth16py
import pytest

from chain.prover.ceremony import (
    BEACON_HASH_HEX,
    BEACON_ITERATIONS_EXP,
    BEACON_NAME,
    PROJECT_ROOT,
    CeremonyPaths,
    CircuitEntry,
    building,
    compile_circuit,
    get_default_paths,
    locked,
)
from chain.prover.groth16 import Proof
from chain.prover.native import run_devkeys, setup_devkeys
from tests.prover.conftest import FIXTURE_CIRCUITS

# hash_preimage (241 constraints and 2 public signals, so a domain of 2^8) fills a 2^8 ceremony:
# its H query then comes from the shortened last domain of the powers of tau, the edge case.
SMALL_POWER = 8
CIRCUITS = ("multiply", "hash_preimage")
OTHER_BEACON_HEX = "ff" * 32
SNARKJS = str(PROJECT_ROOT / "node_modules" / ".bin" / "snarkjs")
PREIMAGE_INPUTS = {"a": 1, "b": 2, "aSquared": 1}
H_SECTION = 9


@dataclass(frozen=True)
class Keys:
    """One circuit's keys made both ways on the small ceremony."""

    entry: CircuitEntry  # the compiled circuit (.r1cs, .wasm)
    snarkjs_zkey: Path
    native_zkey: Path
    snarkjs_vkey: Path
    native_vkey: Path


@dataclass(frozen=True)
class SmallCeremony:
    devkeys: Path
    snarkjs_ptau: Path
    native_ptau: Path
    keys: dict[str, Keys]


def snarkjs(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([SNARKJS, *args], capture_output=True, text=True, check=False)


def check_snarkjs(*args: str) -> None:
    completed = snarkjs(*args)
    assert completed.returncode == 0 and "[ERROR]" not in completed.stdout, completed.stdout


def beacon_args(beacon_hex: str = BEACON_HASH_HEX) -> list[str]:
    return [beacon_hex, str(BEACON_ITERATIONS_EXP), f"-n={BEACON_NAME}"]


def devkeys_beacon(prefix: str = "", beacon_hex: str = BEACON_HASH_HEX) -> list[str]:
    return [
        f"--{prefix}beacon",
        beacon_hex,
        f"--{prefix}iterations-exp",
        str(BEACON_ITERATIONS_EXP),
        f"--{prefix}name",
        BEACON_NAME,
    ]


def make_native_zkey(
    devkeys: Path, r1cs: Path, out: Path, ptau_beacon_hex: str = BEACON_HASH_HEX
) -> None:
    ptau = ["--power", str(SMALL_POWER), *devkeys_beacon("ptau-", ptau_beacon_hex)]
    run_devkeys(devkeys, "zkey", str(r1cs), str(out), *ptau, *devkeys_beacon())


def is_accepted_by_zkey_verify(keys: Keys, ptau: Path, zkey: Path) -> bool:
    completed = snarkjs("zkey", "verify", str(keys.entry.r1cs), str(ptau), str(zkey))
    return completed.returncode == 0 and "ZKey Ok!" in completed.stdout


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> SmallCeremony:
    """Made once per test session, whatever the number of xdist workers (each would otherwise
    spend half a minute of snarkjs on it)."""
    devkeys = setup_devkeys(get_default_paths().tools_dir, print)
    if devkeys is None:
        pytest.skip("devkeys cannot be built here (no cargo)")
    session_dir = tmp_path_factory.getbasetemp()
    if worker_id != "master":  # xdist: the workers' directories share this session's parent
        session_dir = session_dir.parent
    root = session_dir / "small-ceremony"
    with locked(session_dir / "small-ceremony.lock"):
        if not root.is_dir():
            with building(session_dir, ".small-ceremony-") as build:
                make_small_ceremony(devkeys, build)
                build.rename(root)
    return SmallCeremony(
        devkeys,
        root / "final.ptau",
        root / "native.ptau",
        {name: get_keys(CircuitEntry(name, root / name)) for name in CIRCUITS},
    )


def make_small_ceremony(devkeys: Path, root: Path) -> None:
    new, beaconed, snarkjs_ptau = (root / f for f in ("new.ptau", "beacon.ptau", "final.ptau"))
    check_snarkjs("powersoftau", "new", "bn128", str(SMALL_POWER), str(new))
    check_snarkjs("powersoftau", "beacon", str(new), str(beaconed), *beacon_args())
    check_snarkjs("powersoftau", "prepare", "phase2", str(beaconed), str(snarkjs_ptau))
    native_ptau = root / "native.ptau"
    run_devkeys(devkeys, "ptau", str(native_ptau), "--power", str(SMALL_POWER), *devkeys_beacon())
    paths = CeremonyPaths(PROJECT_ROOT, FIXTURE_CIRCUITS, root / "cache", root / "ptau")
    for name in CIRCUITS:
        entry = CircuitEntry(name, root / name)
        entry.directory.mkdir()
        compile_circuit(paths, FIXTURE_CIRCUITS / f"{name}.circom", entry)
        make_keys(devkeys, get_keys(entry), snarkjs_ptau)


def get_keys(entry: CircuitEntry) -> Keys:
    out = entry.directory
    return Keys(entry, out / "s.zkey", out / "n.zkey", out / "s.json", out / "n.json")


def make_keys(devkeys: Path, keys: Keys, ptau: Path) -> None:
    initial = keys.entry.directory / "0.zkey"
    check_snarkjs("groth16", "setup", str(keys.entry.r1cs), str(ptau), str(initial))
    check_snarkjs("zkey", "beacon", str(initial), str(keys.snarkjs_zkey), *beacon_args())
    vkey = ["zkey", "export", "verificationkey", str(keys.snarkjs_zkey), str(keys.snarkjs_vkey)]
    check_snarkjs(*vkey)
    make_native_zkey(devkeys, keys.entry.r1cs, keys.native_zkey)
    run_devkeys(devkeys, "vkey", str(keys.native_zkey), str(keys.native_vkey))


def flip_byte_in_section(zkey: bytes, section: int) -> bytes:
    """The zkey with one byte of `section`'s first point changed."""
    offset = 12  # magic, version, section count
    while int.from_bytes(zkey[offset : offset + 4], "little") != section:
        offset += 12 + int.from_bytes(zkey[offset + 4 : offset + 12], "little")
    changed = bytearray(zkey)
    changed[offset + 12 + 5] ^= 1
    return bytes(changed)


def test_native_ptau_is_the_snarkjs_ptau(small: SmallCeremony) -> None:
    assert small.native_ptau.read_bytes() == small.snarkjs_ptau.read_bytes()


@pytest.mark.parametrize("name", CIRCUITS)
def test_native_zkey_is_the_snarkjs_zkey(small: SmallCeremony, name: str) -> None:
    keys = small.keys[name]
    assert keys.native_zkey.read_bytes() == keys.snarkjs_zkey.read_bytes()


@pytest.mark.parametrize("name", CIRCUITS)
def test_native_verification_key_is_the_snarkjs_export(small: SmallCeremony, name: str) -> None:
    keys = small.keys[name]
    assert keys.native_vkey.read_bytes() == keys.snarkjs_vkey.read_bytes()


@pytest.mark.parametrize("name", CIRCUITS)
def test_snarkjs_zkey_verify_accepts_the_native_zkey(small: SmallCeremony, name: str) -> None:
    keys = small.keys[name]
    assert is_accepted_by_zkey_verify(keys, small.native_ptau, keys.native_zkey)


def test_rejects_zkey_from_another_tau(small: SmallCeremony, tmp_path: Path) -> None:
    keys = small.keys["multiply"]
    other = tmp_path / "other.zkey"
    make_native_zkey(small.devkeys, keys.entry.r1cs, other, ptau_beacon_hex=OTHER_BEACON_HEX)

    assert other.read_bytes() != keys.native_zkey.read_bytes()
    assert not is_accepted_by_zkey_verify(keys, small.native_ptau, other)


def test_rejects_zkey_with_a_changed_byte(small: SmallCeremony, tmp_path: Path) -> None:
    keys = small.keys["multiply"]
    changed = tmp_path / "changed.zkey"
    changed.write_bytes(flip_byte_in_section(keys.native_zkey.read_bytes(), H_SECTION))

    assert not is_accepted_by_zkey_verify(keys, small.native_ptau, changed)


def test_embedded_proof_on_native_keys_passes_snarkjs_verify(
    small: SmallCeremony, tmp_path: Path
) -> None:
    keys = small.keys["hash_preimage"]
    proving_key, _ = groth16py.import_zkey(
        str(keys.native_zkey),
        str(FIXTURE_CIRCUITS / "hash_preimage.circom"),
        [str(PROJECT_ROOT / "node_modules")],
    )
    proof = Proof(bytes(groth16py.prove(proving_key, PREIMAGE_INPUTS)))
    public = tmp_path / "public.json"
    for signals, accepted in (
        (compute_preimage_signals(keys, tmp_path), True),
        (["0", "1"], False),
    ):
        public.write_text(json.dumps(signals))
        (tmp_path / "proof.json").write_text(json.dumps(proof.to_snarkjs()))
        completed = snarkjs(
            "groth16", "verify", str(keys.native_vkey), str(public), str(tmp_path / "proof.json")
        )
        assert ("OK!" in completed.stdout) is accepted, completed.stdout


def test_snarkjs_proof_on_native_keys_passes_embedded_verify(
    small: SmallCeremony, tmp_path: Path
) -> None:
    keys = small.keys["hash_preimage"]
    signals = compute_preimage_signals(keys, tmp_path)
    proof_file, public_file = tmp_path / "proof.json", tmp_path / "public.json"
    check_snarkjs(
        "groth16",
        "prove",
        str(keys.native_zkey),
        str(tmp_path / "w.wtns"),
        str(proof_file),
        str(public_file),
    )
    verifier = groth16py.Verifier(groth16py.VerifyingKey.from_snarkjs_file(str(keys.native_vkey)))

    assert json.loads(public_file.read_text()) == signals
    assert verifier.verify_snarkjs(proof_file.read_text(), json.dumps(signals))
    assert not verifier.verify_snarkjs(proof_file.read_text(), json.dumps(["0", "1"]))


def compute_preimage_signals(keys: Keys, scratch: Path) -> list[str]:
    """The public signals of PREIMAGE_INPUTS, from a witness snarkjs computes (left in
    `scratch/w.wtns` for `groth16 prove`)."""
    (scratch / "input.json").write_text(json.dumps({k: str(v) for k, v in PREIMAGE_INPUTS.items()}))
    wtns = scratch / "w.wtns"
    check_snarkjs("wtns", "calculate", str(keys.entry.wasm), str(scratch / "input.json"), str(wtns))
    check_snarkjs("wtns", "export", "json", str(wtns), str(scratch / "w.json"))
    return json.loads((scratch / "w.json").read_text())[1:3]
