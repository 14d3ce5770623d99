"""Cross-chain messages, carried in ledger blocks and so ordered by the one log.

A ZK block lists in `messages` what it sends the fast chain; the next fast block lists the
same messages as delivered, and applies them before its transactions. Because both are part
of the block hashes, anyone replaying the log sees each message emitted once and delivered
once, in order.
"""

from dataclasses import dataclass

from chain.types import Address

CREDIT_KIND = 0x01  # ZK → fast: ZKPoW locked in escrow, to credit on the fast chain
CREDIT_LENGTH = 1 + 20 + 32


class InvalidMessage(Exception):
    pass


@dataclass(frozen=True)
class CreditMessage:
    to: Address
    amount: int


def encode_credit(message: CreditMessage) -> bytes:
    return bytes([CREDIT_KIND]) + message.to + message.amount.to_bytes(32, "big")


def decode_credit(raw: bytes) -> CreditMessage:
    if len(raw) != CREDIT_LENGTH or raw[0] != CREDIT_KIND:
        raise InvalidMessage(f"not a credit message: 0x{raw.hex()}")
    return CreditMessage(Address(raw[1:21]), int.from_bytes(raw[21:], "big"))
