"""Audio files: decoding WAV, FLAC or MP3 into int16 mono PCM, and a file standing in for the
microphone (`assistant turn --wav FILE`).

A file is held to what a recording may be: its sample rate and channels are checked before any
sample is decoded, it may be no longer than the longest recording, and it is read in blocks and
resampled as it goes, so a hostile or broken header cannot cost more memory than that recording.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import BinaryIO

import av
import numpy as np

from assistant.audio.resample import Resampler, to_mono
from assistant.config import AudioSettings
from assistant.core.errors import AssistantError, DeviceError
from assistant.core.protocols import TRANSCRIBE_RATE, Recording
from assistant.core.wav import MAX_HEADER_BYTES, WavError, WavFormat, check_rate, parse_header

LEVEL_SECONDS = 0.05  # like the microphone: the level 20 times a second
# A file is a recording: no longer than the longest one the settings allow (the caller passes
# the configured value; this is the settings' default).
MAX_FILE_SECONDS = AudioSettings().max_recording_seconds
HEAD_BYTES = 64 * 1024  # read first: a plain header is 44 bytes, metadata may make it longer
READ_BYTES = 256 * 1024  # one block of a WAV's samples, read, mixed and resampled at a time
_SUFFIXES = "Use a WAV, FLAC or MP3 file."


class _TooLong(Exception):
    """The file is longer than allowed; `seconds` is its length when known."""

    def __init__(self, seconds: float | None) -> None:
        super().__init__(seconds)
        self.seconds = seconds


def read_audio(
    path: str | Path, rate: int = TRANSCRIBE_RATE, *, max_seconds: float = MAX_FILE_SECONDS
) -> bytes:
    """The file's sound as int16 mono PCM at `rate` (channels averaged, resampled), if it lasts
    at most `max_seconds`. Blocking: call it from a worker thread. Raises AssistantError saying
    what is wrong with a file that is missing, malformed, out of bounds or too long."""
    path = Path(path)
    if not path.is_file():
        raise AssistantError(f"The audio file {str(path)!r} does not exist. Check the path.")
    try:
        with path.open("rb") as file:
            pcm = _read_wav(file, rate, max_seconds)
        if pcm is None:
            pcm = _decode(path, rate, max_seconds)
    except _TooLong as error:
        length = "" if error.seconds is None else f" ({_duration(error.seconds)})"
        raise AssistantError(
            f"The audio file {path.name!r} is longer than the longest recording{length}: at most "
            f"{max_seconds:g} s is read. Use a shorter file, or allow longer recordings in "
            "Settings > Audio > Longest recording ([audio] max_recording_seconds)."
        ) from None
    except WavError as error:
        raise AssistantError(
            f"Could not read the audio file {path.name!r}: {error}. {_SUFFIXES}"
        ) from None
    except (OSError, av.FFmpegError, ValueError, EOFError) as error:
        reason = getattr(error, "strerror", None) or str(error) or type(error).__name__
        raise AssistantError(
            f"Could not read the audio file {path.name!r} ({reason}). {_SUFFIXES}"
        ) from error
    return pcm


def _duration(seconds: float) -> str:
    if seconds >= 3600:
        return f"{seconds / 3600:.3g} hours"
    return f"{seconds / 60:.3g} minutes" if seconds >= 120 else f"{seconds:.3g} s"


def _read_wav(file: BinaryIO, rate: int, max_seconds: float) -> bytes | None:
    """A 16-bit PCM WAV, read block by block; None for any other file (PyAV decodes other kinds
    of WAV: float, 8-bit, 24-bit). Raises WavError for a malformed or out-of-bounds header."""
    head = file.read(HEAD_BYTES)
    if not head:
        raise WavError("the file is empty")
    if not head.startswith(b"RIFF"):
        return None
    fmt = _header(file, head)
    if not fmt.is_int16:
        return None
    declared = fmt.declared_seconds()
    if declared is not None and declared > max_seconds:
        raise _TooLong(declared)
    sound = _Sound(fmt.sample_rate, rate, max_seconds)
    left = fmt.data_bytes  # None: to the end of the file
    pending = head[fmt.data_offset :]
    block = max(fmt.frame_bytes, READ_BYTES - READ_BYTES % fmt.frame_bytes)
    while True:
        data = pending if pending else file.read(block)
        pending = b""
        if left is not None:
            data = data[:left]
            left -= len(data)
        if not data:
            break
        _add_frames(sound, data, fmt)
    return sound.finish()


def _header(file: BinaryIO, head: bytes) -> WavFormat:
    """The header, reading on (up to MAX_HEADER_BYTES) past metadata chunks to the samples."""
    while True:
        complete = len(head) % HEAD_BYTES != 0 or len(head) > MAX_HEADER_BYTES
        fmt = parse_header(head, complete=complete)
        if fmt is not None:
            return fmt
        more = file.read(HEAD_BYTES)
        if not more:
            fmt = parse_header(head, complete=True)
            assert fmt is not None  # a complete header either parses or raises
            return fmt
        head += more


def _add_frames(sound: _Sound, data: bytes, fmt: WavFormat) -> None:
    """Whole frames only: a file cut off mid-frame loses that frame's few bytes."""
    whole = len(data) - len(data) % fmt.frame_bytes
    if whole:
        sound.add(to_mono(data[:whole], fmt.channels))


