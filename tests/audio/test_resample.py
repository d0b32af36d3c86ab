"""Resampling and channel mixing of int16 PCM: streaming gives what converting at once gives."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assistant.audio.resample import Resampler, resample, to_channels, to_mono


def sweep(seconds: float, rate: int) -> bytes:
    t = np.arange(round(seconds * rate)) / rate
    return (12_000 * np.sin(2 * np.pi * (200 + 1500 * t) * t)).astype(np.int16).tobytes()


@pytest.mark.parametrize(
    ("source", "target"), [(22_050, 48_000), (44_100, 16_000), (24_000, 16_000)]
)
def test_a_whole_buffer_changes_length_by_the_ratio_of_rates(source: int, target: int) -> None:
    pcm = sweep(1.0, source)
    assert len(resample(pcm, source, target)) // 2 == pytest.approx(target, abs=1)
    assert resample(pcm, source, source) is pcm


@given(chunk=st.integers(min_value=1, max_value=5000))
@settings(max_examples=25, deadline=None)
def test_streaming_in_any_chunk_size_matches_converting_at_once(chunk: int) -> None:
    pcm = sweep(0.5, 22_050)
    resampler = Resampler(22_050, 48_000)
    streamed = b"".join(resampler.process(pcm[i : i + chunk]) for i in range(0, len(pcm), chunk))
    streamed += resampler.flush()
    whole = np.frombuffer(resample(pcm, 22_050, 48_000), dtype=np.int16).astype(int)
    got = np.frombuffer(streamed, dtype=np.int16).astype(int)
    assert len(got) == len(whole)
    assert np.abs(got - whole).max() <= 2


def test_a_flushed_resampler_starts_afresh() -> None:
    resampler = Resampler(16_000, 48_000)
    once = np.frombuffer(resampler.process(sweep(0.2, 16_000)) + resampler.flush(), np.int16)
    again = np.frombuffer(resampler.process(sweep(0.2, 16_000)) + resampler.flush(), np.int16)
    assert len(once) == len(again) == 9600
    assert np.abs(once.astype(int) - again).max() <= 2  # soxr dithers its int16 output


def test_channels_are_averaged_and_copied() -> None:
    stereo = np.array([[1000, 3000], [-2000, 0], [5, 6]], dtype=np.int16).tobytes()
    assert np.frombuffer(to_mono(stereo, 2), dtype=np.int16).tolist() == [2000, -1000, 6]
    mono = np.array([7, -8], dtype=np.int16).tobytes()
    assert np.frombuffer(to_channels(mono, 2), dtype=np.int16).tolist() == [7, 7, -8, -8]
