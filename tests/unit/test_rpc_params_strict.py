"""What the JSON-RPC parsers and handlers refuse, each with -32602 (-32600 for a bad id) and a
message naming the field: numbers Python's int() reads but hex is not, hex bytes with
whitespace, ids that are not ids, falsy values of the wrong type, the ZK operation fields
that crashed the signing code, and counts past SQLite's integers. Each was once answered
with a result or an internal error (chain/testing/reliability/hostile.py now makes them);
valid input beside each is answered as before."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest

from chain.fast.genesis import dev_keys
from chain.node import Node, open_node
from chain.rpc.duet_api import DuetApi
from chain.rpc.errors import INVALID_PARAMS, INVALID_REQUEST, RpcError
from chain.rpc.fast_api import FastApi
from chain.rpc.market_api import MarketApi
from chain.rpc.params import MAX_COUNT, parse_count, parse_hex_bytes, parse_quantity
from chain.rpc.server import Dispatcher
from chain.rpc.subscriptions import Connection, SubscriptionHub
from chain.rpc.zk_api import ZkApi
from chain.types import ChainId
from chain.zk.ops import Heartbeat, Mint, Transfer, TransferNft
from chain.zk.signing import (
    OP_TYPES,
    UINT_BITS,
    InvalidSignature,
    SignedBody,
    format_signed_operation,
    parse_signed_operation,
    sign_operation,
)

ADDRESS = "0x" + "22" * 20
HASH = "0x" + "11" * 32
DEV = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"  # the first dev account
KEY = dev_keys(1)[0]


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    opened = open_node(tmp_path_factory.mktemp("strict") / "node")
    yield opened
    opened.close()


@pytest.fixture(scope="module")
def chains(node: Node) -> dict[str, Dispatcher]:
    """Each endpoint's dispatcher, as chain/service.py builds it, for a dev node that never
    submits (what reaches a submission is not refused)."""

    def refuse(*args: Any) -> Any:
        raise AssertionError("a refused request reached a submission")

    duet = DuetApi(node)
    fast = FastApi(node, dev_keys())
    fast.dev_accounts._submit = refuse
    fast.dev_accounts._submit_impersonated = refuse
    return {
        "fast": Dispatcher({**fast.methods, **duet.methods}),
        "zk": Dispatcher({**ZkApi(node).methods, **MarketApi(node).methods, **duet.methods}),
    }


def ask(dispatcher: Dispatcher, method: str, params: Any, request_id: Any = 1) -> Any:
    request = {"jsonrpc": "2.0", "id": request_id, "method": method, "params": params}
    return dispatcher.handle(request)


def assert_refused(answer: Any, fragment: str, code: int = INVALID_PARAMS) -> None:
    assert "result" not in answer, answer
    assert answer["error"]["code"] == code, answer
    assert fragment in answer["error"]["message"], answer


def signed_wire(body: SignedBody, node: Node, nonce: int = 0) -> dict[str, Any]:
    signed = sign_operation(body, 10**15, nonce, node.query.signing_domain, KEY, 0)
    return format_signed_operation(signed)


# -- 1. quantities: 0x and ASCII hex digits only ------------------------------------------------

INT_ONLY_QUANTITIES = ["0x-1", "0x+5", "0x 1", "0x1 ", "0x\t1", "0x1_0", "0x0x1", "0x١", "0x１"]


@pytest.mark.parametrize("value", INT_ONLY_QUANTITIES)
def test_rejects_a_quantity_that_only_int_reads(value: str) -> None:
    with pytest.raises(RpcError, match="slot is not a hex quantity") as refused:
        parse_quantity(value, "slot")
    assert refused.value.code == INVALID_PARAMS


@pytest.mark.parametrize(
    ("chain", "method", "params", "fragment"),
    [
        ("fast", "eth_getStorageAt", [ADDRESS, "0x-1"], "storage slot"),
        ("fast", "eth_feeHistory", ["0x-1", "latest"], "blockCount"),
        ("fast", "eth_getTransactionByBlockNumberAndIndex", ["latest", "0x-1"], "index"),
        ("fast", "eth_getBlockByNumber", ["0x1_0"], "block"),
        ("zk", "duet_getFastMessage", ["0x-1"], "message number"),
        ("zk", "duet_getToken", ["0x 1", "0x1"], "collection"),
    ],
)
def test_rejects_a_signed_or_spaced_quantity_in_a_method(
    chains: dict[str, Dispatcher], chain: str, method: str, params: list[Any], fragment: str
) -> None:
    assert_refused(ask(chains[chain], method, params), f"{fragment} is not a hex quantity")


@pytest.mark.parametrize(("value", "number"), [("0x0", 0), ("0X1f", 31), ("0x00ff", 255)])
def test_a_hex_quantity_still_parses(value: str, number: int) -> None:
    assert parse_quantity(value) == number


# -- 2. hex bytes: ASCII hex digits only --------------------------------------------------------


@pytest.mark.parametrize(
    "value", ["0x" + "22" * 20 + "  ", "0x  " + "22" * 20, "0x2222\t\n" + "22" * 18]
)
def test_rejects_whitespace_in_hex_bytes(chains: dict[str, Dispatcher], value: str) -> None:
    with pytest.raises(RpcError, match="address is not valid hex"):
        parse_hex_bytes(value, "address", 20)
    assert_refused(ask(chains["fast"], "eth_getBalance", [value]), "address is not valid hex")


def test_hex_bytes_still_parse() -> None:
    assert parse_hex_bytes("0xAbCd", "data") == bytes.fromhex("abcd")
    assert parse_hex_bytes("0x", "data") == b""


# -- 3. the request id: a string, a number or null ----------------------------------------------


@pytest.mark.parametrize("request_id", [{"a": 1}, [1], {}, [], True])
def test_rejects_an_id_that_is_not_a_string_number_or_null(
    chains: dict[str, Dispatcher], request_id: Any
) -> None:
    answer = ask(chains["fast"], "eth_chainId", [], request_id)
    assert_refused(answer, "id must be a string, a number or null", INVALID_REQUEST)
    assert answer["id"] is None


@pytest.mark.parametrize("request_id", ["a", 7, -1, 1.5, 2**53 + 1, None])
def test_an_id_is_still_echoed(chains: dict[str, Dispatcher], request_id: Any) -> None:
    answer = ask(chains["fast"], "eth_chainId", [], request_id)
    assert answer["result"] == chains["fast"].methods["eth_chainId"]([])
    assert answer["id"] == request_id


def test_a_notification_is_still_run_unanswered(chains: dict[str, Dispatcher]) -> None:
    assert chains["fast"].handle({"jsonrpc": "2.0", "method": "eth_chainId"}) is None


# -- 4. falsy values of the wrong type ----------------------------------------------------------

FUNDED_TX = {"from": DEV, "gas": "0x5208", "maxFeePerGas": "0x1", "nonce": "0x0"}


@pytest.mark.parametrize(
    ("chain", "method", "params", "fragment"),
    [
        ("fast", "eth_getBlockByNumber", ["latest", 0], "full transactions"),
        ("fast", "eth_getBlockByNumber", ["latest", {}], "full transactions"),
        ("fast", "eth_getBlockByHash", [HASH, "junk"], "full transactions"),
        ("fast", "eth_newPendingTransactionFilter", [0], "full transactions"),
        ("fast", "eth_uninstallFilter", [123], "filter id is a string"),
        ("fast", "eth_getFilterChanges", [[]], "filter id is a string"),
        ("fast", "eth_call", [{"from": 0}], "from must be"),
        ("fast", "eth_call", [{"to": ""}], "to must be"),
        ("fast", "eth_call", [{"data": ""}], "data must be"),
        ("fast", "eth_call", [{"value": 0}], "value must be"),
        ("fast", "eth_call", [{"input": "0x01", "data": "0x02"}], '"data" and "input"'),
        ("fast", "eth_getLogs", [{"topics": {}}], "topics must be"),
        ("fast", "eth_getLogs", [{"address": ""}], "address must be"),
        ("fast", "eth_getBlockReceipts", [{"blockHash": "latest"}], "block hash must be"),
        ("fast", "eth_getBlockReceipts", [{"blockNumber": "0x0", "requireCanonical": 1}], "Canon"),
        ("fast", "eth_feeHistory", ["0x1", "latest", [True]], "rewardPercentiles"),
        (
            "fast",
            "debug_traceCall",
            [{}, "latest", {"tracer": "callTracer", "tracerConfig": {"withLog": 0}}],
            "withLog",
        ),
        ("fast", "eth_simulateV1", [{"blockStateCalls": [{}], "validation": 0}], "validation"),
        ("fast", "eth_simulateV1", [{"blockStateCalls": [{"stateOverrides": []}]}], "Overrides"),
        ("fast", "eth_sendTransaction", [{**FUNDED_TX, "to": ""}], "to must be"),
        ("fast", "eth_sendTransaction", [{**FUNDED_TX, "maxPriorityFeePerGas": 0}], "maxPrio"),
        ("fast", "eth_signTransaction", [{**FUNDED_TX, "chainId": 0}], "chainId must be"),
        ("fast", "eth_signTransaction", [{**FUNDED_TX, "gas": ""}], "gas must be"),
        ("fast", "evm_mine", [{"blocks": False}], "blocks must be"),
        ("zk", "eth_call", [{"to": ADDRESS, "data": ""}], "data must be"),
        ("zk", "eth_getBlockByNumber", ["latest", 0], "full transactions"),
    ],
)
def test_rejects_a_falsy_value_of_the_wrong_type(
    chains: dict[str, Dispatcher], chain: str, method: str, params: list[Any], fragment: str
) -> None:
    assert_refused(ask(chains[chain], method, params), fragment)


@pytest.mark.parametrize(
    ("method", "params"),
    [
        ("eth_getBlockByNumber", ["latest", None]),
        ("eth_getBlockByNumber", ["latest", False]),
        ("eth_call", [{"from": None, "to": None, "value": None, "data": None, "gas": None}]),
        ("eth_call", [{"input": "0x", "data": "0x"}]),
        ("eth_getLogs", [{"topics": None, "blockHash": None, "address": []}]),
        ("eth_getLogs", [{"topics": [[], None]}]),
        ("eth_getBlockReceipts", [{"blockNumber": "0x0"}]),
        ("eth_feeHistory", ["0x1", "latest", [0, 50.5, 100]]),
        ("eth_uninstallFilter", [None]),
        ("eth_simulateV1", [{"blockStateCalls": [{"calls": None, "stateOverrides": {}}]}]),
    ],
)
def test_null_and_absent_optional_fields_are_still_taken(
    chains: dict[str, Dispatcher], method: str, params: list[Any]
) -> None:
    answer = ask(chains["fast"], method, params)
    assert "result" in answer, answer


# -- 5-7. duet_sendOperation: every field checked before the signing code reads it ---------------


@pytest.mark.parametrize("op_type", [["Transfer"], {"name": "Transfer"}, 1, ""])
def test_rejects_an_operation_type_that_is_not_a_name(
    chains: dict[str, Dispatcher], node: Node, op_type: Any
) -> None:
    wire = {**signed_wire(Transfer(0xB0B, 5), node), "type": op_type}
    assert_refused(ask(chains["zk"], "duet_sendOperation", [wire]), "unknown operation type")


@pytest.mark.parametrize(
    ("amount", "fragment"),
    [
        ("²", "amount must be a number, a 0x-hex string or ASCII decimal digits"),
        ("١٢", "amount must be a number, a 0x-hex string or ASCII decimal digits"),
        ("1_000", "amount must be a number, a 0x-hex string or ASCII decimal digits"),
        (" 12", "amount must be a number, a 0x-hex string or ASCII decimal digits"),
        ("0x1_0", "amount is not a hex number"),
        ("1" * 79, "amount is out of range: over 78 digits"),
        ("9" * 5_000, "amount is out of range: over 78 digits"),
    ],
)
def test_rejects_an_operation_number_that_is_not_ascii_or_too_long(
    chains: dict[str, Dispatcher], node: Node, amount: str, fragment: str
) -> None:
    wire = {**signed_wire(Transfer(0xB0B, 5), node), "amount": amount}
    assert_refused(ask(chains["zk"], "duet_sendOperation", [wire]), fragment)


@pytest.mark.parametrize(
    ("body", "field", "value", "bits"),
    [
        (Mint(1, 0xB0B, 2, 3), "collection", 300, 8),
        (Mint(1, 0xB0B, 2, 3), "round", hex(2**32), 32),
        (TransferNft(4096, 0xB0B), "tokenKey", 2**20, 16),
        (Heartbeat(130), "activeUntil", str(2**40), 32),
        (Transfer(0xB0B, 5), "nonce", hex(2**32), 32),
        (Transfer(0xB0B, 5), "fromIndex", 2**16, 16),
    ],
)
def test_rejects_an_operation_field_wider_than_its_type(
    chains: dict[str, Dispatcher],
    node: Node,
    body: SignedBody,
    field: str,
    value: Any,
    bits: int,
) -> None:
    wire = {**signed_wire(body, node), field: value}
    answer = ask(chains["zk"], "duet_sendOperation", [wire])
    assert_refused(answer, f"{field} must fit {bits} bits")


def test_every_signed_field_at_its_widest_still_parses(node: Node) -> None:
    """The bound is the field's own: its largest value signs, parses and recovers."""
    domain = node.query.signing_domain
    for cls, (_, members) in OP_TYPES.items():
        widest = {
            attr: (1 << (160 if kind == "address" else UINT_BITS[kind])) - 1
            for _, kind, attr in members
        }
        body = cls(**widest)
        signed = sign_operation(body, 2**256 - 1, 2**32 - 1, domain, KEY, 2**16 - 1)
        parsed = parse_signed_operation(format_signed_operation(signed), domain)
        assert parsed.op == signed.op


