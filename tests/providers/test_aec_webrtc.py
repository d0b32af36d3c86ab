"""WebRTC AEC3 behind the EchoCanceller contract, on real speech with a known echo path; and the
far-end reference that feeds it from the Speaker's tap."""

from __future__ import annotations

import numpy as np
import pytest

from assistant.audio.far_end import FarEndReference
from assistant.audio.files import read_audio
from assistant.core.listening import FRAME_BYTES, FRAME_SAMPLES, LISTEN_RATE
from assistant.providers.aec_webrtc import WebRtcEchoCanceller
from tests.support.speech import SPEECH

ASSISTANT = SPEECH / "fw_jfk.flac"  # 11 s of speech: what the assistant says
USER = SPEECH / "ds_2830-3980-0043.wav"  # "Experience proves this"
ECHO_DELAY = 960  # 60 ms


def speech(path: object, rate: int = LISTEN_RATE) -> np.ndarray:
    return np.frombuffer(read_audio(path, rate), dtype=np.int16)  # type: ignore[arg-type]


def frames(samples: np.ndarray) -> list[bytes]:
    count = len(samples) // FRAME_SAMPLES
    return [samples[i * FRAME_SAMPLES : (i + 1) * FRAME_SAMPLES].tobytes() for i in range(count)]


def power(samples: np.ndarray) -> float:
    return float((samples.astype(np.float64) ** 2).sum())


def test_an_echo_of_real_speech_is_taken_out_of_the_microphone() -> None:
    far = speech(ASSISTANT)
    echo = np.concatenate([np.zeros(ECHO_DELAY), far[:-ECHO_DELAY] * 0.5]).astype(np.int16)
    canceller = WebRtcEchoCanceller()
    out = []
    for far_frame, near_frame in zip(frames(far), frames(echo), strict=True):
        canceller.far(far_frame)
        out.append(np.frombuffer(canceller.near(near_frame), dtype=np.int16))
    cleaned = np.concatenate(out)
    half = len(cleaned) // 2  # after convergence
    erle = 10 * np.log10(power(echo[half : len(cleaned)]) / max(power(cleaned[half:]), 1.0))
    print(f"\nERLE on a pure 60 ms delay: {erle:.1f} dB")
    assert erle > 20


def test_the_far_end_queue_never_lags_more_than_its_cap() -> None:
    canceller = WebRtcEchoCanceller(max_far_backlog_seconds=0.05)
    for _ in range(20):
        canceller.far(bytes(FRAME_BYTES))
    assert canceller.far_backlog == 5
    assert canceller.far_frames_dropped == 15
    canceller.near(bytes(FRAME_BYTES))
    assert canceller.far_backlog == 4


def test_the_far_end_is_handed_on_up_to_when_the_microphone_frame_was_captured() -> None:
    """A listening thread running late must not be shown far frames played after the microphone
    frame it is cancelling: the echo path would seem to jump by its lag."""
    reference = FarEndReference()
    for moment in (1.00, 1.01, 1.02, 1.03):  # four 10 ms writes at 16 kHz mono
        reference.played(bytes(FRAME_BYTES), LISTEN_RATE, 1, moment)
    assert len(reference.frames(until=1.015)) == 2  # those played by then
    assert reference.frames(until=1.015) == []
    assert len(reference.frames(until=1.02)) == 1
    assert len(reference.frames()) == 1  # the rest


def test_a_frame_of_the_wrong_size_is_refused() -> None:
    with pytest.raises(ValueError, match="320 bytes"):
        WebRtcEchoCanceller().near(bytes(100))


def test_the_far_end_reference_turns_device_writes_into_listening_frames() -> None:
    """Stereo at 48 kHz in the speaker's 20 ms and 5 ms writes comes out 16 kHz mono frames."""
    mono = speech(USER, 48_000)
    stereo = np.repeat(mono, 2).tobytes()
    reference = FarEndReference()
    block = 48_000 * 4 // 50  # 20 ms of stereo int16
    for start in range(0, len(stereo), block):
        reference.played(stereo[start : start + block], 48_000, 2, 0.0)
    got = reference.frames()
    assert got and all(len(frame) == FRAME_BYTES for frame in got)
    assert reference.frames() == []  # each frame is handed on once
    expected = speech(USER)
    out = np.frombuffer(b"".join(got), dtype=np.int16)
    held_back = len(expected) - len(out)  # what the streaming resampler still holds (~25 ms)
    assert 0 <= held_back < 0.05 * LISTEN_RATE
    size = len(out)
    best = max(
        np.corrcoef(out[lag:size].astype(float), expected[: size - lag].astype(float))[0, 1]
        for lag in range(0, 40)
    )
    assert best > 0.98
