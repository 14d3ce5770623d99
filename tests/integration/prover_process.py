"""Market provers as separate processes: `duet prover`, or a cheating one for the tests.

A cheating prover runs the same loop (chain/market/prover_loop.py) with `cheat=True`: it
proves, then flips the bytes of each result before it signs and submits it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from tests.integration.node_process import REPO, duet_command

CHEATER = """
import asyncio, sys
from chain.market.agent import RpcLink
from chain.config import MarketConfig
from chain.market.prover_loop import ProverLoop

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
        self.proc: subprocess.Popen[bytes] | None = None

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
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                args, cwd=REPO, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        return self

    def kill(self) -> None:
        """SIGKILL to the prover and its proving processes: it vanishes mid-job."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None
