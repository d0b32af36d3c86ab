"""Cuts a streamed reply into pieces a voice can start saying while the model is still writing.

Why one file (over 450 lines): it is one state machine over one buffer of unsent text; every
boundary rule (sentence marks, abbreviations, clauses, code, wide characters) reads and moves the
same position, and is tested against the others by the property tests.

A piece is handed out only once no later text can move its end, so the pieces never depend on
how the stream happened to be chunked.
"""

from __future__ import annotations

import re
import sys
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

from assistant.core.cleaner import clean_for_tts, closing_fence_end, is_speakable

__all__ = ["Piece", "SentenceSplitter", "speaking_length", "speaking_seconds"]


@dataclass(frozen=True, slots=True)
class Piece:
    """One piece of the reply: as the model wrote it, and as the voice says it."""

    text: str  # exactly as the model wrote it, trailing spaces included (the GUI highlights it)
    spoken: str  # what the voice says: has a letter or digit, at most max_bytes of UTF-8


_SENTENCE_MARKS = ".!?…。！？；"
_CJK_SENTENCE_MARKS = "。！？；"
_CLAUSE_MARKS = ",;:"
_CJK_CLAUSE_MARKS = "，、："
_DASHES = "—–-"
# Closing quotes, brackets and emphasis stay with the mark before them: '"Stop."', '**Done.**'
_CLOSERS = "\"')]}»”’」』）》】〉*_"
# Every character that _classify treats specially; runs of anything else are skipped at once.
_INTERESTING = re.compile(r"[\s.!?…。！？；,;:，、：—–\-`]")
_CJK = re.compile(r"[\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef]")
# A "." after these never ends a sentence ("Dr. Smith", "e.g. Python", "St. Louis").
_TITLES = frozenset(
    {"dr", "mr", "mrs", "ms", "prof", "st", "mt", "vs", "e.g", "i.e", "cf", "fig", "approx"}
    | {"capt", "col", "gen", "gov", "lt", "rep", "rev", "sen", "sgt"}
)
_LONGEST_ABBREVIATION = 12
_GRAPHEME_GLUE = "\u200d\ufe0e\ufe0f\u20e3"
_EDGE_SYMBOLS = re.compile(r"^[^\w]+|[^\w]+$")

MIN_MAX_BYTES = 64  # room for the longest spoken symbol and the code-block mention
_NO_LIMIT = sys.maxsize
_TRIM_AFTER = 8192  # characters of spoken-for text kept before trimming the buffer
_KEEP_BEHIND = 64  # enough for every look behind a piece's start (abbreviations, line starts)


class _NeedMoreText(Exception):
    """The decision at this position depends on text that has not arrived yet."""


class _Kind(Enum):
    NOTHING = "nothing"
    SPACE = "space"  # a word boundary: a last resort for cutting a long piece
    CLAUSE = "clause"  # after a comma, colon, semicolon or dash
    SENTENCE = "sentence"  # after a sentence mark, a line, or a code block


@dataclass(frozen=True, slots=True)
class _Found:
    kind: _Kind
    resume: int  # where scanning goes on
    cut: int = 0  # where a piece would end: after the mark and the spaces that follow it
    mark_end: int = 0  # just after the mark (and its closing quotes)


