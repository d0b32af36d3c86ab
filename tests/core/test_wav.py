"""The WAV header parser: whatever the bytes, it answers a format within bounds, asks for more,
or names what is wrong; never anything else, and never a format it would be costly to believe."""

from __future__ import annotations

import struct

from hypothesis import given
from hypothesis import strategies as st

from assistant.core.wav import MAX_CHANNELS, MAX_RATE, MIN_RATE, WavError, parse_header


def header(rate: int, channels: int, bits: int, data_bytes: int) -> bytes:
    block = channels * bits // 8 % 2**16
    fmt = struct.pack("<HHIIHH", 1, channels, rate, rate * block % 2**32, block, bits)
    return (
        b"RIFF"
        + struct.pack("<I", (36 + data_bytes) % 2**32)
        + b"WAVEfmt "
        + struct.pack("<I", 16)
        + fmt
        + b"data"
        + struct.pack("<I", data_bytes)
    )


@given(st.binary(max_size=200), st.booleans())
def test_any_bytes_give_a_bounded_format_a_wait_or_a_reason(data: bytes, complete: bool) -> None:
    for head in (data, b"RIFF" + data[:4] + b"WAVE" + data[8:]):
        try:
            fmt = parse_header(head, complete=complete)
        except WavError as error:
            assert str(error)
            continue
        if fmt is not None:
            assert MIN_RATE <= fmt.sample_rate <= MAX_RATE
            assert 1 <= fmt.channels <= MAX_CHANNELS
            assert fmt.frame_bytes >= 1


@given(
    st.integers(0, 2**32 - 1),
    st.integers(0, 2**16 - 1),
    st.sampled_from([8, 12, 16, 24, 32]),
    st.integers(0, 2**32 - 1),
)
def test_any_plain_header_is_believed_only_within_bounds(
    rate: int, channels: int, bits: int, data_bytes: int
) -> None:
    try:
        fmt = parse_header(header(rate, channels, bits, data_bytes))
    except WavError as error:
        assert str(error)
        return
    assert fmt is not None
    assert MIN_RATE <= fmt.sample_rate <= MAX_RATE
    assert 1 <= fmt.channels <= MAX_CHANNELS
    assert fmt.data_offset == 44


def test_a_header_split_anywhere_waits_for_its_end() -> None:
    whole = header(24_000, 1, 16, 4800)
    for cut in range(len(whole)):
        assert parse_header(whole[:cut]) is None
    fmt = parse_header(whole)
    assert fmt is not None
    assert (fmt.sample_rate, fmt.channels, fmt.bits, fmt.data_bytes) == (24_000, 1, 16, 4800)
    assert fmt.declared_seconds() == 0.1
