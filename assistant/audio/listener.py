"""The always-open microphone of hands-free and wake-word modes (`core.hands_free.Listener`).

    PortAudio callback ──► queue ──► listening thread:
                                       far-end frames (what the Speaker played) ─► canceller.far
                                       10 ms microphone frame ─► canceller.near ─► wake word
                                                                                ─► segmenter ─► loop

The callback only copies; everything else (echo cancelling, voice detection, the end-of-turn and
wake-word models) runs in one worker thread, which hands events to the event loop. The models are
made in that thread too: loading them never blocks the loop.
"""

from __future__ import annotations

import asyncio
import logging
import math
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyaudio

from assistant.audio.devices import OpenStream, open_device, open_in_worker
from assistant.audio.far_end import FarEndReference
from assistant.audio.resample import Resampler, to_mono
from assistant.audio.speaker import Speaker
from assistant.core.errors import AssistantError, DeviceError
from assistant.core.hands_free import (
    HeardSoFar,
    ListenerFailed,
    ListenEvent,
    NotSpeech,
    SpeechBegan,
    Utterance,
    WakeWordHeard,
)
from assistant.core.listening import (
    FRAME_BYTES,
    LISTEN_RATE,
    EchoCanceller,
    VoiceDetector,
    WakeWordDetector,
)
from assistant.core.live_words import PARTIAL_EVERY
from assistant.core.protocols import Recording
from assistant.core.speech_segmenter import (
    BARGE_IN_MIN_LEVEL_DBFS,
    BARGE_IN_MIN_SPEECH,
    TURN_MIN_SPEECH,
    SpeechDropped,
    SpeechEnded,
    SpeechSegmenter,
    SpeechStarted,
    dbfs,
)

log = logging.getLogger(__name__)

BLOCK_SECONDS = 0.02
# The assistant counts as speaking this long after its last sound reached the device: speech
# heard then must last BARGE_IN_MIN_SPEECH (a cough does not cut the answer off).
STILL_SPEAKING_SECONDS = 0.3
# No block from the device for this long while listening: it is gone.
SILENT_LIMIT = 1.0
LEVELS_KEPT = 30  # frames of levels kept for the log (300 ms: about a barge-in's speech)


@dataclass
class ListeningParts:
    """How to make each part, called in the listening thread (loading a model takes a while)."""

    detector: Callable[[], VoiceDetector]
    canceller: Callable[[], EchoCanceller] | None = None  # None: echo cancellation is off
    turn_end: Callable[[], Any] | None = None  # a TurnEndDetector, or None: adaptive pause
    wake_word: Callable[[], WakeWordDetector] | None = None


