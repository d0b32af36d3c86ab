"""Audio files: decoding WAV, FLAC or MP3 into int16 mono PCM, and a file standing in for the
microphone (`assistant turn --wav FILE`).
"""

from __future__ import annotations

import asyncio
import wave
from collections.abc import Callable
from pathlib import Path

import av
import numpy as np

from assistant.audio.resample import resample, to_mono
from assistant.core.errors import AssistantError, DeviceError
from assistant.core.protocols import BYTES_PER_SAMPLE, TRANSCRIBE_RATE, Recording

LEVEL_SECONDS = 0.05  # like the microphone: the level 20 times a second


def read_audio(path: str | Path, rate: int = TRANSCRIBE_RATE) -> bytes:
    """The file's sound as int16 mono PCM at `rate` (channels averaged, resampled).
    Blocking: call it from a worker thread. Raises AssistantError if the file is unreadable."""
    path = Path(path)
    if not path.is_file():
        raise AssistantError(f"The audio file {str(path)!r} does not exist. Check the path.")
    try:
        pcm, file_rate = _read_wav(path) if path.suffix.lower() == ".wav" else (None, 0)
        if pcm is None:
            pcm, file_rate = _decode(path)
    except (OSError, av.FFmpegError, ValueError, EOFError, wave.Error) as error:
        raise AssistantError(
            f"Could not read the audio file {path.name!r} ({error}). Use a WAV, FLAC or MP3 file."
        ) from error
    return resample(pcm, file_rate, rate)


def _read_wav(path: Path) -> tuple[bytes | None, int]:
    """16-bit PCM WAV with the standard library; (None, 0) for any other kind of WAV."""
    try:
        with wave.open(str(path), "rb") as file:
            if file.getsampwidth() != BYTES_PER_SAMPLE:
                return None, 0
            frames = file.readframes(file.getnframes())
            channels, rate = file.getnchannels(), file.getframerate()
    except wave.Error:
        return None, 0  # e.g. floating-point samples: PyAV reads those
    whole = len(frames) - len(frames) % (BYTES_PER_SAMPLE * channels)
    return to_mono(frames[:whole], channels), rate


def _decode(path: Path) -> tuple[bytes, int]:
    """Any format FFmpeg knows, through PyAV: the first audio stream, mixed down to mono."""
    with av.open(str(path)) as container:
        if not container.streams.audio:
            raise ValueError("it holds no sound")
        stream = container.streams.audio[0]
        pieces: list[np.ndarray] = []
        rate = 0
        for frame in container.decode(stream):
            rate = rate or frame.sample_rate
            pieces.append(_mono_float(frame.to_ndarray(), frame.layout.nb_channels, frame))
    if not pieces or not rate:
        raise ValueError("it holds no sound")
    mono = np.concatenate(pieces)
    pcm = np.clip(np.round(mono * 32768.0), -32768, 32767).astype(np.int16)
    return pcm.tobytes(), rate


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
    Recording, whenever stop() comes; meanwhile the level plays along in real time."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._pcm: bytes | None = None
        self._levels: asyncio.Task[None] | None = None

    async def start(self, on_level: Callable[[float], None] | None = None) -> None:
        try:
            pcm = await asyncio.to_thread(read_audio, self.path, TRANSCRIBE_RATE)
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


__all__ = ["FileInput", "read_audio"]
