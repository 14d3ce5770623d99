"""The fuzz scenario's hostile requests (chain/testing/reliability/hostile.py): the same ones for
a seed, every kind early, small bodies but for the bulky kinds, unique ids; its answer check
naming each way an answer can be wrong; and the node's own dispatcher, in process, answering
every one of them with an error."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NoReturn

import orjson
import pytest

from chain.config import RPC_MAX_BATCH, RPC_MAX_BODY_BYTES
from chain.fast.genesis import dev_keys
from chain.node import Node, open_node
from chain.rpc.duet_api import DuetApi
from chain.rpc.errors import INTERNAL_ERROR
from chain.rpc.fast_api import FastApi
from chain.rpc.market_api import MarketApi
from chain.rpc.server import Dispatcher
from chain.rpc.zk_api import ZkApi
from chain.testing.reliability.hostile import (
    BULKY_KINDS,
    CHAINS,
    METHODS,
    PARAM_KINDS,
    RARE_KINDS,
    RARE_PERIOD,
    SMALL_BODY_MAX,
    HostileRequest,
    check_answer,
    list_kinds,
    make_requests,
)


def error_answer(request_id: Any) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": request_id, "error": {"code": -32602, "message": "no"}}


def as_body(answer: Any) -> bytes:
    return json.dumps(answer).encode()


def read_elements(request: HostileRequest) -> list[Any]:
    """The request objects in a body that is JSON (one, or a batch's), else none."""
    try:
        payload = orjson.loads(request.body)
    except orjson.JSONDecodeError:
        return []
    return payload if isinstance(payload, list) else [payload]


def list_answered(request: HostileRequest) -> list[Any]:
    """What each answer to `request` answers: a batch's elements, else the one request (None
    for a body that is not one request)."""
    elements = read_elements(request)
    if request.batch:
        return elements
    return [elements[0] if len(elements) == 1 else None]


# -- the requests ----------------------------------------------------------------------------


@pytest.mark.parametrize("chain", CHAINS)
def test_same_seed_gives_the_same_requests(chain: str) -> None:
    first = list(make_requests(chain, 11, 120))
    assert first == list(make_requests(chain, 11, 120))
    assert first[:50] == list(make_requests(chain, 11, 50))  # a short run is a prefix
    assert first != list(make_requests(chain, 12, 120))


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("chain", CHAINS)
def test_every_kind_comes_in_the_first_60_requests(chain: str, seed: int) -> None:
    kinds = {request.kind for request in make_requests(chain, seed, 60)}
    assert kinds == set(list_kinds(chain))
    assert ("endless_call" in kinds) == (chain == "fast")


@pytest.mark.parametrize("chain", CHAINS)
def test_rare_kinds_come_once_in_each_period(chain: str) -> None:
    count = 5 * RARE_PERIOD
    kinds = Counter(request.kind for request in make_requests(chain, 3, count))
    for kind in set(RARE_KINDS) & set(list_kinds(chain)):
        assert kinds[kind] == count // RARE_PERIOD, kind
    assert sum(kinds[kind] for kind in PARAM_KINDS) > count // 2


@pytest.mark.parametrize("chain", CHAINS)
def test_bodies_are_small_but_for_the_bulky_kinds(chain: str) -> None:
    for request in make_requests(chain, 5, 2 * RARE_PERIOD):
        if request.kind == "oversize_body":
            assert RPC_MAX_BODY_BYTES < len(request.body) <= RPC_MAX_BODY_BYTES + SMALL_BODY_MAX
        elif request.kind == "huge_batch":
            assert len(orjson.loads(request.body)) > RPC_MAX_BATCH
        elif request.kind not in BULKY_KINDS:
            assert len(request.body) < SMALL_BODY_MAX, request.kind


@pytest.mark.parametrize("chain", CHAINS)
def test_ids_are_unique_and_every_request_has_one(chain: str) -> None:
    requests = list(make_requests(chain, 9, 3 * RARE_PERIOD))
    ids = [i for request in requests for i in request.ids if i is not None]
    assert len(ids) == len(set(map(json.dumps, ids)))
    assert all(isinstance(i, int | str) and not isinstance(i, bool) for i in ids)
    for request in requests:
        assert len(request.ids) == 1 or request.batch
        for element in read_elements(request):
            if isinstance(element, dict):
                assert "id" in element, request  # no notifications: they get no answer


@pytest.mark.parametrize("chain", CHAINS)
def test_mutations_are_spread_over_the_chains_methods(chain: str) -> None:
    methods = Counter(
        element.get("method")
        for request in make_requests(chain, 4, 50 * RARE_PERIOD)
        if request.kind in ("wrong_type", "arity", "params_not_array")
        for element in read_elements(request)
    )
    assert set(METHODS[chain]) <= set(methods)


def test_rejects_an_unknown_chain() -> None:
    with pytest.raises(ValueError, match="chain must be one of"):
        next(make_requests("l1", 0, 1))


# -- the answer check -------------------------------------------------------------------------

SINGLE = HostileRequest("wrong_type", b"{}", (7,), False)
BATCH = HostileRequest("garbage_batch", b"[]", (7, "a", None), True)
OVERSIZE = HostileRequest("oversize_body", b"", (None,), False)
EMPTY_BATCH = HostileRequest("empty_batch", b"[]", (None,), False)


def test_check_answer_accepts_an_error_with_the_id() -> None:
    assert check_answer(SINGLE, 200, as_body(error_answer(7))) == ""
    assert check_answer(EMPTY_BATCH, 200, as_body(error_answer(None))) == ""
    assert check_answer(OVERSIZE, 413, as_body(error_answer(None))) == ""


def test_check_answer_accepts_a_batch_answered_in_any_order() -> None:
    answers = [error_answer(i) for i in BATCH.ids]
    assert check_answer(BATCH, 200, as_body(answers)) == ""
    assert check_answer(BATCH, 200, as_body(answers[::-1])) == ""


def test_rejects_a_result() -> None:
    answer = {"jsonrpc": "2.0", "id": 7, "result": "0x1"}
    assert check_answer(SINGLE, 200, as_body(answer)) == "answered with a result"


def test_rejects_a_wrong_id() -> None:
    assert check_answer(SINGLE, 200, as_body(error_answer(8))) == "id 7 not echoed (got 8)"
    assert check_answer(SINGLE, 200, as_body(error_answer("7"))) == 'id 7 not echoed (got "7")'


def test_rejects_a_body_that_is_not_json() -> None:
    assert check_answer(SINGLE, 200, b"<html>oops</html>") == "not JSON"
    assert check_answer(SINGLE, 200, b"\xff") == "not JSON"


def test_rejects_an_http_error() -> None:
    assert check_answer(SINGLE, 500, as_body(error_answer(7))) == "HTTP 500"
    assert check_answer(OVERSIZE, 200, as_body(error_answer(None))) == "HTTP 200, not 413"


def test_rejects_a_batch_answer_with_a_missing_element() -> None:
    answers = [error_answer(7), error_answer("a")]
    assert check_answer(BATCH, 200, as_body(answers)) == "2 answers to a batch of 3"


def test_rejects_a_batch_answer_with_an_id_not_echoed() -> None:
    answers = [error_answer(7), error_answer("b"), error_answer(None)]
    assert check_answer(BATCH, 200, as_body(answers)) == 'id "a" not echoed'


def test_rejects_an_internal_error() -> None:
    crash = {"jsonrpc": "2.0", "id": 7, "error": {"code": -32603, "message": "internal error"}}
    assert check_answer(SINGLE, 200, as_body(crash)) == "internal error: a handler crashed"
    answers = [error_answer(7), {**crash, "id": "a"}, error_answer(None)]
    assert (
        check_answer(BATCH, 200, as_body(answers)) == "element 1: internal error: a handler crashed"
    )


def test_rejects_a_malformed_error() -> None:
    no_message = {"jsonrpc": "2.0", "id": 7, "error": {"code": -32602, "message": ""}}
    no_version = {"id": 7, "error": {"code": -32602, "message": "no"}}
    assert "message" in check_answer(SINGLE, 200, as_body(no_message))
    assert check_answer(SINGLE, 200, as_body(no_version)) == 'jsonrpc is not "2.0"'
    assert check_answer(BATCH, 200, as_body(error_answer(7))).startswith("a batch answered")
    assert check_answer(SINGLE, 200, as_body([error_answer(7)])).startswith("a list of 1")


# -- the node's dispatcher, in process ----------------------------------------------------------


class Recorder:
    """Stands in for every way a dev node changes its state; notes each use."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def note(self, what: str) -> NoReturn:
        self.calls.append(what)
        raise RuntimeError(f"{what} reached")

    def __call__(self, *args: Any) -> NoReturn:
        self.note("a write, a mining or a submission")

    def increase_time(self, seconds: int) -> int:
        self.note("increase_time")

    def set_next_timestamp(self, timestamp_s: int) -> None:
        self.note("set_next_timestamp")

    def take(self) -> int:
        self.note("take")

    def revert(self, snapshot_id: int) -> bool:
        self.note("revert")


@pytest.fixture
def node(tmp_path: Path) -> Iterator[Node]:
    opened = open_node(tmp_path / "node")
    yield opened
    opened.close()


def make_tables(node: Node, recorder: Recorder) -> dict[str, dict[str, Any]]:
    """Each endpoint's method table as chain/service.py builds it, for a dev node whose
    state-changing hooks are `recorder`."""
    duet = DuetApi(node)
    fast = FastApi(node, dev_keys())
    fast.dev_controls.mine = recorder
    fast.dev_controls.clock = recorder
    fast.dev_controls.snapshots = recorder
    fast.dev_state.write = recorder
    fast.dev_accounts._submit = recorder
    fast.dev_accounts._submit_impersonated = recorder
    return {
        "fast": {**fast.methods, **duet.methods},
        "zk": {**ZkApi(node).methods, **MarketApi(node).methods, **duet.methods},
    }


def test_the_method_tables_name_every_method_each_chain_serves(node: Node) -> None:
    tables = make_tables(node, Recorder())
    assert {chain: set(table) for chain, table in tables.items()} == {
        chain: set(METHODS[chain]) for chain in CHAINS
    }


@pytest.mark.parametrize("chain", CHAINS)
def test_the_node_answers_every_request_with_an_error(chain: str, node: Node) -> None:
    """Every answer an error, and none -32603: an internal error is a handler that crashed
    on what it should have refused."""
    recorder = Recorder()
    dispatcher = Dispatcher(make_tables(node, recorder)[chain])
    internal: Counter[Any] = Counter()
    for request in make_requests(chain, 2, 6 * RARE_PERIOD):
        if request.kind == "oversize_body":  # refused by aiohttp before the dispatcher
            continue
        answer = dispatcher.handle_payload(request.body)
        body = b"" if answer is None else orjson.dumps(answer)
        answers = answer if request.batch else [answer]
        for sent, got in zip(list_answered(request), answers, strict=True):
            if isinstance(got, dict) and got.get("error", {}).get("code") == INTERNAL_ERROR:
                internal[sent.get("method") if isinstance(sent, dict) else None] += 1
        assert check_answer(request, 200, body) == "", (request.kind, request.body[:300], body)
    assert recorder.calls == []
    assert not internal, internal
