"""Trims a sentence's leading and trailing silence as its audio streams in, so the padding that
synthesizers put around every sentence does not add up to audible gaps between sentences."""

from __future__ import annotations

import numpy as np


class SilenceTrimmer:
    """Streams int16 PCM through, dropping silence at the start and holding back quiet tails.

    Keeps `keep_lead` seconds before the first sound and at most `keep_tail` seconds after the
    last, which together make a natural pause between two sentences.
    """

    def __init__(
        self,
        sample_rate: int,
        *,
        threshold: int = 300,  # about -40 dBFS: quieter than any speech, louder than dither
        keep_lead: float = 0.03,
        keep_tail: float = 0.15,
    ) -> None:
        self._threshold = threshold
        self._lead = int(keep_lead * sample_rate)
        self._tail = int(keep_tail * sample_rate)
        self._heard_sound = False
        self._pending = np.zeros(
            0, dtype=np.int16
        )  # quiet samples not yet known to be inner pauses

    def feed(self, pcm: bytes) -> bytes:
        samples = np.frombuffer(pcm[: len(pcm) // 2 * 2], dtype="<i2")
        if samples.size == 0:
            return b""
        loud = np.flatnonzero(np.abs(samples.astype(np.int32)) > self._threshold)
        if loud.size == 0:
            self._pending = np.concatenate((self._pending, samples))
            if not self._heard_sound:
                self._pending = self._pending[-self._lead :] if self._lead else self._pending[:0]
            return b""
        first, last = int(loud[0]), int(loud[-1])
        if self._heard_sound:
            head = np.concatenate((self._pending, samples[:first]))
        else:
            lead_in = np.concatenate((self._pending, samples[:first]))
            head = lead_in[-self._lead :] if self._lead else lead_in[:0]
            self._heard_sound = True
        self._pending = samples[last + 1 :].copy()
        return head.tobytes() + samples[first : last + 1].tobytes()

    def finish(self) -> bytes:
        """The end of the sentence: release up to `keep_tail` of its trailing quiet."""
        if not self._heard_sound:
            return b""
        tail, self._pending = self._pending[: self._tail], self._pending[:0]
        return tail.tobytes()
