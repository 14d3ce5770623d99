"""A market prover's loop, whatever carries it: heartbeats, jobs, proofs, submissions.

The node's embedded prover (chain/client/prover/house.py) runs it in-process; `duet prover`
(chain/client/prover/rpc_link.py) runs it over JSON-RPC and WebSocket. Both hand it a `ProverLink`.
Each round it reads the prover's jobs from the node, renews its heartbeat before it lapses
(with `lapse_when_idle`, only while work waits for it), starts the jobs it has not started
(earliest deadline first) in a process pool, and submits each result signed with the
prover's key.
"""

import asyncio
import functools
import logging
import multiprocessing
import time
from collections.abc import Callable, Coroutine
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Any, Protocol

from chain.config import MarketConfig
from chain.market.aggregate import InvalidAggregate
from chain.market.signing import sign_submission
from chain.market.work import perform_job
from chain.prover.errors import ProverError
from chain.types import ChainId, JobId

log = logging.getLogger("duet.prover")

# Renew the heartbeat when fewer than this share of `active_blocks` is left, and at most
# once per this many blocks (a heartbeat takes a block or two to land).
RENEW_FRACTION = 3
RENEW_EVERY_BLOCKS = 5
JOB_HISTORY = 50  # finished jobs kept for the view
FAILURE_RETRY_S = 1.0  # after a round that failed (the node unreachable, say)


@dataclass(frozen=True)
class ProverSnapshot:
    """What the node says about this prover at the start of a round."""

    height: int  # the ZK head
    active_until: int  # -1: not a prover yet
    balance: int  # wei, signed
    proven: int
    missed: int
    invalid: int
    jobs: list[dict[str, Any]]  # the jobs assigned to it (chain/market/work.py)
    # Whether work waits that calls for this prover (MarketDesk.is_work_waiting); only a
    # loop that lets its heartbeat lapse when idle reads it.
    work_waiting: bool = False


class ProverLink(Protocol):
    chain_id: ChainId

    async def read(self) -> ProverSnapshot: ...

    async def send_heartbeat(self, active_until: int) -> str: ...

    async def submit(self, job_id: JobId, result: bytes, signature: bytes) -> dict[str, Any]: ...

    async def wait_for_block(self, after: int) -> None:
        """Return once the ZK head is above `after` (or after a while, to look again)."""
        ...


@dataclass
class JobView:
    job_id: str
    kind: str
    label: str  # the circuit, or "aggregate h"
    attempt: int
    deadline: int
    bounty: int
    state: str = "queued"  # queued, proving, submitted, valid, invalid, refused, failed, dropped
    seconds: float = 0.0
    detail: str = ""


@dataclass
class ProverStats:
    snapshot: ProverSnapshot | None = None
    jobs: dict[str, JobView] = field(default_factory=dict)
    history: list[JobView] = field(default_factory=list)
    heartbeats: int = 0
    submitted: int = 0
    accepted: int = 0
    last_error: str = ""


def is_awake(last_work: int | None, height: int, active_blocks: int) -> bool:
    """Whether a prover that lapses when idle keeps heartbeating at `height`: while work
    waited for it within the last `active_blocks` blocks. Its own heartbeats and payments
    make jobs too, but they do not count while it holds them, or an idle chain would never
    go quiet."""
    return last_work is not None and height - last_work <= active_blocks


def corrupt(result: bytes) -> bytes:
    """A wrong answer of the right shape: what a cheating prover sends (tests use it)."""
    return bytes(b ^ 0x5A for b in result)


def compute_job_priority(job: dict[str, Any]) -> tuple[int, int, int, str]:
    """The order a prover takes its jobs in: aggregations first (milliseconds of work, and
    each one lets L1 settle a block), then the earliest deadline, then the oldest block."""
    return (job["kind"] != "aggregate", job["deadline"], job["height"], job["jobId"])


