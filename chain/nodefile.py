"""node.json: what a running node tells the commands that look for it (`duet status`,
`duet play`, `duet prover`, the bridge commands, reconstruction): its pid, its endpoints and
its L1. The node writes it once it serves and removes it when it stops; one typed reader here.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

NODE_FILE = "node.json"


@dataclass(frozen=True)
class Endpoint:
    """One chain's JSON-RPC endpoint."""

    http: str
    ws: str
    chain_id: int


@dataclass(frozen=True)
class L1Info:
    """The L1 the node settles on, and (with a rollup) the contracts and its agent."""

    http: str
    chain_id: int
    managed: bool  # the node started this L1 (its own anvil)
    rollup: str | None = None
    zkpow: str | None = None
    agent: str | None = None  # the embedded submission agent's address


@dataclass(frozen=True)
class NodeFile:
    pid: int
    executor: str
    fast: Endpoint
    zk: Endpoint
    l1: L1Info | None = None

    @property
    def rollup(self) -> str | None:
        return self.l1.rollup if self.l1 is not None else None

    def to_json(self) -> dict[str, Any]:
        obj = asdict(self)
        if self.l1 is not None and self.l1.rollup is None:  # no settlement: no contract keys
            obj["l1"] = {k: obj["l1"][k] for k in ("http", "chain_id", "managed")}
        return obj

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> NodeFile:
        l1 = obj.get("l1")
        return cls(
            pid=int(obj["pid"]),
            executor=str(obj.get("executor")),
            fast=Endpoint(**obj["fast"]),
            zk=Endpoint(**obj["zk"]),
            l1=L1Info(**l1) if l1 else None,
        )

    def write(self, data_dir: Path) -> None:
        """Atomically: a reader sees the whole file or none."""
        path = data_dir / NODE_FILE
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.to_json(), indent=2))
        os.replace(tmp, path)


def get_node_file_path(data_dir: Path) -> Path:
    return data_dir.expanduser().resolve() / NODE_FILE


def read_node_file(data_dir: Path) -> NodeFile:
    """What the node running on `data_dir` wrote at start; ValueError if no node has
    written it (or what it wrote is not a node file)."""
    path = get_node_file_path(data_dir)
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise ValueError(f"no node is running on {data_dir} ({path} does not exist)") from None
    try:
        return NodeFile.from_json(json.loads(text))
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"{path} is not a node file: {exc!r}") from None


def remove_node_file(data_dir: Path) -> None:
    (data_dir / NODE_FILE).unlink(missing_ok=True)
