"""ABCI framing: unsigned-varint length prefixes, as CometBFT v0.38's libs/protoio writes them."""

import asyncio

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chain.consensus.abci.framing import (
    FrameError,
    encode_frame,
    encode_uvarint,
    read_frame,
    read_uvarint,
)


def read_frames(data: bytes, max_bytes: int = 1 << 20) -> list[bytes | None]:
    """Every frame in `data`, then the None that marks a clean end of stream."""

    async def run() -> list[bytes | None]:
        reader = asyncio.StreamReader()
        reader.feed_data(data)
        reader.feed_eof()
        frames: list[bytes | None] = []
        while True:
            frame = await read_frame(reader, max_bytes)
            frames.append(frame)
            if frame is None:
                return frames

    return asyncio.run(run())


@pytest.mark.parametrize(
    ("value", "encoded"),
    [
        (0, b"\x00"),
        (1, b"\x01"),
        (127, b"\x7f"),
        (128, b"\x80\x01"),
        (300, b"\xac\x02"),
        (16_384, b"\x80\x80\x01"),
        (2**64 - 1, b"\xff" * 9 + b"\x01"),
    ],
)
def test_uvarint_matches_go_binary_putuvarint(value: int, encoded: bytes) -> None:
    assert encode_uvarint(value) == encoded


@given(st.integers(min_value=0, max_value=2**64 - 1))
def test_uvarint_round_trip(value: int) -> None:
    async def decode() -> int | None:
        reader = asyncio.StreamReader()
        reader.feed_data(encode_uvarint(value))
        reader.feed_eof()
        return await read_uvarint(reader)

    assert asyncio.run(decode()) == value


def test_rejects_negative_uvarint() -> None:
    with pytest.raises(ValueError, match="not negative"):
        encode_uvarint(-1)


@pytest.mark.parametrize("size", [0, 1, 127, 128, 300, 16_383, 16_384, 70_000])
def test_frame_round_trip(size: int) -> None:
    message = bytes(i % 251 for i in range(size))
    assert read_frames(encode_frame(message)) == [message, None]


def test_frames_follow_each_other() -> None:
    messages = [b"a", b"", b"x" * 200, b"\x00\x80"]
    data = b"".join(encode_frame(m) for m in messages)
    assert read_frames(data) == [*messages, None]


def test_rejects_oversized_frame_before_reading_it() -> None:
    # Only the length arrives: the cap is checked before any body is awaited.
    with pytest.raises(FrameError, match="frame of 1025 bytes exceeds the cap of 1024 bytes"):
        read_frames(encode_uvarint(1025), max_bytes=1024)


def test_accepts_frame_at_the_cap() -> None:
    assert read_frames(encode_frame(b"z" * 1024), max_bytes=1024) == [b"z" * 1024, None]


def test_rejects_overlong_varint() -> None:
    with pytest.raises(FrameError, match="runs past 10 bytes"):
        read_frames(b"\x80" * 11)


def test_rejects_stream_ending_inside_length() -> None:
    with pytest.raises(FrameError, match="inside a frame's length, after 1 bytes"):
        read_frames(b"\x80")


def test_rejects_truncated_body() -> None:
    with pytest.raises(FrameError, match="inside a frame: 3 of 5 bytes"):
        read_frames(encode_uvarint(5) + b"abc")
