"""Settings > API keys: typed masked, kept in the OS keyring (never in the settings file), and
never shown again once saved."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping

from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QPushButton, QWidget

from assistant.config import SECRET_ENV_VARS, Secrets, Settings
from assistant.ui.settings_page import SettingsPage, plain_label
from assistant.ui.translation import QT_TRANSLATE_NOOP

# Each key's name, label and hint; the page shows the label and hint through tr().
KEYS = [
    (
        "llm_api_key",
        QT_TRANSLATE_NOOP("KeysPage", "&Language model key:"),
        QT_TRANSLATE_NOOP("KeysPage", "For the language model service, if it needs one."),
    ),
    (
        "openai_api_key",
        QT_TRANSLATE_NOOP("KeysPage", "&OpenAI key:"),
        QT_TRANSLATE_NOOP("KeysPage", "For OpenAI speech, and transcription on the same server."),
    ),
    (
        "volcano_token",
        QT_TRANSLATE_NOOP("KeysPage", "&Volcano Engine token:"),
        QT_TRANSLATE_NOOP("KeysPage", "The access token for Volcano Engine speech."),
    ),
    (
        "stt_api_key",
        QT_TRANSLATE_NOOP("KeysPage", "T&ranscription key:"),
        QT_TRANSLATE_NOOP(
            "KeysPage", "For a remote transcription service on another server than OpenAI speech."
        ),
    ),
]


class KeysPage(SettingsPage):
    title = QT_TRANSLATE_NOOP("KeysPage", "API keys")

    def __init__(self, secrets: Secrets, environ: Mapping[str, str] = os.environ) -> None:
        super().__init__()
        self._secrets = secrets
        self._environ = environ
        self.edits: dict[str, QLineEdit] = {}
        self.forget_buttons: dict[str, QPushButton] = {}
        self.hints = {name: self.tr(hint) for name, _, hint in KEYS}
        self.states: dict[str, str] = {}
        intro = QLabel(
            self.tr(
                "Keys are kept in your system's keyring, never in the settings file. A saved key "
                "is never shown again: type a new one to replace it."
            )
        )
        intro.setWordWrap(True)
        self.form.addRow(intro)
        for name, label, _ in KEYS:
            self._add_key(name, self.tr(label), self.hints[name])

    def _add_key(self, name: str, label: str, hint: str) -> None:
        edit = QLineEdit()
        edit.setEchoMode(QLineEdit.EchoMode.Password)
        edit.setClearButtonEnabled(True)
        forget = QPushButton(self.tr("Forget"))
        forget.setCheckable(True)
        key_name = plain_label(label)
        forget.setAccessibleName(self.tr("Forget the saved {key}").format(key=key_name))
        row = QWidget()
        line = QHBoxLayout(row)
        line.setContentsMargins(0, 0, 0, 0)
        line.addWidget(edit, 1)
        line.addWidget(forget)
        self.edits[name], self.forget_buttons[name] = edit, forget
        self.add_field(label, f"secrets.{name}", row, hint)
        edit.setAccessibleName(key_name)
        forget.toggled.connect(lambda on, key=name: self._show_state(key))
        edit.textEdited.connect(lambda text, key=name: self._typed(key))
        self._show_state(name)

    def load(self, settings: Settings) -> None:
        """Keys are not settings: the page shows only whether each one is set."""

    def store(self, settings: Settings) -> None:
        """Keys never go into the settings; see `changes`."""

    def changes(self) -> dict[str, str | None]:
        """What to do with the keyring: a new value to store, or None to remove the key."""
        wanted: dict[str, str | None] = {}
        for name, edit in self.edits.items():
            if edit.text().strip():
                wanted[name] = edit.text().strip()
            elif self.forget_buttons[name].isChecked():
                wanted[name] = None
        return wanted

    def secrets_in_use(self) -> Secrets:
        """The keys as they would be after saving (for the Test buttons)."""
        return dataclasses.replace(self._secrets, **self.changes())

    def _typed(self, name: str) -> None:
        self.forget_buttons[name].setChecked(False)
        self.fields[f"secrets.{name}"].clear()

    def _show_state(self, name: str) -> None:
        edit, forget = self.edits[name], self.forget_buttons[name]
        variable = SECRET_ENV_VARS[name]
        saved = getattr(self._secrets, name) is not None
        from_environment = bool(self._environ.get(variable, "").strip())
        forget.setEnabled(saved and not from_environment)
        if forget.isChecked():
            edit.clear()
            edit.setPlaceholderText(self.tr("Will be removed when you save"))
            state = self.tr("The saved key will be removed from the keyring when you save.")
        elif from_environment:
            edit.setPlaceholderText(self.tr("Set in the environment"))
            state = self.tr(
                "Set by the environment variable {variable}, which wins over the keyring."
            ).format(variable=variable)
        elif saved:
            edit.setPlaceholderText(self.tr("•••••••• saved; type to replace"))
            state = self.tr("Saved in the system keyring.")
        else:
            edit.setPlaceholderText(self.tr("Paste the key here"))
            state = self.tr("Not set.")
        self.states[name] = state
        hint = self.tr("{hint} {state}").format(hint=self.hints[name], state=state)
        self.fields[f"secrets.{name}"].set_hint(hint)
