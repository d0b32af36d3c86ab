"""The three ways to use the assistant, as tabs: a conversation, dictation, and reading aloud."""

from __future__ import annotations

from enum import Enum

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QTabBar, QWidget

from assistant.ui.translation import QT_TRANSLATE_NOOP


class Mode(Enum):
    CONVERSATION = QT_TRANSLATE_NOOP("ModeSwitch", "Conversation")
    DICTATION = QT_TRANSLATE_NOOP("ModeSwitch", "Dictation")
    READ_ALOUD = QT_TRANSLATE_NOOP("ModeSwitch", "Read aloud")


_HINTS = {
    Mode.CONVERSATION: QT_TRANSLATE_NOOP(
        "ModeSwitch", "Talk or type to the assistant; it answers out loud."
    ),
    Mode.DICTATION: QT_TRANSLATE_NOOP(
        "ModeSwitch", "Speak; what you said is written down and copied to the clipboard."
    ),
    Mode.READ_ALOUD: QT_TRANSLATE_NOOP("ModeSwitch", "Type or paste text and hear it read aloud."),
}


class ModeSwitch(QTabBar):
    mode_changed = Signal(object)  # Mode

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName(self.tr("Mode"))
        self.setDrawBase(False)
        self.setExpanding(False)
        for index, mode in enumerate(Mode):
            self.addTab(self.tr(mode.value))
            self.setTabToolTip(index, f"{self.tr(_HINTS[mode])} (Ctrl+{index + 1})")
        self.currentChanged.connect(lambda index: self.mode_changed.emit(self.mode))

    @property
    def mode(self) -> Mode:
        return list(Mode)[max(0, self.currentIndex())]

    def set_mode(self, mode: Mode) -> None:
        self.setCurrentIndex(list(Mode).index(mode))
