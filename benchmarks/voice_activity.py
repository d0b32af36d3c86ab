"""Hearing when the user speaks and stops: Silero VAD v6 (window by window, as hands-free
listening runs it) and the speech segmenter on the real English clips of tests/data/speech, each
with 1 s of -60 dBFS hiss before it and 2.5 s after, fed in 10 ms frames.

Per clip: how long after the first word begins the segmenter reports SpeechStarted (with the
barge-in's 250 ms of speech and the idle 150 ms), and how long after the last word it reports
SpeechEnded (the adaptive pause, and an end-of-turn model that hears the thought complete at the
first 200 ms pause, its own inference time not included). Then the CPU of idle listening: VAD and
segmenter over a minute of quiet hiss, as a share of one core.
"""

from __future__ import annotations

import statistics
import time

import numpy as np

from assistant.core.listening import LISTEN_RATE
from assistant.core.speech_segmenter import (
    BARGE_IN_MIN_SPEECH,
    TURN_MIN_SPEECH,
    SegmentEvent,
    SpeechEnded,
    SpeechSegmenter,
    SpeechStarted,
)
from assistant.providers.vad_silero import SileroVoiceDetector
from tests.support.speech import ENGLISH_CLIPS
from tests.support.speech_spans import SPEECH_SPANS, frames, padded_clip

TITLE = "Voice activity: speech start and end detection, and the CPU of idle listening"

BEFORE = 1.0  # seconds of hiss before each clip
IDLE_SECONDS = 60
Row = tuple[str, float, float, float, float]  # clip, two start delays, two end delays
TARGET_IDLE_CPU = 0.05  # of one core, for all of idle listening (VAD + canceller + wake word)


class _AlwaysComplete:
    """An end-of-turn model that hears every pause as the end: the fastest end a model allows."""

    def complete(self, speech: bytes) -> float:
        return 1.0


def _first_start(events: list[SegmentEvent]) -> float:
    return next(event.at for event in events if isinstance(event, SpeechStarted))


def _last_end(events: list[SegmentEvent]) -> float:
    ends = [event for event in events if isinstance(event, SpeechEnded)]
    return ends[-1].at


def _segment(segmenter: SpeechSegmenter, pcm: bytes) -> list[SegmentEvent]:
    events: list[SegmentEvent] = []
    for frame in frames(pcm):
        events.extend(segmenter.feed(frame))
    return events


def delays(detector: SileroVoiceDetector) -> list[Row]:
    rows: list[Row] = []
    for name in ENGLISH_CLIPS:
        onset, end = (BEFORE + t for t in SPEECH_SPANS[name])
        pcm = padded_clip(name, before=BEFORE)
        starts = []
        for min_speech in (BARGE_IN_MIN_SPEECH, TURN_MIN_SPEECH):
            detector.reset()
            segmenter = SpeechSegmenter(detector)
            segmenter.min_speech = min_speech
            events = _segment(segmenter, pcm)
            starts.append(_first_start(events) - onset)
        adaptive = _last_end(events) - end
        detector.reset()
        model = _last_end(_segment(SpeechSegmenter(detector, turn_end=_AlwaysComplete()), pcm))
        rows.append((name, starts[0], starts[1], adaptive, model - end))
    return rows


def idle_cpu(detector: SileroVoiceDetector) -> tuple[float, float, float]:
    """CPU seconds per second of quiet audio: the VAD alone, the segmenter around it, and the
    microseconds one window of the VAD costs."""
    rng = np.random.default_rng(5)
    hiss = rng.normal(0, 32768 * 10 ** (-50 / 20), IDLE_SECONDS * LISTEN_RATE)
    pcm = np.clip(np.round(hiss), -32768, 32767).astype("<i2").tobytes()
    window_bytes = 2 * detector.window_samples
    count = len(pcm) // window_bytes
    detector.reset()
    started = time.process_time()
    for i in range(count):
        detector.probability(pcm[i * window_bytes : (i + 1) * window_bytes])
    vad = time.process_time() - started
    detector.reset()
    segmenter = SpeechSegmenter(detector)
    started = time.process_time()
    for frame in frames(pcm):
        segmenter.feed(frame)
    both = time.process_time() - started
    return vad / IDLE_SECONDS, both / IDLE_SECONDS, vad / count * 1e6


def report(
    rows: list[tuple[str, float, float, float, float]], cpu: tuple[float, float, float]
) -> str:
    lines = [
        "Real clips with 1 s of -60 dBFS hiss before and 2.5 s after, in 10 ms frames, through "
        "`SileroVoiceDetector` and `SpeechSegmenter` (default settings). Times from where the "
        "words begin and end (tests/support/speech_spans.py).",
        "",
        "| clip | first word → SpeechStarted, 250 ms (barge-in) | same, 150 ms (from idle) | "
        "last word → SpeechEnded, adaptive pause | same, turn model says complete |",
        "|---|---|---|---|---|",
    ]
    for name, barge_in, idle, adaptive, model in rows:
        lines.append(
            f"| {name} | {barge_in * 1000:.0f} ms | {idle * 1000:.0f} ms | "
            f"{adaptive * 1000:.0f} ms | {model * 1000:.0f} ms |"
        )
    columns = list(zip(*[row[1:] for row in rows], strict=True))
    lines.append(
        "| **median** | "
        + " | ".join(f"**{statistics.median(column) * 1000:.0f} ms**" for column in columns)
        + " |"
    )
    vad, both, per_window = cpu
    lines += [
        "",
        "The turn model's column is the segmenter's part only: Smart Turn adds its inference "
        "(~60 ms) on top.",
        "",
        "| idle listening, a minute of -50 dBFS hiss | CPU, share of one core |",
        "|---|---|",
        f"| Silero VAD v6, one 512-sample window per 32 ms ({per_window:.0f} µs a window) "
        f"| {vad:.2%} |",
        f"| VAD + speech segmenter (10 ms frames) | {both:.2%} |",
        "",
        f"Budget for all of idle listening (VAD + echo canceller + wake word): "
        f"{TARGET_IDLE_CPU:.0%} of one core; the VAD and segmenter take "
        f"{both / TARGET_IDLE_CPU:.0%} of it.",
    ]
    return "\n".join(lines)


def run() -> str:
    detector = SileroVoiceDetector()
    return report(delays(detector), idle_cpu(detector))


if __name__ == "__main__":
    print(run())
