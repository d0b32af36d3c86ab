"""The big Talk button: hold to talk, or click to start and click again to stop (a setting). While
the speech model gets ready it waits, disabled, and says so.

Every way of talking comes through here (the button, Space, the global shortcut), so this is
where a flood of taps is calmed: each tap would cut off the reply and start a turn too short to
hold a word. The first tap still counts (one tap is how a reply is interrupted); presses that
follow it within SETTLE_SECONDS count only once held for TAP_SECONDS, so a real press right after
a tap still talks, a moment late, and the rest of the flood starts nothing. In toggle mode, where a
click cannot be held, the click that would stop talking within TAP_SECONDS of the one that started
it is the second half of a double click (and begins a flood), and clicks in a flood start nothing.
"""

from __future__ import annotations

import time
from typing import Literal

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QPushButton, QSizePolicy, QWidget

from assistant.core.transcripts import MIN_SPEECH_SECONDS
from assistant.ui.translation import QT_TRANSLATE_NOOP

TalkMode = Literal["hold", "toggle"]

# A press shorter than this holds no word: a tap (the controller says "That was very short").
TAP_SECONDS = MIN_SPEECH_SECONDS
# After a tap, presses this soon are part of a flood (and each one keeps it going).
SETTLE_SECONDS = 1.0

GETTING_READY = QT_TRANSLATE_NOOP("TalkButton", "Getting ready…")
MEANWHILE = QT_TRANSLATE_NOOP(
    "TalkButton", "The speech model is getting ready. Meanwhile, you can type a message."
)

# palette() keeps the button in the system's light or dark theme; only "talking" stands out.
_STYLE = """
QPushButton#talk {
    border: 1px solid palette(mid); border-radius: 10px;
    background: palette(button); color: palette(button-text); padding: 8px 16px;
}
QPushButton#talk:hover { border-color: palette(highlight); }
QPushButton#talk:focus { border: 2px solid palette(highlight); }
QPushButton#talk:disabled { color: palette(mid); }
QPushButton#talk[talking="true"] {
    background: palette(highlight); color: palette(highlighted-text);
    border-color: palette(highlight);
}
"""


class TalkButton(QPushButton):
    talk_started = Signal()
    talk_ended = Signal()

    def __init__(self, mode: TalkMode = "hold", parent: QWidget | None = None):
        super().__init__(parent)
        self.mode: TalkMode = mode
        self.talking = False
        self.getting_ready = False
        self._down_at = 0.0  # when the last press (button, key) went down
        self._started_at = 0.0  # when talking began (toggle mode: the first click)
        self._flood_until = 0.0  # presses before this follow a tap: see the module's docstring
        # A press in a flood, not started yet: it starts if still held when this fires.
        self._held_back = QTimer(self)
        self._held_back.setSingleShot(True)
        self._held_back.setInterval(round(TAP_SECONDS * 1000))
        self._held_back.timeout.connect(self.begin)
        self.setObjectName("talk")
        self.setAccessibleName(self.tr("Talk"))
        self.setAutoDefault(False)
        font = self.font()
        font.setPointSizeF(font.pointSizeF() * 1.3)
        font.setBold(True)
        self.setFont(font)
        self.setMinimumHeight(self.fontMetrics().height() * 3)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setStyleSheet(_STYLE)
        self.pressed.connect(self._on_pressed)
        self.released.connect(self._on_released)
        self._show_label()

    def set_mode(self, mode: TalkMode) -> None:
        self.reset()
        self._held_back.stop()
        self.mode = mode
        self._show_label()

    def set_getting_ready(self, getting_ready: bool) -> None:
        """Wait for the speech model (nothing to talk to yet), or be ready for the user again."""
        if getting_ready == self.getting_ready:
            return
        self.getting_ready = getting_ready
        if getting_ready:
            self.reset()
        self.setEnabled(not getting_ready)
        self.setToolTip(MEANWHILE if getting_ready else "")
        self._show_label()

    def begin(self) -> None:
        """Start talking (button down, Space down, or the first click in toggle mode)."""
        self._held_back.stop()
        if not self.talking and not self.getting_ready:
            self.talking = True
            self._started_at = time.monotonic()
            self._show_label()
            self.talk_started.emit()

    def end(self) -> None:
        """Stop talking; a press held back (see the module's docstring) will not start."""
        self._held_back.stop()
        if self.talking:
            self.talking = False
            self._show_label()
            self.talk_ended.emit()

    def reset(self) -> None:
        """The turn left Listening by itself (time limit, error): show the idle label again."""
        if self.talking:
            self.talking = False
            self._show_label()

    def key_down(self) -> None:
        self._on_pressed()

    def key_up(self) -> None:
        self._on_released()

    @property
    def holding_back(self) -> bool:
        """Whether a press in a flood of taps waits to be held long enough to count."""
        return self._held_back.isActive()

    def _on_pressed(self) -> None:
        now = time.monotonic()
        self._down_at = now
        flooding = now < self._flood_until
        if self.mode == "hold":
            if flooding:
                self._held_back.start()  # starts only if still held TAP_SECONDS from now
            else:
                self.begin()
        elif not self.talking:
            if flooding:
                self._flood_until = now + SETTLE_SECONDS  # a click in the flood: nothing
            else:
                self.begin()
        elif now - self._started_at < TAP_SECONDS:
            self._flood_until = now + SETTLE_SECONDS  # a double click: still the first click
        else:
            self.end()

    def _on_released(self) -> None:
        if self.mode != "hold":
            return
        now = time.monotonic()
        tapped = self.talking and now - self._down_at < TAP_SECONDS  # not one that waited
        if tapped or self._held_back.isActive():
            self._flood_until = now + SETTLE_SECONDS
        self.end()

    def _show_label(self) -> None:
        if self.getting_ready:
            self.setText(self.tr(GETTING_READY))
        elif self.talking:
            self.setText(
                self.tr("Listening… let go to send")
                if self.mode == "hold"
                else self.tr("Click to send")
            )
        else:
            self.setText(
                self.tr("Hold to talk") if self.mode == "hold" else self.tr("Click to talk")
            )
        how = (
            self.tr("To speak to the assistant, hold it, or hold Space.")
            if self.mode == "hold"
            else self.tr("To speak to the assistant, click it, or press Space.")
        )
        said = self.tr(MEANWHILE) if self.getting_ready else how
        self.setAccessibleDescription(said)
        self.setProperty("talking", self.talking)
        self.style().unpolish(self)
        self.style().polish(self)
