"""Silero VAD v6, for real: the model faster-whisper ships, window by window, on real speech, on
silence and quiet noise, and with its memory carried from one window to the next."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from faster_whisper.vad import get_vad_model

from assistant.core.errors import ModelError
from assistant.core.listening import LISTEN_RATE
from assistant.providers.vad_silero import WINDOW_SAMPLES, SileroVoiceDetector
from tests.support.speech import ENGLISH_CLIPS
from tests.support.speech_spans import SPEECH_SPANS, padded_clip

WINDOW_BYTES = 2 * WINDOW_SAMPLES
WINDOW_SECONDS = WINDOW_SAMPLES / LISTEN_RATE
BEFORE, AFTER = 1.0, 1.5  # seconds of digital silence around each clip


@pytest.fixture(scope="module")
def detector() -> SileroVoiceDetector:
    return SileroVoiceDetector()


def probabilities(detector: SileroVoiceDetector, pcm: bytes) -> np.ndarray:
    """P(speech) of each whole window of `pcm`, as one stream from a fresh state."""
    detector.reset()
    count = len(pcm) // WINDOW_BYTES
    return np.array(
        [detector.probability(pcm[i * WINDOW_BYTES : (i + 1) * WINDOW_BYTES]) for i in range(count)]
    )


def window_levels(pcm: bytes) -> np.ndarray:
    """The RMS level of each window, in dB below full scale."""
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float64) / 32768
    count = samples.size // WINDOW_SAMPLES
    windows = samples[: count * WINDOW_SAMPLES].reshape(count, WINDOW_SAMPLES)
    levels: np.ndarray = 20 * np.log10(np.sqrt((windows**2).mean(axis=1)) + 1e-9)
    return levels


@pytest.mark.parametrize("name", ENGLISH_CLIPS)
def test_speech_is_found_where_the_words_are(detector: SileroVoiceDetector, name: str) -> None:
    pcm = padded_clip(name, before=BEFORE, after=AFTER, hiss_dbfs=None)
    p = probabilities(detector, pcm)
    times = np.arange(p.size) * WINDOW_SECONDS  # where each window begins
    onset, end = (BEFORE + t for t in SPEECH_SPANS[name])
    levels = window_levels(pcm)
    inside = (times >= onset) & (times + WINDOW_SECONDS <= end)
    # The loud windows among the words (pauses between phrases are not speech, rightly).
    voiced = inside & (levels >= np.percentile(levels[inside], 50))

    assert np.mean(p[voiced] >= 0.5) >= 0.9
    assert p[times + WINDOW_SECONDS <= onset - 0.1].max() < 0.35  # the silence before
    assert p[times >= end + 0.4].max() < 0.35  # and after, once its memory of the words fades


@pytest.mark.parametrize(
    "noise",
    ["digital silence", "hiss -50 dBFS", "hiss -35 dBFS", "rumble", "mains hum", "fan"],
)
def test_silence_and_quiet_noise_are_not_speech(detector: SileroVoiceDetector, noise: str) -> None:
    seconds = 3
    rng = np.random.default_rng(6)
    t = np.arange(seconds * LISTEN_RATE) / LISTEN_RATE
    white = rng.normal(0, 1, t.size)
    signal = {
        "digital silence": np.zeros(t.size),
        "hiss -50 dBFS": white * 10 ** (-50 / 20),
        "hiss -35 dBFS": white * 10 ** (-35 / 20),
        "rumble": np.cumsum(white) / 3000,  # brown noise: traffic, a building's air
        "mains hum": 0.05 * np.sin(2 * np.pi * 50 * t) + 0.02 * np.sin(2 * np.pi * 150 * t),
        "fan": np.convolve(white, np.ones(8) / 8, mode="same") * 0.02
        + 0.01 * np.sin(2 * np.pi * 120 * t),
    }[noise]
    pcm = np.clip(np.round(signal * 32768), -32768, 32767).astype("<i2").tobytes()

    assert probabilities(detector, pcm).max() < 0.35


def test_state_carries_across_windows(detector: SileroVoiceDetector) -> None:
    """Window by window gives what faster-whisper's own Silero gives over the whole clip at once
    (its last window aside: it zeroes that window's tail), so the memory is kept as the model
    expects; and that memory is what holds speech steady across the words."""
    pcm = padded_clip("fw_stereo_diarization_right.wav", before=0.5, after=1.0, hiss_dbfs=None)
    windowed = probabilities(detector, pcm)
    whole = np.frombuffer(pcm[: windowed.size * WINDOW_BYTES], dtype="<i2") / np.float32(32768)
    reference = np.asarray(get_vad_model()(whole.astype(np.float32))).reshape(-1)
    np.testing.assert_allclose(windowed[:-1], reference[:-1], atol=1e-5)

    # Without its memory (every window scored as a stream of its own) the words flicker in and
    # out of speech; with it, they hold steady.
    onset, end = (0.5 + t for t in SPEECH_SPANS["fw_stereo_diarization_right.wav"])
    first, last = int(onset / WINDOW_SECONDS) + 1, int(end / WINDOW_SECONDS) - 1
    forgetful = np.array(
        [
            probabilities(detector, pcm[i * WINDOW_BYTES : (i + 1) * WINDOW_BYTES])[0]
            for i in range(first, last)
        ]
    )
    assert windowed[first:last].mean() > forgetful.mean() + 0.15
    assert np.mean(windowed[first:last] >= 0.5) > np.mean(forgetful >= 0.5) + 0.2

    # reset() forgets: the stream scores again exactly as the first time.
    np.testing.assert_array_equal(probabilities(detector, pcm), windowed)


def test_a_window_of_another_size_is_refused(detector: SileroVoiceDetector) -> None:
    assert detector.window_samples == 512
    with pytest.raises(ValueError, match="512 samples"):
        detector.probability(bytes(2 * 160))


def test_a_missing_model_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="voice-activity model"):
        SileroVoiceDetector(tmp_path / "nothing.onnx")


def test_cost_per_window(detector: SileroVoiceDetector) -> None:
    """Printed with -s: one window is 32 ms of audio; hands-free listening runs one per 32 ms,
    and all of idle listening must stay under 5 % of one core."""
    pcm = padded_clip("fw_jfk.flac", before=0.0, after=0.0)
    count = len(pcm) // WINDOW_BYTES
    detector.reset()
    started_cpu, started = time.process_time(), time.perf_counter()
    for i in range(count):
        detector.probability(pcm[i * WINDOW_BYTES : (i + 1) * WINDOW_BYTES])
    cpu = (time.process_time() - started_cpu) / count
    wall = (time.perf_counter() - started) / count
    share = cpu / WINDOW_SECONDS
    print(
        f"\n\nSilero VAD v6, {count} windows: {cpu * 1e6:.0f} µs of CPU per window "
        f"({wall * 1e6:.0f} µs wall) = {share:.1%} of one core while listening"
    )
    assert share < 0.05  # a generous bound: a shared machine's noise, not the target
