"""Turns the core's plain events into Qt signals, so widgets connect to them the Qt way."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from assistant.core.events import (
    Event,
    InputLevel,
    LoadingProgress,
    Notice,
    ReplyDelta,
    SentenceStarted,
    StateChanged,
    TurnFinished,
    UserSaid,
    UserSpeaking,
)
from assistant.core.turn import TurnController


class EventBridge(QObject):
    state_changed = Signal(object, str)  # TurnState, detail
    loading_progress = Signal(str, object)  # text, fraction (0..1) or None
    level = Signal(float)
    # The text, whether it restates the last question, and the language it was spoken in
    # (an ISO code such as "de"; "" when not known, e.g. a typed message).
    user_said = Signal(str, bool, str)
    user_speaking = Signal(str, str)  # the live transcript: committed words, tentative words
    reply_delta = Signal(str)
    sentence_started = Signal(int, str)
    notice = Signal(str, bool)  # message, is_error
    turn_finished = Signal(object)  # TurnFinished
    # The turn the next user_said / reply_delta / sentence_started belongs to, just before it.
    turn_shown = Signal(int)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._controller: TurnController | None = None

    def attach(self, controller: TurnController) -> None:
        """Listen to `controller` from now on (and no longer to the one before it)."""
        self.detach()
        controller.events.connect(self.deliver)
        self._controller = controller

    def detach(self) -> None:
        if self._controller is not None:
            self._controller.events.disconnect(self.deliver)
            self._controller = None

    def deliver(self, event: Event) -> None:
        match event:
            case StateChanged(state, detail):
                self.state_changed.emit(state, detail)
            case LoadingProgress(text, fraction):
                self.loading_progress.emit(text, fraction)
            case InputLevel(value):
                self.level.emit(value)
            case UserSaid(text, restated, turn, language):
                self.turn_shown.emit(turn)
                self.user_said.emit(text, restated, language or "")
            case UserSpeaking(committed, tentative, turn):
                self.turn_shown.emit(turn)
                self.user_speaking.emit(committed, tentative)
            case ReplyDelta(text, turn):
                self.turn_shown.emit(turn)
                self.reply_delta.emit(text)
            case SentenceStarted(index, text, turn):
                self.turn_shown.emit(turn)
                self.sentence_started.emit(index, text)
            case Notice(message, is_error):
                self.notice.emit(message, is_error)
            case TurnFinished():
                self.turn_finished.emit(event)
