"""A real `duet node` process (dev mode unless told otherwise) on loopback, driven the way an
operator would drive it (the integration tests, the benchmarks)."""

from __future__ import annotations

import atexit
import json
import subprocess
import time
from pathlib import Path
from typing import Any

from chain.launcher import ChildProcess, duet_command
from chain.nodefile import NODE_FILE

REPO = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 60.0
STOP_GRACE_S = 15.0
STATUS_TIMEOUT_S = 30.0
# The node's own output goes to this file inside the data directory: a pipe that nobody reads
# would fill up and block a chatty node.
OUTPUT_LOG = "test-node-output.log"


def run_status(data_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*duet_command(), "status", "--json", "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        timeout=STATUS_TIMEOUT_S,
        cwd=REPO,
    )


class NodeStartError(AssertionError):
    pass


# Fixture finalizers stop every node; this catches the rest (an interrupted session).
_LIVE: set[NodeProcess] = set()


@atexit.register
def _kill_leftovers() -> None:
    for node in list(_LIVE):
        node.kill9()


class NodeProcess:
    """One node on one data directory; `restart()` brings it back on the same directory."""

    def __init__(
        self, data_dir: Path, *extra_args: str, mode: tuple[str, ...] = ("--dev",)
    ) -> None:
        self.data_dir = Path(data_dir)
        self.extra_args = list(extra_args)
        self.mode = list(mode)  # dev, or e.g. ("--consensus", "cometbft", "--cometbft-home", H)
        self.child: ChildProcess | None = None
        self.status: dict[str, Any] = {}

    @property
    def proc(self) -> subprocess.Popen[bytes] | None:
        return self.child.process if self.child is not None else None

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> NodeProcess:
        assert not self.running, "node already running"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            log.write(f"\n=== start {time.strftime('%H:%M:%S')} ===\n".encode())
        args = [
            *duet_command(),
            "node",
            *self.mode,
            "--data-dir",
            str(self.data_dir),
            "--fast-port",
            "0",
            "--zk-port",
            "0",
            *self.extra_args,
        ]
        self.child = ChildProcess(args, log=self.log_path, cwd=REPO, stop_timeout_s=STOP_GRACE_S)
        self.child.start()
        _LIVE.add(self)
        self._wait_ready()
        return self

    def _wait_ready(self) -> None:
        assert self.child is not None and self.child.process is not None
        process = self.child.process
        deadline = time.monotonic() + START_TIMEOUT_S
        node_json = self.data_dir / NODE_FILE
        last_status = "(never ran)"
        next_blind_try = time.monotonic() + 5.0
        while time.monotonic() < deadline:
            if process.poll() is not None:
                self._reap()
                raise NodeStartError(
                    f"duet node exited early with code {process.returncode}; "
                    f"output tail:\n{self.log_tail()}"
                )
            # `status` is a whole Python start-up: only ask once the node says it listens (or now
            # and then, in case node.json is late), not in a tight loop.
            if node_json.exists() or time.monotonic() >= next_blind_try:
                next_blind_try = time.monotonic() + 3.0
                result = run_status(self.data_dir)
                last_status = f"rc={result.returncode} out={result.stdout!r} err={result.stderr!r}"
                if result.returncode == 0:
                    status = json.loads(result.stdout)
                    # A node.json left behind by a killed predecessor names a dead pid.
                    if status.get("pid") == process.pid:
                        self.status = status
                        return
            time.sleep(0.1)
        self.kill9()
        raise NodeStartError(
            f"duet node not ready after {START_TIMEOUT_S:.0f} s; last status: {last_status}; "
            f"output tail:\n{self.log_tail()}"
        )

    def stop(self) -> int | None:
        """SIGINT, then SIGKILL after the grace period. Returns the exit code (None if not run)."""
        if self.child is None:
            return None
        code = self.child.stop()
        self._reap()
        return code

    def kill9(self) -> None:
        if self.child is None:
            return
        self.child.kill()
        self._reap()

    def restart(self) -> NodeProcess:
        self.stop()
        return self.start()

    @property
    def running(self) -> bool:
        return self.child is not None and self.child.running

    def _reap(self) -> None:
        _LIVE.discard(self)

    # -- endpoints ---------------------------------------------------------------------------

    @property
    def fast_http(self) -> str:
        return str(self.status["fast"]["http"])

    @property
    def l1_http(self) -> str:
        return str(self.status["l1"]["http"])

    @property
    def fast_ws(self) -> str:
        return str(self.status["fast"]["ws"])

    @property
    def zk_http(self) -> str:
        return str(self.status["zk"]["http"])

    @property
    def zk_ws(self) -> str:
        return str(self.status["zk"]["ws"])

    def read_status(self) -> dict[str, Any]:
        """Runs `duet status --json` again (heads move; the endpoints do not until restart)."""
        result = run_status(self.data_dir)
        assert result.returncode == 0, f"duet status failed: {result.stderr}"
        self.status = json.loads(result.stdout)
        return self.status

    # -- diagnostics -------------------------------------------------------------------------

    @property
    def log_path(self) -> Path:
        return self.data_dir / OUTPUT_LOG

    def log_tail(self, lines: int = 60) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return "(no output file)"
        return "\n".join(text.splitlines()[-lines:])

    def __repr__(self) -> str:
        pid = self.proc.pid if self.proc else None
        return f"NodeProcess(pid={pid}, data_dir={self.data_dir})"
