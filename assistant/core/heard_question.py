"""A question heard hands-free, until the assistant begins to answer it.

People pause in the middle of a thought ("And so, my fellow Americans, … ask not what your
country can do for you"). The listener ends a turn at a pause that sounds final, and sometimes
it was not: the user speaks again while their question is still being transcribed or the model
has not begun to say its answer yet. That is the same question going on, not a new one that
cuts the first off: the two recordings become one, transcribed together (Whisper hears the whole
sentence), the question already shown is restated rather than followed by a second one, and a
reply shown but not yet spoken is taken back. Once the reply has begun to be spoken, speaking again
is a barge-in as usual.
"""

from __future__ import annotations

from dataclasses import dataclass

from assistant.core.history import UserRecord
from assistant.core.protocols import BYTES_PER_SAMPLE, Recording
from assistant.core.timeline import TurnTimeline

# Put between the two recordings when they are joined: a pause, as the user made one.
JOIN_PAUSE_SECONDS = 0.3


@dataclass(slots=True)
class HeardQuestion:
    recording: Recording  # from a little before the first onset to the end of the speech
    onset: float  # clock() time the question began
    end: float  # clock() time its speech ended
    timeline: TurnTimeline | None = None  # of the turn answering it, once there is one
    text: str | None = None  # its transcript, once there is one
    language: str | None = None  # the language it was said in, when the transcript says
    stored: UserRecord | None = None  # once shown: its line in the history, to restate
    continued: bool = False  # the user went on with it: its turn ends without a word

    def answer_begun_before(self, onset: float) -> bool:
        """Whether the reply had begun to be spoken (its first sentence ready for the voice)
        when the user began to speak again at `onset`: then they are answering it, cutting it
        off, or it is its own echo, not the question going on. Judged by when that sentence was
        ready, which this loop knew at once; the moment its sound began comes from the speaker's
        thread a little later, sometimes after the speech it caused has been heard. (Speech is
        recognised a quarter of a second after its onset: hence the onset.)"""
        sentences = self.timeline.sentences if self.timeline is not None else []
        return bool(sentences) and sentences[0].ready <= onset

    def again(self) -> HeardQuestion:
        """This question, to be answered after all (what seemed to go on with it was a cough);
        the turn that was answering it still ends without a word."""
        return HeardQuestion(
            self.recording,
            self.onset,
            self.end,
            text=self.text,
            language=self.language,
            stored=self.stored,
        )

    def going_on(self, recording: Recording, end: float) -> HeardQuestion:
        """This question and what the user went on to say, as one question."""
        rate = self.recording.sample_rate
        if recording.sample_rate != rate:
            raise ValueError(f"cannot join {recording.sample_rate} Hz audio to {rate} Hz")
        pause = bytes(int(JOIN_PAUSE_SECONDS * rate) * BYTES_PER_SAMPLE)
        joined = Recording(
            self.recording.pcm + pause + recording.pcm,
            rate,
            self.recording.overflows + recording.overflows,
        )
        return HeardQuestion(joined, self.onset, end, stored=self.stored)


__all__ = ["JOIN_PAUSE_SECONDS", "HeardQuestion"]
