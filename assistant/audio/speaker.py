"""The speaker: one PyAudio output stream per reply, fed by a writer thread in short blocks.

Why one file (over 450 lines): the stream and its writer thread share one lock and the state it
guards (the queue, the tags being played, the device's room); cut in two, each side of that lock
would live where the other cannot be read beside it.

The event loop only queues audio; the writer thread does PortAudio's writes (each once the device
has room, so a device that takes nothing is given up rather than waited on forever), keeps the
device busy with silence while the queue is dry (so its latency never changes), and reports when
each tag's first and last samples were handed to the sound card.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import deque
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass

import numpy as np
import pyaudio

from assistant.audio.devices import OpenStream, open_device, open_in_worker
from assistant.audio.resample import Resampler, to_channels
from assistant.core.errors import DeviceError
from assistant.core.level_guard import LevelGuard
from assistant.core.protocols import (
    BYTES_PER_SAMPLE,
    PlaybackEvent,
    PlaybackEventKind,
    PlaybackListener,
)

BLOCK_SECONDS = 0.02  # one write to the device: abort() silences it within about one block
PERIOD_SECONDS = 0.02  # PortAudio's period; the device side holds three (60 ms)
# While the reply's queue is dry, silence goes out in short writes: the writer takes new audio as
# soon as one returns, so a block this short bounds how late the first sample is handed over.
SILENCE_SECONDS = 0.005
PIPELINE_SECONDS = 0.03  # beyond PortAudio's buffer, the sound server's own (measured ~10 ms)
QUEUE_SECONDS = 0.5  # write() waits while more than this is queued
FADE_SECONDS = 0.005  # with fade_on_abort, what comes next fades out over this long
STALL_SECONDS = 2.0  # the device took no sound this long: it is held elsewhere, or stuck
ROOM_POLL_SECONDS = 0.002  # the shortest nap while waiting for the device to make room
HEARTBEAT_SECONDS = 0.25  # the writer tells the loop it is alive at least this often

# The far-end tap: (int16 PCM exactly as handed to the device, its rate, its channels, the
# time.monotonic() of the write). Called on the writer thread for every write, silence included.
PlayedTap = Callable[[bytes, int, int, float], None]


class Speaker:
    """Implements core.protocols.AudioOutput with PyAudio.

    `device` is a setting as `devices.PortAudio.target` reads it: the sound server's device
    name or description, part of a PortAudio device's name, or its index (None: the default).
    `device_rate` forces the rate the device is opened at (replies are resampled to it); by
    default each reply's own rate is used when the device takes it, else the device's.

    abort() cuts the sound within one block (~20 ms), which can be heard as a click. With
    `fade_on_abort` the next 5 ms fade out instead, but only after the device has played what
    it already holds: silence comes ~60-90 ms after abort() rather than within ~20 ms.

    `on_played` is the echo canceller's far-end reference: it gets every block handed to the
    device with the moment it was handed over (the silence written while a reply's queue is dry
    too, so the far stream has no holes while a stream is open), on the writer thread, so it must
    only copy and queue. It is read when
    a reply's stream opens; None (the default) costs nothing."""

    def __init__(
        self,
        device: str | int | None = None,
        *,
        device_rate: int | None = None,
        fade_on_abort: bool = False,
        on_played: PlayedTap | None = None,
    ) -> None:
        self.device = device
        self._device_rate = device_rate
        self._fade_on_abort = fade_on_abort
        self.on_played = on_played

    async def open(self, sample_rate: int, listener: PlaybackListener) -> SpeakerStream:
        output = await open_in_worker(
            lambda: _Output.open(self.device, sample_rate, self._device_rate), _Output.close
        )
        return SpeakerStream(
            asyncio.get_running_loop(),
            output,
            sample_rate,
            listener,
            fade_on_abort=self._fade_on_abort,
            on_played=self.on_played,
        )


