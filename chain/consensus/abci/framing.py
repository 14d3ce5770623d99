"""ABCI's wire framing: each protobuf message is preceded by its length in bytes, an unsigned
varint (LEB128: 7 bits a byte, least significant first, the high bit set on every byte but
the last), as CometBFT v0.38's `libs/protoio` writes it with Go's `binary.PutUvarint`.

A peer's bytes are not trusted: a length over the cap, a varint longer than a uint64 can
be, or a stream that ends inside a frame is a `FrameError`, never a large allocation.
"""

import asyncio

# Larger than the largest request CometBFT can send: a block is at most 100 MiB
# (types.MaxBlockSizeBytes) and PrepareProposal carries at most a block's worth of txs.
MAX_FRAME_BYTES = 128 * 1024 * 1024
MAX_VARINT_BYTES = 10  # a uint64 in 7-bit groups
VARINT_PAYLOAD_MASK = 0x7F
VARINT_CONTINUE = 0x80


class FrameError(Exception):
    """A malformed frame: oversized, an overlong length, or truncated."""


def encode_uvarint(value: int) -> bytes:
    if value < 0:
        raise ValueError(f"a uvarint is not negative (got {value})")
    out = bytearray()
    while value > VARINT_PAYLOAD_MASK:
        out.append((value & VARINT_PAYLOAD_MASK) | VARINT_CONTINUE)
        value >>= 7
    out.append(value)
    return bytes(out)


def encode_frame(message: bytes) -> bytes:
    return encode_uvarint(len(message)) + message


async def read_uvarint(reader: asyncio.StreamReader) -> int | None:
    """The next uvarint; None if the stream ends before its first byte (a clean close)."""
    value = 0
    for index in range(MAX_VARINT_BYTES):
        byte = await reader.read(1)
        if not byte:
            if index == 0:
                return None
            raise FrameError(f"stream ended inside a frame's length, after {index} bytes")
        value |= (byte[0] & VARINT_PAYLOAD_MASK) << (7 * index)
        if not byte[0] & VARINT_CONTINUE:
            return value
    raise FrameError(f"a frame's length runs past {MAX_VARINT_BYTES} bytes")


async def read_frame(
    reader: asyncio.StreamReader, max_bytes: int = MAX_FRAME_BYTES
) -> bytes | None:
    """The next frame's message; None at a clean end of stream (between frames)."""
    length = await read_uvarint(reader)
    if length is None:
        return None
    if length > max_bytes:
        raise FrameError(f"a frame of {length} bytes exceeds the cap of {max_bytes} bytes")
    try:
        return await reader.readexactly(length)
    except asyncio.IncompleteReadError as error:
        raise FrameError(
            f"stream ended inside a frame: {len(error.partial)} of {length} bytes"
        ) from error
