"""The wake word, listened for only when someone speaks.

A wake-word model judges every 80 ms of sound, all day: about a tenth of a core on the machines
we measure on, for a room that is silent most of the time. The voice detector costs a
thirtieth of that. So the detector listens first, and the wake-word model hears only the
moments around speech: the last `lead_seconds` of sound before the voice began (the phrase's
first syllable, and the room before it, as the model expects), then everything until the voice
has been gone for `hang_seconds`. It misses nothing the model would have fired on, as long as
the detector hears the phrase as speech, which is what it is for.
"""

from __future__ import annotations

from collections import deque

from assistant.core.listening import FRAME_BYTES, FRAME_SECONDS, VoiceDetector, WakeWordDetector

LEAD_SECONDS = 1.5  # sound before the voice began, handed over when it does
HANG_SECONDS = 1.5  # the voice gone this long: the model rests again
SPEECH_THRESHOLD = 0.3  # P(speech) that wakes the model: low, since a miss costs the phrase


class VoiceGatedWakeWord:
    """A `WakeWordDetector` that feeds `wake_word` only around speech `voice` hears. Blocking
    and not thread-safe, like the two it joins: the listening thread feeds it."""

    def __init__(
        self,
        wake_word: WakeWordDetector,
        voice: VoiceDetector,
        *,
        lead_seconds: float = LEAD_SECONDS,
        hang_seconds: float = HANG_SECONDS,
        threshold: float = SPEECH_THRESHOLD,
    ) -> None:
        self.phrase = wake_word.phrase
        self._wake_word = wake_word
        self._voice = voice
        self._threshold = threshold
        self._lead: deque[bytes] = deque(maxlen=round(lead_seconds / FRAME_SECONDS))
        self._hang_frames = round(hang_seconds / FRAME_SECONDS)
        self._window = bytearray()  # frames gathered into the detector's window
        self._quiet_frames = self._hang_frames  # since the voice was last heard
        self.frames_judged = 0  # how many frames the wake-word model was given (for measuring)

    @property
    def awake(self) -> bool:
        """Whether the wake-word model hears the sound now."""
        return self._quiet_frames < self._hang_frames

    def feed(self, frame: bytes) -> bool:
        """One 10 ms frame (FRAME_BYTES of int16 mono at 16 kHz); True once the phrase was just
        said."""
        if len(frame) != FRAME_BYTES:
            raise ValueError(f"a frame is {FRAME_BYTES} bytes, not {len(frame)}")
        was_awake = self.awake
        self._quiet_frames = 0 if self._voice_heard(frame) else self._quiet_frames + 1
        if not self.awake:
            self._lead.append(frame)
            return False
        fired = False
        if not was_awake:  # the voice just began: the model hears what led up to it first
            for earlier in self._lead:
                fired = self._judge(earlier) or fired
            self._lead.clear()
        return self._judge(frame) or fired

    def reset(self) -> None:
        self._wake_word.reset()
        self._voice.reset()
        self._lead.clear()
        self._window.clear()
        self._quiet_frames = self._hang_frames

    def _voice_heard(self, frame: bytes) -> bool:
        """Whether a window completed by `frame` sounded like speech (a window is about three
        frames; the frames between count as quiet, which `hang_seconds` easily spans)."""
        self._window += frame
        window_bytes = self._voice.window_samples * 2
        heard = False
        while len(self._window) >= window_bytes:
            window = bytes(self._window[:window_bytes])
            del self._window[:window_bytes]
            heard = self._voice.probability(window) >= self._threshold or heard
        return heard

    def _judge(self, frame: bytes) -> bool:
        self.frames_judged += 1
        return self._wake_word.feed(frame)


__all__ = ["HANG_SECONDS", "LEAD_SECONDS", "VoiceGatedWakeWord"]