@dataclass
class _Output:
    """An open PortAudio output stream (used from worker threads only)."""

    opened: OpenStream
    buffer_frames: int  # how much the device side holds when full

    @classmethod
    def open(cls, spec: str | int | None, sample_rate: int, forced_rate: int | None) -> _Output:
        def formats(default_rate: int, max_channels: int) -> list[tuple[int, int]]:
            rates = [forced_rate] if forced_rate else [sample_rate, default_rate]
            return [(rate, channels) for rate in rates for channels in (1, 2)]

        opened = open_device(spec, "output", formats, PERIOD_SECONDS)
        try:
            buffer_frames = int(opened.stream.get_write_available())
        except BaseException:
            opened.close()
            raise
        return cls(opened, buffer_frames)

    @property
    def stream(self) -> pyaudio.Stream:
        return self.opened.stream

    @property
    def device_name(self) -> str:
        return self.opened.label

    @property
    def rate(self) -> int:
        return self.opened.rate

    @property
    def channels(self) -> int:
        return self.opened.channels

    @property
    def frame_bytes(self) -> int:
        return BYTES_PER_SAMPLE * self.channels

    @property
    def buffer_seconds(self) -> float:
        return self.buffer_frames / self.rate

    def buffered_seconds(self) -> float:
        """How long what the device side still holds will take to play."""
        try:
            free = int(self.stream.get_write_available())
        except OSError:
            return 0.0
        return max(0, self.buffer_frames - free) / self.rate

    def ran_dry(self) -> bool:
        """Whether the device side has played everything it was given (an underrun, unless
        nothing was written yet)."""
        try:
            return int(self.stream.get_write_available()) >= self.buffer_frames
        except OSError:
            return False  # a lost device: the write that follows says so

    def close(self) -> None:
        self.opened.close()


@dataclass
class _Audio:
    tag: int
    data: bytes  # in the device's format
    offset: int = 0  # bytes of `data` already written


@dataclass(frozen=True)
class _End:
    tag: int


class _Stalled(Exception):
    """The device took no sound for STALL_SECONDS."""


