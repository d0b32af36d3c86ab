"""The contracts of hands-free listening: what the always-open microphone's pipeline is made of.

    microphone (always open) ─► EchoCanceller.near ◄── EchoCanceller.far: what the Speaker handed
          │ 10 ms frames, 16 kHz                         to the device, in the order it was played
          ▼ echo-cancelled
    VoiceDetector ─► speech start / end ─► TurnEndDetector: is this pause the end of the thought?
          │
    WakeWordDetector (wake-word mode): a phrase before a turn begins

All of it runs in one worker thread, never on the event loop; the audio is int16 mono PCM at
LISTEN_RATE, in whole frames. Each part is a small class behind one of these protocols, its vendor
in its own file under `providers/` (WebRTC AEC3, Silero VAD, Smart Turn, openWakeWord).
"""

from __future__ import annotations

from typing import Protocol

LISTEN_RATE = 16_000  # what the canceller, the detectors and Whisper all take
FRAME_SECONDS = 0.01
FRAME_SAMPLES = 160  # 10 ms at LISTEN_RATE: the canceller's frame
FRAME_BYTES = FRAME_SAMPLES * 2


class EchoCanceller(Protocol):
    """Removes from the microphone what the assistant's own voice put into it."""

    def far(self, frame: bytes) -> None:
        """One frame (FRAME_BYTES) of what was handed to the sound card, in playing order."""

    def near(self, frame: bytes) -> bytes:
        """One frame of the microphone; the same frame with the echo taken out."""


class VoiceDetector(Protocol):
    """How likely a window of audio is speech."""

    window_samples: int  # what `probability` takes at a time (512 for Silero at 16 kHz)

    def probability(self, window: bytes) -> float:
        """P(speech) of one window (`window_samples` samples), in order: it keeps state."""

    def reset(self) -> None:
        """Forget the state: the next window starts a new stream."""


class TurnEndDetector(Protocol):
    """Whether a pause ends the speaker's thought ("What time is my…" does not)."""

    def complete(self, speech: bytes) -> float:
        """P(the turn is complete), from the speech so far (its last seconds count)."""


class WakeWordDetector(Protocol):
    """Listens for one phrase ("hey jarvis") before a turn begins."""

    phrase: str

    def feed(self, frame: bytes) -> bool:
        """More audio, in order; True once the phrase was just said."""

    def reset(self) -> None:
        """Forget what was heard (after it fired, or when listening starts again)."""


__all__ = [
    "FRAME_BYTES",
    "FRAME_SAMPLES",
    "FRAME_SECONDS",
    "LISTEN_RATE",
    "EchoCanceller",
    "TurnEndDetector",
    "VoiceDetector",
    "WakeWordDetector",
]
