"""Cuts the always-open microphone's stream into utterances: when the user starts to speak, when
they pause, when they are done, and the audio of what they said.

    echo-cancelled frames ─► windows ─► VoiceDetector: P(speech) ─► SpeechSegmenter
                                                                      │
        SpeechStarted ◄─ enough speech (a cough is not: ~250 ms while the assistant talks)
        Paused        ◄─ a short pause: may the turn end here? (TurnEndDetector, if any)
        SpeechEnded   ◄─ the turn is over: its audio, from a pre-roll before the onset
        SpeechDropped ◄─ what started was too short to be speech after all

Synchronous and deterministic: one `feed()` per frame, in the listening worker thread, returns
the events that frame completed; every time in an event is stream time (seconds of audio fed
since the start or the last `reset()`), so the caller maps it to its clock and the tests check it
exactly. Pure Python + numpy: the detectors are passed in.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum

import numpy as np

from assistant.core.listening import LISTEN_RATE, TurnEndDetector, VoiceDetector

BYTES_PER_SAMPLE = 2

# How much speech makes a start, in the two situations the caller knows apart: while the
# assistant speaks or thinks, a false start cuts its reply off, so a cough must not make one;
# from idle, a false start costs only a glance at the state line, so it may come sooner.
BARGE_IN_MIN_SPEECH = 0.25
TURN_MIN_SPEECH = 0.15
# While the assistant speaks, speech must also be this loud (after the echo canceller) to count:
# someone talking to the computer is -35 to -10 dBFS there; what is left of the assistant's own
# voice after cancelling can sound like speech to the detector at -50 dBFS.
BARGE_IN_MIN_LEVEL_DBFS = -42.0


class EndReason(Enum):
    PAUSE = "pause"  # silence long enough, by the adaptive pause or the cap
    TURN_COMPLETE = "turn_complete"  # a short pause that the turn model heard as a whole thought
    MAX_LENGTH = "max_length"  # speech went on past `max_utterance`
    CALLER = "caller"  # `end_turn()`: listening stopped, say


@dataclass(frozen=True, slots=True)
class SpeechStarted:
    onset: float  # where the speech began (the first window that sounded like it)
    at: float  # where it was recognised as speech: onset + about `min_speech`


@dataclass(frozen=True, slots=True)
class Paused:
    """The user stopped for `pause_seconds` (at least `min_pause`): once per pause."""

    audio: bytes  # the utterance so far, pre-roll and this pause included
    pause_seconds: float
    speech_seconds: float  # how much of the utterance was speech
    at: float
    complete: float | None  # P(turn complete) by the segmenter's TurnEndDetector, if it has one


@dataclass(frozen=True, slots=True)
class SpeechEnded:
    audio: bytes  # int16 mono PCM at LISTEN_RATE, from `audio_start` to a little after `end`
    audio_start: float  # `pre_roll` before the onset (less right after another utterance)
    onset: float
    end: float  # where the speech stopped (before the pause that ended it)
    at: float  # where that was decided
    speech_seconds: float
    reason: EndReason


@dataclass(frozen=True, slots=True)
class SpeechDropped:
    """A start, then less than `min_utterance` of speech in all: a cough, a knock, not a turn."""

    onset: float
    at: float


SegmentEvent = SpeechStarted | Paused | SpeechEnded | SpeechDropped


@dataclass(frozen=True, slots=True)
class AdaptivePause:
    """How long a pause ends a turn when no end-of-turn model judges it: longer after a short
    utterance ("What time is…" hesitates), shorter after a long one (the thought is usually
    whole), linear in between."""

    after_short: float = 1.0
    after_long: float = 0.6
    short_speech: float = 1.0  # up to this much speech, `after_short`
    long_speech: float = 3.0  # from this much speech, `after_long`

    def seconds(self, speech_seconds: float) -> float:
        if speech_seconds <= self.short_speech:
            return self.after_short
        if speech_seconds >= self.long_speech:
            return self.after_long
        share = (speech_seconds - self.short_speech) / (self.long_speech - self.short_speech)
        return self.after_short + share * (self.after_long - self.after_short)


@dataclass(frozen=True, slots=True)
class SegmenterSettings:
    start_threshold: float = 0.5  # P(speech) that begins speech, or resumes it after a pause
    continue_threshold: float = 0.35  # P(speech) that keeps it going (hysteresis)
    min_speech: float = BARGE_IN_MIN_SPEECH  # speech before SpeechStarted (`min_speech` can change)
    onset_gap: float = 0.1  # silence that abandons a start before it is confirmed
    min_utterance: float = 0.2  # less speech than this in all, and the start is dropped
    pre_roll: float = 0.3  # audio kept before the onset, so the first word is whole
    post_roll: float = 0.2  # audio kept after the end of the speech
    min_pause: float = 0.2  # the pause at which Paused is reported (and the turn model asked)
    max_pause: float = 2.0  # the cap: a pause this long ends the turn whatever the model says
    adaptive_pause: AdaptivePause = AdaptivePause()  # ends the turn without a turn model
    complete_threshold: float = 0.5  # P(complete) from which a pause ends the turn
    max_utterance: float = 30.0  # an utterance is cut here (Whisper takes 30 s at a time)


class _State(Enum):
    IDLE = "idle"
    STARTING = "starting"  # above start_threshold, not yet `min_speech` of it
    SPEAKING = "speaking"  # SpeechStarted was reported


class SpeechSegmenter:
    """Turns frames and the detector's probabilities into `SegmentEvent`s.

    With a `turn_end` detector, a pause of `min_pause` asks it whether the thought is complete:
    yes ends the turn at once, no waits up to `max_pause`. Without one, `adaptive_pause` decides.
    A caller that judges pauses itself (asynchronously, say) passes no detector and calls
    `end_turn()` when a `Paused` event convinces it.

    Not thread-safe: feed it, and set `min_speech` (BARGE_IN_MIN_SPEECH while the assistant
    speaks or thinks, TURN_MIN_SPEECH while it waits), from the one listening worker thread.
    The turn model, when there is one, runs inside `feed()` (Smart Turn: ~60 ms once per pause).
    """

    _state: _State
    _audio: bytearray
    _audio_start: int
    _fed: int
    _next_window: int
    _floor: int
    _onset: int
    _speech_end: int
    _voiced: int
    _gap: int
    _pause_start: int | None
    _pause_reported: bool

    def __init__(
        self,
        detector: VoiceDetector,
        settings: SegmenterSettings | None = None,
        *,
        turn_end: TurnEndDetector | None = None,
    ) -> None:
        self.settings = settings or SegmenterSettings()
        self.min_speech = self.settings.min_speech  # the caller changes it as the state changes
        self.min_level_dbfs = -math.inf  # likewise: quieter windows are not speech
        self._detector = detector
        self._turn_end = turn_end
        self._window = detector.window_samples
        self._window_bytes = self._window * BYTES_PER_SAMPLE
        self._start_stream()

    # ---- the stream ---------------------------------------------------------------------------

    def feed(self, frame: bytes) -> list[SegmentEvent]:
        """The next frame of the stream (int16 mono at LISTEN_RATE, FRAME_BYTES usually); the
        events that the windows it completed gave, in order."""
        if len(frame) % BYTES_PER_SAMPLE:
            raise ValueError(f"a frame of int16 samples has an even size, not {len(frame)} bytes")
        self._audio += frame
        self._fed += len(frame) // BYTES_PER_SAMPLE
        events: list[SegmentEvent] = []
        while self._fed - self._next_window >= self._window:
            offset = (self._next_window - self._audio_start) * BYTES_PER_SAMPLE
            window = bytes(self._audio[offset : offset + self._window_bytes])
            self._next_window += self._window
            probability = self._detector.probability(window)  # fed always: it keeps state
            if self.min_level_dbfs > -math.inf and dbfs(window) < self.min_level_dbfs:
                probability = 0.0
            self._on_window(probability, events)
        if self._state is _State.IDLE:
            self._forget_old_audio()
        return events

    def end_turn(self) -> SpeechEnded | SpeechDropped | None:
        """End the utterance now (a `Paused` judged complete, or listening stops); None when the
        user is not speaking. What was heard up to the last window counts."""
        if self._state is not _State.SPEAKING:
            self._abandon_start()
            return None
        return self._end(EndReason.CALLER)

    def reset(self) -> None:
        """A new stream (the microphone reopened): forget the audio, the state, the detector's."""
        self._detector.reset()
        self._start_stream()

    @property
    def position(self) -> float:
        """Stream time: seconds fed so far. A frame's events are about times up to this."""
        return self._fed / LISTEN_RATE

    @property
    def speaking(self) -> bool:
        """Whether the user is speaking (a started utterance, pauses included)."""
        return self._state is _State.SPEAKING

    def utterance_audio(self) -> bytes:
        """The utterance so far (pre-roll included), for a live partial transcript; empty when
        the user is not speaking."""
        if self._state is not _State.SPEAKING:
            return b""
        return self._slice(self._utterance_start(), self._fed)

    # ---- one window at a time ---------------------------------------------------------------

    def _on_window(self, probability: float, events: list[SegmentEvent]) -> None:
        start = self._next_window - self._window
        if self._state is _State.IDLE:
            if probability >= self.settings.start_threshold:
                self._state = _State.STARTING
                self._onset = start
                self._voiced = 0
                self._gap = 0
                self._count_speech(start)
        elif self._state is _State.STARTING:
            self._hear_start(probability, start)
        else:
            self._hear_speech(probability, start)
        if self._state is _State.STARTING and self._voiced >= self._samples(self.min_speech):
            self._state = _State.SPEAKING
            self._pause_start = None
            events.append(SpeechStarted(self._seconds(self._onset), self._seconds(self._now)))
        if self._state is _State.SPEAKING:
            self._judge_pause(events)
        if self._state is _State.SPEAKING and self._now - self._onset >= self._samples(
            self.settings.max_utterance
        ):
            events.append(self._end(EndReason.MAX_LENGTH))

    def _hear_start(self, probability: float, start: int) -> None:
        if probability >= self.settings.continue_threshold:
            self._gap = 0
            self._count_speech(start)
            return
        self._gap += self._window
        if self._gap > self._samples(self.settings.onset_gap):
            self._abandon_start()

    def _hear_speech(self, probability: float, start: int) -> None:
        threshold = (
            self.settings.continue_threshold
            if self._pause_start is None
            else self.settings.start_threshold  # hysteresis: resuming takes clear speech
        )
        if probability >= threshold:
            self._pause_start = None
            self._count_speech(start)
        elif self._pause_start is None:
            self._pause_start = self._speech_end
            self._pause_reported = False

    def _judge_pause(self, events: list[SegmentEvent]) -> None:
        if self._pause_start is None:
            return
        pause = self._now - self._pause_start
        if not self._pause_reported and pause >= self._samples(self.settings.min_pause):
            self._pause_reported = True
            audio = self._slice(self._utterance_start(), self._now)
            complete = None if self._turn_end is None else self._turn_end.complete(audio)
            events.append(
                Paused(
                    audio,
                    self._seconds(pause),
                    self._seconds(self._voiced),
                    self._seconds(self._now),
                    complete,
                )
            )
            if complete is not None and complete >= self.settings.complete_threshold:
                events.append(self._end(EndReason.TURN_COMPLETE))
                return
        if pause >= self._samples(self._pause_to_end()):
            events.append(self._end(EndReason.PAUSE))

    def _pause_to_end(self) -> float:
        """Seconds of pause after which the turn ends: the cap when a turn model judged the pause
        short of an end, the adaptive pause otherwise."""
        settings = self.settings
        if self._turn_end is not None:
            return settings.max_pause
        adaptive = settings.adaptive_pause.seconds(self._seconds(self._voiced))
        return min(max(adaptive, settings.min_pause), settings.max_pause)

    def _count_speech(self, window_start: int) -> None:
        self._voiced += self._window
        self._speech_end = window_start + self._window

    def _end(self, reason: EndReason) -> SpeechEnded | SpeechDropped:
        onset, now = self._onset, self._now
        end = self._speech_end
        voiced = self._voiced
        self._state = _State.IDLE
        if voiced < self._samples(self.settings.min_utterance):
            return SpeechDropped(self._seconds(onset), self._seconds(now))
        audio_start = self._utterance_start()
        audio_end = min(end + self._samples(self.settings.post_roll), now)
        self._floor = audio_end  # the next pre-roll does not repeat this utterance's audio
        return SpeechEnded(
            self._slice(audio_start, audio_end),
            self._seconds(audio_start),
            self._seconds(onset),
            self._seconds(end),
            self._seconds(now),
            self._seconds(voiced),
            reason,
        )

    def _abandon_start(self) -> None:
        self._state = _State.IDLE

    # ---- the audio kept ----------------------------------------------------------------------

    def _start_stream(self) -> None:
        self._state = _State.IDLE
        self._audio = bytearray()
        self._audio_start = 0  # the stream sample at which `_audio` begins
        self._fed = 0  # samples fed
        self._next_window = 0  # the stream sample where the next detector window begins
        self._floor = 0  # no pre-roll before this: the end of the last utterance's audio
        self._onset = 0  # stream samples, like every position below
        self._speech_end = 0
        self._voiced = 0  # samples of speech in the current start or utterance
        self._gap = 0  # samples of silence since a start began to sound like speech
        self._pause_start = None  # where the current pause began; None while speaking
        self._pause_reported = False

    @property
    def _now(self) -> int:
        """The end of the last window judged: what the detector has heard up to."""
        return self._next_window

    def _utterance_start(self) -> int:
        return max(self._onset - self._samples(self.settings.pre_roll), self._floor)

    def _forget_old_audio(self) -> None:
        """Idle: keep only what a pre-roll for the next window could need."""
        keep_from = max(self._next_window - self._samples(self.settings.pre_roll), self._floor, 0)
        drop = keep_from - self._audio_start
        if drop > 0:
            del self._audio[: drop * BYTES_PER_SAMPLE]
            self._audio_start = keep_from

    def _slice(self, start: int, end: int) -> bytes:
        first = (start - self._audio_start) * BYTES_PER_SAMPLE
        last = (end - self._audio_start) * BYTES_PER_SAMPLE
        return bytes(self._audio[max(first, 0) : last])

    @staticmethod
    def _samples(seconds: float) -> int:
        return int(round(seconds * LISTEN_RATE))

    @staticmethod
    def _seconds(samples: int) -> float:
        return samples / LISTEN_RATE


def dbfs(pcm: bytes) -> float:
    """The level of int16 PCM, in dB below full scale (-90 for digital silence)."""
    samples = np.frombuffer(pcm, dtype=np.int16).astype(np.float32)
    rms = float(np.sqrt(np.mean(samples * samples))) if len(samples) else 0.0
    return 20 * math.log10(max(rms, 1.0) / 32768)


__all__ = [
    "BARGE_IN_MIN_LEVEL_DBFS",
    "BARGE_IN_MIN_SPEECH",
    "TURN_MIN_SPEECH",
    "AdaptivePause",
    "EndReason",
    "Paused",
    "SegmentEvent",
    "SegmenterSettings",
    "SpeechDropped",
    "SpeechEnded",
    "SpeechSegmenter",
    "SpeechStarted",
    "dbfs",
]
