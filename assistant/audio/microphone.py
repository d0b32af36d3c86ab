"""The microphone: PyAudio capture between press and release, delivered as 16 kHz mono.

PortAudio calls back on its own thread; the callback only hands each block to the event loop.
Opening and closing streams blocks for tens of milliseconds, so it happens in worker threads.
While recording, the event loop checks that sound keeps coming: a device that is unplugged (or
never delivers) is reported at once, not when the user lets go.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pyaudio

from assistant.audio.devices import Formats, OpenStream, open_device, open_in_worker
from assistant.audio.resample import resample, to_mono
from assistant.core.errors import DeviceError
from assistant.core.protocols import TRANSCRIBE_RATE, Recording

BLOCK_SECONDS = 0.025  # one PortAudio callback's worth of sound
LEVEL_SECONDS = 0.05  # the level meter is updated 20 times a second
WATCH_SECONDS = 0.1  # how often a recording is checked for a lost device
# Blocks come every 25 ms (the longest gap seen on the virtual card: 31 ms), so half a second
# without one means the device is gone, even on a busy machine.
SILENT_LIMIT = 0.5
# A device may take a while to start (a Bluetooth headset switching profile): this long without
# a first block, and it is not going to deliver.
FIRST_BLOCK_LIMIT = 2.0

LevelListener = Callable[[float], None]
LossListener = Callable[[], None]


class Microphone:
    """`start()` on press, `stop()` on release; implements core.protocols.AudioInput and
    Unpluggable (`when_lost`).

    `device` is a setting as `devices.PortAudio.target` reads it: the sound server's device
    name or description, part of a PortAudio device's name, or its index (None: the default).
    `capture_rate` / `capture_channels` force the format asked of the device (the recording is
    still 16 kHz mono); by default 16 kHz mono is asked for, then the device's own rate."""

    def __init__(
        self,
        device: str | int | None = None,
        *,
        capture_rate: int | None = None,
        capture_channels: int | None = None,
    ) -> None:
        self.device = device
        self._capture_rate = capture_rate
        self._capture_channels = capture_channels
        self._capture: _Capture | None = None

    @property
    def capturing(self) -> bool:
        return self._capture is not None

    async def start(self, on_level: LevelListener | None = None) -> None:
        if self._capture is not None:
            raise RuntimeError("The microphone is already recording; stop() it first.")
        capture = _Capture(asyncio.get_running_loop(), on_level)

        def open_() -> _Capture:
            capture.open(self.device, self._formats)
            return capture

        self._capture = await open_in_worker(open_, _Capture.close)
        capture.watch()

    def when_lost(self, listener: LossListener) -> None:
        """While recording: `listener` is called once, on the event loop, as soon as the device
        stops delivering sound; `stop()` then raises DeviceError saying so."""
        if self._capture is None:
            raise RuntimeError("The microphone is not recording; start() it first.")
        self._capture.when_lost(listener)

    def so_far(self) -> Recording:
        """What was heard since start(), in the transcriber's format (empty when not
        recording); recording goes on. Safe from a worker thread: it only reads."""
        capture = self._capture  # read once: stop() may clear it meanwhile (this runs in a thread)
        if capture is None:
            return Recording(b"")
        return capture.so_far()

    async def stop(self) -> Recording:
        capture, self._capture = self._capture, None
        if capture is None:
            raise RuntimeError("The microphone is not recording; start() it first.")
        return await capture.finish()

    def _formats(self, default_rate: int, max_channels: int) -> Iterator[tuple[int, int]]:
        if self._capture_rate or self._capture_channels:
            yield (self._capture_rate or default_rate, self._capture_channels or 1)
            return
        yield TRANSCRIBE_RATE, 1
        yield default_rate, 1
        yield default_rate, min(max_channels, 2)
        yield default_rate, max_channels


