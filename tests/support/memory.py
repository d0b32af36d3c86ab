"""In-memory implementations of the core's protocols, for testing the core's logic on its own.

They stand in for devices and services only in tests of `assistant.core`; the adapters themselves
are tested against real PortAudio, real models and real HTTPS servers.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field

from assistant.core.errors import AssistantError, DeviceError
from assistant.core.protocols import (
    AudioChunk,
    Message,
    PlaybackEvent,
    PlaybackEventKind,
    PlaybackListener,
    ProgressListener,
    Recording,
    Transcript,
)
from assistant.core.timeline import clock

RATE = 16_000


def tone(text: str, seconds: float = 0.05) -> bytes:
    """Loud, non-silent PCM that identifies `text` (every sample is the same value)."""
    value = 1000 + (sum(map(ord, text)) % 20_000)
    return int(value).to_bytes(2, "little", signed=True) * int(RATE * seconds)


@dataclass
class MemorySynthesizer:
    """Yields `tone(text)` in two chunks after `delay(text)` seconds; fails for texts in `fail`."""

    delay: Callable[[str], float] = lambda text: 0.0
    fail: dict[str, AssistantError] = field(default_factory=dict)
    sample_rate: int = RATE
    max_text_bytes: int = 1024
    started: list[str] = field(default_factory=list)
    in_flight: int = 0
    most_in_flight: int = 0
    warmed: int = 0

    async def synthesize(self, text: str) -> AsyncIterator[AudioChunk]:
        self.started.append(text)
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            await asyncio.sleep(self.delay(text))
            if text in self.fail:
                raise self.fail[text]
            pcm = tone(text)
            half = len(pcm) // 4 * 2
            yield AudioChunk(pcm[:half], self.sample_rate)
            yield AudioChunk(pcm[half:], self.sample_rate)
        finally:
            self.in_flight -= 1

    async def warm_up(self) -> None:
        self.warmed += 1


class MemoryStream:
    """Plays in (scaled) real time: a write waits as long as its audio would take to play."""

    def __init__(self, sample_rate: int, listener: PlaybackListener, time_scale: float) -> None:
        self.sample_rate = sample_rate
        self.listener = listener
        self.time_scale = time_scale
        self.played: list[tuple[int, bytes]] = []
        self.aborted = False
        self.closed = False
        self.pauses = 0
        self._resumed = asyncio.Event()
        self._resumed.set()
        self._started: set[int] = set()

    async def write(self, pcm: bytes, tag: int) -> None:
        if self.aborted:
            return
        await self._resumed.wait()
        if self.aborted:
            return
        if tag not in self._started:
            self._started.add(tag)
            self.listener(PlaybackEvent(PlaybackEventKind.STARTED, tag, clock()))
        self.played.append((tag, pcm))
        await asyncio.sleep(len(pcm) / 2 / self.sample_rate * self.time_scale)

    def end_tag(self, tag: int) -> None:
        if not self.aborted and tag in self._started:
            self.listener(PlaybackEvent(PlaybackEventKind.FINISHED, tag, clock()))

    async def drain(self) -> None:
        return None

    def pause(self) -> None:
        self.pauses += 1
        self._resumed.clear()

    def resume(self) -> None:
        self._resumed.set()

    @property
    def paused(self) -> bool:
        return not self._resumed.is_set()

    def abort(self) -> None:
        self.aborted = True
        self._resumed.set()  # a write held by pause() returns, and plays nothing

    async def close(self) -> None:
        self.closed = True

    def audio(self) -> bytes:
        return b"".join(pcm for _, pcm in self.played)


@dataclass
class MemoryOutput:
    time_scale: float = 1.0
    streams: list[MemoryStream] = field(default_factory=list)

    async def open(self, sample_rate: int, listener: PlaybackListener) -> MemoryStream:
        stream = MemoryStream(sample_rate, listener, self.time_scale)
        self.streams.append(stream)
        return stream


@dataclass
class MemoryInput:
    """A microphone that 'hears' `pcm` (16 kHz int16) between start and stop. `unplug()` while
    recording is a device lost mid-recording (core.protocols.Unpluggable): the listener hears of
    it, and stop() raises `lost`."""

    pcm: bytes = b"\x01\x00" * RATE
    error: AssistantError | None = None
    overflows: int = 0
    lost: DeviceError = field(
        default_factory=lambda: DeviceError("The microphone stopped delivering sound.")
    )
    starts: int = 0
    recording: bool = False
    unplugged: bool = False
    _on_lost: Callable[[], None] | None = None

    async def start(self, on_level: Callable[[float], None] | None = None) -> None:
        if self.error is not None:
            raise self.error
        self.starts += 1
        self.recording = True
        self.unplugged = False
        self._on_lost = None
        if on_level is not None:
            on_level(0.5)

    def when_lost(self, listener: Callable[[], None]) -> None:
        assert self.recording, "when_lost() outside a recording"
        self._on_lost = listener

    def unplug(self) -> None:
        self.unplugged = True
        if self._on_lost is not None:
            asyncio.get_running_loop().call_soon(self._on_lost)

    async def stop(self) -> Recording:
        self.recording = False
        if self.unplugged:
            raise self.lost
        return Recording(self.pcm, overflows=self.overflows)


@dataclass
class MemoryTranscriber:
    text: str = "What is the weather like?"
    loads: int = 0

    async def load(self, progress: ProgressListener | None = None) -> None:
        self.loads += 1

    async def transcribe(self, recording: Recording) -> Transcript:
        await asyncio.sleep(0)
        return Transcript(self.text, "en")


@dataclass
class MemoryChat:
    """Streams `reply` in pieces of `step` characters, `delay` seconds apart."""

    reply: str = "It is sunny today. The high is twenty degrees. Enjoy your walk!"
    step: int = 5
    delay: float = 0.0
    error_after: int | None = None  # raise after this many pieces
    error: AssistantError = field(default_factory=lambda: AssistantError("The chat failed."))
    received: list[list[Message]] = field(default_factory=list)

    async def stream(self, messages: Sequence[Message]) -> AsyncIterator[str]:
        self.received.append(list(messages))
        for n, start in enumerate(range(0, len(self.reply), self.step)):
            if self.error_after is not None and n == self.error_after:
                raise self.error
            await asyncio.sleep(self.delay)
            yield self.reply[start : start + self.step]


@dataclass
class Counter:
    opened: int = 0
