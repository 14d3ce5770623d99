"""Cross-chain messages, carried in ledger blocks and so ordered by the one log.

A ZK block lists in `messages` what it sends the fast chain (credits, and its new roots); the
next fast block lists the same messages as delivered and applies them before its
transactions. A fast block lists, after those, the messages its transactions sent the ZK chain
through the outbox (releases, reward-mint requests); the next ZK block applies them, each as
an operation. Because all of them are part of the block hashes, anyone replaying the log sees
each message emitted once and delivered once, in order.

A dev node (and only one: a network refuses them) also sets accounts directly, as anvil's
`anvil_setBalance`, `anvil_setNonce`, `anvil_setStorageAt` and `anvil_setCode` do: each
write is a message at the head of the fast block made for it, applied before its
transactions like a delivered message, so replaying the log gives the same state.

Every message is one kind byte and fixed-width big-endian fields; a code write's last field,
the code, runs to the message's end.
"""

from dataclasses import dataclass

from chain.types import Address

CREDIT_KIND = 0x01  # ZK → fast: ZKPoW locked in escrow, to credit on the fast chain
ROOT_KIND = 0x02  # ZK → fast: a ZK block's roots, for the root oracle
RELEASE_KIND = 0x11  # fast → ZK: ZKPoW burned on the fast chain, to release from escrow
REWARD_KIND = 0x12  # fast → ZK: a request to mint a reward NFT
BALANCE_SET_KIND = 0x21  # dev → fast: an account's balance, set
NONCE_SET_KIND = 0x22  # dev → fast: an account's nonce, set
STORAGE_SET_KIND = 0x23  # dev → fast: a storage slot, set
CODE_SET_KIND = 0x24  # dev → fast: an account's code, set (the code runs to the end)
MAX_SET_CODE_BYTES = 128 * 1024

TO_FAST_KINDS = frozenset({CREDIT_KIND, ROOT_KIND})
TO_ZK_KINDS = frozenset({RELEASE_KIND, REWARD_KIND})
DEV_KINDS = frozenset({BALANCE_SET_KIND, NONCE_SET_KIND, STORAGE_SET_KIND, CODE_SET_KIND})


class InvalidMessage(Exception):
    pass


@dataclass(frozen=True)
class CreditMessage:
    to: Address
    amount: int


@dataclass(frozen=True)
class RootMessage:
    height: int
    state_root: bytes  # 32 bytes
    nfts_root: bytes  # 32 bytes


@dataclass(frozen=True)
class ReleaseMessage:
    """`sender` burned `amount` on the fast chain (sent it to the outbox) for `to` on ZK."""

    seq: int  # the outbox's message number, one sequence for every kind
    sender: Address
    to: Address
    amount: int


@dataclass(frozen=True)
class RewardMessage:
    """`sender` (a fast-chain contract) asks for a token of `collection` for `to`."""

    seq: int
    sender: Address
    collection: int
    round: int
    to: Address
    metadata: int


@dataclass(frozen=True)
class BalanceSet:
    address: Address
    balance: int


@dataclass(frozen=True)
class NonceSet:
    address: Address
    nonce: int


@dataclass(frozen=True)
class StorageSet:
    address: Address
    slot: int
    value: int


@dataclass(frozen=True)
class CodeSet:
    address: Address
    code: bytes


DevWrite = BalanceSet | NonceSet | StorageSet | CodeSet
Message = CreditMessage | RootMessage | ReleaseMessage | RewardMessage | DevWrite

# Field widths in bytes, after the kind byte.
LAYOUTS: dict[int, tuple[int, ...]] = {
    CREDIT_KIND: (20, 32),
    ROOT_KIND: (8, 32, 32),
    RELEASE_KIND: (8, 20, 20, 32),
    REWARD_KIND: (8, 20, 4, 4, 20, 32),
    BALANCE_SET_KIND: (20, 32),
    NONCE_SET_KIND: (20, 8),
    STORAGE_SET_KIND: (20, 32, 32),
    CODE_SET_KIND: (20,),
}


