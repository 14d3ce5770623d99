"""A throwaway anvil for tools and tests: no state file, a free port, stopped on exit.

The dev node's L1 is `chain.l1.devnet` (asyncio, state kept in the data directory). This one
is synchronous, for code that runs outside an event loop: the settlement tests and benchmark,
later a reconstruction check. anvil dies with the process that started it (Linux's
parent-death signal), so even a killed test run leaves none behind.
"""

import ctypes
import signal
import subprocess
import threading
import time
from types import TracebackType

from chain.l1.devnet import ANVIL_BIN, LISTENING, PR_SET_PDEATHSIG
from chain.l1.errors import L1Error

START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0


def _die_with_parent() -> None:
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


class Anvil:
    """`with Anvil() as url:` an anvil on loopback, stopped when the block ends."""

    def __init__(self, *extra_args: str) -> None:
        self.extra_args = extra_args
        self.process: subprocess.Popen[bytes] | None = None
        self.url = ""

    def __enter__(self) -> str:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> str:
        if not ANVIL_BIN.exists():
            raise L1Error(f"{ANVIL_BIN} is missing: install the node tooling (./demo.sh setup)")
        command = [str(ANVIL_BIN), "--host", "127.0.0.1", "--port", "0", *self.extra_args]
        self.process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, preexec_fn=_die_with_parent
        )
        found = threading.Event()
        # anvil logs every request: a thread reads its output for good so the pipe never fills.
        threading.Thread(target=self._read_output, args=(found,), daemon=True).start()
        deadline = time.monotonic() + START_TIMEOUT_S
        while not found.wait(0.05):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise L1Error("anvil exited or did not listen in time")
        return self.url

    def _read_output(self, found: threading.Event) -> None:
        assert self.process is not None and self.process.stdout is not None
        for line in self.process.stdout:
            match = LISTENING.search(line)
            if match and not found.is_set():
                self.url = f"http://{match[1].decode()}:{match[2].decode()}/"
                found.set()

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if anvil does not exit in time."""
        process = self.process
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
