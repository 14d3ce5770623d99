"""A dev node's account writes, as anvil and Hardhat serve them: `anvil_setBalance`,
`anvil_setNonce`, `anvil_setCode` and `anvil_setStorageAt` (and their `hardhat_*` names).
Tests use them to give an account funds, a contract's code or a slot's value without the
transactions that would make them.

anvil writes into its state in place. Here each call makes a fast block at once that carries
the write as a message before its transactions (chain/ledger/messages.py): the write is
visible when the call returns, as on anvil, and the block number moves by one. So the
ledger stays the whole story: replaying it, or tracing a transaction of a later block, writes
the same values again. ZKPoW set this way is not backed by the ZK chain's escrow; a release
of it to the ZK chain is bounded by that escrow, as any fast chain's is (docs/rpc.md).

Only a dev node takes them; a node whose blocks come from CometBFT refuses, saying so.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from chain.ledger.blocks import LedgerBlock
from chain.ledger.messages import (
    MAX_SET_CODE_BYTES,
    BalanceSet,
    CodeSet,
    DevWrite,
    NonceSet,
    StorageSet,
)
from chain.rpc.dev_controls import NOT_A_DEV_NODE
from chain.rpc.errors import RpcError, invalid_params
from chain.rpc.params import expect_params, parse_address, parse_hex_bytes, parse_number

Handler = Callable[[list[Any]], Any]
WriteAccounts = Callable[[Sequence[DevWrite]], LedgerBlock]
MAX_NONCE = 2**64 - 1  # EIP-2681
NAMES = ("setBalance", "setNonce", "setCode", "setStorageAt")


class DevStateApi:
    def __init__(self, write: WriteAccounts | None = None) -> None:
        """`write`: the dev sequencer's `write_accounts` (set once it runs); None on a node
        that takes none."""
        self.write = write
        handlers: dict[str, Handler] = {
            "setBalance": self.set_balance,
            "setNonce": self.set_nonce,
            "setCode": self.set_code,
            "setStorageAt": self.set_storage_at,
        }
        self.methods: dict[str, Handler] = {}
        for name in NAMES:
            self.methods[f"anvil_{name}"] = handlers[name]
            self.methods[f"hardhat_{name}"] = handlers[name]

    def _apply(self, method: str, write: DevWrite) -> None:
        if self.write is None:
            raise RpcError(
                NOT_A_DEV_NODE,
                f"{method}: only a dev node (duet node --dev) takes it; on this node state "
                "changes only through transactions its consensus orders",
            )
        self.write([write])

    def set_balance(self, params: Any) -> Any:
        """[address, balance]; returns null."""
        address, balance = expect_params(params, 2, 2)
        self._apply("anvil_setBalance", BalanceSet(parse_address(address), _number(balance)))
        return None

    def set_nonce(self, params: Any) -> Any:
        """[address, nonce]; returns null. Any nonce, lower too, as anvil takes it."""
        address, nonce = expect_params(params, 2, 2)
        value = _number(nonce, "nonce")
        if value > MAX_NONCE:
            raise invalid_params(f"nonce must be below 2**64 (EIP-2681), not {value}")
        self._apply("anvil_setNonce", NonceSet(parse_address(address), value))
        return None

    def set_code(self, params: Any) -> Any:
        """[address, code]; returns null. Empty code ("0x") removes it."""
        address, code = expect_params(params, 2, 2)
        raw = parse_hex_bytes(code, "code")
        if len(raw) > MAX_SET_CODE_BYTES:
            raise invalid_params(f"code of {len(raw)} bytes; at most {MAX_SET_CODE_BYTES}")
        self._apply("anvil_setCode", CodeSet(parse_address(address), raw))
        return None

    def set_storage_at(self, params: Any) -> Any:
        """[address, slot, value]: the slot a quantity or up to 32 bytes of hex, the value
        32 bytes; returns true, as anvil and Hardhat do."""
        address, slot, value = expect_params(params, 3, 3)
        word = parse_hex_bytes(value, "value", 32)
        write = StorageSet(parse_address(address), _number(slot, "slot"), int.from_bytes(word))
        self._apply("anvil_setStorageAt", write)
        return True


def _number(value: Any, what: str = "balance") -> int:
    """A 256-bit number as anvil takes it: a quantity (leading zeros allowed, so a 32-byte
    word does) or a JSON number."""
    if isinstance(value, str) and len(value) > 2 + 64:
        raise invalid_params(f"{what} must fit 32 bytes")
    number = parse_number(value, what)
    if number < 0:
        raise invalid_params(f"{what} must not be negative")
    return number
