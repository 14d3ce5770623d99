"""node.json: written whole by the node, read typed by every command that looks for it."""

import json
from pathlib import Path

import pytest

from chain.nodefile import NODE_FILE, Endpoint, L1Info, NodeFile, read_node_file, remove_node_file

FAST = Endpoint("http://127.0.0.1:1/", "ws://127.0.0.1:1/", 1)
ZK = Endpoint("http://127.0.0.1:2/", "ws://127.0.0.1:2/", 2)


def test_round_trip_with_a_rollup(tmp_path: Path) -> None:
    l1 = L1Info("http://127.0.0.1:3/", 31337, True, rollup="0x" + "11" * 20, zkpow=None)
    written = NodeFile(42, "revm", FAST, ZK, l1)
    written.write(tmp_path)
    assert read_node_file(tmp_path) == written
    assert read_node_file(tmp_path).rollup == "0x" + "11" * 20
    assert json.loads((tmp_path / NODE_FILE).read_text())["l1"]["agent"] is None


def test_l1_without_rollup_keeps_only_its_endpoint(tmp_path: Path) -> None:
    NodeFile(42, "revm", FAST, ZK, L1Info("http://x/", 4242, False)).write(tmp_path)
    obj = json.loads((tmp_path / NODE_FILE).read_text())
    assert obj["l1"] == {"http": "http://x/", "chain_id": 4242, "managed": False}
    assert obj["fast"] == {"http": FAST.http, "ws": FAST.ws, "chain_id": 1}
    assert read_node_file(tmp_path).rollup is None


def test_rejects_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no node is running on"):
        read_node_file(tmp_path)


def test_rejects_a_file_that_is_not_a_node_file(tmp_path: Path) -> None:
    (tmp_path / NODE_FILE).write_text(json.dumps({"pid": 1}))
    with pytest.raises(ValueError, match="is not a node file"):
        read_node_file(tmp_path)


def test_remove_leaves_no_file(tmp_path: Path) -> None:
    NodeFile(1, "revm", FAST, ZK).write(tmp_path)
    remove_node_file(tmp_path)
    remove_node_file(tmp_path)  # twice: nothing to remove is fine
    with pytest.raises(ValueError, match="no node is running"):
        read_node_file(tmp_path)
