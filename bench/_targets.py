"""The nodes a benchmark measures, each started on loopback and stopped afterwards.

A target is a name plus a launcher: a context manager that, given a scratch directory, runs
the node as a subprocess, yields a `Node` (its fast-chain JSON-RPC URL, once it answers, and
its process group), and stops the process on exit, whatever happened in between (an error,
Ctrl+C). Adding a target is one `Target(...)` line in `TARGETS`.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

READY_TIMEOUT_S = 60.0
READY_POLL_S = 0.2
STATUS_CALL_TIMEOUT_S = 15.0
STOP_TIMEOUT_S = 10.0
LOG_TAIL_LINES = 40


@dataclass(frozen=True)
class Node:
    url: str
    pgid: int  # the node runs in a process group of its own


Launcher = Callable[[Path], AbstractContextManager[Node]]


class TargetError(RuntimeError):
    """A node could not be found, did not start, or died while starting."""


@dataclass(frozen=True)
class Target:
    name: str
    launch: Launcher


def duet_node(*extra_args: str) -> Launcher:
    """`duet node --dev` on free ports; its URL comes from `duet status --json`."""

    @contextmanager
    def launch(workdir: Path) -> Iterator[Node]:
        duet = get_duet_bin()
        data_dir = workdir / "data"
        log = workdir / "node.log"
        command = [duet, "node", "--dev", "--data-dir", str(data_dir)]
        command += ["--fast-port", "0", "--zk-port", "0", *extra_args]
        with running(command, log) as process:
            yield Node(wait_for_duet(process, duet, data_dir, log), process.pid)

    return launch


def anvil_node(*extra_args: str) -> Launcher:
    """anvil with its default auto-mining (one block per transaction, mined on arrival)."""

    @contextmanager
    def launch(workdir: Path) -> Iterator[Node]:
        port = find_free_port()
        log = workdir / "anvil.log"
        command = [get_anvil_bin(), "--port", str(port), "--host", "127.0.0.1", "--silent"]
        with running([*command, *extra_args], log) as process:
            url = f"http://127.0.0.1:{port}/"
            wait_for_rpc(process, url, log)
            yield Node(url, process.pid)

    return launch


TARGETS: list[Target] = [
    Target("duet", duet_node()),  # the default executor (revm)
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


@contextmanager
def running(command: list[str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """Run `command` with its output in `log`; always stop it (and its children) on exit.

    The process gets a session of its own so that a Ctrl+C in the terminal reaches only the
    benchmark, which then stops the node in order rather than racing it.
    """
    with log.open("wb") as sink:
        process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=sink, stderr=sink, start_new_session=True
        )
        try:
            yield process
        finally:
            stop_process_group(process)


def stop_process_group(process: subprocess.Popen[bytes]) -> None:
    """SIGINT to the group, SIGKILL to whatever still runs STOP_TIMEOUT_S later."""
    deadline = time.monotonic() + STOP_TIMEOUT_S
    signal_group(process, signal.SIGINT)
    with suppress(subprocess.TimeoutExpired):
        process.wait(timeout=STOP_TIMEOUT_S)
    # npm's anvil launcher exits as soon as it has passed the signal on, before anvil does.
    while is_group_running(process.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    signal_group(process, signal.SIGKILL)
    process.wait()


def signal_group(process: subprocess.Popen[bytes], signum: signal.Signals) -> None:
    # The group id is the leader's pid because the process was started in a new session.
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signum)


def wait_for_duet(process: subprocess.Popen[bytes], duet: str, data_dir: Path, log: Path) -> str:
    """Poll `duet status --json` until the node has written its endpoints."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    status_command = [duet, "status", "--json", "--data-dir", str(data_dir)]
    while time.monotonic() < deadline:
        ensure_alive(process, log)
        try:
            done = subprocess.run(
                status_command, capture_output=True, timeout=STATUS_CALL_TIMEOUT_S, check=False
            )
        except subprocess.TimeoutExpired:
            continue
        if done.returncode == 0:
            url: str = json.loads(done.stdout)["fast"]["http"]
            return url
        time.sleep(READY_POLL_S)
    raise TargetError(f"duet node not ready after {READY_TIMEOUT_S:.0f} s\n{read_tail(log)}")


def wait_for_rpc(process: subprocess.Popen[bytes], url: str, log: Path) -> None:
    """Poll eth_chainId until the endpoint answers."""
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []})
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        ensure_alive(process, log)
        request = urllib.request.Request(
            url, data=body.encode(), headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=2.0) as response:
                if "result" in json.loads(response.read()):
                    return
        except (OSError, ValueError):
            pass
        time.sleep(READY_POLL_S)
    raise TargetError(f"{url} did not answer eth_chainId in {READY_TIMEOUT_S:.0f} s")


def ensure_alive(process: subprocess.Popen[bytes], log: Path) -> None:
    code = process.poll()
    if code is not None:
        raise TargetError(f"{process.args!r} exited with code {code}\n{read_tail(log)}")


def read_tail(log: Path) -> str:
    try:
        lines = log.read_text(errors="replace").splitlines()
    except OSError:
        return "(no output)"
    return "\n".join(lines[-LOG_TAIL_LINES:]) or "(no output)"


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


def is_group_running(pgid: int) -> bool:
    members = read_group_stats(pgid)
    if members is None:
        try:
            os.killpg(pgid, 0)
        except (ProcessLookupError, PermissionError):
            return False
        return True
    return any(fields[0] not in "ZX" for fields in members)  # zombie or dead


def get_group_cpu_s(pgid: int) -> float | None:
    """CPU time (user + system) of the live processes in a group; None off Linux."""
    members = read_group_stats(pgid)
    if members is None:
        return None
    ticks = sum(int(fields[11]) + int(fields[12]) for fields in members)  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")
