"""The small interfaces between the turn and the outside world, and the data they exchange.

Audio everywhere is signed 16-bit little-endian mono PCM (`bytes`), tagged with its sample rate.
Adapters in `assistant.audio` and `assistant.providers` implement these; the core never learns
which library stands behind them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Literal, Protocol, runtime_checkable

from assistant.core.live_transcript import Partial

BYTES_PER_SAMPLE = 2  # int16
TRANSCRIBE_RATE = 16_000  # what Whisper wants, and what microphones deliver after resampling


@dataclass(frozen=True, slots=True)
class AudioChunk:
    """A piece of signed 16-bit mono PCM."""

    pcm: bytes
    sample_rate: int

    @property
    def duration(self) -> float:
        return len(self.pcm) / BYTES_PER_SAMPLE / self.sample_rate


@dataclass(frozen=True, slots=True)
class Recording:
    """What the microphone heard between press and release, as 16 kHz mono int16 PCM."""

    pcm: bytes
    sample_rate: int = TRANSCRIBE_RATE
    overflows: int = 0  # input blocks PortAudio reported as lost

    @property
    def duration(self) -> float:
        return len(self.pcm) / BYTES_PER_SAMPLE / self.sample_rate


@dataclass(frozen=True, slots=True)
class Transcript:
    """What was said. Empty text means no speech was found."""

    text: str
    language: str | None = None


@dataclass(frozen=True, slots=True)
class LoadProgress:
    """How far getting a model ready has come, e.g. a download; said to the user as it is."""

    text: str  # e.g. "Downloading the speech model base.en: 12 of 142 MB"
    fraction: float | None = None  # 0..1, or None when the total is not known


ProgressListener = Callable[[LoadProgress], None]


@dataclass(frozen=True, slots=True)
class Message:
    role: Literal["system", "user", "assistant"]
    content: str


class AudioInput(Protocol):
    """A microphone. `start` begins capturing; `stop` ends it and returns what was heard."""

    async def start(self, on_level: Callable[[float], None] | None = None) -> None:
        """Open the device and capture; `on_level` gets the input level (0..1) about 20 times a
        second, on the event loop. Raises DeviceError if there is no usable device."""
        ...

    async def stop(self) -> Recording:
        """Stop capturing and return the recording. Raises DeviceError if the device was lost."""
        ...


@runtime_checkable
class Unpluggable(Protocol):
    """An AudioInput that can vanish while recording (a sound card's, not a file's) says so at
    once, so the turn ends while the user still holds Talk rather than at release."""

    def when_lost(self, listener: Callable[[], None]) -> None:
        """While recording: call `listener` once, on the event loop, as soon as the device stops
        delivering sound (soon after, if it already has); `stop()` then raises DeviceError."""
        ...


class PlaybackEventKind(Enum):
    STARTED = "started"  # the first sample of a tag was handed to the sound card
    FINISHED = "finished"  # the last sample of a tag was handed to the sound card
    UNDERRUN = "underrun"  # the device ran dry while more audio was expected
    DROPOUT = "dropout"  # the device ran out although audio was waiting (a busy machine)


@dataclass(frozen=True, slots=True)
class PlaybackEvent:
    kind: PlaybackEventKind
    tag: int
    time: float  # time.monotonic()


PlaybackListener = Callable[[PlaybackEvent], None]


class PlaybackStream(Protocol):
    """One open output stream for a whole reply; audio written to it plays without gaps."""

    sample_rate: int

    async def write(self, pcm: bytes, tag: int) -> None:
        """Queue PCM (at `sample_rate`) for playback, labelled `tag` (the sentence's index).
        Waits while the stream's buffer is full; never blocks the event loop."""
        ...

    def end_tag(self, tag: int) -> None:
        """No more audio will be written for `tag`: report FINISHED once its last sample plays."""
        ...

    async def drain(self) -> None:
        """Wait until everything written has been handed to the sound card."""
        ...

    def pause(self) -> None:
        """Go silent after what the device already holds, keeping what is queued: a sentence
        held, not cut (speech that may be the assistant's own echo is being checked)."""
        ...

    def resume(self) -> None:
        """Play on from where pause() held it."""
        ...

    def abort(self) -> None:
        """Barge-in: go silent within one audio block and drop whatever is still queued."""
        ...

    async def close(self) -> None: ...


class AudioOutput(Protocol):
    """A speaker. `open` starts one stream; events arrive on the event loop."""

    async def open(self, sample_rate: int, listener: PlaybackListener) -> PlaybackStream: ...


class Transcriber(Protocol):
    async def load(self, progress: ProgressListener | None = None) -> None:
        """Load and warm up the model (idempotent), downloading it first if need be; `progress`
        hears how far that has come, on the event loop. Raises ModelError (ModelMissing when
        the model is not on this computer and cannot be fetched)."""
        ...

    async def transcribe(self, recording: Recording) -> Transcript:
        """Transcribe without blocking the event loop; empty text if nothing was said."""
        ...


class LiveTranscription(Protocol):
    """One utterance transcribed while it is spoken (issue 17). Call `update` with the recording
    so far as it grows (every ~0.5 s of new audio is plenty), then `finish` once with the whole
    of it; or `cancel`. Committed words in the partials never change."""

    async def update(self, recording: Recording) -> Partial | None:
        """Decode the audio so far; None at once when a decode is still running (updates are
        skipped, never queued, so decoding never falls behind the speaker) or nothing is heard
        yet. Never blocks the event loop."""
        ...

    async def finish(self, recording: Recording) -> Transcript:
        """The whole utterance's transcript, as `Transcriber.transcribe` would give it (the same
        silence guard; empty when nothing was said). Decodes only what the partials had not
        settled, and nothing when the last decode already heard every word."""
        ...

    def cancel(self) -> None:
        """Abandon the utterance (a barge-in, a cancelled turn): a running decode stops early."""
        ...


class ChatModel(Protocol):
    def stream(self, messages: Sequence[Message]) -> AsyncIterator[str]:
        """The reply to `messages`, as text deltas while the model writes it."""
        ...


class Synthesizer(Protocol):
    """Text in, audio out as it is made."""

    sample_rate: int  # of the chunks `synthesize` yields
    max_text_bytes: int  # the longest text (UTF-8 bytes) one call accepts

    def synthesize(self, text: str) -> AsyncIterator[AudioChunk]: ...

    async def warm_up(self) -> None:
        """Pay the connection's handshake now (on press), so the first sentence does not.
        Never raises: a failed warm-up just means the first request pays instead."""
        ...


class ConnectionCounter(Protocol):
    """How many new network connections the app has opened so far."""

    @property
    def opened(self) -> int: ...


# What some parts can do beyond their protocol, asked by capability rather than by class.


@runtime_checkable
class LiveTranscribing(Protocol):
    """A Transcriber that can transcribe while the user speaks; one that cannot (a remote service)
    is asked `transcribe` on the whole recording instead."""

    def live(self) -> LiveTranscription:
        """A new live transcription for one utterance (after `load`)."""
        ...


@runtime_checkable
class Closable(Protocol):
    """Holds something to let go of when the app is done with it (a model's worker thread)."""

    def close(self) -> None: ...


@runtime_checkable
class Checkable(Protocol):
    """Can say whether it works before it is needed (a language model service: reachable, the
    key accepted, the model served); raises an AssistantError that says what is wrong."""

    async def check(self) -> None: ...


@runtime_checkable
class LanguagesLoading(Protocol):
    """A transcriber ready for English first, other languages a moment later: a one-off job
    (a file to transcribe) waits for them; a conversation does not."""

    async def languages_ready(self) -> None: ...


@runtime_checkable
class RecordingSoFar(Protocol):
    """A microphone that can hand over what it heard so far while it goes on recording (for a
    live transcript): the same audio `stop()` will return, up to now."""

    def so_far(self) -> Recording: ...


@runtime_checkable
class Preloaded(Protocol):
    """Loads something heavy once (a speech model): `loaded` says whether it has."""

    @property
    def loaded(self) -> bool: ...


__all__ = [
    "BYTES_PER_SAMPLE",
    "TRANSCRIBE_RATE",
    "AudioChunk",
    "AudioInput",
    "AudioOutput",
    "ChatModel",
    "Checkable",
    "Closable",
    "ConnectionCounter",
    "LanguagesLoading",
    "LiveTranscribing",
    "LiveTranscription",
    "LoadProgress",
    "Message",
    "Partial",
    "PlaybackEvent",
    "PlaybackEventKind",
    "PlaybackListener",
    "PlaybackStream",
    "Preloaded",
    "RecordingSoFar",
    "ProgressListener",
    "Recording",
    "Synthesizer",
    "Transcriber",
    "Transcript",
    "Unpluggable",
]
