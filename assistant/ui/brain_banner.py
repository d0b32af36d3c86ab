"""The friendly banner shown when no language model can be reached: what to do about it, a way
to Settings, and a reminder that dictation and read-aloud work without one."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from assistant.ui.colours import Role, mix
from assistant.ui.translation import QT_TRANSLATE_NOOP

STILL_USEFUL = QT_TRANSLATE_NOOP(
    "BrainBanner", "Meanwhile, Dictation and Read aloud work without one."
)


class BrainBanner(QFrame):
    settings_requested = Signal()
    retry_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName(self.tr("No language model"))
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAutoFillBackground(True)
        self.title = QLabel(self.tr("<b>No language model is reachable.</b>"))
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setTextFormat(Qt.TextFormat.PlainText)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.settings_button = QPushButton(self.tr("Open &Settings"))
        self.settings_button.setAccessibleName(self.tr("Open Settings"))
        self.retry_button = QPushButton(self.tr("Try &again"))
        self.retry_button.setAccessibleName(self.tr("Try again to reach the language model"))
        self.settings_button.clicked.connect(self.settings_requested)
        self.retry_button.clicked.connect(self.retry_requested)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.retry_button)
        buttons.addWidget(self.settings_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.message)
        layout.addLayout(buttons)
        self._tint()
        self.hide()

    def show_problem(self, message: str) -> None:
        self.message.setText(f"{message}\n{self.tr(STILL_USEFUL)}")
        self.setAccessibleDescription(self.message.text())
        self.show()

    def set_checking(self, checking: bool) -> None:
        self.retry_button.setEnabled(not checking)
        self.retry_button.setText(self.tr("Checking…") if checking else self.tr("Try &again"))

    def _tint(self) -> None:
        palette = self.palette()
        base = palette.color(Role.Window)
        palette.setColor(Role.Window, mix(base, palette.color(Role.Highlight), 0.15))
        self.setPalette(palette)
