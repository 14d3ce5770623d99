"""The nodes a benchmark measures, each started on loopback and stopped afterwards.

A target is a name plus a launcher: a context manager that, given a scratch directory, runs
the node as a child process (`chain.launcher.ChildProcess`: a session of its own, output in a
log file there), yields a `Node` (its fast-chain JSON-RPC URL, once it answers, and its
process group), and stops the process on exit, whatever happened in between (an error,
Ctrl+C). Adding a target is one `Target(...)` line in `TARGETS`.
"""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path

from chain.jsonrpc import NodeUnreachable, RpcClient, RpcError
from chain.launcher import ChildProcess
from chain.nodefile import NodeFile, read_node_file

ROOT = Path(__file__).resolve().parent.parent

READY_TIMEOUT_S = 60.0
PROBE_TIMEOUT_S = 2.0  # one eth_chainId while a node starts
STOP_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class Node:
    url: str
    pgid: int  # the node runs in a process group of its own
    endpoints: NodeFile | None = None  # what a duet node wrote at start (its ZK chain's too)


Launcher = Callable[[Path], AbstractContextManager[Node]]


class TargetError(RuntimeError):
    """A node's program could not be found."""


@dataclass(frozen=True)
class Target:
    name: str
    launch: Launcher


def duet_node(*extra_args: str) -> Launcher:
    """`duet node --dev` on free ports; its URLs come from the node file it writes."""

    @contextmanager
    def launch(workdir: Path) -> Iterator[Node]:
        data_dir = workdir / "data"
        command = [get_duet_bin(), "node", "--dev", "--data-dir", str(data_dir)]
        command += ["--fast-port", "0", "--zk-port", "0", *extra_args]
        with make_child(command, workdir / "node.log") as child:
            child.wait_ready(lambda: is_duet_ready(data_dir), READY_TIMEOUT_S, "duet node")
            endpoints = read_node_file(data_dir)
            yield Node(endpoints.fast.http, child.pid, endpoints)

    return launch


def anvil_node(*extra_args: str) -> Launcher:
    """anvil with its default auto-mining (one block per transaction, mined on arrival)."""

    @contextmanager
    def launch(workdir: Path) -> Iterator[Node]:
        port = find_free_port()
        command = [get_anvil_bin(), "--port", str(port), "--host", "127.0.0.1", "--silent"]
        url = f"http://127.0.0.1:{port}/"
        with make_child([*command, *extra_args], workdir / "anvil.log") as child:
            child.wait_ready(lambda: is_answering(url), READY_TIMEOUT_S, "anvil")
            yield Node(url, child.pid)

    return launch


TARGETS: list[Target] = [
    Target("duet", duet_node()),  # the dev stack as users run it: revm, prover, anvil, agent
    Target("duet_bare", duet_node("--no-prover", "--no-l1")),  # the two chains alone
    Target("duet_pyevm", duet_node("--executor", "pyevm")),
    Target("anvil", anvil_node()),
]


def get_duet_bin() -> str:
    """DUET_BIN, else the `duet` script installed beside the running interpreter."""
    override = os.environ.get("DUET_BIN")
    if override:
        return override
    for candidate in (Path(sys.executable).parent / "duet", ROOT / ".venv" / "bin" / "duet"):
        if candidate.exists():
            return str(candidate)
    raise TargetError("duet not found: install the project (pip install -e .) or set DUET_BIN")


def get_anvil_bin() -> str:
    """DUET_ANVIL, else the project's npm-installed anvil."""
    override = os.environ.get("DUET_ANVIL")
    if override:
        return override
    anvil = ROOT / "node_modules" / ".bin" / "anvil"
    if not anvil.exists():
        raise TargetError(f"anvil not found at {anvil}: run `npm install` or set DUET_ANVIL")
    return str(anvil)


def find_free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def make_child(command: list[str], log: Path) -> ChildProcess:
    """`command` as a child with its output in `log`: `with` starts it, and stops it (SIGINT,
    then SIGKILL to its group) when the block ends.

    The child gets a session of its own so that a Ctrl+C in the terminal reaches only the
    benchmark, which then stops the node in order rather than racing it.
    """
    return ChildProcess(command, log=log, stop_timeout_s=STOP_TIMEOUT_S)


def is_duet_ready(data_dir: Path) -> bool:
    """The node has written its node file and its fast chain answers."""
    try:
        endpoints = read_node_file(data_dir)
    except ValueError:
        return False
    return is_answering(endpoints.fast.http)


def is_answering(url: str) -> bool:
    """`url` answers eth_chainId."""
    try:
        RpcClient(url, timeout_s=PROBE_TIMEOUT_S).call("eth_chainId")
    except (NodeUnreachable, RpcError):
        return False
    return True


def read_group_stats(pgid: int) -> list[list[str]] | None:
    """/proc/PID/stat fields, from `state` on, of each process in a group; None off Linux."""
    proc = Path("/proc")
    if not proc.is_dir():
        return None
    members = []
    for stat in proc.glob("[0-9]*/stat"):
        try:
            # The command name is in parentheses and may itself hold spaces.
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:  # pgrp
            members.append(fields)
    return members


def get_group_cpu_s(pgid: int) -> float | None:
    """CPU time (user + system) of the live processes in a group; None off Linux."""
    members = read_group_stats(pgid)
    if members is None:
        return None
    ticks = sum(int(fields[11]) + int(fields[12]) for fields in members)  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")