class HandsFreeListener:
    """Listens on `device` (a setting as `devices.PortAudio.target` reads it; None: the
    default) for the whole time it is started; while it does, `speaker`'s tap feeds the echo
    canceller what it plays."""

    def __init__(
        self, device: str | int | None, parts: ListeningParts, speaker: Speaker | None
    ) -> None:
        self.device = device
        self._parts = parts
        self._speaker = speaker  # its tap feeds the canceller while listening
        self._far_end = FarEndReference()
        self._blocks: queue.SimpleQueue[tuple[bytes, float] | None] = queue.SimpleQueue()
        self._stop = threading.Event()
        self._gated = threading.Event()  # set: wait for the wake word before reporting speech
        self._thread: threading.Thread | None = None
        self._opened: OpenStream | None = None
        self._rate = LISTEN_RATE
        self._channels = 1
        self._last_block = time.monotonic()

    async def start(self, report: Callable[[ListenEvent], None], *, wake_word: bool) -> None:
        loop = asyncio.get_running_loop()
        if wake_word:
            self._gated.set()
        ready: asyncio.Future[None] = loop.create_future()

        def deliver(event: ListenEvent) -> None:
            try:
                loop.call_soon_threadsafe(report, event)
            except RuntimeError:  # the loop is closed: the app is quitting
                self._stop.set()

        def started(error: AssistantError | None) -> None:
            if ready.done():
                return
            if error is not None:
                ready.set_exception(error)
            else:
                ready.set_result(None)

        self._thread = threading.Thread(
            target=self._listen,
            args=(deliver, lambda error: loop.call_soon_threadsafe(started, error)),
            name="hands-free listener",
            daemon=True,
        )
        self._thread.start()
        try:
            await ready  # the models are loaded
            await open_in_worker(self._open, lambda _: self._close())
            if self._speaker is not None and self._parts.canceller is not None:
                self._speaker.on_played = self._far_end.played  # from the next reply on
        except BaseException:
            await self.stop()
            raise

    def wait_for_wake_word(self) -> None:
        self._gated.set()

    async def stop(self) -> None:
        if self._speaker is not None:
            self._speaker.on_played = None
        self._stop.set()
        self._blocks.put(None)
        await asyncio.to_thread(self._close)
        if self._thread is not None:
            await asyncio.to_thread(self._thread.join, 5.0)
            self._thread = None

    # -- the device (worker threads) ----------------------------------------------------------

    def _open(self) -> HandsFreeListener:
        opened = open_device(
            self.device, "input", self._formats, BLOCK_SECONDS, stream_callback=self._on_audio
        )
        self._opened = opened
        self._rate, self._channels = opened.rate, opened.channels
        self._last_block = time.monotonic()
        return self

    @staticmethod
    def _formats(default_rate: int, max_channels: int) -> Iterator[tuple[int, int]]:
        yield LISTEN_RATE, 1
        yield default_rate, 1
        yield default_rate, min(max_channels, 2)

    def _close(self) -> None:
        opened, self._opened = self._opened, None
        if opened is not None:
            opened.close()

    def _on_audio(
        self, data: bytes | None, frames: int, timing: Any, status: int
    ) -> tuple[None, int]:
        # PortAudio's real-time thread: note the time, hand over, nothing else.
        now = time.monotonic()
        self._last_block = now
        if data:
            self._blocks.put((data, now))
        return None, pyaudio.paContinue

    # -- the listening thread -----------------------------------------------------------------

    def _listen(
        self,
        deliver: Callable[[ListenEvent], None],
        started: Callable[[AssistantError | None], None],
    ) -> None:
        try:
            pipeline = _Pipeline(self._parts, self._far_end, deliver, self._gated)
        except AssistantError as error:
            started(error)
            return
        except Exception as error:  # a model that would not load: say it, keep the app
            log.exception("the hands-free listener could not start")
            started(DeviceError(f"Hands-free listening could not start ({type(error).__name__})."))
            return
        started(None)
        resampler: Resampler | None = None
        while not self._stop.is_set():
            try:
                item = self._blocks.get(timeout=0.25)
            except queue.Empty:
                item = None
            if item is None:
                if not self._stop.is_set() and self._opened is not None and self._lost():
                    deliver(ListenerFailed(self._lost_error()))
                    return
                continue
            data, when = item
            pcm = to_mono(data, self._channels)
            if self._rate != LISTEN_RATE:
                resampler = resampler or Resampler(self._rate, LISTEN_RATE)
                pcm = resampler.process(pcm)
            pipeline.feed(pcm, when)

    def _lost(self) -> bool:
        return time.monotonic() - self._last_block > SILENT_LIMIT

    def _lost_error(self) -> DeviceError:
        return DeviceError(
            "The microphone stopped delivering sound (was it unplugged?), so hands-free "
            "listening stopped. Plug it back in, or choose another microphone in Settings > "
            "Audio, then choose Hands-free again."
        )


