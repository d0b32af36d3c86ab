"""Settings > Speech recognition: on this computer (which Whisper model) or a remote service, and
the language spoken."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QWidget,
)

from assistant.config import Settings
from assistant.ui.settings_page import SettingsPage, combo_value

BUNDLED = "bundled"
MODELS = [
    (BUNDLED, "Bundled: tiny English model (works offline)"),
    ("base.en", "base.en (English, 140 MB download)"),
    ("small.en", "small.en (English, 480 MB download)"),
    ("small", "small (many languages, 480 MB download)"),
    ("medium", "medium (many languages, 1.5 GB download)"),
    ("large-v3", "large-v3 (most accurate, 3 GB download)"),
]
DETECT = "Detect automatically"
LANGUAGES = [
    ("en", "English"), ("zh", "Chinese"), ("de", "German"), ("es", "Spanish"), ("fr", "French"),
    ("it", "Italian"), ("ja", "Japanese"), ("ko", "Korean"), ("nl", "Dutch"),
    ("pt", "Portuguese"), ("ru", "Russian"),
]  # fmt: skip


class SpeechPage(SettingsPage):
    title = "Speech recognition"

    def __init__(self) -> None:
        super().__init__()
        self.provider = QComboBox()
        self.provider.addItem("On this computer (Whisper, private, works offline)", "local")
        self.provider.addItem("An OpenAI-compatible transcription service", "openai")
        self.model = QComboBox()
        self.model.setEditable(True)
        for name, label in MODELS:
            self.model.addItem(label, name)
        self.browse = QPushButton("&Folder…")
        self.browse.setAccessibleName("Choose a model folder")
        self.browse.clicked.connect(self._choose_folder)
        model_row = QWidget()
        model_line = QHBoxLayout(model_row)
        model_line.setContentsMargins(0, 0, 0, 0)
        model_line.addWidget(self.model, 1)
        model_line.addWidget(self.browse)
        self.language = QComboBox()
        self.language.setEditable(True)
        self.language.addItem(DETECT, "")
        for code, name in LANGUAGES:
            self.language.addItem(f"{name} ({code})", code)
        self.remote_url = QLineEdit()
        self.remote_model = QLineEdit()

        self.add_field("&Where:", "stt.provider", self.provider)
        self.add_field(
            "&Model:",
            "stt.model",
            model_row,
            "A model name, or a folder holding a converted (CTranslate2) Whisper model. "
            "Other sizes are downloaded from the internet the first time.",
        )
        self.model.setAccessibleName("Model")
        self.add_field(
            "&Language:",
            "stt.language",
            self.language,
            "Naming the language makes short phrases more reliable. English-only models "
            "(.en) understand only English.",
        )
        self.remote = QFormLayout()
        self.add_field("Service &URL:", "stt.openai.base_url", self.remote_url, form=self.remote)
        self.add_field("Service m&odel:", "stt.openai.model", self.remote_model, form=self.remote)
        self.form.addRow(self.remote)
        self.provider.currentIndexChanged.connect(self._show_provider)

    def load(self, settings: Settings) -> None:
        stt = settings.stt
        self.provider.setCurrentIndex(max(0, self.provider.findData(stt.provider)))
        index = self.model.findData(stt.model)
        if index >= 0:
            self.model.setCurrentIndex(index)
        else:
            self.model.setEditText(stt.model)
        index = self.language.findData(stt.language or "")
        if index >= 0:
            self.language.setCurrentIndex(index)
        else:
            self.language.setEditText(stt.language or "")
        self.remote_url.setText(stt.openai.base_url)
        self.remote_model.setText(stt.openai.model)
        self._show_provider()

    def store(self, settings: Settings) -> None:
        stt = settings.stt
        stt.provider = self.provider.currentData()
        stt.model = combo_value(self.model)
        language = combo_value(self.language)
        stt.language = None if language in ("", DETECT) else language
        stt.openai.base_url = self.remote_url.text().strip()
        stt.openai.model = self.remote_model.text().strip()

    def _show_provider(self) -> None:
        local = self.provider.currentData() == "local"
        for key in ("stt.model",):
            self.fields[key].setEnabled(local)
        self.browse.setEnabled(local)
        for key in ("stt.openai.base_url", "stt.openai.model"):
            self.fields[key].setEnabled(not local)

    def _choose_folder(self) -> None:
        # open(), not exec(): a nested event loop would stall the app's asyncio tasks.
        dialog = QFileDialog(self, "Choose a Whisper model folder")
        dialog.setFileMode(QFileDialog.FileMode.Directory)
        dialog.setOption(QFileDialog.Option.ShowDirsOnly)
        dialog.fileSelected.connect(self.model.setEditText)
        dialog.open()
