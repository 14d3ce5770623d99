"""The dev node's embedded prover: proves every committed operation, oldest first.

Proving takes about a second of CPU per operation, so it runs in a separate process: the
node's event loop (and with it the fast chain's millisecond blocks) never waits for it. The
node checks each proof against the statement it stored before it records it as proven.
(The prover market replaces this worker with jobs assigned to outside provers.)
"""

import asyncio
import functools
import logging
import multiprocessing
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from chain.ledger.store import ZkOpRecord
from chain.prover.errors import ProverError
from chain.prover.groth16 import Proof, load_circuit, load_verifier, prove, verify

log = logging.getLogger("duet.prover")

IDLE_POLL_S = 0.2
BATCH = 16  # committed operations fetched per look at the database
RETRY_AFTER_ERROR_S = 5.0


def prove_operation(circuit: str, inputs: dict[str, Any], public_inputs: list[int]) -> bytes:
    """Runs in the worker process: the keys load once there, then stay."""
    return prove(load_circuit(circuit), inputs, public_inputs).blob


def is_valid_proof(circuit: str, proof: bytes, public_inputs: list[int]) -> bool:
    """Whether `proof` (untrusted bytes) proves `circuit` for these public inputs."""
    try:
        return verify(load_verifier(circuit), Proof(proof), public_inputs)
    except ProverError:
        return False


class EmbeddedProver:
    def __init__(
        self,
        list_committed: Callable[[int], list[ZkOpRecord]],
        record_proof: Callable[[bytes, bytes], bool],
    ) -> None:
        self.list_committed = list_committed
        self.record_proof = record_proof
        self.proven = 0

    async def run(self) -> None:
        context = multiprocessing.get_context("spawn")  # no copy of the node's event loop
        pool = ProcessPoolExecutor(max_workers=1, mp_context=context)
        try:
            while True:
                jobs = self.list_committed(BATCH)
                if not jobs:
                    await asyncio.sleep(IDLE_POLL_S)
                    continue
                for job in jobs:
                    await self._prove(pool, job)
        finally:
            pool.shutdown(wait=False, cancel_futures=True)

    async def _prove(self, pool: ProcessPoolExecutor, job: ZkOpRecord) -> None:
        loop = asyncio.get_running_loop()
        call = functools.partial(prove_operation, job.circuit, job.witness, job.public_inputs)
        try:
            proof = await loop.run_in_executor(pool, call)
        except ProverError as exc:
            log.error("cannot prove operation 0x%s: %s", job.op_id.hex(), exc)
            await asyncio.sleep(RETRY_AFTER_ERROR_S)
            return
        if self.record_proof(job.op_id, proof):
            self.proven += 1
            log.debug("proved operation 0x%s (%s)", job.op_id.hex(), job.circuit)
        else:
            log.error("the node refused the proof of operation 0x%s", job.op_id.hex())
            await asyncio.sleep(RETRY_AFTER_ERROR_S)
