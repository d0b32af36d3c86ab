"""The transcript of an utterance while it is spoken: which words are settled and which may still
change, from the decodes of the growing recording (issue 17).

A word is committed once two consecutive decodes agree on it (local agreement of two
hypotheses), and committed words never change, so the text on screen only grows. Decodes start
at the beginning of the utterance, so each hears what the whole-utterance decode would hear and
writes the same words; only once the window holds 10 s does the next one start after a committed
sentence end that a pause follows (cutting between two words of fluent speech clips the next
one, and a short window loses the context that picks the right word: "ask not what your country"
became "Ask not! Like your country" when cut after the sentence before). The decode at the end
of speech then costs what the last sentences cost, not what the whole utterance does. Words of a
decode that lie in audio already committed are dropped, by their times.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from assistant.core.transcripts import is_silence_hallucination

# Words this close to the end of what a decode heard are not committed yet, even when two decodes
# agree: a word cut off at the end of a window is misheard alike twice ("And so my" heard up to
# the middle of "my" became "And so am I" in two decodes running).
_EDGE_SECONDS = 0.5
_CUT_SEARCH = 0.15  # seconds around a committed word's end searched for a quiet place to cut
_PAUSE = 0.3  # seconds between two words that make a safe place to start the next decode
_SHORTEST_WINDOW = 10.0  # seconds a window holds before it may move on at a sentence end
# Without such a place, decodes start no earlier than this before what has been heard (Whisper
# hears 30 s at a time; run-on speech is then cut after the last committed word).
_LONGEST_WINDOW = 20.0
_SENTENCE_END = (".", "?", "!", "\u3002", "\uff1f", "\uff01")
# A word this close after the committed end that repeats the committed words' last is the same
# word decoded again (Whisper's times shift a little between decodes), not said twice.
_ECHO_SECONDS = 0.25
_FRAME = 0.02  # the granularity of that search
_NOT_A_WORD = re.compile(r"[^\w']+|_")


@dataclass(frozen=True, slots=True)
class Word:
    """One word of a decode, as the model wrote it (with its leading space, if any), and when it
    was said, in seconds from the start of the utterance."""

    text: str
    start: float
    end: float


@dataclass(frozen=True, slots=True)
class Partial:
    """What to show while the user speaks: `committed` will not change, `tentative` may."""

    committed: str
    tentative: str  # starts with the space between it and `committed`, where the language has one
    audio_seconds: float  # how much of the utterance the decode behind it had heard

    @property
    def text(self) -> str:
        return (self.committed + self.tentative).strip()


class LiveTranscript:
    """The agreement between consecutive decodes of one utterance; plain Python, no model.

    Feed each decode's words (times from the start of the utterance) to `add`; decode next from
    `window_start`. The silence guard applies throughout: a transcript that is only
    what Whisper invents on silence ("Thank you.") is neither committed nor shown.
    """

    def __init__(self) -> None:
        self._committed: list[Word] = []
        self._tentative: list[Word] = []  # the latest decode's words after the committed ones
        self._window_start = 0.0
        self._heard = 0.0
        # The latest decode, whole, and where it started: the final text when it heard it all.
        self._latest: list[Word] = []
        self._latest_start = 0.0
        # The audio before the window, as the decodes of whole windows heard it (with all their
        # context; the committed words came from shorter decodes), and as it was at the latest.
        self._before: list[Word] = []
        self._before_latest: list[Word] = []

    @property
    def window_start(self) -> float:
        """Where (seconds) the next decode should start."""
        return self._window_start

    @property
    def committed_text(self) -> str:
        return _text(self._committed)

    @property
    def committed_end(self) -> float:
        """Where the committed words end, in seconds (0 before any)."""
        return self._committed[-1].end if self._committed else 0.0

    @property
    def committed_words(self) -> tuple[Word, ...]:
        return tuple(self._committed)

    @property
    def tentative_words(self) -> tuple[Word, ...]:
        return tuple(self._tentative)

    @property
    def heard_seconds(self) -> float:
        """How much of the utterance the latest decode heard."""
        return self._heard

    @property
    def last_word_end(self) -> float | None:
        """When the last word heard so far ends; None before any."""
        heard = self._tentative or self._committed
        return heard[-1].end if heard else None

    def add(
        self,
        words: Sequence[Word],
        heard_seconds: float,
        audio: np.ndarray | None = None,
        *,
        commit: bool = True,
    ) -> Partial:
        """A new decode of the utterance from `window_start` to `heard_seconds`: commit what it
        and the previous decode agree on, and move the next decode's start past it when it can.
        `audio` (the utterance so far, float or int16 at 16 kHz) lets that cut fall in the
        quietest place. `commit=False` while the words may be in the wrong language: they are
        shown, never settled."""
        self._latest = [word for word in words if word.text.strip()]
        self._latest_start = self._window_start
        self._before_latest = list(self._before)
        hypothesis = self.new_words(words)
        agreed = _common_prefix(self._tentative, hypothesis) if commit else []
        while agreed and agreed[-1].end > heard_seconds - _EDGE_SECONDS:
            agreed.pop()
        if agreed and not is_silence_hallucination(_text([*self._committed, *agreed])):
            self._committed += agreed
            hypothesis = hypothesis[len(agreed) :]
        self._tentative = hypothesis
        self._heard = max(self._heard, heard_seconds)
        self._move_window(audio)
        return self.partial()

    def new_words(self, words: Sequence[Word]) -> list[Word]:
        """The words of a decode that are not the committed ones decoded again: those whose
        middle lies after the committed end, less a first word that only repeats the last
        committed one a moment after it."""
        end = self.committed_end
        fresh = [w for w in words if w.text.strip() and (w.start + w.end) / 2 > end]
        return fresh[1:] if fresh and self._echoes_last_committed(fresh[0]) else fresh

    def _echoes_last_committed(self, word: Word) -> bool:
        if not self._committed or word.start >= self.committed_end + _ECHO_SECONDS:
            return False
        return _normalized(word.text) == _normalized(self._committed[-1].text)

    def _move_window(self, audio: np.ndarray | None) -> None:
        """Once the window is long, start the next decode after the committed words when they
        end a sentence and a pause follows, or at once when the window has grown too long."""
        window = self._heard - self._window_start
        if not self._committed or self.committed_end <= self._window_start:
            return
        if window < _SHORTEST_WINDOW:
            return
        last = self._committed[-1]
        upcoming = self._tentative[0].start if self._tentative else self._heard
        at_a_pause = last.text.rstrip().endswith(_SENTENCE_END) and upcoming - last.end >= _PAUSE
        if at_a_pause or window > _LONGEST_WINDOW:
            cut = _cut(last, self._tentative, audio)
            cut = max(self._window_start, min(cut, self.committed_end + _PAUSE))
            self._before += [word for word in self._latest if (word.start + word.end) / 2 < cut]
            self._window_start = cut

    def partial(self) -> Partial:
        """What to show now, after the silence guard."""
        committed = self.committed_text
        tentative = "".join(word.text for word in self._tentative).rstrip()
        if not committed:
            tentative = tentative.lstrip()
        if is_silence_hallucination(committed + tentative):
            return Partial("", "", self._heard)
        if committed and is_silence_hallucination(tentative):
            tentative = ""  # "Thank you." invented on a pause mid-sentence: not worth a flicker
        return Partial(committed, tentative, self._heard)

    def final_text(self, tail: Sequence[Word] | None = None) -> str:
        """The utterance's text: the audio before the window as the decodes of whole windows
        heard it, then `tail` (the decode of the window, from `window_start` to the end) or,
        when the latest decode already heard all the speech, that decode's words. Not the
        committed words: a word committed early, when two short decodes misheard it alike, is
        heard right by the decode of the whole window, as by the whole utterance's decode.
        Empty when it is only what Whisper invents on silence."""
        if tail is None:
            words = [*self._before_latest, *self._latest]
        else:
            words = [*self._before, *(word for word in tail if word.text.strip())]
        text = _text(words)
        return "" if is_silence_hallucination(text) else text

    def restart(self) -> None:
        """Forget the tentative words (they were decoded in a language now known to be wrong)."""
        self._tentative = []
        self._latest = []
        self._before_latest = list(self._before)


def _common_prefix(previous: Sequence[Word], current: Sequence[Word]) -> list[Word]:
    """The words both decodes start with, compared without case and punctuation ("country," and
    "country." agree), in the newer decode's form: it heard more, so its punctuation is better."""
    agreed: list[Word] = []
    for old, new in zip(previous, current, strict=False):
        if _normalized(old.text) != _normalized(new.text):
            break
        agreed.append(new)
    return agreed


