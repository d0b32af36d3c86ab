"""The conversation mode: how a turn begins. Push-to-talk is the Talk button's; hands-free and
wake-word keep a `Listener` (the always-open microphone and its pipeline, see `core/listening.py`)
running, and turn what it hears into the turn controller's intents:

    SpeechBegan ─► controller.hear_start   (a reply being said is cut off: voice barge-in)
    HeardSoFar  ─► controller.hear_more    (the user's words on screen while they speak)
    Utterance   ─► controller.hear         (transcribed and answered)
    NotSpeech   ─► controller.hear_nothing (a cough, a door: back to Ready)

In wake-word mode the listener reports speech only after the wake word; the mode then stays open
for the turn and its answer, and closes again a few seconds after the assistant has finished.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Protocol

from assistant.core.cue import play_cue, wake_cue
from assistant.core.errors import AssistantError
from assistant.core.events import Notice, StateChanged, TurnState
from assistant.core.protocols import AudioOutput, Recording
from assistant.core.turn import TurnController

log = logging.getLogger(__name__)


class ListeningMode(Enum):
    PUSH_TO_TALK = "push_to_talk"
    HANDS_FREE = "hands_free"
    WAKE_WORD = "wake_word"


@dataclass(frozen=True, slots=True)
class SpeechBegan:
    onset: float  # clock() time the speech began (its detection comes a little later)


@dataclass(frozen=True, slots=True)
class HeardSoFar:
    recording: Recording  # the utterance so far, from a little before its onset


@dataclass(frozen=True, slots=True)
class Utterance:
    recording: Recording  # from a little before the onset to the end of the speech
    onset: float
    end: float  # clock() time the speech ended (the pause that ended the turn came after it)


@dataclass(frozen=True, slots=True)
class NotSpeech:
    """What began as speech was not long enough to be any."""


@dataclass(frozen=True, slots=True)
class WakeWordHeard:
    phrase: str


@dataclass(frozen=True, slots=True)
class ListenerFailed:
    error: AssistantError  # the microphone was lost, say


ListenEvent = SpeechBegan | HeardSoFar | Utterance | NotSpeech | WakeWordHeard | ListenerFailed


class Listener(Protocol):
    """The always-open microphone and what runs on it. Events come on the event loop."""

    async def start(self, report: Callable[[ListenEvent], None], *, wake_word: bool) -> None:
        """Open the microphone and listen; raises AssistantError if it cannot."""

    def wait_for_wake_word(self) -> None:
        """Wake-word mode: report nothing until the wake word is heard again."""

    async def stop(self) -> None:
        """Close the microphone; no event comes after this returns."""


# How long after the assistant has finished the wake word's conversation stays open, so a
# follow-up question needs no wake word.
WAKE_WORD_FOLLOW_UP_SECONDS = 6.0


class HandsFree:
    """Owns the listener for the modes that need one, and switches modes at once."""

    def __init__(
        self,
        controller: TurnController,
        make_listener: Callable[[], Listener],
        *,
        follow_up_seconds: float = WAKE_WORD_FOLLOW_UP_SECONDS,
        cue_output: AudioOutput | None = None,
    ) -> None:
        self.controller = controller
        self.mode = ListeningMode.PUSH_TO_TALK
        self._make_listener = make_listener
        self._listener: Listener | None = None
        self._follow_up_seconds = follow_up_seconds
        self._closing: asyncio.TimerHandle | None = None
        self._fallback: asyncio.Task[None] | None = None  # to push-to-talk, the microphone lost
        self.on_wake: Callable[[str], None] = lambda phrase: None  # the window's, say
        self._cue_output = cue_output  # where the wake cue plays (None: no cue)
        self._cues: set[asyncio.Task[None]] = set()
        controller.events.connect(self._on_controller_event)

    async def switch(self, mode: ListeningMode) -> None:
        """Use `mode` from now on; the microphone opens or closes accordingly. If it cannot
        open, the mode falls back to push-to-talk and the user is told why."""
        if mode is self.mode and (self._listener is not None) == (
            mode is not ListeningMode.PUSH_TO_TALK
        ):
            return
        await self._stop_listening()
        self.mode = mode
        if mode is ListeningMode.PUSH_TO_TALK:
            self._say_state()
            return
        listener = self._make_listener()
        try:
            await listener.start(self._on_listened, wake_word=mode is ListeningMode.WAKE_WORD)
        except AssistantError as error:
            self.mode = ListeningMode.PUSH_TO_TALK
            self.controller.events.emit(Notice(error.message, is_error=True))
            self._say_state()
            return
        self._listener = listener
        self._say_state()

    async def aclose(self) -> None:
        await self._stop_listening()
        await asyncio.gather(*self._cues, return_exceptions=True)

    @property
    def listening(self) -> bool:
        return self._listener is not None

    # ---- what the listener heard ------------------------------------------------------------

    def _on_listened(self, event: ListenEvent) -> None:
        if self._listener is None:
            return  # a late event from a listener being stopped
        match event:
            case SpeechBegan(onset):
                self._cancel_closing()
                self.controller.hear_start(onset)
            case HeardSoFar(recording):
                self.controller.hear_more(recording)
            case Utterance(recording, onset, end):
                self.controller.hear(recording, onset, end)
            case NotSpeech():
                self.controller.hear_nothing()
                self._close_later_if_done()
            case WakeWordHeard(phrase):
                self._cancel_closing()
                self._play_wake_cue()
                self.on_wake(phrase)
            case ListenerFailed(error):
                self.controller.events.emit(Notice(error.message, is_error=True))
                self._fallback = asyncio.get_running_loop().create_task(
                    self.switch(ListeningMode.PUSH_TO_TALK)
                )

    def _play_wake_cue(self) -> None:
        """Two soft notes: heard, go on (core/cue.py)."""
        if self._cue_output is None:
            return
        cue = asyncio.get_running_loop().create_task(play_cue(self._cue_output, wake_cue()))
        self._cues.add(cue)
        cue.add_done_callback(self._cues.discard)

    def _on_controller_event(self, event: object) -> None:
        # A turn that is over, in wake-word mode: a follow-up needs no wake word for a while.
        if isinstance(event, StateChanged) and event.state in (TurnState.READY, TurnState.ERROR):
            self._close_later_if_done()

    def _close_later_if_done(self) -> None:
        if self.mode is not ListeningMode.WAKE_WORD or self._listener is None:
            return
        self._cancel_closing()
        loop = asyncio.get_running_loop()
        self._closing = loop.call_later(self._follow_up_seconds, self._wait_for_wake_word)

    def _wait_for_wake_word(self) -> None:
        self._closing = None
        if self._listener is not None and self.controller.state in (
            TurnState.READY,
            TurnState.ERROR,
        ):
            self._listener.wait_for_wake_word()

    def _cancel_closing(self) -> None:
        if self._closing is not None:
            self._closing.cancel()
            self._closing = None

    async def _stop_listening(self) -> None:
        self._cancel_closing()
        listener, self._listener = self._listener, None
        if listener is not None:
            await listener.stop()

    def _say_state(self) -> None:
        """The state again, so the window's state line can say the mode."""
        controller = self.controller
        if controller.state in (TurnState.READY, TurnState.LOADING, TurnState.ERROR):
            controller.events.emit(StateChanged(controller.state, controller.detail))


__all__ = [
    "WAKE_WORD_FOLLOW_UP_SECONDS",
    "HandsFree",
    "ListenEvent",
    "Listener",
    "ListenerFailed",
    "ListeningMode",
    "HeardSoFar",
    "NotSpeech",
    "SpeechBegan",
    "Utterance",
    "WakeWordHeard",
]
