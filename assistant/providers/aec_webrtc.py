"""Echo cancellation with WebRTC's AEC3 (the `pywebrtc-audio` wheel): the microphone minus what the
assistant's own voice put into it.

AEC3 takes one far-end frame with each microphone frame. The far end (what the Speaker handed to
the sound card) and the microphone arrive at their own pace, so far frames wait in a short queue and
each microphone frame takes the oldest one (silence when none is waiting: nothing is playing). AEC3
finds the delay between the two itself; the queue only has to stay shorter than the echo's delay,
so its backlog is capped.
"""

from __future__ import annotations

import threading
from collections import deque

import numpy as np
import pywebrtc_audio

from assistant.core.listening import FRAME_BYTES, FRAME_SAMPLES, FRAME_SECONDS, LISTEN_RATE

# Far frames waiting for a microphone frame. The Speaker writes up to ~60 ms ahead of the sound
# card, so a backlog of a few frames is normal; a longer one would hand AEC3 the far end after its
# echo (it cannot cancel what it has not been shown yet), so the oldest frames are dropped.
MAX_FAR_BACKLOG_SECONDS = 0.12
NOISE_SUPPRESSION_LEVEL = 1  # 0-3: 6, 12, 18, 21 dB; 1 keeps speech natural for Whisper
_SILENCE = np.zeros(FRAME_SAMPLES, dtype=np.int16)


class WebRtcEchoCanceller:
    """Implements core.listening.EchoCanceller with AEC3, 10 ms frames of 16 kHz int16 mono.

    `far()` may be called from another thread than `near()` (it only queues); `near()` and
    `reset()` belong to the one listening thread. With `noise_suppression`, WebRTC's noise
    suppressor runs after the canceller on the same frames (AudioProcessor: HPF -> AEC3 -> NS).
    `delay_hint_ms` tells AEC3 where to start looking for the echo (0: let it find it)."""

    def __init__(
        self,
        *,
        noise_suppression: bool = False,
        delay_hint_ms: int = 0,
        max_far_backlog_seconds: float = MAX_FAR_BACKLOG_SECONDS,
    ) -> None:
        self.noise_suppression = noise_suppression
        self._delay_hint_ms = delay_hint_ms
        self._processor = self._make_processor()
        self._far: deque[np.ndarray] = deque()
        self._far_lock = threading.Lock()
        self._max_backlog = max(1, round(max_far_backlog_seconds / FRAME_SECONDS))
        self.far_frames_dropped = 0  # far frames that came too early to be of use (diagnostics)

    def _make_processor(self) -> pywebrtc_audio.AudioProcessor | pywebrtc_audio.EchoCanceller:
        if self.noise_suppression:
            return pywebrtc_audio.AudioProcessor(
                sample_rate=LISTEN_RATE,
                num_channels=1,
                echo_cancellation=True,
                noise_suppression=True,
                ns_level=NOISE_SUPPRESSION_LEVEL,
                stream_delay_ms=self._delay_hint_ms,
            )
        return pywebrtc_audio.EchoCanceller(LISTEN_RATE, 1, self._delay_hint_ms)

    def far(self, frame: bytes) -> None:
        """Queue one frame of what was handed to the sound card (FRAME_BYTES, in playing order)."""
        _check(frame)
        samples = np.frombuffer(frame, dtype=np.int16)
        with self._far_lock:
            self._far.append(samples)
            while len(self._far) > self._max_backlog:
                self._far.popleft()
                self.far_frames_dropped += 1

    def near(self, frame: bytes) -> bytes:
        """One microphone frame with the assistant's echo taken out."""
        _check(frame)
        with self._far_lock:
            far = self._far.popleft() if self._far else _SILENCE
        near = np.frombuffer(frame, dtype=np.int16)
        cleaned = self._processor.process(near, far)
        return bytes(np.asarray(cleaned, dtype=np.int16).tobytes())

    @property
    def far_backlog(self) -> int:
        """Far frames waiting for a microphone frame."""
        with self._far_lock:
            return len(self._far)

    def reset(self) -> None:
        """Forget the echo path and the queued far end (a new device, or listening restarts)."""
        with self._far_lock:
            self._far.clear()
        self._processor.reset()


def _check(frame: bytes) -> None:
    if len(frame) != FRAME_BYTES:
        raise ValueError(f"an echo canceller frame is {FRAME_BYTES} bytes, got {len(frame)}")


__all__ = ["MAX_FAR_BACKLOG_SECONDS", "WebRtcEchoCanceller"]