def test_rejects_an_operation_number_past_its_width_in_the_parser(node: Node) -> None:
    wire = {**signed_wire(Mint(1, 0xB0B, 2, 3), node), "collection": "256"}
    with pytest.raises(InvalidSignature, match="collection must fit 8 bits"):
        parse_signed_operation(wire, node.query.signing_domain)


# -- 8. counts: at most SQLite's largest integer ------------------------------------------------


@pytest.mark.parametrize(
    ("method", "params", "fragment"),
    [
        ("duet_getLedger", [2**63], "fromSeq exceeds 2**63 - 1"),
        ("duet_getLedger", [0, 2**63], "limit exceeds 2**63 - 1"),
        ("duet_getSettlementHeights", [2**63], "after exceeds 2**63 - 1"),
        ("duet_getSettlementHeights", [0, 2**64 - 1], "limit exceeds 2**63 - 1"),
        ("duet_getMarketBlock", [2**63], "height exceeds 2**63 - 1"),
        ("duet_getSettlementBlock", [2**63], "height exceeds 2**63 - 1"),
        ("duet_getFastMessage", [hex(2**63)], "message number exceeds 2**63 - 1"),
    ],
)
def test_rejects_a_count_past_sqlite_integers(
    chains: dict[str, Dispatcher], method: str, params: list[Any], fragment: str
) -> None:
    assert_refused(ask(chains["zk"], method, params), fragment)


