"""The fast chain's Groth16-verify precompile: the rules, with no EVM in sight.

A game contract checks a proof made on the ZK side (a game pass in the NFT tree under a
recent root, say) by calling GROTH16_VERIFY_ADDRESS; groth16py checks it natively in about
a millisecond, where py-evm's pure-Python ecPairing (0x08) takes seconds for the same four
pairings. Each executor wires these rules into its EVM (pyevm_executor); revm, which
cannot be given new precompiles, hands any block or call touching the address to py-evm.

Input: `vkId (32 bytes) ‖ proof (256 bytes) ‖ n × 32-byte public inputs`, where the proof
is chain/prover/groth16.py's Ethereum blob (A.x, A.y, B.x.c1, B.x.c0, B.y.c1, B.y.c0, C.x,
C.y) and the inputs are big-endian field elements. Output: 32 bytes, 1 if the proof
verifies for those inputs under that key, 0 if not.

The call fails, consuming all the gas it was given (as a precompile does on bad input), for:
- an input length that is not 288 + 32·n;
- a public input ≥ the BN254 scalar field modulus;
- a vkId this node does not know;
- n different from the key's number of public inputs;
- a malformed proof, whatever groth16py refuses to decode: a coordinate ≥ the base field
  modulus, a point off its curve (groth16py takes (0, 0), EIP-197's encoding of infinity,
  for one), a B outside G2's prime-order subgroup.
A well-formed proof that is wrong returns 0: that answer is the contract's to act on.

Gas: GROTH16_VERIFY_BASE_GAS + GROTH16_VERIFY_INPUT_GAS · n, charged before verifying.
On L1 the same check costs a 4-pair ecPairing (EIP-1108: 45,000 + 4 × 34,000 = 181,000)
plus an ecMul and an ecAdd per public input (6,150), plus the Solidity around them. The
fast chain charges a little less (one native call, no glue) but of that order, so that a
block's gas limit (30M) bounds its verifications to about two hundred.

vkId = keccak256 of the snarkjs verification_key.json in canonical JSON (keys sorted, no
whitespace): anyone holding the key computes it, and a contract pins the keys it trusts by
id. The keys a node knows are handed to its executor by whoever starts the node (the
ceremony's current circuits: chain/prover/precompile_keys.py), so the fast chain never reads
the prover's files; every node must know the same set, or a call naming a key that only some
know would fail on the others.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NewType

import groth16py

from chain.encoding import keccak
from chain.types import Address

WORD_BYTES = 32
PROOF_BYTES = 8 * WORD_BYTES  # the Ethereum blob of a proof: A, B, C as eight words

GROTH16_VERIFY_ADDRESS = Address((0xD0E7_0100).to_bytes(20, "big"))  # 0x0000…d0e70100
GROTH16_VERIFY_BASE_GAS = 150_000
GROTH16_VERIFY_INPUT_GAS = 5_000  # per public input
VK_ID_BYTES = 32
HEADER_BYTES = VK_ID_BYTES + PROOF_BYTES  # 288: what precedes the public inputs
# BN254's scalar field: public inputs are elements of it.
SCALAR_FIELD = 21888242871839275222246405745257275088548364400416034343698204186575808495617
TRUE_WORD = (1).to_bytes(WORD_BYTES, "big")
FALSE_WORD = bytes(WORD_BYTES)

VkId = NewType("VkId", bytes)  # keccak256 of a verification key's canonical JSON


class PrecompileFailure(Exception):
    """The precompile call fails, consuming all its gas; the message says why."""


@dataclass(frozen=True)
class VerifyRequest:
    vk_id: VkId
    proof: bytes  # the 256-byte blob, not yet decoded
    inputs: tuple[int, ...]


@dataclass(frozen=True)
class KnownKey:
    """A verification key the precompile accepts proofs under."""

    vk_id: VkId
    name: str  # where it came from, for messages: a circuit's name
    n_public: int
    verifier: groth16py.Verifier


Verifiers = Mapping[VkId, KnownKey]
NO_VERIFIERS: Verifiers = {}


# -- keys ----------------------------------------------------------------------------------


def compute_vk_id(vk_json: Mapping[str, Any]) -> VkId:
    """The id of a snarkjs verification key: keccak256 of its canonical JSON."""
    canonical = json.dumps(vk_json, sort_keys=True, separators=(",", ":"))
    return VkId(keccak(canonical.encode()))


def make_known_key(name: str, vk_json: Mapping[str, Any]) -> KnownKey:
    """A key ready to verify with (about a millisecond to prepare)."""
    verifying_key = groth16py.VerifyingKey.from_snarkjs(json.dumps(vk_json))
    n_public = int(verifying_key.n_public)
    return KnownKey(compute_vk_id(vk_json), name, n_public, groth16py.Verifier(verifying_key))


def load_key_file(name: str, path: Path) -> KnownKey:
    """A key from a snarkjs verification_key.json; ValueError if it is not one."""
    try:
        return make_known_key(name, json.loads(path.read_text()))
    except (OSError, ValueError, groth16py.EncodingError) as error:
        raise ValueError(f"{path}: not a usable verification key ({error})") from error


# -- one call ------------------------------------------------------------------------------


def compute_input_count(length: int) -> int:
    """How many public inputs an input of `length` bytes carries."""
    if length < HEADER_BYTES or (length - HEADER_BYTES) % WORD_BYTES:
        raise PrecompileFailure(
            f"input is {length} bytes, not {HEADER_BYTES} + {WORD_BYTES}·n (vkId, proof, inputs)"
        )
    return (length - HEADER_BYTES) // WORD_BYTES


def compute_gas(length: int) -> int:
    """The gas a call with `length` bytes of input costs."""
    return GROTH16_VERIFY_BASE_GAS + GROTH16_VERIFY_INPUT_GAS * compute_input_count(length)


def parse_request(data: bytes) -> VerifyRequest:
    """The call's input, split and range-checked (the proof's points are groth16py's to check)."""
    count = compute_input_count(len(data))
    words = data[HEADER_BYTES:]
    inputs = tuple(
        int.from_bytes(words[i * WORD_BYTES : (i + 1) * WORD_BYTES], "big") for i in range(count)
    )
    for index, value in enumerate(inputs):
        if value >= SCALAR_FIELD:
            raise PrecompileFailure(f"public input {index} is not below the scalar field modulus")
    return VerifyRequest(VkId(data[:VK_ID_BYTES]), data[VK_ID_BYTES:HEADER_BYTES], inputs)


def encode_request(vk_id: bytes, proof: bytes, inputs: Sequence[int]) -> bytes:
    """The precompile's input for this proof and these public inputs."""
    return vk_id + proof + b"".join(value.to_bytes(WORD_BYTES, "big") for value in inputs)


def is_valid_proof(key: KnownKey, request: VerifyRequest) -> bool:
    if len(request.inputs) != key.n_public:
        raise PrecompileFailure(
            f"key {key.name} takes {key.n_public} public inputs, got {len(request.inputs)}"
        )
    try:
        return bool(key.verifier.verify(request.proof, list(request.inputs)))
    except (groth16py.EncodingError, groth16py.VerificationError) as error:
        raise PrecompileFailure(f"malformed proof: {error}") from error


def process_verify(verifiers: Verifiers, data: bytes) -> bytes:
    """The precompile's output for `data`: a 32-byte 1 or 0; PrecompileFailure if it fails.
    The caller charges the gas (`compute_gas`) first."""
    request = parse_request(data)
    key = verifiers.get(request.vk_id)
    if key is None:
        raise PrecompileFailure(f"unknown vkId 0x{request.vk_id.hex()}")
    return TRUE_WORD if is_valid_proof(key, request) else FALSE_WORD
