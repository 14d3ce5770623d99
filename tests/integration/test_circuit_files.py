"""The circuit files a node serves to provers outside it (chain/rpc/circuit_files.py): what
`duet_getCircuits` announces is what the routes serve, byte for byte, and each circuit's
`vkHash` is the hash of the key the rollup on L1 verifies its proofs with."""

from __future__ import annotations

import hashlib
import urllib.error
import urllib.request

from eth_utils import keccak

from chain.artifacts import load_abi
from chain.l1.keys import encode_verification_key, load_ceremony_keys
from chain.testing.node_process import NodeProcess
from chain.zk.registry import CIRCUIT_NAMES
from tests.integration.support import rpc_error, rpc_result

VK_SHARED_BYTES = 320  # α ‖ β ‖ γ: the rollup keeps them once (contracts/l1/Rollup.sol)
DELTA_BYTES = 128
G1_BYTES = 64


def fetch(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def test_every_market_circuit_is_listed_with_files_that_match_their_hashes(
    node: NodeProcess,
) -> None:
    circuits = rpc_result(node.zk_http, "duet_getCircuits", [])["circuits"]
    assert [c["name"] for c in circuits] == list(CIRCUIT_NAMES)
    transfer = next(c for c in circuits if c["name"] == "transfer")
    for kind in ("wasm", "zkey", "vkey"):
        announced = transfer["files"][kind]
        status, body = fetch(node.zk_http.rstrip("/") + announced["url"])
        assert status == 200, kind
        assert len(body) == announced["size"]
        assert hashlib.sha256(body).hexdigest() == announced["sha256"]


def test_only_the_listed_files_are_served(node: NodeProcess) -> None:
    base = node.zk_http.rstrip("/")
    for path in (
        "/circuits/transfer/circuit.r1cs",  # in the cache, not served
        "/circuits/transfer/manifest.json",
        "/circuits/nope/circuit.wasm",
        "/circuits/transfer/..%2F..%2Fptau",
        "/circuits/..%2F..%2F/circuit.zkey",
    ):
        status, _ = fetch(base + path)
        assert status == 404, path
    assert rpc_error(node.zk_http, "duet_getCircuits", [1])["code"] == -32602


def test_the_vk_hash_is_the_key_the_rollup_verifies_with(node: NodeProcess) -> None:
    """δ ‖ IC[] read from the rollup's key data on L1, after the shared α ‖ β ‖ γ: the
    prover's check against vkHash is a check against what L1 will accept."""
    circuits = rpc_result(node.zk_http, "duet_getCircuits", [])["circuits"]
    rollup = rpc_result(node.zk_http, "duet_getSigningDomain", [])["verifyingContract"]
    l1 = node.l1_http
    abi = {f["name"]: f for f in load_abi("Rollup") if f.get("type") == "function"}
    assert "circuitKey" in abi and "keyData" in abi
    key_data = (
        "0x"
        + rpc_result(l1, "eth_call", [{"to": rollup, "data": selector("keyData()")}, "latest"])[
            -40:
        ]
    )
    code = bytes.fromhex(rpc_result(l1, "eth_getCode", [key_data, "latest"])[2:])
    shared = encode_verification_key(load_ceremony_keys()[0])[:VK_SHARED_BYTES]
    for circuit in circuits:
        data = selector("circuitKey(uint256)") + circuit["id"].to_bytes(32, "big").hex()
        answer = bytes.fromhex(
            rpc_result(l1, "eth_call", [{"to": rollup, "data": data}, "latest"])[2:]
        )
        offset = int.from_bytes(answer[64:96], "big")
        ic_points = circuit["nPublic"] + 1
        own = code[offset : offset + DELTA_BYTES + G1_BYTES * ic_points]
        assert "0x" + keccak(shared + own).hex() == circuit["vkHash"], circuit["name"]


def selector(signature: str) -> str:
    return "0x" + keccak(text=signature)[:4].hex()
