"""The plugin's market rules (plugin/src/market.js) against the node's own code.

node's test runner checks the rules alone (plugin/test/market.test.mjs); here the same
functions run on cases built in Python (plugin/test/vectors.mjs), and the node's code checks
what they give: the submission digest and signature (chain/market/signing.py), the signed
heartbeat (chain/zk/signing.py: ECDSA here is deterministic, so the bytes must match), the
proof blob, the verification-key hash (chain/rpc/circuit_files.py) and a block's aggregate
(chain/l1/calldata.py).
"""

from __future__ import annotations

import json
import os
import subprocess

import pytest
from eth_account import Account

from chain.config import ZK_CHAIN_ID
from chain.fast.genesis import dev_keys
from chain.l1.calldata import SettledOp, StateRoot, compute_statements, encode_ops
from chain.market.signing import compute_submission_digest, recover_submitter
from chain.prover.ceremony import get_circuit_entry, get_default_paths
from chain.prover.groth16 import Proof
from chain.rpc.circuit_files import CircuitCatalog, compute_vk_hash
from chain.testing.node_process import REPO
from chain.types import JobId
from chain.zk.ops import Heartbeat
from chain.zk.poseidon import FIELD_MODULUS
from chain.zk.signing import (
    SigningDomain,
    format_signed_operation,
    parse_signed_operation,
    sign_operation,
)

KEY = dev_keys()[4]
ADDRESS = Account.from_key(KEY).address
DOMAIN = SigningDomain(31337, "0x5FbDB2315678afecb367f032d93F642f64180aa3")
PROOF_BYTES = bytes((i * 7 + 1) % 256 for i in range(256))
HEARTBEAT = {"activeUntil": 77, "fee": 10**15, "nonce": 3, "fromIndex": 5}


def run_node(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["node", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
        env={**os.environ, "NODE_NO_WARNINGS": "1"},
    )


def test_the_plugins_own_unit_tests_pass() -> None:
    result = run_node("--test", "plugin/test/market.test.mjs")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "# fail 0" in result.stdout


def field_words(seed: int, count: int) -> list[int]:
    return [pow(seed + 7, i + 3, FIELD_MODULUS) for i in range(count)]


@pytest.fixture(scope="module")
def vectors() -> tuple[dict, dict]:  # type: ignore[type-arg]
    catalog = CircuitCatalog()
    circuits = {
        c.name: {"id": c.circuit_id, "nPublic": c.n_public} for c in catalog.circuits.values()
    }
    transfer_vk = json.loads(
        get_circuit_entry(get_default_paths(), "transfer").verification_key.read_text()
    )
    ops = [
        SettledOp(
            "transfer",
            StateRoot(field_words(1, 1)[0]),
            tuple(field_words(2, circuits["transfer"]["nPublic"] - 2)),
            Proof(bytes(range(256))),
        ),
        SettledOp(
            "heartbeat",
            StateRoot(field_words(3, 1)[0]),
            tuple(field_words(4, circuits["heartbeat"]["nPublic"] - 2)),
            Proof(bytes(reversed(range(256)))),
        ),
    ]
    cases = {
        "key": "0x" + KEY.hex(),
        "chainId": ZK_CHAIN_ID,
        "jobId": "0x" + bytes(range(32)).hex(),
        "result": "0x" + os.urandom(300).hex(),
        "domain": DOMAIN.to_json(),
        "heartbeat": HEARTBEAT,
        "proof": Proof(PROOF_BYTES).to_snarkjs(),
        "vk": transfer_vk,
        "parentRoot": hex(field_words(9, 1)[0]),
        "ops": [
            {
                "circuit": op.circuit,
                "postRoot": hex(op.post_root),
                "words": [hex(w) for w in op.words],
                "proof": "0x" + op.proof.blob.hex(),
            }
            for op in ops
        ],
        "circuits": circuits,
    }
    result = run_node("plugin/test/vectors.mjs", stdin=json.dumps(cases))
    assert result.returncode == 0, result.stderr
    return cases, {"out": json.loads(result.stdout), "ops": ops}


def test_a_submission_the_plugin_signs_is_the_provers_on_the_node(vectors) -> None:  # type: ignore[no-untyped-def]
    cases, got = vectors
    out = got["out"]
    job_id = JobId(bytes.fromhex(cases["jobId"][2:]))
    result = bytes.fromhex(cases["result"][2:])
    assert (
        out["submissionDigest"]
        == "0x" + compute_submission_digest(ZK_CHAIN_ID, job_id, result).hex()
    )
    signature = bytes.fromhex(out["submissionSignature"][2:])
    assert recover_submitter(ZK_CHAIN_ID, job_id, result, signature) == int(ADDRESS, 16)
    # Another result, job or chain: another signer, so the node refuses it as the prover's.
    assert recover_submitter(ZK_CHAIN_ID, job_id, result + b"\0", signature) != int(ADDRESS, 16)
    assert recover_submitter(ZK_CHAIN_ID + 1, job_id, result, signature) != int(ADDRESS, 16)


def test_a_heartbeat_the_plugin_signs_is_byte_for_byte_the_nodes(vectors) -> None:  # type: ignore[no-untyped-def]
    _, got = vectors
    wire = got["out"]["heartbeat"]
    signed = parse_signed_operation(wire, DOMAIN)
    assert signed.op.signer == int(ADDRESS, 16)
    assert signed.op.body == Heartbeat(active_until=HEARTBEAT["activeUntil"])
    assert (signed.op.fee, signed.op.nonce, signed.op.from_index) == (10**15, 3, 5)
    ours = sign_operation(Heartbeat(77), 10**15, 3, DOMAIN, KEY, 5)
    assert wire == format_signed_operation(ours)
    # In another domain (another rollup) the same signature names someone else.
    other = SigningDomain(31337, "0x" + "11" * 20)
    assert parse_signed_operation(
        {k: v for k, v in wire.items() if k != "from"}, other
    ).op.signer != int(ADDRESS, 16)


def test_the_plugins_proof_blob_is_the_nodes(vectors) -> None:  # type: ignore[no-untyped-def]
    cases, got = vectors
    assert got["out"]["blob"] == "0x" + PROOF_BYTES.hex()
    assert got["out"]["proofBack"] == cases["proof"]


def test_the_plugins_key_hash_is_the_published_vk_hash(vectors) -> None:  # type: ignore[no-untyped-def]
    cases, got = vectors
    assert got["out"]["vkHash"] == "0x" + compute_vk_hash(cases["vk"]).hex()
    assert got["out"]["vkHash"] == "0x" + CircuitCatalog().circuits["transfer"].vk_hash.hex()


def test_the_plugins_aggregate_is_the_rollups_calldata(vectors) -> None:  # type: ignore[no-untyped-def]
    cases, got = vectors
    ops = got["ops"]
    assert got["out"]["ops"] == "0x" + encode_ops(ops).hex()
    parent = StateRoot(int(cases["parentRoot"], 16))
    expected = [[str(x) for x in s] for s in compute_statements(parent, ops)]
    assert got["out"]["statements"] == expected
