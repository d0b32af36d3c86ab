"""When each stage of a turn happened, on one monotonic clock: for the GUI, `--json`, benchmarks."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

clock = time.monotonic


@dataclass
class SentenceTiming:
    index: int
    text: str
    ready: float  # the splitter emitted it
    request_sent: float | None = None  # synthesis asked for it
    first_byte: float | None = None  # first audio arrived from the synthesizer
    first_sample: float | None = None  # first sample handed to the sound card
    last_sample: float | None = None  # last sample handed to the sound card
    underruns: int = 0  # its audio came too late: the reply's queue ran dry
    dropouts: int = 0  # its audio was there, but the machine was too busy to play it in time


class TurnKind(Enum):
    """How a turn began: its timings are measured from a different moment in each, and are told
    in the words that fit it ("after you let go" means nothing after a typed message)."""

    PUSH_TO_TALK = "push to talk"  # Talk held or clicked: from its release
    HANDS_FREE = "hands-free"  # heard without a button (hands-free, wake word): from the pause
    TYPED = "typed"  # from the message sent
    READ_ALOUD = "read aloud"  # from Read aloud pressed


@dataclass
class TurnTimeline:
    """Timestamps (time.monotonic) of one turn. `None` means the stage did not happen."""

    input_start: float | None = None
    input_end: float | None = None
    transcript_ready: float | None = None
    first_token: float | None = None
    finished: float | None = None
    sentences: list[SentenceTiming] = field(default_factory=list)
    connections_opened: int = 0
    input_overflows: int = 0
    interrupted: bool = False
    # Hands-free: when the user's voice that cut this reply off began, and when the reply fell
    # silent (its sound stopped and its requests were cancelled).
    barge_in_onset: float | None = None
    silenced: float | None = None
    # Which turn this is (1, 2, … per controller; 0 outside one): the turn's events carry it,
    # so whoever shows them can tell a late event of a turn cut off from the next turn's.
    turn: int = 0
    kind: TurnKind = TurnKind.PUSH_TO_TALK

    def add_sentence(self, text: str) -> SentenceTiming:
        timing = SentenceTiming(index=len(self.sentences), text=text, ready=clock())
        self.sentences.append(timing)
        return timing

    @property
    def origin(self) -> float | None:
        """The instant everything is measured from: release of the talk button, the end of the
        user's speech (hands-free), or the text sent."""
        return self.input_end

    def gaps(self) -> list[float]:
        """Seconds between one sentence's last sample and the next one's first, as handed to the
        sound card."""
        out = []
        for prev, nxt in zip(self.sentences, self.sentences[1:], strict=False):
            if prev.last_sample is not None and nxt.first_sample is not None:
                out.append(max(0.0, nxt.first_sample - prev.last_sample))
        return out

    def heard(self) -> str:
        """The reply as far as the listener heard it: every sentence that started playing."""
        return "".join(s.text for s in self.sentences if s.first_sample is not None).strip()

    def first_audio(self) -> float | None:
        return self.sentences[0].first_sample if self.sentences else None

    def to_dict(self) -> dict[str, Any]:
        """Milliseconds since input end, rounded to 0.1 ms: the `--json` form."""
        origin = self.origin

        def ms(t: float | None) -> float | None:
            if t is None or origin is None:
                return None
            return round((t - origin) * 1000, 1)

        return {
            "kind": self.kind.value,
            "end_of_speech_ms": ms(self.input_end),
            "transcript_ready_ms": ms(self.transcript_ready),
            "first_token_ms": ms(self.first_token),
            "first_audio_ms": ms(self.first_audio()),
            "finished_ms": ms(self.finished),
            "recording_ms": (
                round((self.input_end - self.input_start) * 1000, 1)
                if self.input_end is not None and self.input_start is not None
                else None
            ),
            "connections_opened": self.connections_opened,
            "input_overflows": self.input_overflows,
            "interrupted": self.interrupted,
            "barge_in_ms": (
                round((self.silenced - self.barge_in_onset) * 1000, 1)
                if self.silenced is not None and self.barge_in_onset is not None
                else None
            ),
            "gaps_ms": [round(g * 1000, 1) for g in self.gaps()],
            "sentences": [
                {
                    "index": s.index,
                    "text": s.text,
                    "ready_ms": ms(s.ready),
                    "request_sent_ms": ms(s.request_sent),
                    "first_byte_ms": ms(s.first_byte),
                    "first_sample_ms": ms(s.first_sample),
                    "last_sample_ms": ms(s.last_sample),
                    "underruns": s.underruns,
                    "dropouts": s.dropouts,
                }
                for s in self.sentences
            ],
        }