def encode_message(message: Message) -> bytes:
    if isinstance(message, CreditMessage):
        return _pack(CREDIT_KIND, message.to, message.amount)
    if isinstance(message, RootMessage):
        return _pack(ROOT_KIND, message.height, message.state_root, message.nfts_root)
    if isinstance(message, ReleaseMessage):
        return _pack(RELEASE_KIND, message.seq, message.sender, message.to, message.amount)
    if isinstance(message, RewardMessage):
        m = message
        return _pack(REWARD_KIND, m.seq, m.sender, m.collection, m.round, m.to, m.metadata)
    return _pack_dev(message)


def _pack_dev(write: DevWrite) -> bytes:
    if isinstance(write, BalanceSet):
        return _pack(BALANCE_SET_KIND, write.address, write.balance)
    if isinstance(write, NonceSet):
        return _pack(NONCE_SET_KIND, write.address, write.nonce)
    if isinstance(write, StorageSet):
        return _pack(STORAGE_SET_KIND, write.address, write.slot, write.value)
    if len(write.code) > MAX_SET_CODE_BYTES:
        raise InvalidMessage(f"code of {len(write.code)} bytes; at most {MAX_SET_CODE_BYTES}")
    return _pack(CODE_SET_KIND, write.address) + write.code


def decode_message(raw: bytes) -> Message:
    if not raw or raw[0] not in LAYOUTS:
        raise InvalidMessage(f"unknown message kind: 0x{raw[:1].hex()}")
    widths = LAYOUTS[raw[0]]
    if raw[0] == CODE_SET_KIND and 1 + sum(widths) <= len(raw) <= 21 + MAX_SET_CODE_BYTES:
        return CodeSet(Address(raw[1:21]), raw[21:])
    if len(raw) != 1 + sum(widths):
        raise InvalidMessage(f"message of kind {raw[0]:#04x} has the wrong length: 0x{raw.hex()}")
    parts: list[bytes] = []
    offset = 1
    for width in widths:
        parts.append(raw[offset : offset + width])
        offset += width
    if raw[0] == CREDIT_KIND:
        return CreditMessage(Address(parts[0]), _int(parts[1]))
    if raw[0] == ROOT_KIND:
        return RootMessage(_int(parts[0]), parts[1], parts[2])
    if raw[0] == RELEASE_KIND:
        return ReleaseMessage(_int(parts[0]), Address(parts[1]), Address(parts[2]), _int(parts[3]))
    if raw[0] == BALANCE_SET_KIND:
        return BalanceSet(Address(parts[0]), _int(parts[1]))
    if raw[0] == NONCE_SET_KIND:
        return NonceSet(Address(parts[0]), _int(parts[1]))
    if raw[0] == STORAGE_SET_KIND:
        return StorageSet(Address(parts[0]), _int(parts[1]), _int(parts[2]))
    seq, sender, collection, round_, to, metadata = parts
    return RewardMessage(
        _int(seq), Address(sender), _int(collection), _int(round_), Address(to), _int(metadata)
    )


def encode_credit(message: CreditMessage) -> bytes:
    return encode_message(message)


def decode_credit(raw: bytes) -> CreditMessage:
    message = decode_message(raw)
    if not isinstance(message, CreditMessage):
        raise InvalidMessage(f"not a credit message: 0x{raw.hex()}")
    return message


def is_to_fast(raw: bytes) -> bool:
    return bool(raw) and raw[0] in TO_FAST_KINDS


def is_to_zk(raw: bytes) -> bool:
    return bool(raw) and raw[0] in TO_ZK_KINDS


def is_dev_write(raw: bytes) -> bool:
    return bool(raw) and raw[0] in DEV_KINDS


def _pack(kind: int, *fields: int | bytes) -> bytes:
    out = bytearray([kind])
    for value, width in zip(fields, LAYOUTS[kind], strict=True):
        if isinstance(value, bytes):
            if len(value) != width:
                raise InvalidMessage(f"field of {len(value)} bytes where {width} go")
            out += value
        else:
            if not 0 <= value < 1 << (8 * width):
                raise InvalidMessage(f"field {value} does not fit {width} bytes")
            out += value.to_bytes(width, "big")
    return bytes(out)


def _int(raw: bytes) -> int:
    return int.from_bytes(raw, "big")
