"""Sample-rate conversion and channel mixing for signed 16-bit PCM, with soxr.

`resample` converts a whole buffer; `Resampler` converts a stream chunk by chunk (the speaker's
replies, when the sound card refuses their rate) without clicks at the chunk boundaries.
"""

from __future__ import annotations

import numpy as np
import soxr

QUALITY = "HQ"  # soxr's default: transparent for speech, a few ms of delay when streaming


def resample(pcm: bytes, from_rate: int, to_rate: int) -> bytes:
    """Convert a whole buffer of int16 mono PCM from one rate to another."""
    if from_rate == to_rate or not pcm:
        return pcm
    samples = np.frombuffer(pcm, dtype=np.int16)
    return bytes(soxr.resample(samples, from_rate, to_rate, quality=QUALITY).tobytes())


def to_mono(pcm: bytes, channels: int) -> bytes:
    """Average interleaved int16 channels into one."""
    if channels == 1:
        return pcm
    frames = np.frombuffer(pcm, dtype=np.int16).reshape(-1, channels)
    return bytes(frames.mean(axis=1).round().astype(np.int16).tobytes())


def to_channels(pcm: bytes, channels: int) -> bytes:
    """Copy int16 mono PCM into every one of `channels` interleaved channels."""
    if channels == 1:
        return pcm
    samples = np.frombuffer(pcm, dtype=np.int16)
    return bytes(np.repeat(samples, channels).tobytes())


class Resampler:
    """Converts int16 mono PCM chunk by chunk; odd trailing bytes wait for the next chunk."""

    def __init__(self, from_rate: int, to_rate: int) -> None:
        self.from_rate = from_rate
        self.to_rate = to_rate
        self._stream = soxr.ResampleStream(from_rate, to_rate, 1, dtype="int16", quality=QUALITY)
        self._odd = b""

    def process(self, pcm: bytes) -> bytes:
        """Convert one more chunk; the output lags the input by the filter's short delay."""
        data = self._odd + pcm
        whole = len(data) - len(data) % 2
        self._odd = data[whole:]
        if not whole:
            return b""
        samples = np.frombuffer(data[:whole], dtype=np.int16)
        return bytes(self._stream.resample_chunk(samples).tobytes())

    def flush(self) -> bytes:
        """Return what the filter still holds, and start afresh for the next piece of sound."""
        self._odd = b""
        tail = self._stream.resample_chunk(np.zeros(0, dtype=np.int16), last=True)
        self._stream.clear()
        return bytes(tail.tobytes())


__all__ = ["Resampler", "resample", "to_channels", "to_mono"]