class ProverLoop:
    def __init__(
        self,
        link: ProverLink,
        key: bytes,
        cfg: MarketConfig,
        workers: int = 1,
        cheat: bool = False,
        lapse_when_idle: bool = False,
        on_change: Callable[[ProverStats], None] | None = None,
    ) -> None:
        self.link = link
        self.key = key
        self.cfg = cfg
        self.workers = workers
        self.cheat = cheat
        self.lapse_when_idle = lapse_when_idle
        self.on_change = on_change or (lambda stats: None)
        self.stats = ProverStats()
        self._last_heartbeat = -RENEW_EVERY_BLOCKS
        self._last_work: int | None = None  # the last height at which work waited
        self._waiting: dict[str, dict[str, Any]] = {}  # job id → job, queued for a worker
        self._busy = 0  # workers proving
        # Results the node has not accepted yet (it refused them as late): a job that comes
        # back to this prover is submitted again at once, not proven again. Under load this
        # is what keeps a prover from redoing, forever, work that finishes just too late.
        self._results: dict[str, bytes] = {}
        self._pool: ProcessPoolExecutor | None = None
        self._pool_broken = False
        self._tasks: set[asyncio.Task[None]] = set()

    async def run(self) -> None:
        context = multiprocessing.get_context("spawn")  # no copy of the caller's event loop
        pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=context)
        try:
            height = -1
            while True:
                if self._pool_broken:  # a worker died (killed, out of memory): start afresh
                    pool.shutdown(wait=False, cancel_futures=True)
                    pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=context)
                    self._pool_broken = False
                # A prover that stops keeps its jobs until their deadlines and pays for each:
                # whatever a round fails on (a node restarting, a dropped connection, an
                # answer it cannot read), it says so and looks again.
                try:
                    height = await self.step(pool)
                    await self.link.wait_for_block(height)
                except Exception as exc:
                    self._report_failure(exc)
                    await asyncio.sleep(FAILURE_RETRY_S)
        finally:
            for task in self._tasks:
                task.cancel()
            pool.shutdown(wait=False, cancel_futures=True)

    async def step(self, pool: ProcessPoolExecutor) -> int:
        snapshot = await self.link.read()
        self.stats.snapshot = snapshot
        self._pool = pool
        await self._renew_heartbeat(snapshot)
        mine = {job["jobId"] for job in snapshot.jobs}
        for job_id in [j for j in self._results if j not in mine and j not in self.stats.jobs]:
            del self._results[job_id]  # it went to another prover, or closed
        for job in snapshot.jobs:
            # A job in hand (queued, proving or being submitted) is not started twice, even
            # when it comes back with a new attempt number: its result counts for that too.
            if job["jobId"] in self.stats.jobs or job["deadline"] <= snapshot.height:
                continue
            view = self._track(job)
            if job["jobId"] in self._results:
                self._start(self._submit(job["jobId"], self._results[job["jobId"]], view))
            else:
                self._waiting[job["jobId"]] = job
        self._dispatch()
        self.on_change(self.stats)
        return snapshot.height

    def _start(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _dispatch(self) -> None:
        """Hand queued jobs to free workers, best first (`compute_job_priority`)."""
        while self._busy < self.workers and self._waiting and self._pool is not None:
            job = min(self._waiting.values(), key=compute_job_priority)
            del self._waiting[job["jobId"]]
            view = self.stats.jobs[job["jobId"]]
            current = self._get_assignment(job["jobId"])
            if current is None:
                self._finish(view, "dropped", "closed, moved or due before its turn came")
                continue
            self._busy += 1
            self._start(self._prove(self._pool, current, view))

    def _get_assignment(self, job_id: str) -> dict[str, Any] | None:
        """The job as the latest look shows it assigned to this prover and not yet due;
        None if it is not: proving a job the node has closed or moved on is wasted work."""
        snap = self.stats.snapshot
        if snap is None:
            return None
        job = next((j for j in snap.jobs if j["jobId"] == job_id), None)
        return job if job is not None and job["deadline"] > snap.height else None

    async def _renew_heartbeat(self, snapshot: ProverSnapshot) -> None:
        next_height = snapshot.height + 1
        if snapshot.work_waiting:
            self._last_work = snapshot.height
        if self.lapse_when_idle and not is_awake(
            self._last_work, snapshot.height, self.cfg.active_blocks
        ):
            return
        left = snapshot.active_until - next_height
        if left * RENEW_FRACTION >= self.cfg.active_blocks:
            return
        if next_height - self._last_heartbeat < RENEW_EVERY_BLOCKS:
            return
        self._last_heartbeat = next_height
        try:
            await self.link.send_heartbeat(next_height + self.cfg.active_blocks)
            self.stats.heartbeats += 1
        except Exception as exc:  # a refused operation: say so, try again later
            self.stats.last_error = f"heartbeat refused: {exc}"
            log.warning("heartbeat refused: %s", exc)

    def _report_failure(self, exc: Exception) -> None:
        error = f"{type(exc).__name__}: {exc}"
        if error != self.stats.last_error:  # once per distinct failure, not every second
            log.warning("prover round failed, trying again: %s", error)
        self.stats.last_error = error
        self.on_change(self.stats)

    def _track(self, job: dict[str, Any]) -> JobView:
        label = job.get("circuit") or f"aggregate {job['height']}"
        bounty = int(job["bounty"], 16)
        view = JobView(job["jobId"], job["kind"], label, job["attempt"], job["deadline"], bounty)
        self.stats.jobs[job["jobId"]] = view
        return view

    async def _prove(self, pool: ProcessPoolExecutor, job: dict[str, Any], view: JobView) -> None:
        view.state = "proving"
        self.on_change(self.stats)
        started = time.monotonic()
        loop = asyncio.get_running_loop()
        try:
            result = await loop.run_in_executor(pool, functools.partial(perform_job, job))
        except (ProverError, InvalidAggregate) as exc:
            self._finish(view, "failed", str(exc))
            return
        except BrokenProcessPool as exc:
            self._pool_broken = True
            self._finish(view, "failed", f"the proving process died: {exc}")
            return
        except Exception as exc:  # a job it cannot read: say so; the deadline frees it
            self._finish(view, "failed", f"{type(exc).__name__}: {exc}")
            return
        finally:
            self._busy -= 1
            self._dispatch()
        view.seconds = time.monotonic() - started
        self._results[job["jobId"]] = result
        await self._submit(job["jobId"], result, view)

    async def _submit(self, job_hex: str, result: bytes, view: JobView) -> None:
        if self.cheat:
            result = corrupt(result)
        job_id = JobId(bytes.fromhex(job_hex[2:]))
        signature = sign_submission(self.key, self.link.chain_id, job_id, result)
        view.state = "submitted"
        self.stats.submitted += 1
        try:
            verdict = await self.link.submit(job_id, result, signature)
        except Exception as exc:  # refused (late, reassigned) or unreachable: kept for later
            self._finish(view, "refused", str(exc))
            return
        self._results.pop(job_hex, None)
        if verdict["valid"]:
            self.stats.accepted += 1
        self._finish(view, "valid" if verdict["valid"] else "invalid", "")

    def _finish(self, view: JobView, state: str, detail: str) -> None:
        view.state, view.detail = state, detail
        if detail:
            log.info("job %s %s: %s", view.job_id, state, detail)
        if self.stats.jobs.get(view.job_id) is view:
            del self.stats.jobs[view.job_id]
        self.stats.history = [view, *self.stats.history][:JOB_HISTORY]
        self.on_change(self.stats)
