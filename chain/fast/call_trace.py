"""Call traces (`debug_traceTransaction` / `debug_traceCall` with geth's `callTracer`) from
py-evm's tree of computations.

py-evm keeps every message a transaction sends as a child computation of the one that sent
it, which is the call tree geth's callTracer reports; what it does not keep is which opcode
sent it (a CALL inside a STATICCALL is static too), so the tracing computation class notes
the opcode as each child starts. Frames follow anvil's callTracer: the top frame's `gas` is
what the transaction had left after its intrinsic gas and its `gasUsed` the receipt's;
a child's `gas` is what it was given and its `gasUsed` what it spent (all of it on an error
other than a revert).
"""

from dataclasses import dataclass, field

from eth.abc import ComputationAPI, MessageAPI
from eth.exceptions import (
    InsufficientFunds,
    InvalidInstruction,
    InvalidJumpDestination,
    OutOfGas,
    Revert,
    StackDepthLimit,
    WriteProtection,
)
from eth.vm.forks.prague.computation import PragueComputation

from chain.types import Address

CALL_OPCODES = {
    0xF0: "CREATE",
    0xF1: "CALL",
    0xF2: "CALLCODE",
    0xF4: "DELEGATECALL",
    0xF5: "CREATE2",
    0xFA: "STATICCALL",
}
VALUELESS = {"DELEGATECALL", "STATICCALL"}  # frames geth and anvil show without a value
ERROR_STRING_SELECTOR = bytes.fromhex("08c379a0")  # Error(string)
ERRORS: tuple[tuple[type[Exception], str], ...] = (
    (Revert, "execution reverted"),
    (OutOfGas, "out of gas"),
    (InvalidJumpDestination, "invalid jump destination"),
    (StackDepthLimit, "max call depth exceeded"),
    (InsufficientFunds, "insufficient balance for transfer"),
    (WriteProtection, "write protection"),
)


@dataclass(frozen=True)
class CallFrame:
    """One message of a transaction's call tree, as callTracer reports it."""

    type: str  # CALL, STATICCALL, DELEGATECALL, CALLCODE, CREATE, CREATE2
    sender: Address
    to: Address
    value: int | None  # None where the opcode moves no value (DELEGATECALL, STATICCALL)
    gas: int
    gas_used: int
    input: bytes
    output: bytes
    error: str | None = None
    revert_reason: str | None = None
    calls: tuple["CallFrame", ...] = field(default=())


class TracingComputation(PragueComputation):
    """A computation that notes, on each child, the opcode that started it."""

    def apply_child_computation(self, child_msg: MessageAPI) -> ComputationAPI:
        opcode = self.code[self.code.program_counter - 1]  # the CALL-family byte just read
        child = super().apply_child_computation(child_msg)
        child.trace_opcode = opcode  # type: ignore[attr-defined]
        return child


def describe_error(error: Exception) -> str:
    for kind, text in ERRORS:
        if isinstance(error, kind):
            return text
    if isinstance(error, InvalidInstruction):
        return f"invalid opcode: {error}"
    return str(error) or type(error).__name__


def decode_revert_reason(output: bytes) -> str | None:
    """The string of an `Error(string)` revert, or None for any other revert data."""
    if not output.startswith(ERROR_STRING_SELECTOR) or len(output) < 4 + 64:
        return None
    try:
        length = int.from_bytes(output[36:68], "big")
        return output[68 : 68 + length].decode("utf-8")
    except (UnicodeDecodeError, ValueError):
        return None


def compute_call_frame(
    computation: ComputationAPI,
    caller: Address,
    top_type: str | None = None,
    gas_used: int | None = None,
) -> CallFrame:
    """The frame of `computation` and of every message under it. `caller`: the address that
    sent it (the transaction's sender at the top; else the contract whose code ran the
    opcode). The top frame's type and gas used come from the transaction."""
    msg = computation.msg
    opcode = getattr(computation, "trace_opcode", None)
    kind = top_type or CALL_OPCODES.get(opcode or 0, "CALL")
    target = msg.storage_address if msg.is_create else msg.code_address
    output = bytes(computation.output)
    error = computation.error if computation.is_error else None
    failed = error is not None and not isinstance(error, Revert)
    spent = msg.gas if failed else msg.gas - computation.get_gas_remaining()
    children = tuple(
        compute_call_frame(child, Address(msg.storage_address)) for child in computation.children
    )
    return CallFrame(
        type=kind,
        sender=caller,
        to=Address(target),
        value=None if kind in VALUELESS else msg.value,
        gas=msg.gas,
        gas_used=spent if gas_used is None else gas_used,
        input=bytes(msg.data_as_bytes) if not msg.is_create else bytes(msg.code),
        output=b"" if failed else output,
        error=None if error is None else describe_error(error),
        revert_reason=decode_revert_reason(output) if isinstance(error, Revert) else None,
        calls=children,
    )
