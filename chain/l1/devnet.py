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
import logging
from dataclasses import dataclass
from pathlib import Path

from chain.l1.anvil import ANVIL_BIN, Anvil
from chain.l1.config import DEV_L1_BLOCK_TIME_S
from chain.l1.errors import L1Error

log = logging.getLogger("duet.l1")

L1_DIR = "l1"
STATE_FILE = "state.json"
STATE_INTERVAL_S = 1  # the most L1 state a power cut can cost


class DevnetError(Exception):
    """anvil could not be started."""


@dataclass(frozen=True)
class L1Endpoint:
    http: str
    chain_id: int
    managed: bool  # started by this node (anvil), rather than named by --l1-rpc


def compute_devnet_args(data_dir: Path) -> list[str]:
    """anvil's arguments beyond host and port: the state file, and mixed mining."""
    state = data_dir / L1_DIR / STATE_FILE
    return [
        "--state",
        str(state),
        "--state-interval",
        str(STATE_INTERVAL_S),
        "--block-time",
        str(DEV_L1_BLOCK_TIME_S),
        "--mixed-mining",
    ]


class Devnet:
    """A running anvil; `start` it, read `url`, `stop` it."""

    def __init__(self, data_dir: Path, host: str = "127.0.0.1") -> None:
        self.data_dir = data_dir
        self.host = host
        self.anvil: Anvil | None = None
        self.url = ""

    async def start(self) -> str:
        if not ANVIL_BIN.exists():
            raise DevnetError(f"{ANVIL_BIN} is missing: install the node tooling (./demo.sh setup)")
        (self.data_dir / L1_DIR).mkdir(parents=True, exist_ok=True)
        self.anvil = Anvil(*compute_devnet_args(self.data_dir), host=self.host)
        try:
            self.url = await asyncio.to_thread(self.anvil.start)
        except L1Error as exc:
            raise DevnetError(str(exc)) from None
        log.info("L1 devnet (anvil): %s, state in %s", self.url, self.data_dir / L1_DIR)
        return self.url

    async def stop(self) -> None:
        """SIGTERM (anvil writes its state), then SIGKILL if it does not exit in time."""
        if self.anvil is not None:
            await asyncio.to_thread(self.anvil.stop)
