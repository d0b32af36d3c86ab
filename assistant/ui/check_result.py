"""The one-line answer of a Test button: it worked, or exactly what the problem is."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtWidgets import QLabel, QWidget

from assistant.ui.colours import Role, error_colour


class CheckResult(QLabel):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWordWrap(True)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.failed = False

    def show_progress(self, text: str) -> None:
        self._show(text, failed=False)

    def show_success(self, text: str) -> None:
        self._show(f"✓ {text}", failed=False)

    def show_failure(self, text: str) -> None:
        self._show(text, failed=True)

    def _show(self, text: str, *, failed: bool) -> None:
        self.failed = failed
        self.setText(text)
        self.setAccessibleDescription(text)
        palette = self.palette()
        parent = self.parentWidget()
        normal = parent.palette() if parent is not None else palette
        colour = error_colour(palette) if failed else normal.color(Role.WindowText)
        palette.setColor(Role.WindowText, colour)
        self.setPalette(palette)


def unexpected(error: Exception) -> str:
    """What to say about a failure that is not one of the app's own errors (a bug)."""
    return QCoreApplication.translate(
        "CheckResult",
        "Something unexpected went wrong ({kind}). Try again; if it keeps happening, the log has "
        "the details for a bug report.",
    ).format(kind=type(error).__name__)