def _normalized(text: str) -> str:
    return _NOT_A_WORD.sub("", text.lower())


def _cut(last_committed: Word, rest: Sequence[Word], audio: np.ndarray | None) -> float:
    """Where the next decode starts: after the last committed word, before the next word, at the
    quietest 20 ms in between (Whisper's word times are a little loose; cutting into a word
    would make the next decode mishear it)."""
    earliest = last_committed.end - _CUT_SEARCH / 3
    latest = last_committed.end + _CUT_SEARCH
    if rest:
        latest = min(latest, max(rest[0].start, earliest))
    if audio is None or latest <= earliest:
        return max(0.0, min(last_committed.end, latest))
    return quietest_point(audio, earliest, latest)


def quietest_point(audio: np.ndarray, earliest: float, latest: float, rate: int = 16_000) -> float:
    """The middle of the quietest 20 ms of `audio` between `earliest` and `latest` seconds."""
    frame = max(1, round(_FRAME * rate))
    first = max(0, round(earliest * rate))
    last = min(len(audio), round(latest * rate))
    if last - first < frame:
        return max(0.0, earliest)
    stretch = np.abs(audio[first:last].astype(np.float64))
    energy = np.convolve(stretch, np.ones(frame), mode="valid")
    quietest = int(np.argmin(energy))
    return (first + quietest + frame / 2) / rate


def _text(words: Sequence[Word]) -> str:
    return "".join(word.text for word in words).strip()


__all__ = ["LiveTranscript", "Partial", "Word", "quietest_point"]
