"""How a turn begins, chosen beside the Talk button: push-to-talk, hands-free, or a wake word."""

from __future__ import annotations

from PySide6.QtCore import QSignalBlocker, Signal
from PySide6.QtWidgets import QComboBox, QWidget

from assistant.core.hands_free import ListeningMode
from assistant.ui.translation import QT_TRANSLATE_NOOP

LABELS = {
    ListeningMode.PUSH_TO_TALK: QT_TRANSLATE_NOOP("ListeningModeBox", "Push-to-talk"),
    ListeningMode.HANDS_FREE: QT_TRANSLATE_NOOP("ListeningModeBox", "Hands-free"),
    ListeningMode.WAKE_WORD: QT_TRANSLATE_NOOP("ListeningModeBox", "Wake word"),
}
_TIPS = {
    ListeningMode.PUSH_TO_TALK: QT_TRANSLATE_NOOP(
        "ListeningModeBox", "Hold Talk (or Space) while you speak."
    ),
    ListeningMode.HANDS_FREE: QT_TRANSLATE_NOOP(
        "ListeningModeBox",
        "The microphone stays open: just speak, and I answer when you pause. Speak over my "
        "answer to interrupt it; I never answer my own voice.",
    ),
    ListeningMode.WAKE_WORD: QT_TRANSLATE_NOOP(
        "ListeningModeBox", "Say the wake word, then speak."
    ),
}


class ListeningModeBox(QComboBox):
    """Emits `mode_chosen` when the user picks a mode; `show_mode` sets it without emitting."""

    mode_chosen = Signal(object)  # ListeningMode

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName(self.tr("How to talk"))
        for mode, label in LABELS.items():
            self.addItem(self.tr(label), mode)
            self.setItemData(self.count() - 1, self.tr(_TIPS[mode]), 3)  # Qt.ToolTipRole
        self.setToolTip(self.tr("How a turn begins (Ctrl+L)"))
        self.currentIndexChanged.connect(lambda index: self.mode_chosen.emit(self.mode))

    @property
    def mode(self) -> ListeningMode:
        chosen = self.currentData()
        return chosen if isinstance(chosen, ListeningMode) else ListeningMode.PUSH_TO_TALK

    def show_mode(self, mode: ListeningMode) -> None:
        with QSignalBlocker(self):
            self.setCurrentIndex(list(LABELS).index(mode))
