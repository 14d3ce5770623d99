"""The prover loop's heartbeat policy, over a link that records what it is asked to send
(the loop's jobs and submissions run against real nodes in tests/integration)."""

import asyncio
import contextlib
import itertools
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from typing import Any

from chain.client.prover import loop as prover_loop
from chain.client.prover.loop import RENEW_EVERY_BLOCKS, ProverLoop, ProverSnapshot, is_awake
from chain.config import MarketConfig
from chain.types import ChainId, JobId

CFG = MarketConfig(active_blocks=12)
KEY = bytes(range(1, 33))


class ScriptedLink:
    """A node whose height and open work the test sets; heartbeats land at once."""

    chain_id = ChainId(7)

    def __init__(self) -> None:
        self.height = 0
        self.active_until = -1
        self.work_waiting = False
        self.sent: list[tuple[int, int]] = []  # (height sent at, activeUntil)

    async def read(self) -> ProverSnapshot:
        return ProverSnapshot(
            self.height, self.active_until, 0, 0, 0, 0, [], work_waiting=self.work_waiting
        )

    async def send_heartbeat(self, active_until: int) -> str:
        self.sent.append((self.height, active_until))
        self.active_until = active_until
        return "0x00"

    async def submit(self, job_id: JobId, result: bytes, signature: bytes) -> dict[str, Any]:
        raise AssertionError("no job is assigned in these tests")

    async def wait_for_block(self, after: int) -> None:
        return None


def run_blocks(loop: ProverLoop, link: ScriptedLink, heights: range, work: set[int]) -> None:
    async def go() -> None:
        with ProcessPoolExecutor(max_workers=1) as pool:  # no job: no worker is started
            for height in heights:
                link.height = height
                link.work_waiting = height in work
                await loop.step(pool)

    asyncio.run(go())


def test_is_awake_for_active_blocks_after_the_last_work_waiting() -> None:
    assert not is_awake(None, 5, 12)
    assert is_awake(5, 5, 12)
    assert is_awake(5, 17, 12)
    assert not is_awake(5, 18, 12)


def test_a_prover_that_never_lapses_heartbeats_with_no_work_about() -> None:
    link = ScriptedLink()
    run_blocks(ProverLoop(link, KEY, CFG), link, range(1, 40), work=set())
    assert link.sent[0] == (1, 2 + CFG.active_blocks)
    assert len(link.sent) >= 3
    for (sent, until), (next_sent, _) in itertools.pairwise(link.sent):
        assert next_sent - sent >= RENEW_EVERY_BLOCKS
        assert next_sent < until  # renewed before it lapsed


def test_the_embedded_prover_wakes_for_work_and_lapses_when_idle() -> None:
    link = ScriptedLink()
    loop = ProverLoop(link, KEY, CFG, lapse_when_idle=True)
    run_blocks(loop, link, range(1, 10), work=set())
    assert link.sent == []  # idle from the start: no heartbeat, no operation

    run_blocks(loop, link, range(10, 80), work=set(range(10, 30)))
    assert link.sent[0] == (10, 11 + CFG.active_blocks)  # at once when work appears
    last_sent = link.sent[-1][0]
    assert 30 <= last_sent <= 30 + CFG.active_blocks  # renewed through the work, then not
    assert link.active_until < 79  # lapsed: the chain goes quiet

    run_blocks(loop, link, range(80, 82), work={81})
    assert link.sent[-1] == (81, 82 + CFG.active_blocks)


class FlakyLink(ScriptedLink):
    """A node whose first answer is an error the loop has no name for (an HTTP status it
    cannot read, an RPC error while the node restarts)."""

    def __init__(self) -> None:
        super().__init__()
        self.reads = 0

    async def read(self) -> ProverSnapshot:
        self.reads += 1
        if self.reads == 1:
            raise RuntimeError("the node is restarting")
        if self.reads == 3:
            raise asyncio.CancelledError  # the test is done: stop the loop
        return await super().read()