class SentenceSplitter:
    """Feed it the reply's text deltas; it returns the pieces that are safe to speak.

    A sentence ends at `.?!…` followed by a space (then the next character confirms it), at
    `。！？；` (no space needed), at a line break, and around a fenced code block, which is
    one piece of its own. Abbreviations, decimals, times, addresses and ellipses do not end a
    sentence. The first piece of a reply may end early, so the voice starts soon: at a clause
    boundary once it has `first_min_chars` characters (a Chinese character counts as three, as
    it takes as long to say), or at a space once it has `first_max_wait_chars`. A piece whose
    spoken text would exceed `max_bytes` is cut at its last clause boundary, else its last
    space, else anywhere. Text with nothing to say (a line of "---", an emoji) joins the next
    piece; if it is the very end of the reply it is dropped, so the pieces' texts joined give
    the whole reply up to such an unspeakable tail.
    """

    def __init__(
        self, max_bytes: int = 1024, first_min_chars: int = 20, first_max_wait_chars: int = 120
    ) -> None:
        if max_bytes < MIN_MAX_BYTES:
            raise ValueError(f"max_bytes must be at least {MIN_MAX_BYTES}, not {max_bytes}")
        if not 1 <= first_min_chars <= first_max_wait_chars:
            raise ValueError("need 1 <= first_min_chars <= first_max_wait_chars")
        self._max_bytes = max_bytes
        self._first_min_chars = first_min_chars
        self._first_max_wait_chars = first_max_wait_chars
        self.reset()

    def feed(self, delta: str) -> list[Piece]:
        """Add the next part of the reply; return the pieces that no later text can change."""
        self._text += delta
        return self._drain(final=False)

    def flush(self) -> list[Piece]:
        """The reply is complete: return everything left, and start afresh for the next one."""
        pieces = self._drain(final=True)
        self.reset()
        return pieces

    def flush_complete(self) -> list[Piece]:
        """The stream has gone quiet: hand out the text so far if it ends with a sentence mark.

        `feed` holds "First sentence here." until the next character shows that nothing (a
        decimal, "Dr. Smith") goes on after the mark; if the model then stalls, the listener
        would wait for the stall. Called after a short quiet time, this takes the mark at the
        end of the text as the end of the sentence (the risk of being wrong is small then), but
        never inside an unclosed code block, after a title ("Dr.") or after a list number ("1.").
        The reply goes on afterwards as if a piece had ended there.
        """
        pieces = self._drain(final=False)
        if self._ends_with_sentence_mark():
            pieces += self._drain(final=True)
            self._final = False
        return pieces

    def reset(self) -> None:
        """Forget the reply (barge-in); the next feed starts a new one."""
        self._text = ""
        self._trimmed = 0  # characters dropped from the front of _text
        self._start = 0  # where the next piece begins in _text
        self._scan = 0  # every position before this one has been classified
        self._first = True
        self._final = False
        self._clause_cuts: list[int] = []
        self._space_cuts: list[int] = []
        self._spoken: dict[int, str] = {}
        self._window_end: int | None = None

    # The scan: find the end of the next piece.

    def _drain(self, final: bool) -> list[Piece]:
        self._final = final
        pieces = []
        while (cut := self._next_cut()) is not None:
            pieces.append(self._take(cut))
        return pieces

    def _next_cut(self) -> int | None:
        while self._scan < len(self._text):
            position = self._scan
            if position >= self._limit() and (cut := self._forced_cut(position)) is not None:
                return cut
            try:
                found = self._classify(position)
            except _NeedMoreText:
                return None
            self._scan = found.resume
            if (cut := self._decide(found)) is not None:
                return cut
        end = len(self._text)
        if self._final and end > self._start and self._has_speech(end):
            return self._fit(end)
        return None

    def _decide(self, found: _Found) -> int | None:
        """Take the boundary as the piece's end, or remember it as a place to cut if need be."""
        if found.kind is _Kind.SPACE:
            self._space_cuts.append(found.cut)
            return None
        if found.kind is _Kind.NOTHING:
            return None
        early = (
            self._first
            and speaking_length(self._text[self._start : found.mark_end]) >= self._first_min_chars
        )
        if (found.kind is _Kind.SENTENCE or early) and self._has_speech(found.cut):
            return self._fit(found.cut)
        self._clause_cuts.append(found.cut)
        return None

    def _limit(self) -> int:
        """The position at which the piece is cut even without a sentence end."""
        if self._window_end is None:
            window = self._text[self._start : self._start + self._max_bytes + 1]
            encoded = window.encode("utf-8", "surrogatepass")
            if len(encoded) <= self._max_bytes:
                return self._first_limit()  # not known yet, and beyond the text so far
            fitting = encoded[: self._max_bytes].decode("utf-8", "ignore")
            self._window_end = self._start + len(fitting)
        return min(self._window_end, self._first_limit())

    def _first_limit(self) -> int:
        return self._start + self._first_max_wait_chars if self._first else _NO_LIMIT

    def _ends_with_sentence_mark(self) -> bool:
        """Whether the text not yet handed out ends a sentence, if nothing more came."""
        tail = self._text[self._start :].rstrip()
        if "```" in tail:
            return False  # a code block may be open: it is one piece, ended by its fence
        end = len(tail)
        while end > 0 and tail[end - 1] in _CLOSERS:
            end -= 1
        if end == 0 or tail[end - 1] not in _SENTENCE_MARKS:
            return False
        marks_start = end
        while marks_start > 0 and tail[marks_start - 1] in _SENTENCE_MARKS:
            marks_start -= 1
        position = self._start + marks_start
        word = self._word_before(position)
        if tail[marks_start:end] == "." and word.lower() in _TITLES:
            return False
        return not (word.isdigit() and self._starts_line(position - len(word)))

    # Classifying one position. Each method looks only as far ahead as it must, and raises
    # _NeedMoreText rather than guess, so its answer never changes when more text arrives.

    def _classify(self, position: int) -> _Found:
        char = self._text[position]
        if char == "`":
            return self._at_backticks(position)
        if char in _SENTENCE_MARKS:
            return self._at_sentence_mark(position)
        if char in _CLAUSE_MARKS or char in _CJK_CLAUSE_MARKS:
            return self._at_clause_mark(position)
        if char in _DASHES:
            return self._at_dash(position)
        if char.isspace():
            return self._at_space(position)
        return _Found(_Kind.NOTHING, self._next_interesting(position + 1))

    def _next_interesting(self, position: int) -> int:
        # Past the limit every position is visited, so that a retried forced cut is tried at
        # the same places however the text was chunked.
        bound = max(position, min(self._limit(), len(self._text)))
        match = _INTERESTING.search(self._text, position, bound)
        return match.start() if match else bound

    def _at_backticks(self, position: int) -> _Found:
        fence_end = self._skip(position, "`")
        if fence_end - position < 3:
            return _Found(_Kind.NOTHING, fence_end)
        if position > self._start and self._has_speech(position):
            return _Found(_Kind.SENTENCE, position, cut=position)  # the code is a piece of its own
        end = closing_fence_end(self._text, fence_end, fence_end - position)
        if end is None:
            if not self._final:
                raise _NeedMoreText
            end = len(self._text)
        self._peek(end)  # a longer closing fence may still be coming
        cut = self._skip_space(end)
        return _Found(_Kind.SENTENCE, cut, cut=cut, mark_end=end)

    def _at_sentence_mark(self, position: int) -> _Found:
        marks_end = self._skip(position, _SENTENCE_MARKS)
        mark_end = self._skip(marks_end, _CLOSERS)
        marks = self._text[position:marks_end]
        following = self._peek(mark_end)
        if not following:
            return _Found(_Kind.NOTHING, mark_end)  # the reply's end ends the piece anyway
        if any(mark in _CJK_SENTENCE_MARKS for mark in marks):
            return self._boundary(_Kind.SENTENCE, mark_end)
        if not following.isspace():
            # "3.14", "example.com"; but "好的!然后" ends a sentence without a space.
            cjk_after_exclamation = marks[-1] in "!?" and _CJK.match(following)
            kind = _Kind.SENTENCE if cjk_after_exclamation else _Kind.NOTHING
            return _Found(kind, mark_end, cut=mark_end, mark_end=mark_end)
        cut = self._skip_space(mark_end)
        next_word = self._peek(cut)
        line_ends = "\n" in self._text[mark_end:cut]
        if next_word and not line_ends and self._sentence_goes_on(position, marks, next_word, cut):
            return _Found(_Kind.NOTHING, mark_end)
        return _Found(_Kind.SENTENCE, cut, cut=cut, mark_end=mark_end)

    def _sentence_goes_on(self, position: int, marks: str, next_word: str, next_at: int) -> bool:
        if next_word.islower():
            return True  # '"Stop," she said.', "etc. and", "a.m. tomorrow"
        if marks != ".":
            return "…" in marks or ".." in marks  # an ellipsis pauses, it does not end
        word = self._word_before(position)
        if word.lower() in _TITLES:
            return True
        if word.isdigit() and self._starts_line(position - len(word)):
            return True  # "1. Open the settings" is a list item
        return self._is_initial(word, position, next_word, next_at)

    def _at_clause_mark(self, position: int) -> _Found:
        mark_end = self._skip(position + 1, _CLOSERS)
        if self._text[position] in _CJK_CLAUSE_MARKS or self._peek(mark_end).isspace():
            return self._boundary(_Kind.CLAUSE, mark_end)
        return _Found(_Kind.NOTHING, mark_end)  # "10:30", "1,000", "https://"

    def _at_dash(self, position: int) -> _Found:
        dash = self._text[position]
        dash_end = self._skip(position, dash)
        before = self._text[max(0, position - 2) : position]
        if before[-1:].isdigit() or (before[-1:] == " " and before[:1].isdigit()):
            return _Found(_Kind.NOTHING, dash_end)  # "10-20", "10 – 20": a range is read whole
        if dash == "—":
            return self._boundary(_Kind.CLAUSE, dash_end)
        if before[-1:] in (" ", "\t") and self._peek(dash_end).isspace():
            return self._boundary(_Kind.CLAUSE, dash_end)  # "cheap - and fast"
        return _Found(_Kind.NOTHING, dash_end)  # "well-known", "-5"

    def _at_space(self, position: int) -> _Found:
        end = self._skip_space(position)
        if end >= len(self._text):
            return _Found(_Kind.NOTHING, end)  # trailing spaces of the whole reply
        kind = _Kind.SENTENCE if "\n" in self._text[position:end] else _Kind.SPACE
        return _Found(kind, end, cut=end, mark_end=position)

    def _boundary(self, kind: _Kind, mark_end: int) -> _Found:
        """A boundary after `mark_end`; the spaces after it belong to the piece before."""
        cut = self._skip_space(mark_end)
        if "\n" in self._text[mark_end:cut]:
            kind = _Kind.SENTENCE
        return _Found(kind, cut, cut=cut, mark_end=mark_end)

    # Looking around a position.

    def _peek(self, position: int) -> str:
        """The character at `position`; "" at the end of a complete reply."""
        if position < len(self._text):
            return self._text[position]
        if self._final:
            return ""
        raise _NeedMoreText

    def _skip(self, position: int, chars: str) -> int:
        while (char := self._peek(position)) and char in chars:
            position += 1
        return position

    def _skip_space(self, position: int) -> int:
        while (char := self._peek(position)) and char.isspace():
            position += 1
        return position

    def _word_before(self, position: int) -> str:
        """The word (letters, digits, inner dots) ending at `position`; "" if it is long."""
        start = position
        while start > 0 and (self._text[start - 1].isalnum() or self._text[start - 1] == "."):
            start -= 1
            if position - start > _LONGEST_ABBREVIATION:
                return ""
        return self._text[start:position]

    def _starts_line(self, position: int) -> bool:
        """Whether only a few spaces stand between `position` and the start of its line."""
        start = max(0, position - 8)
        before = self._text[start:position].rstrip(" \t")
        if before:
            return before.endswith("\n")
        return start == 0 and self._trimmed == 0  # only spaces since the reply began

    def _is_initial(self, word: str, position: int, next_word: str, next_at: int) -> bool:
        """Whether the "R." of "J. R. R. Tolkien" is an initial: next to another initial."""
        if len(word) != 1 or not word.isupper():
            return False
        if next_word.isupper() and self._peek(next_at + 1) == ".":
            return True
        before = self._text[max(0, position - 12) : position - 1].rstrip(" ")
        return len(before) >= 2 and before[-1] == "." and before[-2].isupper()

    # Making the piece fit.

    def _forced_cut(self, limit: int) -> int | None:
        """The piece has waited long enough: cut at the best boundary so far."""
        if self._first:
            # An early first piece should be long enough to sound natural: the last boundary.
            preferences = [sorted(self._clause_cuts + self._space_cuts)]
        else:
            preferences = [self._clause_cuts, self._space_cuts]
        for cuts in preferences:
            if (cut := self._last_fitting(cuts)) is not None:
                return cut
        return self._hard_cut(limit)

    def _fit(self, end: int) -> int:
        """`end`, or an earlier cut if the piece's spoken text would be too long."""
        if self._fits(end):
            return end
        for cuts in (self._clause_cuts, self._space_cuts):
            if (cut := self._last_fitting([cut for cut in cuts if cut < end])) is not None:
                return cut
        cut = self._hard_cut(end)
        return end if cut is None else cut  # None: symbols, then words; _take squeezes them

    def _last_fitting(self, cuts: list[int]) -> int | None:
        """The last of `cuts` (in order) that gives a piece that fits and has words."""
        for index in range(self._count_short_enough(cuts) - 1, -1, -1):
            if self._fits(cuts[index]):
                return cuts[index]
        return None

    def _hard_cut(self, end: int) -> int | None:
        """The longest piece ending at or before `end` that fits, cut between any characters."""
        positions = range(self._start + 1, end + 1)
        for keep_graphemes in (True, False):
            for index in range(self._count_short_enough(positions) - 1, -1, -1):
                cut = positions[index]
                if (not keep_graphemes or self._splits_no_grapheme(cut)) and self._fits(cut):
                    return cut
        return None

    def _count_short_enough(self, cuts: Sequence[int]) -> int:
        """How many of `cuts` give a spoken text within max_bytes (it grows with the cut)."""
        low, high = 0, len(cuts)
        while low < high:
            middle = (low + high) // 2
            if len(self._spoken_until(cuts[middle]).encode()) <= self._max_bytes:
                low = middle + 1
            else:
                high = middle
        return low

    def _splits_no_grapheme(self, cut: int) -> bool:
        """False if a cut here would split an emoji sequence, an accent or a code fence."""
        if cut >= len(self._text):
            return True
        before, after = self._text[cut - 1], self._text[cut]
        return not (
            unicodedata.combining(after)
            or after in _GRAPHEME_GLUE
            or before == "\u200d"
            or "\U0001f3fb" <= after <= "\U0001f3ff"  # skin tone
            or before == after == "`"
            or (before == "\r" and after == "\n")
        )

    def _fits(self, cut: int) -> bool:
        spoken = self._spoken_until(cut)
        return is_speakable(spoken) and len(spoken.encode()) <= self._max_bytes

    def _has_speech(self, cut: int) -> bool:
        return is_speakable(self._spoken_until(cut))

    def _spoken_until(self, cut: int) -> str:
        spoken = self._spoken.get(cut)
        if spoken is None:
            at_line_start = self._start + self._trimmed == 0 or self._text[self._start - 1] == "\n"
            spoken = clean_for_tts(self._text[self._start : cut], at_line_start=at_line_start)
            self._spoken[cut] = spoken
        return spoken

    # Handing a piece out.

    def _take(self, cut: int) -> Piece:
        spoken = self._spoken_until(cut)
        if len(spoken.encode()) > self._max_bytes:
            spoken = _squeezed(spoken, self._max_bytes)
        piece = Piece(self._text[self._start : cut], spoken)
        self._start = self._scan = cut
        self._first = False
        self._clause_cuts.clear()
        self._space_cuts.clear()
        self._spoken.clear()
        self._window_end = None
        if self._start > _TRIM_AFTER:
            dropped = self._start - _KEEP_BEHIND
            self._text = self._text[dropped:]
            self._trimmed += dropped
            self._start -= dropped
            self._scan -= dropped
        return piece


# A Chinese, Japanese or Korean character takes about as long to say as three Latin letters
# (4-5 characters a second against about 15), so they count three times.
_WIDE_CHARACTER_LENGTH = 3


# About how many Latin letters a voice says in a second.
LETTERS_PER_SECOND = 15


def speaking_length(text: str) -> int:
    """`len(text)` in Latin letters' worth of speaking time."""
    wide = sum(unicodedata.east_asian_width(char) in "WF" for char in text)
    return len(text) + (_WIDE_CHARACTER_LENGTH - 1) * wide


def speaking_seconds(text: str) -> float:
    """About how long a voice takes to say `text`."""
    return speaking_length(text) / LETTERS_PER_SECOND


def _squeezed(spoken: str, max_bytes: int) -> str:
    """The words of a piece that no cut can make fit: one led by more symbols than fit.

    Only a reply with a run of symbols longer than `max_bytes` and no word in it gets here;
    the voice then skips the symbols (and, if still too long, the end of the piece).
    """
    words = (_EDGE_SYMBOLS.sub("", token) for token in spoken.split())
    kept = " ".join(word for word in words if word)
    return kept.encode()[:max_bytes].decode("utf-8", "ignore")
