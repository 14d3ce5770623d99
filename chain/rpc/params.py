"""Parsing of JSON-RPC parameters; each parser raises RpcError(-32602) naming the problem.

Each checks its value's type whatever the value: a handler that tests an optional
parameter's truth (`if value:`) takes 0, "", [] and {} for "not given", and a request that
names a wrong type would run as if it named nothing. An optional parameter is absent or
null; the `parse_optional_*` parsers take those two and check anything else.
"""

import re
from typing import Any

from chain.rpc.errors import invalid_params
from chain.types import Address, Hash32

MAX_QUANTITY = 2**256 - 1
# A number the node looks up in SQLite (a ledger seq, a height, a message number) is at most
# its largest INTEGER: one past it overflows the driver instead of naming nothing.
MAX_COUNT = 2**63 - 1
BOUND_NAMES = {MAX_QUANTITY: "2**256 - 1", MAX_COUNT: "2**63 - 1"}
# ASCII hex digits only: int(x, 16) would also take a sign, "_", whitespace, a second "0x"
# and Unicode digits, and bytes.fromhex whitespace.
HEX_DIGITS = re.compile(r"[0-9a-fA-F]*")
QUANTITY = re.compile(r"0[xX][0-9a-fA-F]+")


def is_hex_digits(text: str) -> bool:
    return HEX_DIGITS.fullmatch(text) is not None


def parse_hex_bytes(value: Any, what: str, length: int | None = None) -> bytes:
    if not isinstance(value, str) or not value.startswith(("0x", "0X")):
        raise invalid_params(f"{what} must be a 0x-prefixed hex string, got {value!r:.80}")
    digits = value[2:]
    if len(digits) % 2:
        raise invalid_params(f"{what} has an odd number of hex digits")
    if not is_hex_digits(digits):
        raise invalid_params(f"{what} is not valid hex: {value!r:.80}")
    raw = bytes.fromhex(digits)
    if length is not None and len(raw) != length:
        raise invalid_params(f"{what} must be {length} bytes, got {len(raw)}")
    return raw


def parse_address(value: Any, what: str = "address") -> Address:
    return Address(parse_hex_bytes(value, what, 20))


def parse_hash(value: Any, what: str = "hash") -> Hash32:
    return Hash32(parse_hex_bytes(value, what, 32))


def parse_quantity(value: Any, what: str = "quantity", maximum: int = MAX_QUANTITY) -> int:
    if not isinstance(value, str) or not value.startswith(("0x", "0X")) or len(value) < 3:
        raise invalid_params(f"{what} must be a 0x-prefixed hex quantity, got {value!r:.80}")
    if QUANTITY.fullmatch(value) is None:
        raise invalid_params(f"{what} is not a hex quantity: {value!r:.80}")
    number = int(value[2:], 16)
    if number > maximum:
        raise invalid_params(f"{what} exceeds {BOUND_NAMES.get(maximum, maximum)}")
    return number


def parse_optional_quantity(value: Any, what: str, default: int) -> int:
    return default if value is None else parse_quantity(value, what)


def parse_number(value: Any, what: str) -> int:
    """A number as anvil's dev methods take it: a JSON integer, or a hex quantity."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return parse_quantity(value, what)


def parse_count(value: Any, what: str) -> int:
    """A JSON integer from 0 to MAX_COUNT: a seq, a height or a page size of the duet_* reads."""
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise invalid_params(f"{what} must be a non-negative integer")
    if value > MAX_COUNT:
        raise invalid_params(f"{what} exceeds {BOUND_NAMES[MAX_COUNT]}")
    return value


def parse_bool(value: Any, what: str) -> bool:
    if not isinstance(value, bool):
        raise invalid_params(f"{what} must be true or false")
    return value


def parse_optional_bool(value: Any, what: str, default: bool = False) -> bool:
    return default if value is None else parse_bool(value, what)


def parse_optional_address(value: Any, what: str) -> Address | None:
    """An address, or None for absent or null (a call's `to`: a creation). An empty string
    is no address: an address is 20 bytes."""
    return None if value is None else parse_address(value, what)


def parse_call_data(call: dict[str, Any]) -> bytes:
    """A call object's `input`, or `data` as older clients name it (b"" when neither is
    given); both, if different, are refused as geth refuses them."""
    given, legacy = call.get("input"), call.get("data")
    if given is not None and legacy is not None and given != legacy:
        raise invalid_params('both "data" and "input" are set and not equal; use "input"')
    if given is not None:
        return parse_hex_bytes(given, "input")
    return b"" if legacy is None else parse_hex_bytes(legacy, "data")


def expect_params(params: Any, minimum: int, maximum: int) -> list[Any]:
    if params is None:
        params = []
    if not isinstance(params, list):
        raise invalid_params("params must be an array")
    if not minimum <= len(params) <= maximum:
        expected = str(minimum) if minimum == maximum else f"{minimum} to {maximum}"
        raise invalid_params(f"expected {expected} parameters, got {len(params)}")
    return params + [None] * (maximum - len(params))


def parse_object(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise invalid_params(f"{what} must be an object")
    return value
