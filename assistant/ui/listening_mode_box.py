"""How a turn begins, chosen beside the Talk button: push-to-talk, hands-free, or a wake word."""

from __future__ import annotations

from PySide6.QtCore import QSignalBlocker, Signal
from PySide6.QtWidgets import QComboBox, QWidget

from assistant.core.hands_free import ListeningMode

LABELS = {
    ListeningMode.PUSH_TO_TALK: "Push-to-talk",
    ListeningMode.HANDS_FREE: "Hands-free",
    ListeningMode.WAKE_WORD: "Wake word",
}
_TIPS = {
    ListeningMode.PUSH_TO_TALK: "Hold Talk (or Space) while you speak.",
    ListeningMode.HANDS_FREE: (
        "The microphone stays open: just speak, and I answer when you pause. Speak over my "
        "answer to interrupt it; I never answer my own voice."
    ),
    ListeningMode.WAKE_WORD: "Say the wake word, then speak.",
}


class ListeningModeBox(QComboBox):
    """Emits `mode_chosen` when the user picks a mode; `show_mode` sets it without emitting."""

    mode_chosen = Signal(object)  # ListeningMode

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("How to talk")
        for mode, label in LABELS.items():
            self.addItem(label, mode)
            self.setItemData(self.count() - 1, _TIPS[mode], 3)  # Qt.ToolTipRole
        self.setToolTip("How a turn begins (Ctrl+L)")
        self.currentIndexChanged.connect(lambda index: self.mode_chosen.emit(self.mode))

    @property
    def mode(self) -> ListeningMode:
        chosen = self.currentData()
        return chosen if isinstance(chosen, ListeningMode) else ListeningMode.PUSH_TO_TALK

    def show_mode(self, mode: ListeningMode) -> None:
        with QSignalBlocker(self):
            self.setCurrentIndex(list(LABELS).index(mode))
