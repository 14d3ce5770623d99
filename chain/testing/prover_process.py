"""Market provers as separate processes: `duet prover`, or a cheating one for the tests.

A cheating prover runs the same loop (chain/client/prover/loop.py) with `cheat=True`: it
proves, then flips the bytes of each result before it signs and submits it.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from chain.launcher import ChildProcess, duet_command
from chain.testing.node_process import REPO

CHEATER = """
import asyncio, sys
from chain.client.prover.rpc_link import RpcLink
from chain.config import MarketConfig
from chain.client.prover.loop import ProverLoop

async def main(http, ws, key):
    async with RpcLink(http, ws, key) as link:
        market = await link.call("duet_getProverMarket", [])
        cfg = MarketConfig(**market["config"])
        await ProverLoop(link, key, cfg, cheat=True).run()

asyncio.run(main(sys.argv[1], sys.argv[2], bytes.fromhex(sys.argv[3])))
"""


class ProverProcess:
    def __init__(self, zk_http: str, key: bytes, log: Path, cheat: bool = False) -> None:
        self.zk_http = zk_http
        self.key = key
        self.log = log
        self.cheat = cheat
        self.child: ChildProcess | None = None

    def start(self) -> ProverProcess:
        if self.cheat:
            ws = "ws" + self.zk_http[4:]
            args = [sys.executable, "-c", CHEATER, self.zk_http, ws, self.key.hex()]
        else:
            args = [
                *duet_command(),
                "prover",
                "--key",
                self.key.hex(),
                "--node-url",
                self.zk_http,
                "--plain",
            ]
        self.child = ChildProcess(args, log=self.log, cwd=REPO).start()
        return self

    def kill(self) -> None:
        """SIGKILL to the prover and its proving processes: it vanishes mid-job."""
        if self.running:
            assert self.child is not None
            self.child.kill()

    @property
    def proc(self) -> subprocess.Popen[bytes] | None:
        return self.child.process if self.child is not None else None

    @property
    def running(self) -> bool:
        return self.child is not None and self.child.running
