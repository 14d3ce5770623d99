"""The ABCI socket server: CometBFT connects to it and drives an `Application`.

CometBFT opens four connections (consensus, mempool, info, snapshot) to the address in its
`proxy_app` (`unix:///path` or `tcp://127.0.0.1:port`). On each, it sends framed `Request`s
and expects one `Response` per request, in request order; a `Flush` asks that every response
before it be written out. As CometBFT's own Go server does, one lock serializes the
application's calls across the four connections, so the application never runs two at once;
an application error is answered with a `ResponseException`, after which the connection
closes (CometBFT then halts rather than go on with an application it cannot trust).

A malformed frame or an undecodable message closes that connection only, with a log line:
the server and its other connections go on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path

from google.protobuf.message import DecodeError

from chain.consensus.abci.application import Application
from chain.consensus.abci.framing import MAX_FRAME_BYTES, FrameError, encode_frame, read_frame
from chain.consensus.abci.proto.tendermint.abci import types_pb2 as abci

log = logging.getLogger("duet.abci")

UNIX_SCHEME = "unix://"
TCP_SCHEME = "tcp://"
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
MAX_UNIX_PATH_BYTES = 107  # sun_path is 108 bytes on Linux, one of them the terminating NUL


class AbciServerError(Exception):
    """An address the server cannot listen on."""


class UnknownRequest(Exception):
    """A Request with no value set, or one this server does not know."""


# The requests the application answers: each names both the Request/Response oneof field and
# the Application method (chain/consensus/abci/application.py).
APP_REQUESTS = frozenset(
    {
        "info",
        "query",
        "check_tx",
        "init_chain",
        "prepare_proposal",
        "process_proposal",
        "extend_vote",
        "verify_vote_extension",
        "finalize_block",
        "commit",
        "list_snapshots",
        "offer_snapshot",
        "load_snapshot_chunk",
        "apply_snapshot_chunk",
    }
)


async def dispatch(app: Application, request: abci.Request) -> abci.Response:
    """The application's answer to one request (Echo and Flush are the protocol's own)."""
    kind = request.WhichOneof("value")
    if kind == "echo":
        return abci.Response(echo=abci.ResponseEcho(message=request.echo.message))
    if kind == "flush":
        return abci.Response(flush=abci.ResponseFlush())
    if kind not in APP_REQUESTS:
        raise UnknownRequest(f"unknown request from client: {kind}")
    answer = await getattr(app, kind)(getattr(request, kind))
    return abci.Response(**{kind: answer})


def parse_address(address: str) -> tuple[str, str | Path, int]:
    """("unix", path, 0) or ("tcp", host, port) from a CometBFT `proxy_app` address."""
    if address.startswith(UNIX_SCHEME):
        path = address.removeprefix(UNIX_SCHEME)
        if len(path.encode()) > MAX_UNIX_PATH_BYTES:
            raise AbciServerError(
                f"unix socket path longer than {MAX_UNIX_PATH_BYTES} bytes: {path}"
            )
        return "unix", Path(path), 0
    if address.startswith(TCP_SCHEME):
        host, _, port = address.removeprefix(TCP_SCHEME).rpartition(":")
        if host not in LOOPBACK_HOSTS:
            # The application trusts whoever connects: only this machine may.
            raise AbciServerError(f"ABCI listens on loopback only, not on {host!r}")
        if not port.isdigit():
            raise AbciServerError(f"no port in ABCI address {address!r}")
        return "tcp", host, int(port)
    raise AbciServerError(f"ABCI address {address!r}: expected unix:///path or tcp://host:port")


class AbciServer:
    """Serves `app` at `address` until `close()`; `async with` starts and closes it."""

    def __init__(
        self, app: Application, address: str, max_frame_bytes: int = MAX_FRAME_BYTES
    ) -> None:
        self.app = app
        self.address = address
        self.max_frame_bytes = max_frame_bytes
        self._app_lock = asyncio.Lock()
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()

    async def __aenter__(self) -> AbciServer:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def start(self) -> None:
        kind, where, port = parse_address(self.address)
        if kind == "unix":
            path = Path(where)
            path.unlink(missing_ok=True)  # a socket file left by a previous run
            self._server = await asyncio.start_unix_server(self._serve_connection, path=path)
        else:
            self._server = await asyncio.start_server(self._serve_connection, str(where), port)
        log.info("ABCI server listening on %s", self.address)

    @property
    def port(self) -> int:
        """The TCP port listened on (useful when the address asked for port 0)."""
        assert self._server is not None, "not started"
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    async def close(self) -> None:
        if self._server is None:
            return
        self._server.close()
        for task in list(self._connections):
            task.cancel()
        await asyncio.gather(*self._connections, return_exceptions=True)
        await self._server.wait_closed()
        self._server = None

    async def _serve_connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        try:
            await self._answer_requests(reader, writer)
        except (FrameError, DecodeError) as error:
            log.error("ABCI connection closed: malformed request: %s", error)
        except (ConnectionError, asyncio.IncompleteReadError) as error:
            log.info("ABCI connection lost: %s", error)
        finally:
            self._connections.discard(task)
            writer.close()
            with contextlib.suppress(ConnectionError, asyncio.CancelledError):
                await writer.wait_closed()

    async def _answer_requests(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        while (frame := await read_frame(reader, self.max_frame_bytes)) is not None:
            request = abci.Request.FromString(frame)
            async with self._app_lock:
                try:
                    response = await dispatch(self.app, request)
                except Exception as error:
                    log.exception("ABCI %s failed", request.WhichOneof("value"))
                    await self._write(writer, exception_response(error))
                    return
            # Written at once, in order; a Flush only waits until they are all out.
            await self._write(writer, response)
        log.info("ABCI connection closed by the client")

    @staticmethod
    async def _write(writer: asyncio.StreamWriter, response: abci.Response) -> None:
        writer.write(encode_frame(response.SerializeToString()))
        await writer.drain()


def exception_response(error: Exception) -> abci.Response:
    return abci.Response(exception=abci.ResponseException(error=f"{type(error).__name__}: {error}"))
