"""The big Talk button: hold to talk, or click to start and click again to stop (a setting). While
the speech model gets ready it waits, disabled, and says so."""

from __future__ import annotations

from typing import Literal

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QPushButton, QSizePolicy, QWidget

TalkMode = Literal["hold", "toggle"]

GETTING_READY = "Getting ready…"
MEANWHILE = "The speech model is getting ready. Meanwhile, you can type a message."

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
        self.setObjectName("talk")
        self.setAccessibleName("Talk")
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
        if not self.talking and not self.getting_ready:
            self.talking = True
            self._show_label()
            self.talk_started.emit()

    def end(self) -> None:
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

    def _on_pressed(self) -> None:
        if self.mode == "hold" or not self.talking:
            self.begin()
        else:
            self.end()

    def _on_released(self) -> None:
        if self.mode == "hold":
            self.end()

    def _show_label(self) -> None:
        if self.getting_ready:
            self.setText(GETTING_READY)
        elif self.talking:
            self.setText("Listening… let go to send" if self.mode == "hold" else "Click to send")
        else:
            self.setText("Hold to talk" if self.mode == "hold" else "Click to talk")
        how = "hold it, or hold Space" if self.mode == "hold" else "click it, or press Space"
        said = MEANWHILE if self.getting_ready else f"To speak to the assistant, {how}."
        self.setAccessibleDescription(said)
        self.setProperty("talking", self.talking)
        self.style().unpolish(self)
        self.style().polish(self)
