"""A spoken phrase ("hey jarvis") that opens a hands-free turn: openWakeWord's models, from the
pyopen-wakeword package (Apache-2.0), which bundles them with a TensorFlow Lite runtime.

The models judge the audio in 80 ms steps (a 32-band mel every 10 ms, an embedding per 80 ms, a
score per embedding over the last ~2 s). The microphone's 10 ms frames are gathered into those
steps here: handing the library single frames would shift its 10 s buffer 100 times a second.
"""

from __future__ import annotations

from pyopen_wakeword import Model, OpenWakeWord, OpenWakeWordFeatures

from assistant.core.errors import ModelError
from assistant.core.listening import LISTEN_RATE

# The bundled models, by the name the configuration uses, and the phrase a user says.
WAKE_PHRASES: dict[str, str] = {
    "hey_jarvis": "hey jarvis",
    "okay_nabu": "okay nabu",
    "hey_mycroft": "hey mycroft",
    "alexa": "alexa",
    "hey_rhasspy": "hey rhasspy",
}
# 80 ms (1280 samples): what the library turns into one embedding and one score.
STEP_SAMPLES = LISTEN_RATE * 8 // 100
STEP_BYTES = STEP_SAMPLES * 2
STEP_SECONDS = STEP_SAMPLES / LISTEN_RATE
DEFAULT_THRESHOLD = 0.5
# After firing, the phrase must have been absent this long before it may fire again: its score
# stays high for most of a second while it is being said.
DEFAULT_REARM_SECONDS = 1.0


class OpenWakeWordDetector:
    """A `WakeWordDetector` for one of the bundled phrases (`WAKE_PHRASES`'s keys).

    `feed` returns True once per utterance of the phrase: when a score reaches `threshold`, then
    not again until the scores have stayed below it for `rearm_seconds`. Blocking and not
    thread-safe: feed it from the listening worker thread only. Loading takes ~0.4 s (the first
    8 s of silence the library primes itself with are run then, not on the first frame).
    """

    def __init__(
        self,
        model: str = "hey_jarvis",
        *,
        threshold: float = DEFAULT_THRESHOLD,
        rearm_seconds: float = DEFAULT_REARM_SECONDS,
    ) -> None:
        if model not in WAKE_PHRASES:
            raise ModelError(
                f"There is no wake word model {model!r}. Choose one of: {', '.join(WAKE_PHRASES)}."
            )
        if not 0.0 < threshold < 1.0:
            raise ValueError(f"threshold must be between 0 and 1, not {threshold}")
        self.phrase = WAKE_PHRASES[model]
        self.threshold = threshold
        self.score = 0.0  # the latest score, for logs and tuning
        self._rearm_steps = max(1, round(rearm_seconds / STEP_SECONDS))
        try:
            self._features = OpenWakeWordFeatures.from_builtin()
            self._model = OpenWakeWord.from_builtin(Model(model))
        except (OSError, ValueError, RuntimeError) as error:
            raise ModelError(
                f"The wake word model could not be loaded ({error}). Reinstall the assistant."
            ) from error
        self._pending = bytearray()
        self._quiet_steps = 0
        self._fired = False  # True from a firing until the phrase has been absent long enough
        self._prime()

    def feed(self, frame: bytes) -> bool:
        """One or more 10 ms frames of int16 mono PCM at 16 kHz, in order; True once the phrase
        was just said."""
        self._pending += frame
        fired = False
        while len(self._pending) >= STEP_BYTES:
            step = bytes(self._pending[:STEP_BYTES])
            del self._pending[:STEP_BYTES]
            for score in self._scores(step):
                fired = self._judge(score) or fired
        return fired

    def reset(self) -> None:
        """Forget the phrase just heard: scores start again from audio fed after this call
        (the first comes ~1.3 s later, when the model's window is full of it)."""
        self._model.reset()
        self._pending.clear()
        self._fired = False
        self._quiet_steps = 0
        self.score = 0.0

    def _scores(self, step: bytes) -> list[float]:
        scores: list[float] = []
        for embedding in self._features.process_streaming(step):
            scores.extend(self._model.process_streaming(embedding))
        return scores

    def _judge(self, score: float) -> bool:
        self.score = score
        if not self._fired:
            self._fired = score >= self.threshold
            self._quiet_steps = 0
            return self._fired
        self._quiet_steps = self._quiet_steps + 1 if score < self.threshold else 0
        if self._quiet_steps >= self._rearm_steps:
            self._fired = False
        return False

    def _prime(self) -> None:
        """Run the library's start-up silence now, so that the first real frame costs no more
        than any other, and the model scores from the first words on."""
        self._scores(bytes(STEP_BYTES))


__all__ = ["DEFAULT_THRESHOLD", "WAKE_PHRASES", "OpenWakeWordDetector"]
