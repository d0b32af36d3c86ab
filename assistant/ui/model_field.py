"""The model field of Settings > Language model: an editable list of the models the service
offers, where any other name can still be typed (a model not listed, a server that lists none)."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QWidget


class ModelField(QComboBox):
    """Its value is the text shown, typed or chosen; `opened` asks for the list to be filled."""

    opened = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setEditable(True)
        self.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)  # typing does not grow the list
        self.setMaxVisibleItems(15)

    def text(self) -> str:
        return self.currentText()

    def setText(self, text: str) -> None:  # Qt's spelling, as a QLineEdit has it
        self.setEditText(text)

    def offer(self, names: Sequence[str]) -> None:
        """List `names`, keeping what the field shows (a typed name stays even if not listed)."""
        shown = self.text()
        self.blockSignals(True)  # refilling is not the user's choice
        try:
            self.clear()
            self.addItems(list(names))
            self.setEditText(shown)
        finally:
            self.blockSignals(False)

    def names(self) -> list[str]:
        return [self.itemText(index) for index in range(self.count())]

    def showPopup(self) -> None:
        self.opened.emit()
        super().showPopup()
