"""Silence trimming keeps a short natural pause and never touches the speech itself."""

from __future__ import annotations

import numpy as np

from assistant.core.silence import SilenceTrimmer

RATE = 16_000


def pcm(*parts: tuple[float, int]) -> bytes:
    """Concatenate (seconds, amplitude) runs of a 440 Hz tone (amplitude 0 = silence)."""
    out = []
    for seconds, amplitude in parts:
        t = np.arange(int(seconds * RATE)) / RATE
        out.append((amplitude * np.sin(2 * np.pi * 440 * t)).astype("<i2"))
    return np.concatenate(out).tobytes()


def trim(audio: bytes, chunk: int) -> bytes:
    trimmer = SilenceTrimmer(RATE, keep_lead=0.03, keep_tail=0.15)
    out = b"".join(trimmer.feed(audio[i : i + chunk]) for i in range(0, len(audio), chunk))
    return out + trimmer.finish()


def test_long_padding_is_cut_to_a_natural_pause_whatever_the_chunking() -> None:
    speech = pcm((0.5, 8000), (0.2, 0), (0.5, 8000))  # an inner pause stays whole
    padded = pcm((0.4, 0)) + speech + pcm((0.6, 0))
    results = {trim(padded, chunk) for chunk in (320, 1000, 4410, len(padded))}
    assert len(results) == 1
    (out,) = results
    seconds = len(out) / 2 / RATE
    assert 1.2 + 0.03 + 0.14 <= seconds <= 1.2 + 0.03 + 0.15 + 0.01
    assert speech in out  # the speech itself, inner pause included, is untouched


def test_pure_silence_is_dropped() -> None:
    assert trim(pcm((1.0, 0)), 640) == b""
