"""What every tab of the settings dialog shares: its fields, keyed by the setting they edit
("llm.base_url"), so that a validation message can be shown at the right place."""

from __future__ import annotations

import re

from PySide6.QtWidgets import QComboBox, QFormLayout, QLabel, QWidget

from assistant.config import Settings
from assistant.ui.field_row import FieldRow

# A label's mnemonic, as English ("&OpenAI key:") and Chinese ("OpenAI 密钥(&O)：") write it.
_MNEMONIC = re.compile(r"\(&\w\)|&")


def plain_label(label: str) -> str:
    """The label as a screen reader says it, and a validation message names it: no mnemonic,
    no colon, in either language."""
    return _MNEMONIC.sub("", label).rstrip(":：").strip()


class SettingsPage(QWidget):
    title = ""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.fields: dict[str, FieldRow] = {}
        self.form = QFormLayout(self)
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)

    def load(self, settings: Settings) -> None:
        """Show `settings` in the page's editors."""
        raise NotImplementedError

    def store(self, settings: Settings) -> None:
        """Write the editors' values into `settings` (validation happens afterwards)."""
        raise NotImplementedError

    def add_field(
        self, label: str, key: str, editor: QWidget, hint: str = "", form: QFormLayout | None = None
    ) -> FieldRow:
        row = FieldRow(editor, hint)
        row.label = plain_label(label)
        caption = QLabel(label)
        caption.setBuddy(editor)
        editor.setAccessibleName(plain_label(label))
        (form or self.form).addRow(caption, row)
        self.fields[key] = row
        return row


def combo_value(combo: QComboBox) -> str:
    """The value of an editable combo: an item's data when its label is shown, else the text."""
    text = combo.currentText().strip()
    index = combo.findText(text)
    data = combo.itemData(index) if index >= 0 else None
    return str(data) if data is not None else text
