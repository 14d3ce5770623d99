"""anvil (npm @foundry-rs/anvil): the one launcher, for the dev node's L1 and for tools.

`with Anvil() as url:` runs a throwaway anvil on loopback (a free port, no state file), for
the settlement tests, benchmark and drills; the dev node's devnet (chain/l1/devnet.py) runs
the same launcher with a state file in its data directory. anvil dies with the process that
started it (Linux's parent-death signal), so even a killed run leaves none behind, and the
SIGTERM it gets on a stop makes it write its state first.
"""

import platform
import re
import signal
from pathlib import Path

from chain.l1.errors import L1Error
from chain.launcher import ChildProcess, LaunchError

REPO = Path(__file__).resolve().parents[2]
FOUNDRY_DIR = REPO / "node_modules" / "@foundry-rs"
ARCHITECTURES = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0
LISTENING = re.compile(rb"Listening on (\S+):(\d+)")


def find_anvil_binary() -> Path:
    """anvil's own binary, from the npm package for this platform. Not the `.bin/anvil` shim:
    that is a Node script around the binary, and a signal it cannot forward (SIGKILL) would
    leave the binary running."""
    system = platform.system().lower()
    arch = ARCHITECTURES.get(platform.machine().lower(), platform.machine().lower())
    return FOUNDRY_DIR / f"anvil-{system}-{arch}" / "bin" / "anvil"


ANVIL_BIN = find_anvil_binary()


class Anvil:
    """An anvil on `host`, on the free port it picks and says; `start` returns its URL."""

    def __init__(self, *extra_args: str, host: str = "127.0.0.1") -> None:
        command = [str(ANVIL_BIN), "--host", host, "--port", "0", *extra_args]
        self.child = ChildProcess(
            command,
            on_line=self._on_line,
            stop_signal=signal.SIGTERM,  # anvil writes its state on SIGTERM
            stop_timeout_s=STOP_TIMEOUT_S,
            tied_to_parent=True,
        )
        self.url = ""

    def __enter__(self) -> str:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def start(self) -> str:
        if not ANVIL_BIN.exists():
            raise L1Error(f"{ANVIL_BIN} is missing: install the node tooling (./demo.sh setup)")
        self.child.start()
        try:
            self.child.wait_ready(lambda: bool(self.url), START_TIMEOUT_S, "anvil")
        except LaunchError as exc:
            raise L1Error(str(exc)) from None
        return self.url

    def _on_line(self, line: bytes) -> None:
        match = LISTENING.search(line)
        if match and not self.url:
            self.url = f"http://{match[1].decode()}:{match[2].decode()}/"

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if anvil does not exit in time."""
        self.child.stop()
