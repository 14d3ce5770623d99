"""The Groth16 precompile's rules without an EVM: framing, gas, range checks, key ids, and
which answers are a verdict (0 or 1) and which fail the call."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import groth16py
import pytest
from eth.vm.forks.prague import PragueVM
from eth.vm.forks.prague.computation import PragueComputation

from chain.encoding import keccak
from chain.fast.groth16_precompile import (
    FALSE_WORD,
    GROTH16_VERIFY_ADDRESS,
    GROTH16_VERIFY_BASE_GAS,
    GROTH16_VERIFY_INPUT_GAS,
    HEADER_BYTES,
    PROOF_BYTES,
    SCALAR_FIELD,
    TRUE_WORD,
    KnownKey,
    PrecompileFailure,
    VerifyRequest,
    VkId,
    compute_gas,
    compute_input_count,
    compute_vk_id,
    encode_request,
    parse_request,
    process_verify,
)
from chain.fast.pyevm_executor import PyEvmExecutor
from chain.prover import groth16
from chain.prover.ceremony import CeremonyPaths, get_circuit_entry
from chain.prover.precompile_keys import load_ceremony_verifiers
from tests.conformance.groth16_keys import (
    MULTIPLY_SIGNALS,
    get_fixture_paths,
    get_fixture_verifiers,
    get_multiply_proof,
)

VK_ID = VkId(bytes(range(32)))
PROOF = bytes(range(256))


class StubVerifier:
    """groth16py's Verifier as the precompile uses it: a verdict, or an EncodingError."""

    def __init__(self, verdict: bool | Exception) -> None:
        self.verdict = verdict
        self.seen: list[tuple[bytes, list[int]]] = []

    def verify(self, proof: bytes, inputs: list[int]) -> bool:
        self.seen.append((proof, inputs))
        if isinstance(self.verdict, Exception):
            raise self.verdict
        return self.verdict


def known(verdict: bool | Exception, n_public: int = 2) -> dict[VkId, KnownKey]:
    return {VK_ID: KnownKey(VK_ID, "stub", n_public, StubVerifier(verdict))}


# -- framing and gas -------------------------------------------------------------------------


@pytest.mark.parametrize(("length", "count"), [(288, 0), (320, 1), (288 + 32 * 7, 7)])
def test_input_count_follows_the_length(length: int, count: int) -> None:
    assert compute_input_count(length) == count


@pytest.mark.parametrize("length", [0, 32, 287, 289, 319, 321])
def test_rejects_a_length_that_is_not_header_plus_words(length: int) -> None:
    with pytest.raises(PrecompileFailure, match=f"input is {length} bytes, not 288"):
        compute_input_count(length)


def test_gas_is_a_base_plus_a_price_per_input() -> None:
    assert (GROTH16_VERIFY_BASE_GAS, GROTH16_VERIFY_INPUT_GAS) == (150_000, 5_000)
    assert compute_gas(HEADER_BYTES) == 150_000
    assert compute_gas(HEADER_BYTES + 32 * 4) == 170_000


def test_parse_splits_key_proof_and_inputs() -> None:
    data = encode_request(VK_ID, PROOF, [1, SCALAR_FIELD - 1])
    assert len(data) == 288 + 64
    assert parse_request(data) == VerifyRequest(VK_ID, PROOF, (1, SCALAR_FIELD - 1))


@pytest.mark.parametrize("value", [SCALAR_FIELD, SCALAR_FIELD + 1, 2**256 - 1])
def test_rejects_an_input_not_below_the_field(value: int) -> None:
    data = encode_request(VK_ID, PROOF, [3, value])
    with pytest.raises(PrecompileFailure, match="public input 1 is not below"):
        parse_request(data)


# -- verdicts and failures -------------------------------------------------------------------


