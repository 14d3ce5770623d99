"""A wall-clock limit on what a JSON-RPC read runs on py-evm (geth's RPCEVMTimeout).

eth_call and its kin run on the thread that makes the blocks. On revm a call capped at the
block gas limit ends in milliseconds; on py-evm (state overrides, EIP-7702 delegations,
traces, access lists, eth_simulateV1) the same 30M gas of a loop takes seconds, and both
chains wait for it. So a read runs under `time_limit(seconds)`, and py-evm's JUMP and JUMPI
(every loop takes one) check the clock: past the limit they raise `CallTimedOut`, which is
not one of py-evm's VMErrors, so nothing inside the EVM catches it and the whole call ends.
A block's own execution never runs under a limit: the same transactions must give the
same result on every node, however slow it is.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from chain.fast.executor import ExecutionError

RPC_CALL_TIME_LIMIT_S = 1.0  # geth's default is 5 s; here the blocks wait meanwhile

_limits = threading.local()


class CallTimedOut(ExecutionError):
    """A read ran past its time limit and was stopped."""


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Run the body's py-evm executions under a deadline `seconds` from now (nested limits
    keep the nearer deadline)."""
    outer: tuple[float, float] | None = getattr(_limits, "limit", None)
    limit = (time.monotonic() + seconds, seconds)
    _limits.limit = limit if outer is None else min(outer, limit)
    try:
        yield
    finally:
        _limits.limit = outer


def check_deadline() -> None:
    limit: tuple[float, float] | None = getattr(_limits, "limit", None)
    if limit is not None and time.monotonic() > limit[0]:
        raise CallTimedOut(f"execution aborted: the call ran past its time limit ({limit[1]} s)")


def with_deadline(opcode: Callable[..., Any]) -> Callable[..., Any]:
    """`opcode` (a py-evm opcode function), checking the deadline before it runs."""

    def checked(computation: Any) -> Any:
        check_deadline()
        return opcode(computation=computation)

    checked.mnemonic = getattr(opcode, "mnemonic", "?")  # type: ignore[attr-defined]
    return checked
