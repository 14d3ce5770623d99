"""The one process launcher: ready when its check holds, refused when the child dies or
takes too long, and stopped (with what it started) on request."""

import signal
import sys
from pathlib import Path

import pytest

from chain.launcher import ChildProcess, LaunchError

SLEEPER = [sys.executable, "-c", "import time; print('up', flush=True); time.sleep(60)"]


def test_ready_then_stopped(tmp_path: Path) -> None:
    log = tmp_path / "out.log"
    child = ChildProcess(SLEEPER, log=log).start()
    child.wait_ready(lambda: "up" in log.read_text(), 10, "sleeper")
    assert child.running
    assert child.stop() == -signal.SIGINT  # a Python child dies of the SIGINT it did not catch
    assert not child.running


def test_stops_a_child_launched_with_sigint_ignored(tmp_path: Path) -> None:
    # A background job of a shell (`./demo.sh test &`) runs with SIGINT ignored, which its
    # children inherit; the launcher's stop signal must still reach the child.
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        log = tmp_path / "out.log"
        child = ChildProcess(SLEEPER, log=log, stop_timeout_s=5).start()
        child.wait_ready(lambda: "up" in log.read_text(), 10, "sleeper")
        assert child.stop() == -signal.SIGINT
    finally:
        signal.signal(signal.SIGINT, previous)


def test_lines_reach_the_callback() -> None:
    seen: list[bytes] = []
    with ChildProcess(SLEEPER, on_line=seen.append) as child:
        child.wait_ready(lambda: b"up\n" in seen, 10, "sleeper")
        assert "up" in child.read_tail()
    assert not child.running


def test_rejects_a_child_that_exits_before_ready(tmp_path: Path) -> None:
    command = [sys.executable, "-c", "print('bad config'); raise SystemExit(3)"]
    child = ChildProcess(command, log=tmp_path / "out.log").start()
    with pytest.raises(LaunchError, match=r"(?s)exited with code 3.*bad config"):
        child.wait_ready(lambda: False, 10, "the child")


def test_rejects_a_child_not_ready_in_time(tmp_path: Path) -> None:
    child = ChildProcess(SLEEPER, log=tmp_path / "out.log").start()
    with pytest.raises(LaunchError, match="not ready after 0 s"):
        child.wait_ready(lambda: False, 0.2, "the sleeper")
    assert not child.running  # a refused child does not linger


def test_stop_escalates_to_sigkill(tmp_path: Path) -> None:
    stubborn = (
        "import signal, time; signal.signal(signal.SIGINT, signal.SIG_IGN); "
        "print('up', flush=True); time.sleep(60)"
    )
    seen: list[bytes] = []
    child = ChildProcess([sys.executable, "-c", stubborn], on_line=seen.append, stop_timeout_s=0.5)
    child.start().wait_ready(lambda: bool(seen), 10, "the stubborn child")
    assert child.stop() == -signal.SIGKILL
