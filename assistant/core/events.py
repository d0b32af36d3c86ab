"""What the turn controller tells its observers (the GUI bridge, the CLI), and a tiny signal.

Observers render; they never drive the pipeline through these. Events are delivered on the event
loop's thread, synchronously, in the order they happen.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Generic, TypeVar

from assistant.core.timeline import TurnTimeline


class TurnState(Enum):
    LOADING = "Getting ready"
    READY = "Ready"
    LISTENING = "Listening"
    TRANSCRIBING = "Transcribing"
    THINKING = "Thinking"
    SPEAKING = "Speaking"
    ERROR = "Error"


@dataclass(frozen=True, slots=True)
class StateChanged:
    state: TurnState
    detail: str = ""  # e.g. the error message, or "Loading the speech model…"


@dataclass(frozen=True, slots=True)
class LoadingProgress:
    text: str  # while Getting ready: e.g. "Downloading the speech model base.en: 12 of 142 MB"
    fraction: float | None = None  # 0..1, None when the total is not known


@dataclass(frozen=True, slots=True)
class InputLevel:
    level: float  # 0..1, while listening


@dataclass(frozen=True, slots=True)
class UserSaid:
    text: str  # the transcript, or the typed message
    # The user went on with the question shown last, before its answer began: `text` is the
    # whole question now, in place of that one (see core/heard_question.py).
    restated: bool = False
    turn: int = 0  # the turn it belongs to (TurnTimeline.turn)
    # The language it was spoken in, as an ISO code ("de"), when the transcriber said; None for
    # a typed message (and for a transcriber that does not tell).
    language: str | None = None


@dataclass(frozen=True, slots=True)
class UserSpeaking:
    """What the user is saying, while they say it (a live transcript): `committed` words no
    longer change, `tentative` ones may. Both empty: the live words are withdrawn (nothing was
    said after all). The turn's UserSaid, with the final transcript, follows."""

    committed: str
    tentative: str  # starts with the space between it and `committed`, where the language has one
    turn: int = 0


@dataclass(frozen=True, slots=True)
class ReplyDelta:
    text: str  # more of the reply as written (shown on screen as is)
    turn: int = 0


@dataclass(frozen=True, slots=True)
class SentenceStarted:
    index: int
    text: str  # the piece as written, so the GUI can highlight it
    turn: int = 0


@dataclass(frozen=True, slots=True)
class Notice:
    message: str  # a hint or error a user should read ("I didn't catch that.")
    is_error: bool = False


@dataclass(frozen=True, slots=True)
class TurnFinished:
    timeline: TurnTimeline
    user_text: str
    reply_text: str  # what was spoken (all of it, or up to the barge-in)
    interrupted: bool
    written_text: str = ""  # all the model wrote, heard or not (a reply's turn only)


Event = (
    StateChanged
    | LoadingProgress
    | InputLevel
    | UserSaid
    | UserSpeaking
    | ReplyDelta
    | SentenceStarted
    | Notice
    | TurnFinished
)

T = TypeVar("T")


class Signal(Generic[T]):
    """Call every connected function with each emitted value (no Qt needed)."""

    def __init__(self) -> None:
        self._slots: list[Callable[[T], None]] = []

    def connect(self, slot: Callable[[T], None]) -> None:
        self._slots.append(slot)

    def disconnect(self, slot: Callable[[T], None]) -> None:
        self._slots.remove(slot)

    def emit(self, value: T) -> None:
        for slot in list(self._slots):
            slot(value)
