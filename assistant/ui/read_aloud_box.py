"""Where text to be read aloud is typed or pasted (the Read aloud mode)."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QHBoxLayout, QPlainTextEdit, QPushButton, QVBoxLayout, QWidget


class ReadAloudBox(QWidget):
    read_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.text = QPlainTextEdit()
        self.text.setAccessibleName(self.tr("Text to read aloud"))
        self.text.setPlaceholderText(
            self.tr("Type or paste text here, then press Read aloud (Ctrl+Enter).")
        )
        self.text.setTabChangesFocus(True)
        lines = self.text.fontMetrics().lineSpacing()
        self.text.setMinimumHeight(lines * 4)
        self.text.setMaximumHeight(lines * 9)
        self.read_button = QPushButton(self.tr("&Read aloud"))
        self.read_button.setAccessibleName(self.tr("Read aloud"))
        self.read_button.clicked.connect(self._read)
        for keys in ("Ctrl+Return", "Ctrl+Enter"):
            QShortcut(QKeySequence(keys), self.text, self._read)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.read_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.text)
        layout.addLayout(buttons)

    def _read(self) -> None:
        text = self.text.toPlainText().strip()
        if text:
            self.read_requested.emit(text)
