"""The line under the conversation that always says what is happening, with a live microphone
level while listening and a busy bar while the assistant works (with a percentage when it is known
how far the work has come, e.g. a download)."""

from __future__ import annotations

from enum import Enum

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QSizePolicy, QWidget

from assistant.ui.colours import Role, error_colour
from assistant.ui.level_meter import LevelMeter


class Activity(Enum):
    IDLE = "idle"
    BUSY = "busy"  # getting ready, transcribing, thinking: a bar moves (or fills, if known how far)
    LISTENING = "listening"  # the level meter shows
    SPEAKING = "speaking"
    ERROR = "error"  # the text is shown in the theme's error colour


class StatusLine(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.activity = Activity.IDLE
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setTextFormat(Qt.TextFormat.PlainText)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.label.setAccessibleName(self.tr("Status"))
        self.label.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.meter = LevelMeter()
        self.meter.setMaximumWidth(self.fontMetrics().averageCharWidth() * 24)
        self.busy = QProgressBar()
        self.busy.setRange(0, 0)
        self.busy.setTextVisible(False)
        self.busy.setAccessibleName(self.tr("Working"))
        self.busy.setMaximumWidth(self.fontMetrics().averageCharWidth() * 14)
        self.busy.setMaximumHeight(self.meter.sizeHint().height() + 2)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(2, 0, 2, 0)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.meter, 0, Qt.AlignmentFlag.AlignVCenter)
        layout.addWidget(self.busy, 0, Qt.AlignmentFlag.AlignVCenter)
        self.show_status("", Activity.IDLE)

    def text(self) -> str:
        return self.label.text()

    def show_status(self, text: str, activity: Activity, progress: float | None = None) -> None:
        """`progress` (0..1) fills the busy bar and shows the percentage; None keeps it moving."""
        self.activity = activity
        self.label.setText(text)
        self.setAccessibleDescription(text)
        self.meter.setVisible(activity is Activity.LISTENING)
        self.busy.setVisible(activity is Activity.BUSY)
        self._show_progress(progress if activity is Activity.BUSY else None)
        if activity is not Activity.LISTENING:
            self.meter.set_level(0.0)
        palette = self.label.palette()
        colour = error_colour(self.palette()) if activity is Activity.ERROR else None
        palette.setColor(Role.WindowText, colour or self.palette().color(Role.WindowText))
        self.label.setPalette(palette)

    def percent(self) -> int | None:
        """How far the work has come, as shown; None while the bar just moves."""
        return self.busy.value() if self.busy.maximum() > 0 else None

    def _show_progress(self, progress: float | None) -> None:
        if progress is None:
            self.busy.setRange(0, 0)
            self.busy.setTextVisible(False)
            self.busy.setAccessibleDescription("")
            return
        percent = round(min(1.0, max(0.0, progress)) * 100)
        self.busy.setRange(0, 100)
        self.busy.setValue(percent)
        self.busy.setTextVisible(True)
        self.busy.setAccessibleDescription(self.tr("{} percent done").format(percent))

    def set_level(self, level: float) -> None:
        if self.activity is Activity.LISTENING:
            self.meter.set_level(level)
