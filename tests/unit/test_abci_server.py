"""The ABCI socket server, driven over a real unix socket by a client written here."""

import asyncio
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from chain.consensus.abci.application import BaseApplication
from chain.consensus.abci.framing import encode_frame, encode_uvarint, read_frame
from chain.consensus.abci.proto.tendermint.abci import types_pb2 as abci
from chain.consensus.abci.server import APP_REQUESTS, AbciServer, AbciServerError, parse_address

Client = tuple[asyncio.StreamReader, asyncio.StreamWriter]


class RecordingApp(BaseApplication):
    """Counts CheckTx calls, refuses txs starting with b"bad", fails on Query."""

    def __init__(self) -> None:
        self.checked: list[bytes] = []
        self.running = 0
        self.most_running = 0

    async def info(self, request: abci.RequestInfo) -> abci.ResponseInfo:
        return abci.ResponseInfo(data="recording", last_block_height=7)

    async def check_tx(self, request: abci.RequestCheckTx) -> abci.ResponseCheckTx:
        self.running += 1
        self.most_running = max(self.most_running, self.running)
        await asyncio.sleep(0.01)  # a chance for another connection's call to overlap
        self.running -= 1
        self.checked.append(request.tx)
        return abci.ResponseCheckTx(code=1 if request.tx.startswith(b"bad") else 0)

    async def query(self, request: abci.RequestQuery) -> abci.ResponseQuery:
        raise RuntimeError("query store unavailable")


def run_with_server(
    tmp_path: Path, scenario: Callable[[AbciServer, str], Awaitable[None]]
) -> RecordingApp:
    app = RecordingApp()
    address = f"unix://{tmp_path / 'app.sock'}"

    async def run() -> None:
        async with AbciServer(app, address, max_frame_bytes=4096) as server:
            await asyncio.wait_for(scenario(server, address), timeout=10)

    asyncio.run(run())
    return app


async def connect(address: str) -> Client:
    return await asyncio.open_unix_connection(address.removeprefix("unix://"))


async def send(client: Client, *requests: abci.Request) -> None:
    client[1].write(b"".join(encode_frame(r.SerializeToString()) for r in requests))
    await client[1].drain()


async def receive(client: Client) -> abci.Response | None:
    frame = await read_frame(client[0])
    return None if frame is None else abci.Response.FromString(frame)


def test_responses_come_in_request_order_and_flush_last(tmp_path: Path) -> None:
    kinds: list[str | None] = []

    async def scenario(server: AbciServer, address: str) -> None:
        client = await connect(address)
        await send(
            client,
            abci.Request(echo=abci.RequestEcho(message="hello")),
            abci.Request(check_tx=abci.RequestCheckTx(tx=b"tx1")),
            abci.Request(check_tx=abci.RequestCheckTx(tx=b"bad tx")),
            abci.Request(info=abci.RequestInfo()),
            abci.Request(flush=abci.RequestFlush()),
        )
        responses = [await receive(client) for _ in range(5)]
        kinds.extend(r.WhichOneof("value") if r else None for r in responses)
        echo, ok, refused, info, _ = responses
        assert echo is not None and echo.echo.message == "hello"
        assert ok is not None and ok.check_tx.code == 0
        assert refused is not None and refused.check_tx.code == 1
        assert info is not None and info.info.last_block_height == 7
        client[1].close()

    app = run_with_server(tmp_path, scenario)
    assert kinds == ["echo", "check_tx", "check_tx", "info", "flush"]
    assert app.checked == [b"tx1", b"bad tx"]


def test_application_calls_never_overlap_across_connections(tmp_path: Path) -> None:
    async def scenario(server: AbciServer, address: str) -> None:
        clients = [await connect(address) for _ in range(4)]
        for index, client in enumerate(clients):
            requests = [abci.Request(check_tx=abci.RequestCheckTx(tx=b"%d" % index))] * 3
            await send(client, *requests, abci.Request(flush=abci.RequestFlush()))
        for client in clients:
            for _ in range(4):
                assert await receive(client) is not None
            client[1].close()

    app = run_with_server(tmp_path, scenario)
    assert len(app.checked) == 12
    assert app.most_running == 1


