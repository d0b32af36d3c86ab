"""The far-end reference of the echo canceller: what the Speaker handed to the sound card, as 10 ms
frames of 16 kHz mono.

`played` is the Speaker's tap (`Speaker(on_played=far_end.played)`): it runs on the speaker's
writer thread, so it only queues the bytes, with the moment they were handed over. (Stamping
them with when they would sound instead, handed over plus what the device held ahead of them,
was tried: the benchmark's canceller then heard its own voice 0.4 s into every reply, 42 times a
minute against none, so the reference came too late for the echo.) The listening
thread calls `frames(until)` before each microphone frame, `until` being when that frame was
captured, and gets the far frames played by then, converted there (mono, then the project's
resampler). Paired by time, the far stream leads the microphone by the same delay (the device's
latency and the room's echo) however far behind the listening thread runs: handed everything
played so far instead, a listening thread that fell behind under load would show the canceller
an echo path that jumps by the lag, and the echo would leak while it converges again.
"""

from __future__ import annotations

import threading
from collections import deque

from assistant.audio.resample import Resampler, to_mono
from assistant.core.listening import FRAME_BYTES, LISTEN_RATE

# What may wait unconverted before the oldest is dropped (nobody is listening: hands-free is off).
MAX_PENDING_WRITES = 500  # ~2.5-10 s of the speaker's 5-20 ms writes


class FarEndReference:
    """Collects what the speaker played; hands it on in whole LISTEN_RATE mono frames."""

    def __init__(self) -> None:
        self._pending: deque[tuple[bytes, int, int, float]] = deque(maxlen=MAX_PENDING_WRITES)
        self._lock = threading.Lock()
        self._resampler: Resampler | None = None
        self._partial = b""  # converted samples short of a whole frame
        self.last_played: float | None = None  # time.monotonic() of the latest write

    def played(self, pcm: bytes, rate: int, channels: int, moment: float) -> None:
        """The Speaker's tap (writer thread): `pcm` was just handed to the device. Cheap."""
        with self._lock:
            self._pending.append((pcm, rate, channels, moment))
            self.last_played = moment

    def frames(self, until: float = float("inf")) -> list[bytes]:
        """The far-end frames played since the last call, up to the moment `until` (a
        time.monotonic(): when the microphone frame they go before was captured). Listening
        thread."""
        writes = []
        with self._lock:
            while self._pending and self._pending[0][3] <= until:
                writes.append(self._pending.popleft())
        data = self._partial
        for pcm, rate, channels, _ in writes:
            data += self._convert(pcm, rate, channels)
        whole = len(data) - len(data) % FRAME_BYTES
        self._partial = data[whole:]
        return [data[start : start + FRAME_BYTES] for start in range(0, whole, FRAME_BYTES)]

    def _convert(self, pcm: bytes, rate: int, channels: int) -> bytes:
        mono = to_mono(pcm, channels)
        if rate == LISTEN_RATE:
            return mono
        if self._resampler is None or self._resampler.from_rate != rate:
            self._resampler = Resampler(rate, LISTEN_RATE)  # a reply at another device rate
        return self._resampler.process(mono)


__all__ = ["FarEndReference"]