class SpeakerStream:
    """One reply's output stream; implements core.protocols.PlaybackStream."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        output: _Output,
        sample_rate: int,
        listener: PlaybackListener,
        *,
        fade_on_abort: bool = False,
        on_played: PlayedTap | None = None,
    ) -> None:
        self.sample_rate = sample_rate
        self.device_rate = output.rate
        self._fade_on_abort = fade_on_abort
        self._on_played = on_played
        self._loop = loop
        self._output = output
        self._listener = listener
        self._resampler = (
            Resampler(sample_rate, output.rate) if sample_rate != output.rate else None
        )
        self._odd = b""
        # The last stage before the device, so it holds for every voice: nothing louder than
        # speech (full-scale noise from a body that was not audio) reaches the ears.
        self._guard = LevelGuard(sample_rate)
        # Shared with the writer thread, under _lock (the writer never waits on it: while the
        # queue is dry it writes silence, and the device paces it):
        self._lock = threading.Lock()
        self._queue: deque[_Audio | _End] = deque()
        self._queued_bytes = 0
        self._consumed = 0  # items the writer has finished with
        self._stopping = False  # abort() or close(): the writer fades out what is next and ends
        self._held = False  # pause(): the writer plays silence and keeps the queue for resume()
        self._fade_tail: bytes | None = None  # None: cut; else fade this out, then play out
        self._error: str | None = None
        # Loop side only:
        self._put = 0  # items queued so far
        self._aborted = False
        self._closed = False
        self._progress = asyncio.Event()
        # The writer thread's own: tags begun, the one sounding now, whether the queue ran dry.
        self._begun: set[int] = set()
        self._sounding: int | None = None
        self._dry = False
        self._last_wake = 0.0
        self._writer = threading.Thread(target=self._run, name="speaker-writer", daemon=True)
        self._writer.start()

    # -- the event loop's side ----------------------------------------------------------------

    async def write(self, pcm: bytes, tag: int) -> None:
        self._raise_if_failed()
        if self._aborted or self._closed:
            return  # a barge-in already silenced this reply: late audio is dropped
        data = self._odd + pcm
        whole = len(data) - len(data) % BYTES_PER_SAMPLE
        data, self._odd = data[:whole], data[whole:]
        data = self._guard.process(data)
        if self._resampler is not None:
            data = self._resampler.process(data)
        if data:
            self._enqueue(_Audio(tag, to_channels(data, self._output.channels)))
        limit = QUEUE_SECONDS * self._output.rate * self._output.frame_bytes
        while self._queued() > limit and not self._stopped():
            await self._wait_for_progress()

    def end_tag(self, tag: int) -> None:
        if self._aborted or self._closed or self._error is not None:
            return
        self._odd = b""
        if self._resampler is not None and (tail := self._resampler.flush()):
            self._enqueue(_Audio(tag, to_channels(tail, self._output.channels)))
        self._enqueue(_End(tag))

    async def drain(self) -> None:
        target = self._put
        while not self._stopped() and self._consumed_so_far() < target:
            await self._wait_for_progress()
        self._raise_if_failed()
        if not self._stopped():
            # Let the device play out what it holds, or close() would cut the last word.
            await asyncio.sleep(self._output.buffer_seconds + PIPELINE_SECONDS)

    def pause(self) -> None:
        with self._lock:
            self._held = True

    def resume(self) -> None:
        with self._lock:
            self._held = False

    def abort(self) -> None:
        if self._aborted or self._closed:
            return
        self._aborted = True
        self._stop_writer(fade=self._fade_on_abort)

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._stop_writer(fade=False)
        await asyncio.to_thread(self._writer.join, STALL_SECONDS + 1.0)
        if self._writer.is_alive():
            raise DeviceError(
                f"The speaker {self._output.device_name!r} stopped responding. Check it, or "
                "choose another one in Settings > Audio."
            )

    def _stopped(self) -> bool:
        return self._aborted or self._closed

    def _enqueue(self, item: _Audio | _End) -> None:
        with self._lock:
            self._queue.append(item)
            if isinstance(item, _Audio):
                self._queued_bytes += len(item.data)
        self._put += 1

    def _queued(self) -> int:
        with self._lock:
            return self._queued_bytes

    def _consumed_so_far(self) -> int:
        with self._lock:
            return self._consumed

    def _stop_writer(self, *, fade: bool) -> None:
        """Drop what is queued (keeping its first few ms for the writer to fade out)."""
        fade_frames = round(FADE_SECONDS * self._output.rate) if fade else 0
        fade_bytes = fade_frames * self._output.frame_bytes
        with self._lock:
            if self._stopping:
                return  # abort() then close(): the first decides how the sound ends
            tail = bytearray()
            for item in self._queue:
                if isinstance(item, _Audio) and len(tail) < fade_bytes:
                    tail += item.data[item.offset : item.offset + fade_bytes - len(tail)]
            self._queue.clear()
            self._queued_bytes = 0
            self._fade_tail = bytes(tail) if fade else None
            self._stopping = True
        self._progress.set()  # wake write() and drain(): there is nothing left to wait for

    async def _wait_for_progress(self) -> None:
        self._raise_if_failed()
        self._progress.clear()
        try:
            # A backstop: the writer itself gives up after STALL_SECONDS without room.
            await asyncio.wait_for(self._progress.wait(), STALL_SECONDS + 1.0)
        except TimeoutError:
            with self._lock:
                if self._held:
                    return  # paused, not stuck: the caller looks again and waits on
            raise DeviceError(
                f"The speaker {self._output.device_name!r} stopped taking sound. Check it, or "
                "choose another one in Settings > Audio."
            ) from None
        self._raise_if_failed()

    def _raise_if_failed(self) -> None:
        if self._error is not None:
            raise DeviceError(self._error)

    # -- the writer thread --------------------------------------------------------------------

    def _run(self) -> None:
        try:
            self._play()
        except _Stalled:
            with self._lock:
                self._error = (
                    f"The speaker {self._output.device_name!r} stopped taking sound: another "
                    "program may be holding it, or it was switched off. Close programs that use "
                    "it, or choose another speaker in Settings > Audio."
                )
        except OSError as error:
            reason = error.strerror or str(error)
            with self._lock:
                self._error = (
                    f"The speaker {self._output.device_name!r} stopped working ({reason}); was "
                    "it unplugged? Check it, or choose another one in Settings > Audio."
                )
        finally:
            self._output.close()
            self._wake_loop()

    def _play(self) -> None:
        output = self._output
        block_bytes = max(1, round(BLOCK_SECONDS * output.rate)) * output.frame_bytes
        silence = bytes(max(1, round(SILENCE_SECONDS * output.rate)) * output.frame_bytes)
        while True:
            with self._lock:
                if self._stopping:
                    break
                held = self._held
                piece = None if held else self._take(block_bytes)
                queued = self._queued_bytes
            if isinstance(piece, _End):
                self._play_end(piece.tag)
            elif piece is None:
                self._play_silence(silence, held=held)
            else:
                self._play_audio(*piece, queued_after=queued)
        self._fade_out()

    def _begin(self, tag: int) -> None:
        if tag not in self._begun:
            self._begun.add(tag)
            self._sounding = tag
            self._emit(PlaybackEventKind.STARTED, tag, time.monotonic())

    def _play_audio(self, tag: int, data: bytes, items: int, *, queued_after: int) -> None:
        if self._begun and not self._dry and self._output.ran_dry():
            # This thread came back late (the machine was busy): the device had nothing left.
            sounding = tag if self._sounding is None else self._sounding
            self._emit(PlaybackEventKind.DROPOUT, sounding, time.monotonic())
        self._dry = False
        self._begin(tag)
        self._write(data)
        now = time.monotonic()
        limit = QUEUE_SECONDS * self._output.rate * self._output.frame_bytes
        room_again = queued_after <= limit < queued_after + len(data)
        if items or room_again or now - self._last_wake > HEARTBEAT_SECONDS:
            self._finished_items(items)

    def _play_end(self, tag: int) -> None:
        self._begin(tag)  # a tag without audio still starts and ends
        self._emit(PlaybackEventKind.FINISHED, tag, time.monotonic())
        if self._sounding == tag:
            self._sounding = None
        self._finished_items(1)

    def _play_silence(self, silence: bytes, *, held: bool) -> None:
        """The queue is dry, or paused: keep the device running (its latency stays put); a
        sentence that was still sounding has underrun, unless it was paused."""
        if self._sounding is not None and not self._dry and not held:
            self._emit(PlaybackEventKind.UNDERRUN, self._sounding, time.monotonic())
        self._dry = True
        self._write(silence)

    def _write(self, data: bytes) -> None:
        """Hand `data` to PortAudio once the device has room for it. A device that takes nothing
        (suspended for another program) would keep a blocking write, and this thread, inside
        PortAudio for as long as it is held; waiting here instead, the stream can be given up
        and closed after STALL_SECONDS."""
        output = self._output
        frames = min(len(data) // output.frame_bytes, output.buffer_frames)
        waiting_since: float | None = None
        while (free := int(output.stream.get_write_available())) < frames:
            now = time.monotonic()
            if waiting_since is None:
                waiting_since = now
            elif now - waiting_since > STALL_SECONDS:
                raise _Stalled
            time.sleep(max(ROOM_POLL_SECONDS, (frames - free) / output.rate))
        if self._on_played is not None:
            self._on_played(data, output.rate, output.channels, time.monotonic())
        output.stream.write(data)

    def _take(self, block_bytes: int) -> tuple[int, bytes, int] | _End | None:
        """Up to one block of the next tag's audio (and how many queued items it used up), or
        the next end marker. Called under _lock."""
        if not self._queue:
            return None
        head = self._queue[0]
        if isinstance(head, _End):
            self._queue.popleft()
            return head
        parts: list[bytes] = []
        size = 0
        items = 0
        while self._queue and size < block_bytes:
            item = self._queue[0]
            if not isinstance(item, _Audio) or item.tag != head.tag:
                break
            piece = item.data[item.offset : item.offset + block_bytes - size]
            item.offset += len(piece)
            parts.append(piece)
            size += len(piece)
            if item.offset >= len(item.data):
                self._queue.popleft()
                items += 1
        self._queued_bytes -= size
        return head.tag, b"".join(parts), items

    def _finished_items(self, count: int) -> None:
        """`count` more queued items have been handed to the sound card: tell the loop."""
        with self._lock:
            self._consumed += count
        self._last_wake = time.monotonic()
        self._wake_loop()

    def _fade_out(self) -> None:
        """With a fade tail: play it fading to nothing, and let the device play out before the
        stream closes (closing drops what the device holds, mid-swing: a click)."""
        with self._lock:
            tail = self._fade_tail
        output = self._output
        if tail is None:
            return
        if tail:
            frames = np.frombuffer(tail, dtype=np.int16).reshape(-1, output.channels)
            ramp = np.linspace(1.0, 0.0, len(frames), dtype=np.float32)[:, None]
            self._write((frames * ramp).astype(np.int16).tobytes())
        time.sleep(output.buffered_seconds() + PIPELINE_SECONDS)

    # A closed loop (the app is quitting) raises RuntimeError: nobody is listening any more.

    def _emit(self, kind: PlaybackEventKind, tag: int, moment: float) -> None:
        with suppress(RuntimeError):
            self._loop.call_soon_threadsafe(self._listener, PlaybackEvent(kind, tag, moment))

    def _wake_loop(self) -> None:
        with suppress(RuntimeError):
            self._loop.call_soon_threadsafe(self._progress.set)


__all__ = ["PlayedTap", "Speaker", "SpeakerStream"]
