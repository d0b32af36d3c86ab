"""The model's reply as it is written: shown, stored, and cut into the pieces to say, paced.

    chat deltas ─► ReplyFeed ─► WrittenReply.pieces() ─► ReplySpeaker
                                  │ shown(delta): every delta is stored, then shown
                                  └ slow(True | False): nothing new to say for a while, or again

The turn controller makes one per reply and reads its pieces; what to do with a delta on screen
and with a slow model in the state line stays the controller's (the two callbacks).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

from assistant.core.errors import AssistantError, ReplyCutOff
from assistant.core.history import ReplyRecord
from assistant.core.reply_feed import ReplyFeed
from assistant.core.splitter import Piece, SentenceSplitter, speaking_seconds
from assistant.core.timeline import TurnTimeline, clock

SLOW_REPLY = "Still waiting for the language model…"
REPLY_TOO_LONG = (
    "The reply would take more than {span} to say, so it was cut off there. Ask for a shorter "
    "answer, or choose another model in Settings."
)


def too_long_text(seconds: float) -> str:
    """The notice for a reply cut off at `seconds` of speech."""
    minutes = round(seconds / 60)
    span = f"{minutes} minutes" if minutes >= 2 else f"{round(seconds)} seconds"
    return REPLY_TOO_LONG.format(span=span)


@dataclass(frozen=True, slots=True)
class ReplyPacing:
    """How a reply's stalls and length are handled (TurnOptions carries the user's values)."""

    quiet_seconds: float  # a sentence ending the text so far goes out after this long quiet
    slow_seconds: float  # nothing new to say for this long: the model is slow, say so
    max_seconds: float  # a reply that would take longer to say is cut off here


@dataclass
class _Stalls:
    """When the reply's last text and last piece came: how long to wait before acting on a
    stall."""

    quiet_seconds: float
    slow_seconds: float
    last_text: float = field(default_factory=clock)
    last_piece: float = field(default_factory=clock)
    release_due: bool = False  # text came since the last quiet-time release
    slow: bool = False  # the state says that the model is slow

    def wait(self) -> float | None:
        """Seconds until something is due if no text comes; None: nothing is."""
        now = clock()
        waits = [] if self.slow else [self.last_piece + self.slow_seconds - now]
        if self.release_due:
            waits.append(self.last_text + self.quiet_seconds - now)
        return max(0.0, min(waits)) if waits else None

    def text_came(self) -> None:
        self.last_text = clock()
        self.release_due = True

    def piece_taken(self) -> None:
        self.last_piece = clock()


class WrittenReply:
    """One reply being written: what was written so far, and the pieces to say as they come."""

    def __init__(
        self,
        feed: ReplyFeed,
        splitter: SentenceSplitter,
        record: ReplyRecord,
        timeline: TurnTimeline,
        pacing: ReplyPacing,
        *,
        shown: Callable[[str], None],
        slow: Callable[[bool], None],
    ) -> None:
        self.record = record
        self.written: list[str] = []
        self._feed = feed
        self._splitter = splitter
        self._timeline = timeline
        self._pacing = pacing
        self._shown = shown
        self._slow = slow
        self._seconds = 0.0  # about how long the pieces handed out take to say

    @property
    def text(self) -> str:
        return "".join(self.written)

    async def pieces(self) -> AsyncIterator[Piece]:
        """The pieces of the reply to speak, as the model writes it.

        The splitter waits for the character after a sentence mark; if the model stalls there,
        the finished sentence goes out after a short quiet time anyway. When nothing new to say
        has come for a few seconds, `slow(True)` says so (the user hears silence otherwise). A
        reply too long to listen to is cut off: what was written is spoken, then it ends with
        a notice.
        """
        stalls = _Stalls(self._pacing.quiet_seconds, self._pacing.slow_seconds)
        longest = self._pacing.max_seconds
        ended = False
        while not ended:
            try:
                delta = await self._feed.next(stalls.wait())
            except TimeoutError:
                new_pieces = self._after_quiet(stalls)
            except ReplyCutOff:
                # The service ended the reply early (its length limit, a content filter): the
                # text it wrote is whole as far as it goes, so all of it is said, then why.
                for piece in self._splitter.flush():
                    yield piece
                raise
            else:
                ended = delta is None
                if delta is None:
                    new_pieces = self._splitter.flush()
                else:
                    stalls.text_came()
                    new_pieces = self._show(delta)
            for piece in new_pieces:
                if stalls.slow:
                    stalls.slow = False
                    self._slow(False)
                self._seconds += speaking_seconds(piece.spoken)
                yield piece
                stalls.piece_taken()  # the time the speaker was busy with it does not count
                if self._seconds > longest:
                    break
            if self._seconds > longest:
                await self._feed.aclose()
                for piece in self._splitter.flush():  # the text shown so far is still spoken
                    yield piece
                raise AssistantError(too_long_text(longest))

    def _after_quiet(self, stalls: _Stalls) -> list[Piece]:
        """No new text for a while: release a finished sentence, or say that the model is slow."""
        now = clock()
        if stalls.release_due and now - stalls.last_text >= stalls.quiet_seconds:
            stalls.release_due = False
            return self._splitter.flush_complete()
        if not stalls.slow and now - stalls.last_piece >= stalls.slow_seconds:
            stalls.slow = True
            self._slow(True)
        return []

    def _show(self, delta: str) -> list[Piece]:
        """More text of the reply: stored, shown, and split into pieces to say."""
        if self._timeline.first_token is None:
            self._timeline.first_token = clock()
        self.written.append(delta)
        self.record.add(delta)  # stored before it is shown: a crash cannot lose what was seen
        self._shown(delta)
        return self._splitter.feed(delta)


__all__ = ["REPLY_TOO_LONG", "SLOW_REPLY", "ReplyPacing", "WrittenReply", "too_long_text"]
