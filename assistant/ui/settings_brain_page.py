"""Settings > Language model: which service answers (a preset or any OpenAI-compatible address,
a model server on the home network once allowed), which model (listed by the service, or typed),
the system prompt, and a Test button."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from PySide6.QtCore import QCoreApplication
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSizePolicy,
    QWidget,
)

from assistant.config import Settings
from assistant.core.endpoints import check_endpoint, lan_host_of
from assistant.core.errors import AssistantError
from assistant.ui.check_result import CheckResult, unexpected
from assistant.ui.model_field import ModelField
from assistant.ui.settings_page import SettingsPage
from assistant.ui.tasks import BackgroundTasks
from assistant.ui.translation import QT_TRANSLATE_NOOP

CUSTOM = "custom"
# Shown through tr(): the names that say where the service runs are translated.
PRESET_NAMES = {
    "ollama": QT_TRANSLATE_NOOP("BrainPage", "Ollama on this computer"),
    "lmstudio": QT_TRANSLATE_NOOP("BrainPage", "LM Studio on this computer"),
    "llamacpp": QT_TRANSLATE_NOOP("BrainPage", "llama.cpp server on this computer"),
    "openai": "OpenAI",
    "deepseek": "DeepSeek",
    "volcano_ark": QT_TRANSLATE_NOOP("BrainPage", "Volcano Ark (Doubao)"),
}

# Asks the app for the models of the service as the dialog shows it (address, key, allowed hosts).
ModelLister = Callable[[], Awaitable[list[str]]]


def lan_risk(host: str) -> str:
    """The one sentence said before plain http to a computer on the home network is allowed."""
    return QCoreApplication.translate(
        "BrainPage",
        "The server at {host} is on your network and uses plain http: traffic on your home "
        "network is not encrypted (anyone on it could read the conversation), and no API key, "
        "cloud or other, is ever sent there.",
    ).format(host=host)


class BrainPage(SettingsPage):
    title = QT_TRANSLATE_NOOP("BrainPage", "Language model")

    def __init__(
        self,
        presets: dict[str, tuple[str, str]],
        list_models: ModelLister | None = None,
        tasks: BackgroundTasks | None = None,
    ) -> None:
        super().__init__()
        self._presets = presets
        self._list_models = list_models
        self._tasks = tasks or BackgroundTasks()
        self._lan_hosts: list[str] = []  # [network] lan_http_hosts, as allowed here
        self._listed_for = ""  # the address whose models the list shows (or is asking for)
        self.preset = QComboBox()
        for name in presets:
            self.preset.addItem(
                self.tr(PRESET_NAMES.get(name, name.replace("_", " ").title())), name
            )
        self.preset.addItem(self.tr("Another address (OpenAI-compatible)"), CUSTOM)
        self.url = QLineEdit()
        self.url.setPlaceholderText(self.tr("https://api.example.com/v1"))
        self.lan_notice = QWidget()
        self.lan_words = QLabel()
        self.lan_words.setWordWrap(True)
        self.allow_lan = QPushButton(self.tr("&Allow this computer"))
        self.model = ModelField()
        self.models_result = CheckResult()
        self.system_prompt = QPlainTextEdit()
        self.system_prompt.setTabChangesFocus(True)
        lines = self.fontMetrics().lineSpacing()
        self.system_prompt.setMinimumHeight(lines * 4)
        self.system_prompt.setMaximumHeight(lines * 7)
        # Preferred, not Expanding: the form's spare room goes below the last row.
        self.system_prompt.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.test_button = QPushButton(self.tr("&Test the connection"))
        self.result = CheckResult()
        self._lay_out()
        self.preset.activated.connect(self._use_preset)
        self.url.textEdited.connect(self._show_preset_of_url)
        self.url.textChanged.connect(self._show_lan_notice)
        self.url.editingFinished.connect(self.fill_models)
        self.allow_lan.clicked.connect(self._allow_lan_host)
        self.model.opened.connect(self._fill_models_if_stale)

    def _lay_out(self) -> None:
        self.add_field(self.tr("&Service:"), "llm.preset", self.preset)
        self.add_field(
            self.tr("&Address:"),
            "llm.base_url",
            self.url,
            self.tr(
                "Cloud services need https. If the service needs a key, add it under API keys."
            ),
        )
        notice = QHBoxLayout(self.lan_notice)
        notice.setContentsMargins(0, 0, 0, 0)
        notice.addWidget(self.lan_words, 1)
        notice.addWidget(self.allow_lan)
        self.form.addRow("", self.lan_notice)
        self.lan_notice.hide()
        self.add_field(self.tr("&Model:"), "llm.model", self.model)
        self.form.addRow("", self.models_result)
        self.add_field(
            self.tr("S&ystem prompt:"),
            "llm.system_prompt",
            self.system_prompt,
            self.tr(
                "How the assistant should behave. Answers are spoken, so ask for short sentences."
            ),
        )
        test_line = QHBoxLayout()
        test_line.addWidget(self.test_button)
        test_line.addStretch(1)
        self.form.addRow("", test_line)
        self.form.addRow("", self.result)

    def load(self, settings: Settings) -> None:
        self._lan_hosts = list(settings.network.lan_http_hosts)
        self.url.setText(settings.llm.base_url)
        self.model.setText(settings.llm.model)
        self.system_prompt.setPlainText(settings.llm.system_prompt)
        self._show_preset_of_url()

    def store(self, settings: Settings) -> None:
        settings.llm.base_url = self.url.text().strip()
        settings.llm.model = self.model.text().strip()
        settings.llm.system_prompt = self.system_prompt.toPlainText().strip()
        settings.network.lan_http_hosts = list(self._lan_hosts)

    # ---- the service ----------------------------------------------------------------------

    def _use_preset(self) -> None:
        name = self.preset.currentData()
        if name in self._presets:
            url, model = self._presets[name]
            self.url.setText(url)
            self.model.setText(model)
            self.result.clear()
            self.fill_models()

    def _show_preset_of_url(self) -> None:
        url = self.url.text().strip().rstrip("/")
        name = next((n for n, (u, _) in self._presets.items() if u.rstrip("/") == url), CUSTOM)
        self.preset.setCurrentIndex(max(0, self.preset.findData(name)))

    def _lan_host_to_allow(self) -> str | None:
        """The home-network address the address field names over plain http, if not allowed."""
        host = lan_host_of(self.url.text())
        return host if host is not None and host not in self._lan_hosts else None

    def _show_lan_notice(self) -> None:
        host = self._lan_host_to_allow()
        if host is None:
            self.lan_notice.hide()
            return
        self.lan_words.setText(lan_risk(host))
        self.allow_lan.setAccessibleDescription(lan_risk(host))
        self.lan_notice.show()

    def _allow_lan_host(self) -> None:
        host = self._lan_host_to_allow()
        if host is not None:
            self._lan_hosts.append(host)
        self._show_lan_notice()
        self.fill_models()

    # ---- the models the service lists -----------------------------------------------------

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.fill_models()  # a person looks at the page: the list is ready when they open it

    def _usable_url(self) -> str | None:
        """The address as the policy allows it (with the hosts allowed here), else None: its
        problem is said at the field when the settings are checked."""
        try:
            return check_endpoint(self.url.text(), "address", lan_http_hosts=self._lan_hosts)
        except AssistantError:
            return None

    def fill_models(self) -> None:
        """Ask the service for its models, if the address can be used and was not asked yet."""
        url = self._usable_url()
        if self._list_models is None or url is None or url == self._listed_for:
            return
        self._listed_for = url
        self._tasks.start(self._fill(url))

    def _fill_models_if_stale(self) -> None:
        if self.models_result.failed:
            self._listed_for = ""  # a person opened the list: ask again after a failure
        self.fill_models()

    async def _fill(self, url: str) -> None:
        assert self._list_models is not None
        self.models_result.show_progress(self.tr("Asking the service which models it has…"))
        try:
            names = await self._list_models()
        except AssistantError as error:
            if url == self._listed_for:
                self.models_result.show_failure(error.message)
            return
        except Exception as error:
            self.models_result.show_failure(unexpected(error))
            raise
        if url != self._listed_for:
            return  # the address changed meanwhile: that answer is for another service
        self.model.offer(names)
        if names:
            self.models_result.show_success(
                self.tr("{count} models on this service; pick one, or type another name.").format(
                    count=len(names)
                )
            )
        else:
            self.models_result.show_failure(
                self.tr(
                    "The service lists no models. Type the model's name (for Ollama: ollama pull "
                    "NAME on the server first)."
                )
            )
