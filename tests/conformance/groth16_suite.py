"""The Groth16-verify precompile's conformance suite, written once and run on every executor.

A contract verifies the fixture circuit multiply.circom's proofs through the library
contracts/fast/Groth16Precompile.sol (contracts/test/Groth16Probe.sol), on the executor
under test and on py-evm in lockstep (`harness.Lockstep`): receipts, gas, logs, roots and
call results must be equal. The expectations written here (the verdicts, which calls
revert, the gas of the precompile itself) hold for both. On revm, every block and call here
runs on py-evm (tests/unit/test_revm_executor.py checks that it does).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import pytest

from chain.fast.executor import CallMsg, Log, TxOutcome
from chain.fast.groth16_precompile import (
    GROTH16_VERIFY_ADDRESS,
    GROTH16_VERIFY_BASE_GAS,
    GROTH16_VERIFY_INPUT_GAS,
    SCALAR_FIELD,
    encode_request,
)
from chain.fast.system import compute_system_genesis
from chain.types import Address
from tests.conformance.executor_suite import BOB, deploy, genesis_alloc, selector, word
from tests.conformance.groth16_keys import (
    MULTIPLY_GAS,
    MULTIPLY_SIGNALS,
    get_fixture_verifiers,
    get_multiply_proof,
    get_vk_id,
)
from tests.conformance.harness import Lockstep, address_of, calldata, deploy_data, topic

BASE_FIELD = 21888242871839275222246405745257275088696311157297823662689037894645226208583
UNKNOWN_VK_ID = bytes.fromhex("ab" * 32)
CHECKED = "Checked(bytes32,bool)"
FAILED = "Groth16PrecompileFailed(bytes32)"
TX_GAS = 1_000_000
INTRINSIC_GAS = 21_000
ZERO_BYTE_GAS, NONZERO_BYTE_GAS = 4, 16


def compute_words(proof: bytes) -> list[int]:
    return [int.from_bytes(proof[i : i + 32], "big") for i in range(0, len(proof), 32)]


def compute_blob(words: Sequence[int]) -> bytes:
    return b"".join(w.to_bytes(32, "big") for w in words)


def compute_negated_a(proof: bytes) -> bytes:
    """The proof with A replaced by -A: well-formed, no longer a proof."""
    words = compute_words(proof)
    words[1] = BASE_FIELD - words[1]
    return compute_blob(words)


def compute_a_off_the_curve(proof: bytes) -> bytes:
    words = compute_words(proof)
    words[1] = (words[1] + 1) % BASE_FIELD
    return compute_blob(words)


def compute_calldata_gas(data: bytes) -> int:
    zeros = data.count(0)
    return ZERO_BYTE_GAS * zeros + NONZERO_BYTE_GAS * (len(data) - zeros)


def record_data(vk_id: bytes, proof: bytes, inputs: Sequence[int]) -> bytes:
    return calldata("record(bytes32,bytes,uint256[])", vk_id, proof, list(inputs))


def check_data(vk_id: bytes, proof: bytes, inputs: Sequence[int]) -> bytes:
    return calldata("check(bytes32,bytes,uint256[])", vk_id, proof, list(inputs))


def failed_revert_data(vk_id: bytes) -> bytes:
    return selector(FAILED) + vk_id


class Groth16Conformance:
    executor_class: ClassVar[type]

    @pytest.fixture
    def chain(self) -> Lockstep:
        """The dev-style genesis, on executors whose precompile knows the fixture circuits."""
        return Lockstep.start(
            self.executor_class, genesis_alloc(), compute_system_genesis(), get_fixture_verifiers()
        )

    @pytest.fixture
    def probe(self, chain: Lockstep) -> Address:
        return deploy(chain, deploy_data("Groth16Probe"))

    @pytest.fixture
    def vk_id(self) -> bytes:
        return get_vk_id("multiply")

    @pytest.fixture
    def proof(self) -> bytes:
        return get_multiply_proof()

    def record(
        self, chain: Lockstep, probe: Address, vk_id: bytes, proof: bytes, inputs: Sequence[int]
    ) -> TxOutcome:
        tx = chain.send(BOB, to=probe, data=record_data(vk_id, proof, inputs), gas=TX_GAS)
        return chain.apply([tx]).outcomes[0]

    def check(
        self, chain: Lockstep, probe: Address, vk_id: bytes, proof: bytes, inputs: Sequence[int]
    ) -> tuple[str, object]:
        msg = CallMsg(address_of(BOB), probe, 0, check_data(vk_id, proof, inputs), None)
        status, result = chain.call(msg)
        return (status, result[0]) if status == "ok" else (status, result)

    # -- verdicts ----------------------------------------------------------------------------

    def test_valid_proof_verifies_in_a_transaction(
        self, chain: Lockstep, probe: Address, vk_id: bytes, proof: bytes
    ) -> None:
        outcome = self.record(chain, probe, vk_id, proof, MULTIPLY_SIGNALS)
        assert outcome.success
        assert outcome.logs == (Log(probe, (topic(CHECKED), vk_id), word(1)),)
        assert chain.storage(probe, 0) == 1

    def test_valid_proof_verifies_in_a_call(
        self, chain: Lockstep, probe: Address, vk_id: bytes, proof: bytes
    ) -> None:
        assert self.check(chain, probe, vk_id, proof, MULTIPLY_SIGNALS) == ("ok", word(1))

    def test_wrong_public_input_is_false(
        self, chain: Lockstep, probe: Address, vk_id: bytes, proof: bytes
    ) -> None:
        c, d = MULTIPLY_SIGNALS
        outcome = self.record(chain, probe, vk_id, proof, (c, d + 1))
        assert outcome.success
        assert outcome.logs == (Log(probe, (topic(CHECKED), vk_id), word(0)),)
        assert chain.storage(probe, 0) == 0

    def test_tampered_proof_is_false(
        self, chain: Lockstep, probe: Address, vk_id: bytes, proof: bytes
    ) -> None:
        tampered = compute_negated_a(proof)
        assert self.check(chain, probe, vk_id, tampered, MULTIPLY_SIGNALS) == ("ok", word(0))

    def test_proof_under_another_known_key_is_false(
        self, chain: Lockstep, probe: Address, proof: bytes
    ) -> None:
        # hash_preimage.circom has two public signals too: the call is well-formed.
        other = get_vk_id("hash_preimage")
        assert self.check(chain, probe, other, proof, MULTIPLY_SIGNALS) == ("ok", word(0))

    def test_estimate_gas_of_a_verification(
        self, chain: Lockstep, probe: Address, vk_id: bytes, proof: bytes
    ) -> None:
        data = record_data(vk_id, proof, MULTIPLY_SIGNALS)
        status, gas = chain.estimate(CallMsg(address_of(BOB), probe, 0, data, None))
        assert status == "ok" and gas > MULTIPLY_GAS

    # -- failures: the precompile call fails, the library reverts ---------------------------

    def test_rejects_an_unknown_vk_id(self, chain: Lockstep, probe: Address, proof: bytes) -> None:
        expected = ("error", ("execution reverted", failed_revert_data(UNKNOWN_VK_ID)))
        assert self.check(chain, probe, UNKNOWN_VK_ID, proof, MULTIPLY_SIGNALS) == expected
        assert not self.record(chain, probe, UNKNOWN_VK_ID, proof, MULTIPLY_SIGNALS).success

    def test_rejects_a_proof_of_the_wrong_length(
        self, chain: Lockstep, probe: Address, vk_id: bytes, proof: bytes
    ) -> None:
        expected = ("error", ("execution reverted", failed_revert_data(vk_id)))
        assert self.check(chain, probe, vk_id, proof[:-1], MULTIPLY_SIGNALS) == expected
        assert not self.record(chain, probe, vk_id, proof[:-1], MULTIPLY_SIGNALS).success

    @pytest.mark.parametrize("excess", [0, 15])
    def test_rejects_an_input_not_below_the_field(
        self, chain: Lockstep, probe: Address, vk_id: bytes, proof: bytes, excess: int
    ) -> None:
        inputs = (MULTIPLY_SIGNALS[0], SCALAR_FIELD + excess)
        expected = ("error", ("execution reverted", failed_revert_data(vk_id)))
        assert self.check(chain, probe, vk_id, proof, inputs) == expected
        assert not self.record(chain, probe, vk_id, proof, inputs).success

    @pytest.mark.parametrize("inputs", [(15,), (15, 9, 0), ()])
    def test_rejects_the_wrong_number_of_inputs(
        self, chain: Lockstep, probe: Address, vk_id: bytes, proof: bytes, inputs: tuple[int, ...]
    ) -> None:
        expected = ("error", ("execution reverted", failed_revert_data(vk_id)))
        assert self.check(chain, probe, vk_id, proof, inputs) == expected

    def test_rejects_a_proof_off_the_curve(
        self, chain: Lockstep, probe: Address, vk_id: bytes, proof: bytes
    ) -> None:
        malformed = compute_a_off_the_curve(proof)
        expected = ("error", ("execution reverted", failed_revert_data(vk_id)))
        assert self.check(chain, probe, vk_id, malformed, MULTIPLY_SIGNALS) == expected
        assert not self.record(chain, probe, vk_id, malformed, MULTIPLY_SIGNALS).success

    # -- the precompile called directly: its own output and gas ------------------------------

    def test_direct_call_returns_one_word_and_charges_the_documented_gas(
        self, chain: Lockstep, vk_id: bytes, proof: bytes
    ) -> None:
        data = encode_request(vk_id, proof, MULTIPLY_SIGNALS)
        precompile_gas = GROTH16_VERIFY_BASE_GAS + GROTH16_VERIFY_INPUT_GAS * 2
        expected_gas = INTRINSIC_GAS + compute_calldata_gas(data) + precompile_gas
        msg = CallMsg(address_of(BOB), GROTH16_VERIFY_ADDRESS, 0, data, None)
        assert chain.call(msg) == ("ok", (word(1), expected_gas))
        tx = chain.send(BOB, to=GROTH16_VERIFY_ADDRESS, data=data, gas=TX_GAS)
        outcome = chain.apply([tx]).outcomes[0]
        assert (outcome.success, outcome.gas_used) == (True, expected_gas)

    def test_rejects_too_little_gas_for_the_verification(
        self, chain: Lockstep, vk_id: bytes, proof: bytes
    ) -> None:
        data = encode_request(vk_id, proof, MULTIPLY_SIGNALS)
        gas = INTRINSIC_GAS + compute_calldata_gas(data) + MULTIPLY_GAS - 1
        tx = chain.send(BOB, to=GROTH16_VERIFY_ADDRESS, data=data, gas=gas)
        outcome = chain.apply([tx]).outcomes[0]
        assert (outcome.success, outcome.gas_used) == (False, gas)

    def test_rejected_direct_call_consumes_all_its_gas(self, chain: Lockstep, proof: bytes) -> None:
        data = encode_request(UNKNOWN_VK_ID, proof, MULTIPLY_SIGNALS)
        tx = chain.send(BOB, to=GROTH16_VERIFY_ADDRESS, data=data, gas=TX_GAS)
        outcome = chain.apply([tx]).outcomes[0]
        assert (outcome.success, outcome.gas_used) == (False, TX_GAS)