class _Sound:
    """Collects mono int16 PCM at the file's rate, resampled to `rate` as it comes, and stops
    once it passes `max_seconds`: memory holds only the result, never the file."""

    def __init__(self, file_rate: int, rate: int, max_seconds: float) -> None:
        self._resampler = Resampler(file_rate, rate) if file_rate != rate else None
        self._samples_left = int(max_seconds * file_rate)
        self._out = bytearray()

    def add(self, pcm: bytes) -> None:
        self._samples_left -= len(pcm) // 2
        if self._samples_left < 0:
            raise _TooLong(None)
        self._out += self._resampler.process(pcm) if self._resampler else pcm

    def finish(self) -> bytes:
        if self._resampler is not None:
            self._out += self._resampler.flush()
        return bytes(self._out)


def _decode(path: Path, rate: int, max_seconds: float) -> bytes:
    """Any format FFmpeg knows, through PyAV: the first audio stream, mixed down to mono,
    resampled frame by frame, its rate checked before the first frame is kept."""
    sound: _Sound | None = None
    with av.open(str(path)) as container:
        if not container.streams.audio:
            raise ValueError("it holds no sound")
        if container.duration is not None and container.duration / 1e6 > max_seconds + 0.5:
            raise _TooLong(container.duration / 1e6)
        stream = container.streams.audio[0]
        for frame in container.decode(stream):
            if sound is None:
                check_rate(frame.sample_rate)
                sound = _Sound(frame.sample_rate, rate, max_seconds)
            mono = _mono_float(frame.to_ndarray(), frame.layout.nb_channels, frame)
            sound.add(np.clip(np.round(mono * 32768.0), -32768, 32767).astype(np.int16).tobytes())
    if sound is None:
        raise ValueError("it holds no sound")
    return sound.finish()


def _mono_float(samples: np.ndarray, channels: int, frame: av.AudioFrame) -> np.ndarray:
    """One decoded frame as float mono in -1..1, whatever FFmpeg's sample format."""
    if frame.format.is_planar:
        per_channel = samples.reshape(channels, -1).T
    else:
        per_channel = samples.reshape(-1, channels)
    if samples.dtype.kind == "f":
        scaled = per_channel.astype(np.float32)
    elif samples.dtype.kind == "u":  # unsigned 8-bit: silence is 128
        scaled = (per_channel.astype(np.float32) - 128.0) / 128.0
    else:
        scaled = per_channel.astype(np.float32) / float(-np.iinfo(samples.dtype).min)
    return np.asarray(scaled.mean(axis=1), dtype=np.float32)


class FileInput:
    """A file as the microphone: `start()` then `stop()` returns the file's sound as a 16 kHz
    Recording, whenever stop() comes; meanwhile the level plays along in real time. A file
    longer than `max_seconds` (the longest recording) is refused, as a recording would stop."""

    def __init__(self, path: str | Path, *, max_seconds: float = MAX_FILE_SECONDS) -> None:
        self.path = Path(path)
        self.max_seconds = max_seconds
        self._pcm: bytes | None = None
        self._levels: asyncio.Task[None] | None = None

    async def start(self, on_level: Callable[[float], None] | None = None) -> None:
        try:
            pcm = await asyncio.to_thread(
                partial(read_audio, self.path, TRANSCRIBE_RATE, max_seconds=self.max_seconds)
            )
        except AssistantError as error:
            raise DeviceError(error.message) from error
        self._pcm = pcm
        if on_level is not None:
            self._levels = asyncio.create_task(_play_levels(pcm, on_level))

    async def stop(self) -> Recording:
        if self._levels is not None:
            self._levels.cancel()
            await asyncio.wait([self._levels])
            self._levels = None
        pcm, self._pcm = self._pcm, None
        if pcm is None:
            raise RuntimeError("The file input is not started; start() it first.")
        return Recording(pcm=pcm, sample_rate=TRANSCRIBE_RATE)


async def _play_levels(pcm: bytes, on_level: Callable[[float], None]) -> None:
    samples = np.frombuffer(pcm, dtype=np.int16).astype(np.float32) / 32768.0
    window = round(LEVEL_SECONDS * TRANSCRIBE_RATE)
    for start in range(0, len(samples), window):
        piece = samples[start : start + window]
        on_level(min(1.0, float(np.sqrt(np.mean(piece * piece)))))
        await asyncio.sleep(LEVEL_SECONDS)


__all__ = ["MAX_FILE_SECONDS", "FileInput", "read_audio"]
