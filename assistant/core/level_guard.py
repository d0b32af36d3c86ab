"""The last guard before the sound card: nothing louder than speech reaches the ears, whatever a
voice sent (MP3 or JSON played as samples, a broken local voice, a wrong Volcano reply).

Loudness alone cannot tell speech from noise: a loud syllable of the Piper voice reaches an RMS of
0.48 of full scale over 10 ms, full-scale white noise 0.58. What tells them apart is the energy in
the high frequencies, which speech has little of and noise has all of: the RMS of the signal's
first difference. Measured over 20 ms: the real clips of tests/data/speech at most 0.19, the Piper
voice 0.19 (0.40 on a long, drawn-out "Sssssh"), full-scale white noise and MP3 bytes played as
samples 0.86-0.94. A ceiling of 0.5 on it never touches speech, and holds such noise to about
0.35 RMS (-9 dBFS instead of -4.8), the level of the loudest moments of normal speech
(Piper 0.30-0.41 over 100 ms, JFK 0.39).

Each 10 ms block is measured before it is played (so the attack is immediate: the first block
of a burst is already held down); the gain comes back up by 20 % a block (about 0.1 s from the
quietest). A block within the ceiling, after blocks within it, is passed on bit for bit.

What it does not catch: loud sound with little high-frequency energy. Speech shifted by one byte
(an odd byte lost) plays at 0.55 RMS and is held only where it turns noisy; it is prevented
upstream instead, by cutting every voice's audio on whole samples.
"""

from __future__ import annotations

import numpy as np

CEILING = 0.5  # the RMS of the first difference, as a fraction of full scale
BLOCK_SECONDS = 0.01
RELEASE = 1.2  # the gain's rise per block, back towards 1


class LevelGuard:
    """Holds down int16 mono audio whose high-frequency energy is beyond any speech's; one per
    stream, fed its samples in order (chunks of any size, whole samples)."""

    def __init__(self, sample_rate: int) -> None:
        self._block = max(1, round(BLOCK_SECONDS * sample_rate))
        self._gain = 1.0
        self._previous = 0.0  # the last sample of the previous chunk, for its difference

    def process(self, pcm: bytes) -> bytes:
        """`pcm` held to the ceiling: the same bytes when nothing in it is beyond it."""
        samples = np.frombuffer(pcm, dtype="<i2")
        if not len(samples):
            return pcm
        signal = samples.astype(np.float32) / 32768.0
        change = np.diff(signal, prepend=np.float32(self._previous))
        self._previous = float(signal[-1])
        starts = np.arange(0, len(signal), self._block)
        lengths = np.diff(np.append(starts, len(signal)))
        rms = np.sqrt(np.add.reduceat(change * change, starts) / lengths)
        allowed = np.minimum(1.0, CEILING / np.maximum(rms, 1e-9))
        gains = self._gains(allowed)
        if np.all(gains == 1.0):
            return pcm
        held = samples * np.repeat(gains, lengths)
        return bytes(np.clip(np.round(held), -32768, 32767).astype("<i2").tobytes())

    def _gains(self, allowed: np.ndarray) -> np.ndarray:
        """Each block's gain: what it allows at once (attack), or a slow rise after a loud one."""
        gains = np.empty(len(allowed), dtype=np.float64)
        gain = self._gain
        for index, limit in enumerate(allowed):
            gain = min(float(limit), gain * RELEASE, 1.0)
            gains[index] = gain
        self._gain = gain
        return gains


__all__ = ["CEILING", "LevelGuard"]
