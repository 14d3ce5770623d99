"""State overrides: the third parameter of `eth_call` and `eth_estimateGas`, as geth takes it.

`{address: {"balance", "nonce", "code", "state" | "stateDiff"}}`: for that call alone, each
field given replaces the account's; `state` replaces its whole storage, `stateDiff` only the
slots it names (both at once is refused, as geth refuses it). Slots and their values are
32-byte words. A field this node does not serve (`movePrecompileToAddress`) or does not know
is refused by name, never ignored: a call that silently ran without an override the caller
asked for would answer a different question.
"""

from __future__ import annotations

from typing import Any

from chain.fast.executor import NO_OVERRIDES, AccountOverride, StateOverrides
from chain.rpc.errors import invalid_params
from chain.rpc.params import parse_address, parse_hex_bytes, parse_object, parse_quantity

MAX_ACCOUNTS = 1024
MAX_SLOTS = 10_000  # in all the accounts together
MAX_NONCE = 2**64 - 1
FIELDS = ("balance", "nonce", "code", "state", "stateDiff")


def parse_state_overrides(value: Any, method: str) -> StateOverrides:
    if value is None:
        return NO_OVERRIDES
    accounts = parse_object(value, f"{method}'s state overrides")
    if len(accounts) > MAX_ACCOUNTS:
        raise invalid_params(f"at most {MAX_ACCOUNTS} accounts may be overridden in one call")
    parsed: list[tuple[Any, AccountOverride]] = []
    slots = 0
    for key, fields in accounts.items():
        address = parse_address(key, "overridden address")
        override = _parse_account(parse_object(fields, f"override of {key}"), key)
        slots += len(override.state or ()) + len(override.state_diff)
        if slots > MAX_SLOTS:
            raise invalid_params(f"at most {MAX_SLOTS} storage slots may be overridden in one call")
        parsed.append((address, override))
    return tuple(parsed)


def _parse_account(fields: dict[str, Any], key: str) -> AccountOverride:
    unknown = sorted(set(fields) - set(FIELDS))
    if unknown:
        raise invalid_params(f"override of {key}: {', '.join(unknown)} is not served")
    if fields.get("state") is not None and fields.get("stateDiff") is not None:
        raise invalid_params(f"override of {key} has both state and stateDiff")
    nonce = None
    if fields.get("nonce") is not None:
        nonce = parse_quantity(fields["nonce"], "nonce")
        if nonce > MAX_NONCE:
            raise invalid_params(f"override of {key}: the nonce must be below 2**64")
    return AccountOverride(
        balance=None
        if fields.get("balance") is None
        else parse_quantity(fields["balance"], "balance"),
        nonce=nonce,
        code=None if fields.get("code") is None else parse_hex_bytes(fields["code"], "code"),
        state=None if fields.get("state") is None else _parse_slots(fields["state"], key),
        state_diff=()
        if fields.get("stateDiff") is None
        else _parse_slots(fields["stateDiff"], key),
    )


def _parse_slots(value: Any, key: str) -> tuple[tuple[int, int], ...]:
    slots = parse_object(value, f"override of {key}'s storage")
    if len(slots) > MAX_SLOTS:
        raise invalid_params(f"at most {MAX_SLOTS} storage slots may be overridden in one call")
    return tuple(
        (
            int.from_bytes(parse_hex_bytes(slot, "storage slot", 32), "big"),
            int.from_bytes(parse_hex_bytes(word, "storage value", 32), "big"),
        )
        for slot, word in slots.items()
    )