class _Pipeline:
    """Frames in, events out: canceller, wake word, segmenter. Lives in the listening thread."""

    def __init__(
        self,
        parts: ListeningParts,
        far_end: FarEndReference,
        deliver: Callable[[ListenEvent], None],
        gated: threading.Event,
    ) -> None:
        self._far_end = far_end
        self._deliver = deliver
        self._gated = gated
        self._canceller = parts.canceller() if parts.canceller else None
        self._wake_word = parts.wake_word() if parts.wake_word else None
        turn_end = parts.turn_end() if parts.turn_end else None
        self._segmenter = SpeechSegmenter(parts.detector(), turn_end=turn_end)
        self._carry = b""
        # Per frame, for the log when speech cuts the assistant off: the microphone's level, the
        # canceller's output, the far end's, and how late the frame was processed.
        self._levels: deque[tuple[float, float, float, float]] = deque(maxlen=LEVELS_KEPT)
        self._far_level = -120.0  # dBFS of the far frame played last
        self._so_far_at: float | None = None  # stream time the utterance so far went out last

    def feed(self, pcm: bytes, when: float) -> None:
        """A block of 16 kHz mono microphone audio whose last sample came at `when`."""
        data = self._carry + pcm
        whole = len(data) - len(data) % FRAME_BYTES
        self._carry = data[whole:]
        frames = [data[start : start + FRAME_BYTES] for start in range(0, whole, FRAME_BYTES)]
        for index, frame in enumerate(frames):
            self._frame(frame, when - (len(frames) - 1 - index) * 0.01)

    def _frame(self, frame: bytes, when: float) -> None:
        played = self._far_end.last_played
        speaking = played is not None and time.monotonic() - played < STILL_SPEAKING_SECONDS
        if self._canceller is not None:
            fars = self._far_end.frames(until=when)  # paired by time: see far_end.py
            for far in fars:
                self._canceller.far(far)
            cleaned = self._canceller.near(frame)
            if speaking:  # the levels are logged only if speech cuts the assistant off
                # Far frames come two to a speaker write, so a microphone frame often gets none:
                # it shows the level last played, not silence.
                self._far_level = max((dbfs(far) for far in fars), default=self._far_level)
                far_level = self._far_level
                lag = time.monotonic() - when
                self._levels.append((dbfs(frame), dbfs(cleaned), far_level, lag))
            frame = cleaned
        if self._gated.is_set():
            if self._wake_word is not None and self._wake_word.feed(frame):
                self._gated.clear()
                self._segmenter.reset()
                self._deliver(WakeWordHeard(self._wake_word.phrase))
            return
        self._segmenter.min_speech = BARGE_IN_MIN_SPEECH if speaking else TURN_MIN_SPEECH
        self._segmenter.min_level_dbfs = BARGE_IN_MIN_LEVEL_DBFS if speaking else -math.inf
        for event in self._segmenter.feed(frame):
            self._report(event, when)
        self._hand_over_so_far()

    def _hand_over_so_far(self) -> None:
        """While the user speaks, what they said so far, every PARTIAL_EVERY seconds: their
        words appear as they speak, and the final transcript has little left to decode."""
        segmenter = self._segmenter
        if not segmenter.speaking:
            self._so_far_at = None
            return
        if self._so_far_at is None:
            self._so_far_at = segmenter.position  # SpeechStarted just went out
        elif segmenter.position - self._so_far_at >= PARTIAL_EVERY:
            self._so_far_at = segmenter.position
            self._deliver(HeardSoFar(Recording(segmenter.utterance_audio(), LISTEN_RATE)))

    def _log_levels(self) -> None:
        """What the canceller did over the last moments, when speech cut the assistant off: its
        voice leaking through (a self-interruption) shows as a small drop from microphone to
        output with the far end loud."""
        if not self._levels:
            return
        raw, cleaned, far, lag = np.median(np.array(self._levels), axis=0).tolist()
        log.info(
            "Speech while the assistant spoke (last %d ms, medians): microphone %.0f dBFS, after "
            "the canceller %.0f dBFS, its voice %.0f dBFS; frames %.0f ms late",
            len(self._levels) * 10,
            raw,
            cleaned,
            far,
            lag * 1000,
        )

    def _report(self, event: object, when: float) -> None:
        def clock(position: float) -> float:
            return when - (self._segmenter.position - position)

        match event:
            case SpeechStarted(onset, _):
                if self._segmenter.min_speech == BARGE_IN_MIN_SPEECH:
                    self._log_levels()
                self._deliver(SpeechBegan(clock(onset)))
            case SpeechEnded() as ended:
                recording = Recording(ended.audio, LISTEN_RATE)
                self._deliver(Utterance(recording, clock(ended.onset), clock(ended.end)))
            case SpeechDropped():
                self._deliver(NotSpeech())


__all__ = ["HandsFreeListener", "ListeningParts"]