class _Capture:
    """One press-to-release recording: the open stream, what it delivered so far, and the watch
    that notices when the device stops delivering."""

    def __init__(self, loop: asyncio.AbstractEventLoop, on_level: LevelListener | None) -> None:
        self._loop = loop
        self._on_level = on_level
        self._blocks: list[bytes] = []
        self._overflows = 0
        # Written once by the opening thread, and by PortAudio's (one float each: no lock
        # needed); read by the watch.
        self._opened_at = time.monotonic()
        self._last_block: float | None = None
        self._level_energy = 0.0
        self._level_samples = 0
        self._finished = False
        self._lost: DeviceError | None = None
        self._on_lost: LossListener | None = None
        self._watch: asyncio.TimerHandle | None = None
        self._awake_since = self._last_check = self._opened_at  # the watch's, on the loop
        self._opened: OpenStream | None = None
        self._stream: pyaudio.Stream | None = None  # the open stream's, while it is open
        self.rate = TRANSCRIBE_RATE
        self.channels = 1
        self.device_name = ""

    # -- worker thread ------------------------------------------------------------------------

    def open(self, spec: str | int | None, formats: Formats) -> None:
        self._opened = open_device(
            spec, "input", formats, BLOCK_SECONDS, stream_callback=self._on_audio
        )
        self._stream = self._opened.stream
        self.rate, self.channels = self._opened.rate, self._opened.channels
        self.device_name = self._opened.label
        # From now, not from before the device scan: the first block's deadline is the stream's.
        self._opened_at = time.monotonic()

    def close(self) -> bool:
        """Close the stream; return whether it was still running (not stopped by an error)."""
        running = False
        if self._stream is not None:
            try:
                running = bool(self._stream.is_active())
            except OSError:
                running = False
            self._stream = None
        if self._opened is not None:
            self._opened.close()
            self._opened = None
        return running

    # -- PortAudio's thread -------------------------------------------------------------------

    def _on_audio(
        self, data: bytes | None, frames: int, timing: Any, status: int
    ) -> tuple[None, int]:
        # Runs under real-time constraints: note the time, hand over, nothing else.
        self._last_block = time.monotonic()
        try:
            self._loop.call_soon_threadsafe(self._take, data, status)
        except RuntimeError:  # the loop is closed: the app is quitting
            return None, pyaudio.paAbort
        return None, pyaudio.paContinue

    # -- event loop ---------------------------------------------------------------------------

    def _take(self, data: bytes | None, status: int) -> None:
        if self._finished or not data:
            return
        self._blocks.append(data)
        if status & pyaudio.paInputOverflow:
            self._overflows += 1  # PortAudio had to drop input before this block: never silently
        if self._on_level is not None:
            self._measure(data)

    def _measure(self, data: bytes) -> None:
        samples = np.frombuffer(data, dtype=np.int16).astype(np.float32)
        self._level_energy += float(np.dot(samples, samples))
        self._level_samples += samples.size
        if self._level_samples >= LEVEL_SECONDS * self.rate * self.channels * 0.99:
            rms = (self._level_energy / self._level_samples) ** 0.5 / 32768.0
            self._level_energy, self._level_samples = 0.0, 0
            if self._on_level is not None:
                self._on_level(min(1.0, rms))

    def watch(self) -> None:
        """Check every WATCH_SECONDS, until `finish`, that the device still delivers."""
        self._awake_since = self._last_check = time.monotonic()
        self._watch = self._loop.call_later(WATCH_SECONDS, self._check)

    def when_lost(self, listener: LossListener) -> None:
        self._on_lost = listener
        if self._lost is not None:
            self._loop.call_soon(listener)

    def _check(self) -> None:
        self._watch = None
        if self._finished or self._lost is not None:
            return
        now = time.monotonic()
        if now - self._last_check > 2 * WATCH_SECONDS:
            # This process was not running (stopped, swapping, a laptop lid closed): PortAudio's
            # thread did not run either, so silence only counts from now on.
            self._awake_since = now
        self._last_check = now
        self._lost = self._failure(now)
        if self._lost is None:
            self._watch = self._loop.call_later(WATCH_SECONDS, self._check)
        elif self._on_lost is not None:
            self._on_lost()

    def _failure(self, now: float) -> DeviceError | None:
        """Why the device is lost, or None while it delivers (or may still start to)."""
        heard = self._last_block
        if self._running():
            silent_since = max(heard or self._opened_at, self._awake_since)
            limit = SILENT_LIMIT if heard is not None else FIRST_BLOCK_LIMIT
            if now - silent_since <= limit:
                return None
        return self._lost_error(heard_any=heard is not None)

    def _running(self) -> bool:
        # Cheap (a flag PortAudio keeps) and never concurrent with close(): finish() stops the
        # watch first. A vanished device ends the stream at once, long before SILENT_LIMIT.
        try:
            return self._stream is not None and bool(self._stream.is_active())
        except OSError:
            return False

    def _lost_error(self, *, heard_any: bool) -> DeviceError:
        if not heard_any:
            return DeviceError(
                f"The microphone {self.device_name!r} gave no sound at all: another program may "
                "be holding it, or it is switched off. Close programs that use it, or choose "
                "another microphone in Settings > Audio, then press Talk to try again."
            )
        return DeviceError(
            f"The microphone {self.device_name!r} stopped delivering sound (was it unplugged?). "
            "Plug it back in, or choose another microphone in Settings > Audio, then press Talk "
            "to try again."
        )

    def so_far(self) -> Recording:
        pcm = b"".join(self._blocks)
        if self.rate != TRANSCRIBE_RATE or self.channels != 1:
            pcm = _to_transcribe_format(pcm, self.rate, self.channels)
        return Recording(pcm=pcm, sample_rate=TRANSCRIBE_RATE, overflows=self._overflows)

    async def finish(self) -> Recording:
        if self._watch is not None:
            self._watch.cancel()
            self._watch = None
        # Blocks PortAudio handed over before the stream closed reach _take before this resumes.
        running = await asyncio.to_thread(self.close)
        self._finished = True
        lost = self._lost
        if lost is None and not running:  # ended since the last check
            lost = self._lost_error(heard_any=self._last_block is not None)
        if lost is not None:
            self._blocks = []  # what was heard before the loss is not used
            raise lost
        pcm = b"".join(self._blocks)
        self._blocks = []
        if self.rate != TRANSCRIBE_RATE or self.channels != 1:
            pcm = await asyncio.to_thread(_to_transcribe_format, pcm, self.rate, self.channels)
        return Recording(pcm=pcm, sample_rate=TRANSCRIBE_RATE, overflows=self._overflows)


def _to_transcribe_format(pcm: bytes, rate: int, channels: int) -> bytes:
    whole = len(pcm) - len(pcm) % (2 * channels)
    return resample(to_mono(pcm[:whole], channels), rate, TRANSCRIBE_RATE)


__all__ = ["Microphone"]
