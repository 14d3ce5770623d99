"""What debug_traceTransaction and debug_traceCall refuse, and how (docs/rpc.md): the
frames themselves are checked against anvil's in test_anvil_parity.py and between the two
executors in the conformance suite."""

from __future__ import annotations

from typing import Any

import pytest
from eth_account.signers.local import LocalAccount
from web3 import Web3

from chain.rpc.fast_api import TRACE_GAS_CAP
from chain.testing.node_process import NodeProcess
from tests.integration.support import call_data, deploy, rpc_error, rpc_result, transact

CALL = {"to": "0x" + "00" * 19 + "04", "data": "0x01"}  # the identity precompile
TRACER = {"tracer": "callTracer"}


@pytest.mark.parametrize(
    ("options", "refusal"),
    [
        (None, "tracer None is not served"),
        ({}, "tracer None is not served"),
        ({"tracer": "prestateTracer"}, "tracer 'prestateTracer' is not served"),
        ({"tracer": "callTracer", "tracerConfig": {"onlyTopCall": "yes"}}, "onlyTopCall"),
        ({"tracer": "callTracer", "tracerConfig": {"withLog": True}}, "onlyTopCall only"),
        ({"tracer": "callTracer", "tracerConfig": []}, "tracerConfig"),
        ("callTracer", "tracer options"),
    ],
)
def test_a_tracer_other_than_the_call_tracer_is_refused_by_name(
    node: NodeProcess, options: object, refusal: str
) -> None:
    params = [CALL, "latest"] if options is None else [CALL, "latest", options]
    error = rpc_error(node.fast_http, "debug_traceCall", params)
    assert error["code"] == -32602 and refusal in error["message"]


def test_an_unknown_or_malformed_transaction_hash_is_refused(node: NodeProcess) -> None:
    missing = rpc_error(node.fast_http, "debug_traceTransaction", ["0x" + "ab" * 32, TRACER])
    assert missing["code"] == -32602 and "transaction not found" in missing["message"]
    for bad in ("0x1234", 5, None):
        assert rpc_error(node.fast_http, "debug_traceTransaction", [bad, TRACER])["code"] == -32602


def test_a_traced_call_is_capped_at_the_trace_gas_cap(node: NodeProcess) -> None:
    """A caller-chosen 2^64 gas on an endless loop: the trace ends out of gas at the cap,
    not after the block's 30M gas of py-evm on the thread that makes blocks."""
    loop = "0x5b600056"  # JUMPDEST PUSH1 0 JUMP, as init code: it never returns
    call = {"data": loop, "gas": hex(2**64 - 1)}
    frame = rpc_result(node.fast_http, "debug_traceCall", [call, "latest", TRACER])
    assert frame["type"] == "CREATE" and frame["error"] == "out of gas"
    assert int(frame["gasUsed"], 16) == TRACE_GAS_CAP


def test_a_transaction_whose_block_prefix_exceeds_the_cap_is_not_traced(
    node: NodeProcess, w3: Web3, accounts: list[LocalAccount]
) -> None:
    """Tracing runs the block again up to the transaction: past the cap it is refused."""
    account = accounts[0]
    probe = deploy(w3, account, "Probe", 1)

    def burn(gas: int) -> Any:
        receipt = transact(
            w3, account, {"to": probe.address, "data": call_data(probe, "burnGas"), "gas": gas}
        )
        assert receipt["status"] == 0 and receipt["gasUsed"] == gas  # out of gas: all of it
        return receipt["transactionHash"].to_0x_hex()

    big = burn(TRACE_GAS_CAP + 100_000)
    error = rpc_error(node.fast_http, "debug_traceTransaction", [big, TRACER])
    assert error["code"] == -32005 and f"more than the {TRACE_GAS_CAP}" in error["message"]
    small = burn(200_000)  # alone in its block, under the cap: traced
    frame = rpc_result(node.fast_http, "debug_traceTransaction", [small, TRACER])
    assert frame["error"] == "out of gas" and int(frame["gasUsed"], 16) == 200_000
