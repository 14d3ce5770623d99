"""Parsing of JSON-RPC parameters; each parser raises RpcError(-32602) naming the problem."""

from typing import Any

from chain.rpc.errors import invalid_params
from chain.types import Address, Hash32

MAX_QUANTITY = 2**256 - 1


def parse_hex_bytes(value: Any, what: str, length: int | None = None) -> bytes:
    if not isinstance(value, str) or not value.startswith(("0x", "0X")):
        raise invalid_params(f"{what} must be a 0x-prefixed hex string, got {value!r:.80}")
    digits = value[2:]
    if len(digits) % 2:
        raise invalid_params(f"{what} has an odd number of hex digits")
    try:
        raw = bytes.fromhex(digits)
    except ValueError:
        raise invalid_params(f"{what} is not valid hex: {value!r:.80}") from None
    if length is not None and len(raw) != length:
        raise invalid_params(f"{what} must be {length} bytes, got {len(raw)}")
    return raw


def parse_address(value: Any, what: str = "address") -> Address:
    return Address(parse_hex_bytes(value, what, 20))


def parse_hash(value: Any, what: str = "hash") -> Hash32:
    return Hash32(parse_hex_bytes(value, what, 32))


def parse_quantity(value: Any, what: str = "quantity") -> int:
    if not isinstance(value, str) or not value.startswith(("0x", "0X")) or len(value) < 3:
        raise invalid_params(f"{what} must be a 0x-prefixed hex quantity, got {value!r:.80}")
    try:
        number = int(value[2:], 16)
    except ValueError:
        raise invalid_params(f"{what} is not a hex quantity: {value!r:.80}") from None
    if number > MAX_QUANTITY:
        raise invalid_params(f"{what} exceeds 2**256 - 1")
    return number


def parse_number(value: Any, what: str) -> int:
    """A number as anvil's dev methods take it: a JSON integer, or a hex quantity."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return parse_quantity(value, what)


def parse_bool(value: Any, what: str) -> bool:
    if not isinstance(value, bool):
        raise invalid_params(f"{what} must be true or false")
    return value


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