def test_application_error_answers_exception_and_closes_connection(tmp_path: Path) -> None:
    async def scenario(server: AbciServer, address: str) -> None:
        client = await connect(address)
        await send(
            client,
            abci.Request(query=abci.RequestQuery(path="/x")),
            abci.Request(echo=abci.RequestEcho(message="never answered")),
        )
        response = await receive(client)
        assert response is not None
        assert response.exception.error == "RuntimeError: query store unavailable"
        assert await receive(client) is None  # closed: the echo after it gets no answer

    run_with_server(tmp_path, scenario)


def test_rejects_request_without_value(tmp_path: Path) -> None:
    async def scenario(server: AbciServer, address: str) -> None:
        client = await connect(address)
        await send(client, abci.Request())
        response = await receive(client)
        assert response is not None
        assert response.exception.error == "UnknownRequest: unknown request from client: None"
        assert await receive(client) is None

    run_with_server(tmp_path, scenario)


@pytest.mark.parametrize(
    ("garbage", "logged"),
    [
        (encode_uvarint(4097), "frame of 4097 bytes exceeds the cap of 4096 bytes"),
        (b"\xff" * 11, "runs past 10 bytes"),
        (encode_uvarint(10) + b"abc", "stream ended inside a frame: 3 of 10 bytes"),
        (encode_frame(b"\xff\xff\xff"), "malformed request: Error parsing message"),
    ],
)
def test_rejects_malformed_frame_closing_only_that_connection(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, garbage: bytes, logged: str
) -> None:
    async def scenario(server: AbciServer, address: str) -> None:
        healthy = await connect(address)
        broken = await connect(address)
        broken[1].write(garbage)
        if b"abc" in garbage:
            broken[1].write_eof()  # truncated: the stream ends inside the frame
        assert await receive(broken) is None  # the server closed it, answering nothing
        await send(healthy, abci.Request(echo=abci.RequestEcho(message="still here")))
        response = await receive(healthy)
        assert response is not None and response.echo.message == "still here"
        fresh = await connect(address)  # and it still accepts connections
        await send(fresh, abci.Request(info=abci.RequestInfo()))
        response = await receive(fresh)
        assert response is not None and response.info.data == "recording"

    with caplog.at_level(logging.ERROR, logger="duet.abci"):
        run_with_server(tmp_path, scenario)
    assert logged in caplog.text


def test_tcp_address_listens_on_loopback(tmp_path: Path) -> None:
    async def run() -> None:
        async with AbciServer(BaseApplication(), "tcp://127.0.0.1:0") as server:
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            await send((reader, writer), abci.Request(echo=abci.RequestEcho(message="tcp")))
            response = await receive((reader, writer))
            assert response is not None and response.echo.message == "tcp"
            writer.close()

    asyncio.run(run())


@pytest.mark.parametrize(
    ("address", "message"),
    [
        ("tcp://0.0.0.0:26658", "loopback only, not on '0.0.0.0'"),
        ("tcp://127.0.0.1:", "no port"),
        ("http://127.0.0.1:26658", "expected unix:///path or tcp://host:port"),
        ("unix:///" + "d" * 107, "unix socket path longer than 107 bytes"),
    ],
)
def test_rejects_bad_address(address: str, message: str) -> None:
    with pytest.raises(AbciServerError, match=message):
        parse_address(address)


def test_every_request_reaches_its_application_method() -> None:
    oneof = {f.name for f in abci.Request.DESCRIPTOR.oneofs_by_name["value"].fields}
    assert APP_REQUESTS | {"echo", "flush"} == oneof
    assert all(callable(getattr(BaseApplication, kind, None)) for kind in APP_REQUESTS)