def test_a_failed_round_is_reported_and_the_prover_keeps_going() -> None:
    link = FlakyLink()
    loop = ProverLoop(link, KEY, CFG)
    with contextlib.suppress(asyncio.CancelledError):
        asyncio.run(loop.run())
    assert link.reads == 3  # it looked again after the failure, and again after that
    assert loop.stats.last_error == "RuntimeError: the node is restarting"
    assert link.sent, "the round after the failure sent its heartbeat"


class JobLink(ScriptedLink):
    """A node that assigns the jobs the test sets and refuses the first submission of each
    job named in `refuse_once` (a result that came in just after its deadline)."""

    def __init__(self) -> None:
        super().__init__()
        self.active_until = 10**6  # active throughout: no heartbeats in the way
        self.jobs: list[dict[str, Any]] = []
        self.refuse_once: set[str] = set()
        self.submitted: list[tuple[str, bytes]] = []

    async def read(self) -> ProverSnapshot:
        return ProverSnapshot(self.height, self.active_until, 0, 0, 0, 0, list(self.jobs))

    async def submit(self, job_id: JobId, result: bytes, signature: bytes) -> dict[str, Any]:
        name = "0x" + job_id.hex()
        self.submitted.append((name, result))
        if name in self.refuse_once:
            self.refuse_once.discard(name)
            raise RuntimeError(f"submission refused: job {name} was due by ZK block 12")
        return {"valid": True}


def job(n: int, kind: str, deadline: int, attempt: int = 1) -> dict[str, Any]:
    return {
        "jobId": "0x" + f"{n:02x}" * 32,
        "kind": kind,
        "height": n,
        "deadline": deadline,
        "attempt": attempt,
        "bounty": "0x1",
    }


def run_steps(
    loop: ProverLoop, link: JobLink, script: list[tuple[int, list[dict[str, Any]]]]
) -> None:
    """At each (height, jobs), one round of the loop; proving runs in threads here."""

    async def go() -> None:
        with ThreadPoolExecutor(max_workers=1) as pool:
            for height, jobs in script:
                link.height, link.jobs = height, jobs
                await loop.step(pool)  # type: ignore[arg-type]
                for _ in range(50):  # let the round's proofs and submissions finish
                    await asyncio.sleep(0.01)

    asyncio.run(go())


def test_a_result_refused_as_late_is_submitted_again_when_the_job_comes_back(
    monkeypatch: Any,
) -> None:
    proven: list[str] = []

    def perform(work: dict[str, Any]) -> bytes:
        proven.append(work["jobId"])
        return b"proof of " + work["jobId"].encode()

    monkeypatch.setattr(prover_loop, "perform_job", perform)
    link = JobLink()
    late = job(1, "op", deadline=12)
    link.refuse_once.add(late["jobId"])
    loop = ProverLoop(link, KEY, CFG)
    again = job(1, "op", deadline=23, attempt=2)  # reassigned to it: everyone else failed
    run_steps(loop, link, [(10, [late]), (12, [late]), (13, [again])])
    assert proven == [late["jobId"]]  # proven once
    assert [name for name, _ in link.submitted] == [late["jobId"]] * 2  # submitted twice
    assert link.submitted[0][1] == link.submitted[1][1]
    assert loop.stats.accepted == 1


def test_aggregations_go_first_and_a_result_for_a_job_gone_elsewhere_is_forgotten(
    monkeypatch: Any,
) -> None:
    proven: list[str] = []
    monkeypatch.setattr(
        prover_loop, "perform_job", lambda work: proven.append(work["kind"]) or b"result"
    )
    link = JobLink()
    op, aggregate = job(1, "op", deadline=15), job(2, "aggregate", deadline=19)
    link.refuse_once.add(op["jobId"])
    loop = ProverLoop(link, KEY, CFG)
    run_steps(loop, link, [(10, [op, aggregate]), (16, [])])
    assert proven == ["aggregate", "op"]
    assert loop._results == {}  # the refused op went to another prover: nothing kept
