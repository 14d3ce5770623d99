"""`duet play --rpc URL`: a URL that is no node's gets a clear error, not a traceback."""

from __future__ import annotations

import socket

import pytest

from game.play import ask_endpoints


def test_rejects_a_url_where_no_node_answers() -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(ValueError, match="is not a Duet node's JSON-RPC"):
        ask_endpoints(f"http://127.0.0.1:{port}/")
