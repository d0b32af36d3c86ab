"""One setting's editor, with room under it to say what is wrong with the value."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from assistant.ui.colours import Role, error_colour, muted_text


class FieldRow(QWidget):
    def __init__(self, editor: QWidget, hint: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.editor = editor
        self.label = ""  # what the form calls this setting ("Address")
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setTextFormat(Qt.TextFormat.PlainText)
        self.error.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error.hide()
        palette = self.error.palette()
        palette.setColor(Role.WindowText, error_colour(self.palette()))
        self.error.setPalette(palette)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(editor)
        self.hint = QLabel(hint)
        self.hint.setWordWrap(True)
        small = self.hint.font()
        small.setPointSizeF(small.pointSizeF() * 0.9)
        self.hint.setFont(small)
        hint_palette = self.hint.palette()
        hint_palette.setColor(Role.WindowText, muted_text(self.palette()))
        self.hint.setPalette(hint_palette)
        self.hint.setVisible(bool(hint))
        layout.addWidget(self.hint)
        layout.addWidget(self.error)
        self.setFocusProxy(editor)

    def set_hint(self, hint: str) -> None:
        self.hint.setText(hint)
        self.hint.setVisible(bool(hint))

    @property
    def problem(self) -> str:
        return self.error.text() if self.error.isVisibleTo(self) else ""

    def mark(self, message: str) -> None:
        """Show what is wrong, right here, and frame the editor in the error colour."""
        self.error.setText(message)
        self.error.show()
        self.editor.setAccessibleDescription(message)
        colour = error_colour(self.palette()).name()
        self.editor.setStyleSheet(f"border: 2px solid {colour}; border-radius: 3px;")

    def clear(self) -> None:
        if self.error.isVisibleTo(self):
            self.error.hide()
            self.error.clear()
            self.editor.setAccessibleDescription("")
            self.editor.setStyleSheet("")
