"""One way to run a child process: start it, wait until it is ready, stop it cleanly.

Used for anvil (the node's L1 devnet, the L1 tests), and for the nodes and provers the tests
and benchmarks start. The child gets a session of its own, so a Ctrl+C in the terminal
reaches only its parent, which stops it in order, and so a stop reaches whatever the child
started too (its process group). Output goes to a log file (a pipe that nobody reads would
fill up and block a chatty child) or, line by line, to a callback read by a thread.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO

READY_POLL_S = 0.05
STOP_TIMEOUT_S = 10.0
LOG_TAIL_LINES = 60
PR_SET_PDEATHSIG = 1  # prctl(2)


def duet_command() -> list[str]:
    """The `duet` console script of the running interpreter's environment (any venv works)."""
    script = Path(sys.executable).parent / "duet"
    if script.exists():
        return [str(script)]
    # Not installed as a script (e.g. an editable install not done yet): run the entry point.
    return [sys.executable, "-c", "import sys; from chain.cli import main; sys.exit(main())"]


class LaunchError(Exception):
    """The child exited before it was ready, or was not ready in time."""


def die_with_parent() -> None:
    """In the child, before exec: SIGTERM when the parent dies (Linux), even by `kill -9`."""
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def restore_stop_signals() -> None:
    """In the child, before exec: SIGINT and SIGTERM back to their default action. A shell
    starts a background job with SIGINT ignored, an ignored signal stays ignored across exec,
    and a child that inherited it would never answer its stop signal."""
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, signal.SIG_DFL)


def prepare_tied_child() -> None:
    restore_stop_signals()
    die_with_parent()


class ChildProcess:
    """`command` as a child; `start()`, `wait_ready(...)`, `stop()` (or `with`)."""

    def __init__(
        self,
        command: Sequence[str],
        *,
        log: Path | None = None,
        on_line: Callable[[bytes], None] | None = None,
        cwd: Path | None = None,
        env: dict[str, str] | None = None,
        stop_signal: signal.Signals = signal.SIGINT,
        stop_timeout_s: float = STOP_TIMEOUT_S,
        tied_to_parent: bool = False,
    ) -> None:
        self.command = list(command)
        self.log = log
        self.on_line = on_line
        self.cwd = cwd
        self.env = env
        self.stop_signal = stop_signal
        self.stop_timeout_s = stop_timeout_s
        self.tied_to_parent = tied_to_parent
        self.process: subprocess.Popen[bytes] | None = None
        self._sink: IO[bytes] | None = None
        self._tail: list[bytes] = []  # the last lines seen by the reader thread

    def __enter__(self) -> ChildProcess:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def pid(self) -> int:
        assert self.process is not None, "not started"
        return self.process.pid

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self) -> ChildProcess:
        assert not self.running, "already running"
        output: int | IO[bytes] = subprocess.DEVNULL
        if self.on_line is not None:
            output = subprocess.PIPE
        elif self.log is not None:
            self._sink = self.log.open("ab")
            output = self._sink
        self.process = subprocess.Popen(
            self.command,
            cwd=self.cwd,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=prepare_tied_child if self.tied_to_parent else restore_stop_signals,
        )
        if self.on_line is not None:
            threading.Thread(target=self._read_lines, daemon=True).start()
        return self

    def _read_lines(self) -> None:
        # Read for good, not only until ready: the pipe must never fill.
        assert self.process is not None and self.process.stdout is not None
        assert self.on_line is not None
        for line in self.process.stdout:
            self._tail = [*self._tail[-LOG_TAIL_LINES + 1 :], line]
            self.on_line(line)

    def wait_ready(self, is_ready: Callable[[], bool], timeout_s: float, what: str) -> None:
        """Poll `is_ready` until it holds; LaunchError (the child stopped) if the child
        exits first or `timeout_s` passes."""
        deadline = time.monotonic() + timeout_s
        while not is_ready():
            assert self.process is not None, "not started"
            if self.process.poll() is not None:
                self.stop()
                raise LaunchError(
                    f"{what} exited with code {self.process.returncode} before it was ready; "
                    f"output tail:\n{self.read_tail()}"
                )
            if time.monotonic() > deadline:
                self.stop()
                raise LaunchError(
                    f"{what} not ready after {timeout_s:.0f} s; output tail:\n{self.read_tail()}"
                )
            time.sleep(READY_POLL_S)

    def stop(self) -> int | None:
        """The stop signal to the child (which stops what it started in order), then SIGKILL
        to its group if it still runs after the timeout, and to what it left behind. The
        exit code (None if never started)."""
        process = self.process
        if process is None:
            return None
        if process.poll() is None:
            process.send_signal(self.stop_signal)
            try:
                process.wait(self.stop_timeout_s)
            except subprocess.TimeoutExpired:
                self.signal_group(signal.SIGKILL)
                process.wait()
        self.signal_group(signal.SIGKILL)  # helpers the child left behind
        self._close_sink()
        return process.returncode

    def kill(self) -> None:
        """SIGKILL to the child and its group at once: it vanishes mid-work."""
        if self.process is None:
            return
        self.signal_group(signal.SIGKILL)
        self.process.wait(self.stop_timeout_s)
        self._close_sink()

    def signal_group(self, signum: signal.Signals) -> None:
        # The group id is the child's pid: it was started in a session of its own.
        assert self.process is not None
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signum)

    def _close_sink(self) -> None:
        if self._sink is not None:
            self._sink.close()
            self._sink = None

    def read_tail(self, lines: int = LOG_TAIL_LINES) -> str:
        if self.on_line is not None:
            return b"".join(self._tail[-lines:]).decode(errors="replace")
        if self.log is None:
            return "(output not kept)"
        try:
            text = self.log.read_text(errors="replace")
        except FileNotFoundError:
            return "(no output file)"
        return "\n".join(text.splitlines()[-lines:])