@pytest.mark.parametrize(
    ("method", "params", "result"),
    [
        ("duet_getLedger", [MAX_COUNT], []),
        ("duet_getSettlementHeights", [MAX_COUNT, MAX_COUNT], []),
        ("duet_getMarketBlock", [MAX_COUNT], None),
        ("duet_getSettlementBlock", [MAX_COUNT], None),
    ],
)
def test_the_largest_count_is_still_answered(
    chains: dict[str, Dispatcher], method: str, params: list[Any], result: Any
) -> None:
    assert ask(chains["zk"], method, params)["result"] == result


def test_parse_count_bounds() -> None:
    assert parse_count(MAX_COUNT, "n") == MAX_COUNT
    with pytest.raises(RpcError, match="n exceeds 2\\*\\*63 - 1"):
        parse_count(MAX_COUNT + 1, "n")
    with pytest.raises(RpcError, match="n must be a non-negative integer"):
        parse_count(True, "n")


@pytest.mark.parametrize("options", [0, "", [], False])
def test_rejects_a_logs_subscription_whose_filter_is_not_an_object(options: Any) -> None:
    hub = SubscriptionHub(ChainId(7702), ChainId(7702), json.dumps)
    conn = Connection(asyncio.Queue(), on_overflow=lambda: None)
    with pytest.raises(RpcError) as refused:
        hub.subscribe(conn, ["logs", options])
    assert refused.value.code == -32602 and "logs filter must be an object" in refused.value.message
    assert hub.subscribe(conn, ["logs"]) and hub.subscribe(conn, ["logs", None])  # all logs
