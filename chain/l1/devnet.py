"""The L1 devnet: anvil (npm @foundry-rs/anvil), started and stopped with the dev node.

Its state lives in the node's data directory (`l1/state.json`): anvil loads it at start and
writes it every second and when it exits, so a restarted stack finds its L1 as it left it.
It mines a block per transaction, at once, and one every DEV_L1_BLOCK_TIME_S besides (anvil's
mixed mining), so L1 time passes as on a real chain: the rollup's slots and grace period
count L1 blocks.
anvil is told to die with the node (Linux's parent-death signal), so even a node killed with
`kill -9` does not leave it running, and the SIGTERM it gets makes it write its state first.
"""

import asyncio
import contextlib
import ctypes
import logging
import platform
import re
import signal
from dataclasses import dataclass
from pathlib import Path

from chain.l1.config import DEV_L1_BLOCK_TIME_S

log = logging.getLogger("duet.l1")

REPO = Path(__file__).resolve().parents[2]
FOUNDRY_DIR = REPO / "node_modules" / "@foundry-rs"
ARCHITECTURES = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}


def find_anvil_binary() -> Path:
    """anvil's own binary, from the npm package for this platform. Not the `.bin/anvil` shim:
    that is a Node script around the binary, and a signal it cannot forward (SIGKILL) would
    leave the binary running."""
    system = platform.system().lower()
    arch = ARCHITECTURES.get(platform.machine().lower(), platform.machine().lower())
    return FOUNDRY_DIR / f"anvil-{system}-{arch}" / "bin" / "anvil"


ANVIL_BIN = find_anvil_binary()
L1_DIR = "l1"
STATE_FILE = "state.json"
STATE_INTERVAL_S = 1  # the most L1 state a power cut can cost
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0
LISTENING = re.compile(rb"Listening on (\S+):(\d+)")
PR_SET_PDEATHSIG = 1


class DevnetError(Exception):
    """anvil could not be started."""


@dataclass(frozen=True)
class L1Endpoint:
    http: str
    chain_id: int
    managed: bool  # started by this node (anvil), rather than named by --l1-rpc


def compute_anvil_command(data_dir: Path, host: str) -> list[str]:
    state = data_dir / L1_DIR / STATE_FILE
    return [
        str(ANVIL_BIN),
        "--host",
        host,
        "--port",
        "0",  # anvil picks a free port and says which
        "--state",
        str(state),
        "--state-interval",
        str(STATE_INTERVAL_S),
        "--block-time",
        str(DEV_L1_BLOCK_TIME_S),
        "--mixed-mining",
    ]


def _die_with_parent() -> None:
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


class Devnet:
    """A running anvil; `start` it, read `url`, `stop` it."""

    def __init__(self, data_dir: Path, host: str = "127.0.0.1") -> None:
        self.data_dir = data_dir
        self.host = host
        self.process: asyncio.subprocess.Process | None = None
        self.url = ""
        self._log_task: asyncio.Task[None] | None = None

    async def start(self) -> str:
        if not ANVIL_BIN.exists():
            raise DevnetError(f"{ANVIL_BIN} is missing: install the node tooling (./demo.sh setup)")
        (self.data_dir / L1_DIR).mkdir(parents=True, exist_ok=True)
        self.process = await asyncio.create_subprocess_exec(
            *compute_anvil_command(self.data_dir, self.host),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            preexec_fn=_die_with_parent,
        )
        try:
            self.url = await asyncio.wait_for(self._read_address(), START_TIMEOUT_S)
        except (TimeoutError, DevnetError):
            await self.stop()
            raise
        self._log_task = asyncio.create_task(self._drain())
        log.info("L1 devnet (anvil): %s, state in %s", self.url, self.data_dir / L1_DIR)
        return self.url

    async def _read_address(self) -> str:
        assert self.process is not None and self.process.stdout is not None
        seen: list[bytes] = []
        while line := await self.process.stdout.readline():
            seen.append(line)
            match = LISTENING.search(line)
            if match:
                return f"http://{match[1].decode()}:{match[2].decode()}/"
        output = b"".join(seen[-20:]).decode(errors="replace")
        raise DevnetError(f"anvil exited before listening:\n{output}")

    async def _drain(self) -> None:
        """Read anvil's output so its pipe never fills; it logs every request."""
        assert self.process is not None and self.process.stdout is not None
        while await self.process.stdout.readline():
            pass

    async def stop(self) -> None:
        """SIGTERM (anvil writes its state), then SIGKILL if it does not exit in time."""
        process = self.process
        if process is None or process.returncode is not None:
            return
        process.terminate()
        try:
            await asyncio.wait_for(process.wait(), STOP_TIMEOUT_S)
        except TimeoutError:
            log.warning("anvil did not stop within %s s; killing it", STOP_TIMEOUT_S)
            process.kill()
            await process.wait()
        if self._log_task is not None:
            self._log_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._log_task