@pytest.mark.parametrize(("verdict", "output"), [(True, TRUE_WORD), (False, FALSE_WORD)])
def test_verdict_is_one_word(verdict: bool, output: bytes) -> None:
    verifiers = known(verdict)
    assert process_verify(verifiers, encode_request(VK_ID, PROOF, [5, 6])) == output
    assert output == verdict.to_bytes(32, "big")
    stub = verifiers[VK_ID].verifier
    assert stub.seen == [(PROOF, [5, 6])]


def test_rejects_an_unknown_vk_id() -> None:
    data = encode_request(bytes(32), PROOF, [5, 6])
    with pytest.raises(PrecompileFailure, match="unknown vkId 0x0000"):
        process_verify(known(True), data)


@pytest.mark.parametrize("inputs", [[], [5], [5, 6, 7]])
def test_rejects_the_wrong_number_of_inputs(inputs: list[int]) -> None:
    with pytest.raises(PrecompileFailure, match=f"takes 2 public inputs, got {len(inputs)}"):
        process_verify(known(True), encode_request(VK_ID, PROOF, inputs))


def test_rejects_a_proof_groth16py_cannot_decode() -> None:
    verifiers = known(groth16py.EncodingError("G1 point not on curve (§6)"))
    with pytest.raises(PrecompileFailure, match="malformed proof: G1 point not on curve"):
        process_verify(verifiers, encode_request(VK_ID, PROOF, [5, 6]))


# -- key ids and the ceremony's keys ---------------------------------------------------------


def test_vk_id_is_keccak_of_canonical_json() -> None:
    vk: dict[str, Any] = {"nPublic": 2, "IC": [["1", "2", "1"]], "curve": "bn128"}
    canonical = b'{"IC":[["1","2","1"]],"curve":"bn128","nPublic":2}'
    assert compute_vk_id(vk) == keccak(canonical)
    reordered = json.loads(json.dumps(dict(reversed(list(vk.items()))), indent=4))
    assert compute_vk_id(reordered) == compute_vk_id(vk)


def test_ceremony_verifiers_are_keyed_by_the_id_of_their_file() -> None:
    paths = get_fixture_paths()
    verifiers = load_ceremony_verifiers(paths)
    assert sorted(key.name for key in verifiers.values()) == ["hash_preimage", "multiply"]
    for vk_id, key in verifiers.items():
        vk_file = get_circuit_entry(paths, key.name).verification_key
        assert vk_id == key.vk_id == compute_vk_id(json.loads(vk_file.read_text()))
        assert key.n_public == 2


def test_ceremony_verifiers_verify_for_real() -> None:
    (multiply,) = (k for k in get_fixture_verifiers().values() if k.name == "multiply")
    data = encode_request(multiply.vk_id, get_multiply_proof(), MULTIPLY_SIGNALS)
    assert process_verify(get_fixture_verifiers(), data) == TRUE_WORD
    wrong = encode_request(multiply.vk_id, get_multiply_proof(), [15, 10])
    assert process_verify(get_fixture_verifiers(), wrong) == FALSE_WORD


def test_circuit_without_a_key_in_the_cache_is_left_out(tmp_path: Path) -> None:
    fixture = get_fixture_paths()
    empty = CeremonyPaths(fixture.project_root, fixture.circuits_dir, tmp_path, fixture.ptau_dir)
    assert load_ceremony_verifiers(empty) == {}
    assert len(load_ceremony_verifiers(fixture, names=["multiply"])) == 1


def test_registration_leaves_pyevm_own_classes_alone() -> None:
    executor = PyEvmExecutor({}.get, get_fixture_verifiers())
    assert GROTH16_VERIFY_ADDRESS in executor.state_class.computation_class.get_precompiles()
    assert GROTH16_VERIFY_ADDRESS not in PragueComputation.get_precompiles()
    assert PragueVM.get_state_class().computation_class is PragueComputation


def test_proof_size_is_the_provers_ethereum_blob() -> None:
    """The precompile sizes the proof itself (the fast chain imports no prover code): the
    size must stay the prover's."""
    assert PROOF_BYTES == groth16.PROOF_BYTES
