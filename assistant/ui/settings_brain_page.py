"""Settings > Language model: which service answers (a preset or any OpenAI-compatible address),
which model, the system prompt, and a Test button."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSizePolicy,
)

from assistant.config import Settings
from assistant.ui.check_result import CheckResult
from assistant.ui.settings_page import SettingsPage

CUSTOM = "custom"
PRESET_NAMES = {
    "ollama": "Ollama on this computer",
    "lmstudio": "LM Studio on this computer",
    "llamacpp": "llama.cpp server on this computer",
    "openai": "OpenAI",
    "deepseek": "DeepSeek",
    "volcano_ark": "Volcano Ark (Doubao)",
}


class BrainPage(SettingsPage):
    title = "Language model"

    def __init__(self, presets: dict[str, tuple[str, str]]) -> None:
        super().__init__()
        self._presets = presets
        self.preset = QComboBox()
        for name in presets:
            self.preset.addItem(PRESET_NAMES.get(name, name.replace("_", " ").title()), name)
        self.preset.addItem("Another address (OpenAI-compatible)", CUSTOM)
        self.url = QLineEdit()
        self.url.setPlaceholderText("https://api.example.com/v1")
        self.model = QLineEdit()
        self.system_prompt = QPlainTextEdit()
        self.system_prompt.setTabChangesFocus(True)
        lines = self.fontMetrics().lineSpacing()
        self.system_prompt.setMinimumHeight(lines * 4)
        self.system_prompt.setMaximumHeight(lines * 7)
        # Preferred, not Expanding: the form's spare room goes below the last row.
        self.system_prompt.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.test_button = QPushButton("&Test the connection")
        self.result = CheckResult()

        self.add_field("&Service:", "llm.preset", self.preset)
        self.add_field(
            "&Address:",
            "llm.base_url",
            self.url,
            "Cloud services need https. If the service needs a key, add it under API keys.",
        )
        self.add_field("&Model:", "llm.model", self.model)
        self.add_field(
            "S&ystem prompt:",
            "llm.system_prompt",
            self.system_prompt,
            "How the assistant should behave. Answers are spoken, so ask for short sentences.",
        )
        test_line = QHBoxLayout()
        test_line.addWidget(self.test_button)
        test_line.addStretch(1)
        self.form.addRow("", test_line)
        self.form.addRow("", self.result)
        self.preset.activated.connect(self._use_preset)
        self.url.textEdited.connect(self._show_preset_of_url)

    def load(self, settings: Settings) -> None:
        self.url.setText(settings.llm.base_url)
        self.model.setText(settings.llm.model)
        self.system_prompt.setPlainText(settings.llm.system_prompt)
        self._show_preset_of_url()

    def store(self, settings: Settings) -> None:
        settings.llm.base_url = self.url.text().strip()
        settings.llm.model = self.model.text().strip()
        settings.llm.system_prompt = self.system_prompt.toPlainText().strip()

    def _use_preset(self) -> None:
        name = self.preset.currentData()
        if name in self._presets:
            url, model = self._presets[name]
            self.url.setText(url)
            self.model.setText(model)
            self.result.clear()

    def _show_preset_of_url(self) -> None:
        url = self.url.text().strip().rstrip("/")
        name = next((n for n, (u, _) in self._presets.items() if u.rstrip("/") == url), CUSTOM)
        self.preset.setCurrentIndex(max(0, self.preset.findData(name)))
