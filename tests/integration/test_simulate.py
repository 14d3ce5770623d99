"""What eth_simulateV1 refuses, by name (chain/rpc/simulate.py): the calls themselves are
checked against anvil's in test_anvil_parity.py."""

from __future__ import annotations

import pytest

from chain.rpc.simulate import MAX_SIMULATED_BLOCKS, MAX_SIMULATED_CALLS, SIMULATE_GAS_CAP
from chain.testing.node_process import NodeProcess
from tests.integration.support import rpc_error, rpc_result

CALL = {"to": "0x" + "00" * 19 + "04", "data": "0x01"}  # the identity precompile
LOOP = {"data": "0x5b600056"}  # init code that jumps back forever


@pytest.mark.parametrize(
    ("simulation", "refusal"),
    [
        ({}, "blockStateCalls must be a list"),
        ({"blockStateCalls": []}, "blockStateCalls must be a list"),
        ({"blockStateCalls": [{"calls": [CALL]}], "validation": True}, "validation: true"),
        ({"blockStateCalls": [{"calls": [CALL]}], "traceTransfers": True}, "traceTransfers"),
        (
            {
                "blockStateCalls": [
                    {"calls": [CALL], "stateOverrides": {CALL["to"]: {"balance": "0x1"}}}
                ]
            },
            "stateOverrides are not served",
        ),
        (
            {"blockStateCalls": [{"calls": [CALL], "blockOverrides": {"number": "0x99"}}]},
            "blockOverrides are not served",
        ),
        ({"blockStateCalls": [{"calls": CALL}]}, "calls must be a list"),
        ({"blockStateCalls": [{"cals": [CALL]}]}, "unknown fields ['cals']"),
        ({"blockStateCalls": [{"calls": []}] * (MAX_SIMULATED_BLOCKS + 1)}, "at most"),
        ({"blockStateCalls": [{"calls": [CALL] * (MAX_SIMULATED_CALLS + 1)}]}, "at most"),
        ({"blockStateCalls": [{"calls": [{"to": "0x12"}]}]}, "to"),
    ],
)
def test_what_is_not_served_is_refused_by_name(
    node: NodeProcess, simulation: object, refusal: str
) -> None:
    error = rpc_error(node.fast_http, "eth_simulateV1", [simulation, "latest"])
    assert error["code"] == -32602 and refusal in error["message"]


def test_the_calls_spend_at_most_the_cap_in_all(node: NodeProcess) -> None:
    """A loop that never ends gets what is left of the cap, then the next call is refused:
    the simulation runs on py-evm on the thread that makes blocks."""
    before = int(rpc_result(node.fast_http, "eth_blockNumber", []), 16)
    one = rpc_result(node.fast_http, "eth_simulateV1", [{"blockStateCalls": [{"calls": [LOOP]}]}])
    after = int(rpc_result(node.fast_http, "eth_blockNumber", []), 16)
    assert before + 1 <= int(one[0]["number"], 16) <= after + 1  # the block after its base
    (call,) = one[0]["calls"]
    assert call["status"] == "0x0" and int(call["gasUsed"], 16) == SIMULATE_GAS_CAP
    assert call["error"]["code"] == -32015 and call["error"]["message"] == "out of gas"
    error = rpc_error(
        node.fast_http, "eth_simulateV1", [{"blockStateCalls": [{"calls": [LOOP, CALL]}]}]
    )
    assert error["code"] == -32005 and f"{SIMULATE_GAS_CAP} gas in all" in error["message"]
