"""Where the words are in the English clips of tests/data/speech, and the clips as a microphone
hears them: silence (or a faint hiss) before and after, fed 10 ms frame by 10 ms frame."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from assistant.audio.files import read_audio
from assistant.core.listening import FRAME_BYTES, LISTEN_RATE
from tests.support.speech import SPEECH

# Seconds into each clip where its first word begins and its last word ends. Onsets: the first
# 10 ms whose level is 10 dB over the clip's noise floor. Ends: where Whisper (tiny.en, word
# timestamps) ends the last word, checked against the level curve (jfk's crowd noise after
# "country" is not speech; ds's "this" fades out until 1.70 s).
SPEECH_SPANS: dict[str, tuple[float, float]] = {
    "ds_2830-3980-0043.wav": (0.40, 1.70),  # "Experience proves this."
    "fw_stereo_diarization_left.wav": (0.30, 4.65),  # "He began a confused complaint ..."
    "fw_stereo_diarization_right.wav": (0.36, 2.48),  # "The horizon seems extremely distant."
    "fw_jfk.flac": (0.33, 10.50),  # "And so my fellow Americans, ...", three phrases
}


def padded_clip(
    name: str, *, before: float = 1.0, after: float = 2.5, hiss_dbfs: float | None = -60.0
) -> bytes:
    """The clip with `before` and `after` seconds of quiet around it, as 16 kHz int16 PCM; a
    white hiss at `hiss_dbfs` over all of it (a real microphone is never digitally silent)."""
    clip = np.frombuffer(read_audio(SPEECH / name, LISTEN_RATE), dtype="<i2")
    samples = np.concatenate(
        (
            np.zeros(round(before * LISTEN_RATE)),
            clip.astype(np.float64),
            np.zeros(round(after * LISTEN_RATE)),
        )
    )
    if hiss_dbfs is not None:
        hiss = np.random.default_rng(16).normal(0, 32768 * 10 ** (hiss_dbfs / 20), samples.size)
        samples += hiss
    return np.clip(np.round(samples), -32768, 32767).astype("<i2").tobytes()


def frames(pcm: bytes) -> Iterator[bytes]:
    """`pcm` in the listener's 10 ms frames (a last partial frame is dropped, as a device does)."""
    for start in range(0, len(pcm) - FRAME_BYTES + 1, FRAME_BYTES):
        yield pcm[start : start + FRAME_BYTES]
