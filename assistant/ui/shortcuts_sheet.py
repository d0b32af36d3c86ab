"""The keyboard shortcuts sheet (Help: F1 or the "?" button): every key the main window answers
to, read from the window's own bindings when it opens (its QShortcuts, the Alt+letter of its
buttons) so the list cannot drift from what the keys really do."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractButton,
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QLabel,
    QVBoxLayout,
    QWidget,
)


@dataclass(frozen=True)
class Binding:
    """One line of the sheet: the keys as the system writes them, and what they do."""

    keys: str
    does: str


def shown_keys(sequence: QKeySequence) -> str:
    """Keys as this system writes them ("Ctrl+N" here, "⌘N" on macOS)."""
    return sequence.toString(QKeySequence.SequenceFormat.NativeText)


def shortcut_bindings(window: QWidget) -> list[Binding]:
    """The window's QShortcuts (its own and its widgets'), each described by its `whatsThis`.
    Several keys for one thing ("Ctrl+Return", "Ctrl+Enter") share one line."""
    lines: dict[str, list[str]] = {}
    for shortcut in window.findChildren(QShortcut):
        if not shortcut.isEnabled() or shortcut.key().isEmpty():
            continue
        does = shortcut.whatsThis() or _owner_name(shortcut)
        keys = shown_keys(shortcut.key())
        if keys not in lines.setdefault(does, []):
            lines[does].append(keys)
    return [Binding(" / ".join(keys), does) for does, keys in lines.items()]


def mnemonic_bindings(window: QWidget) -> list[Binding]:
    """Alt + the underlined letter of each button the window shows now (a banner's buttons only
    while the banner is up)."""
    found = []
    for button in window.findChildren(QAbstractButton):
        sequence = QKeySequence.mnemonic(button.text())
        if sequence.isEmpty() or not button.isVisibleTo(window):
            continue
        name = button.text().replace("&&", "\0").replace("&", "").replace("\0", "&")
        found.append(Binding(shown_keys(sequence), name.rstrip("…")))
    return found


def _owner_name(shortcut: QShortcut) -> str:
    """For a shortcut nobody described: at least the part of the window it belongs to."""
    owner = shortcut.parent()
    return owner.accessibleName() if isinstance(owner, QWidget) else ""


class ShortcutsSheet(QDialog):
    """A small sheet in sections: the keys for talking, then the rest. Built from `sections`
    (title, lines) that the window gathers when it is asked for the sheet."""

    def __init__(
        self, sections: list[tuple[str, list[Binding]]], parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Keyboard shortcuts"))
        self.setAccessibleName(self.tr("Keyboard shortcuts"))
        self.bindings = [binding for _, lines in sections for binding in lines]
        grid = QGridLayout()
        grid.setHorizontalSpacing(self.fontMetrics().averageCharWidth() * 3)
        grid.setColumnStretch(1, 1)
        row = 0
        for title, lines in sections:
            if not lines:
                continue
            heading = QLabel(title)
            font = heading.font()
            font.setBold(True)
            heading.setFont(font)
            grid.addWidget(heading, row, 0, 1, 2)
            row += 1
            for binding in lines:
                grid.addWidget(self._keys_label(binding.keys), row, 0)
                does = QLabel(binding.does)
                does.setWordWrap(True)
                grid.addWidget(does, row, 1)
                row += 1
            grid.setRowMinimumHeight(row, self.fontMetrics().height() // 2)  # between sections
            row += 1
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(grid)
        layout.addStretch(1)
        layout.addWidget(close)
        self.setMinimumWidth(self.fontMetrics().averageCharWidth() * 60)

    @staticmethod
    def _keys_label(keys: str) -> QLabel:
        label = QLabel(keys)
        label.setTextFormat(Qt.TextFormat.PlainText)
        label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
        font = label.font()
        font.setBold(True)
        label.setFont(font)
        return label


__all__ = ["Binding", "ShortcutsSheet", "mnemonic_bindings", "shortcut_bindings", "shown_keys"]
