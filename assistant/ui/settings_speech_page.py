"""Settings > Speech recognition: on this computer (the built-in model, a Whisper size, downloaded
here with progress, or a folder) or a remote service; the language, the languages the user speaks
and the characters they read Chinese in, names you say often, and what the model runs on."""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import Mapping
from pathlib import Path

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from assistant.config import Settings
from assistant.core.errors import AssistantError
from assistant.core.languages import (
    AUTO,
    chinese_script,
    find_language,
    language_name,
    preferred_languages,
)
from assistant.core.protocols import LoadProgress
from assistant.ui.check_result import CheckResult, unexpected
from assistant.ui.settings_actions import ModelSize, SettingsActions
from assistant.ui.settings_page import SettingsPage, combo_value
from assistant.ui.tasks import BackgroundTasks
from assistant.ui.translation import QT_TRANSLATE_NOOP

BUNDLED = "bundled"
BUILT_IN_LABEL = QT_TRANSLATE_NOOP("SpeechPage", "Built-in: tiny.en (English, works offline)")
MODEL_FILE = "model.bin"
# Offered before the app has said which sizes it knows; roughly what each download weighs.
SIZES = {
    "tiny.en": "75 MB", "tiny": "75 MB", "base.en": "145 MB", "base": "145 MB",
    "small.en": "485 MB", "small": "485 MB", "medium.en": "1.5 GB", "medium": "1.5 GB",
    "large-v3": "3 GB", "large-v3-turbo": "1.6 GB", "turbo": "1.6 GB",
    "distil-small.en": "330 MB", "distil-medium.en": "790 MB", "distil-large-v3": "1.5 GB",
}  # fmt: skip
# The labels of these lists are shown through tr().
DEVICES = [
    ("cpu", QT_TRANSLATE_NOOP("SpeechPage", "Processor (CPU): works everywhere")),
    ("cuda", QT_TRANSLATE_NOOP("SpeechPage", "NVIDIA graphics card (CUDA)")),
    (
        "auto",
        QT_TRANSLATE_NOOP("SpeechPage", "The graphics card if there is one, else the processor"),
    ),
]
COMPUTE_TYPES = ["int8", "int8_float32", "int8_float16", "int8_bfloat16", "int16", "float16",
                 "bfloat16", "float32", "default", "auto"]  # fmt: skip
DETECT = QT_TRANSLATE_NOOP("SpeechPage", "Detect automatically")
LANGUAGES = [
    ("en", QT_TRANSLATE_NOOP("SpeechPage", "English")),
    ("zh", QT_TRANSLATE_NOOP("SpeechPage", "Chinese")),
    ("de", QT_TRANSLATE_NOOP("SpeechPage", "German")),
    ("es", QT_TRANSLATE_NOOP("SpeechPage", "Spanish")),
    ("fr", QT_TRANSLATE_NOOP("SpeechPage", "French")),
    ("it", QT_TRANSLATE_NOOP("SpeechPage", "Italian")),
    ("ja", QT_TRANSLATE_NOOP("SpeechPage", "Japanese")),
    ("ko", QT_TRANSLATE_NOOP("SpeechPage", "Korean")),
    ("nl", QT_TRANSLATE_NOOP("SpeechPage", "Dutch")),
    ("pt", QT_TRANSLATE_NOOP("SpeechPage", "Portuguese")),
    ("ru", QT_TRANSLATE_NOOP("SpeechPage", "Russian")),
]
CHINESE_SCRIPTS = [
    ("simplified", QT_TRANSLATE_NOOP("SpeechPage", "Simplified (简体字)")),
    ("traditional", QT_TRANSLATE_NOOP("SpeechPage", "Traditional (繁體字)")),
]
# Between the languages typed in: a comma, or the full-width comma and enumeration comma of
# Chinese and Japanese text.
_LIST_SEPARATORS = re.compile("[,，、]")


def languages_typed(text: str) -> list[str]:
    """The languages listed in `text` ("en, Deutsch, 中文"), each as its code when it is known by
    its code or own name; anything else as typed, for validation to name."""
    typed = (part.strip() for part in _LIST_SEPARATORS.split(text))
    return [find_language(part) or part for part in typed if part]


def size_label(name: str, downloaded: bool) -> str:
    """How a Whisper size is offered: what it understands, and whether it must be fetched."""
    if name.endswith(".en"):
        understands = QCoreApplication.translate("SpeechPage", "English")
    else:
        understands = QCoreApplication.translate("SpeechPage", "many languages")
    weight = SIZES.get(name)
    if downloaded:
        said = QCoreApplication.translate("SpeechPage", "{name} ({understands}, downloaded)")
    elif weight:
        said = QCoreApplication.translate("SpeechPage", "{name} ({understands}, {weight} download)")
    else:
        said = QCoreApplication.translate("SpeechPage", "{name} ({understands}, download)")
    return said.format(name=name, understands=understands, weight=weight)


def looks_like_a_folder(model: str) -> bool:
    return model.startswith(("~", ".")) or "/" in model or os.sep in model


class SpeechPage(SettingsPage):
    title = QT_TRANSLATE_NOOP("SpeechPage", "Speech recognition")

    def __init__(
        self,
        actions: SettingsActions,
        tasks: BackgroundTasks,
        environ: Mapping[str, str] = os.environ,
    ) -> None:
        """`environ` tells the system's languages and locale: what "empty" and "follow the
        system" mean, said in the hints."""
        super().__init__()
        self._environ = environ
        self._actions = actions
        self._tasks = tasks
        self._sizes = list(SIZES)
        self._downloaded: set[str] = set()
        self._download: asyncio.Task[None] | None = None
        self.provider = QComboBox()
        self.provider.addItem(
            self.tr("On this computer (Whisper, private, works offline)"), "local"
        )
        self.provider.addItem(self.tr("An OpenAI-compatible transcription service"), "openai")
        self.add_field(self.tr("&Where:"), "stt.provider", self.provider)
        self._build_model()
        self._build_download()
        self._build_language()
        self._build_hardware()
        self.remote_url = QLineEdit()
        self.remote_model = QLineEdit()
        self.remote = QFormLayout()
        self.add_field(
            self.tr("Service &URL:"), "stt.openai.base_url", self.remote_url, form=self.remote
        )
        self.add_field(
            self.tr("Service m&odel:"), "stt.openai.model", self.remote_model, form=self.remote
        )
        self.form.addRow(self.remote)
        self.provider.currentIndexChanged.connect(self._show_provider)
        self.model.currentIndexChanged.connect(self._model_changed)

    # ---- building ------------------------------------------------------------------------

    def _build_model(self) -> None:
        self.model = QComboBox()
        self.browse = QPushButton(self.tr("&Browse…"))
        self.browse.setAccessibleName(self.tr("Choose a folder that holds a Whisper model"))
        self.browse.clicked.connect(self._choose_folder)
        row = QWidget()
        line = QHBoxLayout(row)
        line.setContentsMargins(0, 0, 0, 0)
        line.addWidget(self.model, 1)
        line.addWidget(self.browse)
        self.add_field(
            self.tr("&Model:"),
            "stt.model",
            row,
            self.tr(
                "The built-in model is quick and works offline. Larger ones understand more but "
                "are slower; each is downloaded once. A folder must hold a Whisper model in "
                "CTranslate2 format ({file})."
            ).format(file=MODEL_FILE),
        )
        self.model.setAccessibleName(self.tr("Model"))

    def _build_download(self) -> None:
        self.download_button = QPushButton(self.tr("&Download"))
        self.download_button.clicked.connect(self._start_download)
        self.download_bar = QProgressBar()
        self.download_bar.setAccessibleName(self.tr("Download progress"))
        self.cancel_button = QPushButton(self.tr("Cancel download"))
        self.cancel_button.setAccessibleName(self.tr("Cancel the download"))
        self.cancel_button.clicked.connect(self._cancel_download)
        self.download_result = CheckResult()
        self.download_row = QWidget()
        layout = QVBoxLayout(self.download_row)
        layout.setContentsMargins(0, 0, 0, 0)
        line = QHBoxLayout()
        line.addWidget(self.download_button)
        line.addWidget(self.download_bar, 1)
        line.addWidget(self.cancel_button)
        layout.addLayout(line)
        layout.addWidget(self.download_result)
        self.form.addRow("", self.download_row)
        self._show_downloading(False)

    def _build_language(self) -> None:
        self.language = QComboBox()
        self.language.setEditable(True)
        self.language.addItem(self.tr(DETECT), "")
        for code, name in LANGUAGES:
            self.language.addItem(f"{self.tr(name)} ({code})", code)
        self.add_field(
            self.tr("&Language:"),
            "stt.language",
            self.language,
            self.tr(
                "Naming the language makes short phrases more reliable. English-only models "
                "(.en) understand only English."
            ),
        )
        system = ", ".join(language_name(code) for code in preferred_languages([], self._environ))
        self.languages = QLineEdit()
        self.languages.setPlaceholderText(self.tr("e.g. en, de, zh"))
        self.add_field(
            self.tr("Languages you &speak:"),
            "stt.languages",
            self.languages,
            self.tr(
                "Codes or names, separated by commas (en, Deutsch, 中文): detection picks among "
                "them, which is surer on short phrases. Empty: your system's and English "
                "({languages})."
            ).format(languages=system),
        )
        self.chinese_script = QComboBox()
        followed = self.tr(dict(CHINESE_SCRIPTS)[chinese_script("auto", self._environ)])
        self.chinese_script.addItem(
            self.tr("Follow the system: {script}").format(script=followed), "auto"
        )
        for script, label in CHINESE_SCRIPTS:
            self.chinese_script.addItem(self.tr(label), script)
        self.add_field(
            self.tr("&Chinese characters:"),
            "stt.chinese_script",
            self.chinese_script,
            self.tr(
                "What Mandarin is written in: Simplified (mainland China, Singapore) or "
                "Traditional (Taiwan, Hong Kong, Macao)."
            ),
        )
        self.prompt = QLineEdit()
        self.prompt.setPlaceholderText(self.tr("e.g. Anna Kowalski, Kubernetes, Zürich"))
        self.add_field(
            self.tr("&Names you say often:"),
            "stt.initial_prompt",
            self.prompt,
            self.tr(
                "Names and words the model should expect, written the way you want them spelled."
            ),
        )

    def _build_hardware(self) -> None:
        self.device = QComboBox()
        for name, label in DEVICES:
            self.device.addItem(self.tr(label), name)
        self.add_field(self.tr("&Runs on:"), "stt.device", self.device)
        self.compute_type = QComboBox()
        self.compute_type.setEditable(True)
        self.compute_type.addItems(COMPUTE_TYPES)
        self.add_field(
            self.tr("&Precision:"),
            "stt.compute_type",
            self.compute_type,
            self.tr("int8 is the fastest on a processor; float16 suits graphics cards."),
        )

    # ---- the settings --------------------------------------------------------------------

    def load(self, settings: Settings) -> None:
        stt = settings.stt
        self.provider.setCurrentIndex(max(0, self.provider.findData(stt.provider)))
        self._fill_models(stt.model)
        language = "" if stt.language in (None, AUTO) else stt.language
        index = self.language.findData(language)
        if index >= 0:
            self.language.setCurrentIndex(index)  # "auto" (the default) too: Detect automatically
        else:
            self.language.setEditText(language)
        self.prompt.setText(stt.initial_prompt)
        self.languages.setText(", ".join(stt.languages))
        script = self.chinese_script.findData(stt.chinese_script)
        self.chinese_script.setCurrentIndex(max(0, script))
        self.device.setCurrentIndex(max(0, self.device.findData(stt.device)))
        self.compute_type.setEditText(stt.compute_type)
        self.remote_url.setText(stt.openai.base_url)
        self.remote_model.setText(stt.openai.model)
        self._show_provider()

    def store(self, settings: Settings) -> None:
        stt = settings.stt
        stt.provider = self.provider.currentData()
        stt.model = self.chosen_model()
        language = combo_value(self.language)
        stt.language = None if language in ("", DETECT, self.tr(DETECT)) else language
        stt.initial_prompt = self.prompt.text().strip()
        stt.languages = languages_typed(self.languages.text())
        stt.chinese_script = self.chinese_script.currentData()
        stt.device = self.device.currentData()
        stt.compute_type = self.compute_type.currentText().strip()
        stt.openai.base_url = self.remote_url.text().strip()
        stt.openai.model = self.remote_model.text().strip()

    def chosen_model(self) -> str:
        return str(self.model.currentData() or "")

    # ---- the model list ------------------------------------------------------------------

    async def find_sizes(self) -> None:
        """Ask the app which sizes it knows and which are downloaded; what is chosen stays."""
        try:
            sizes = await self._actions.model_sizes()
        except AssistantError as error:
            self.download_result.show_failure(error.message)
            self._show_download()
            return
        if sizes:
            self.show_sizes(sizes)

    def show_sizes(self, sizes: list[ModelSize]) -> None:
        self._sizes = [size.name for size in sizes]
        self._downloaded = {size.name for size in sizes if size.downloaded}
        self._fill_models(self.chosen_model())

    def _fill_models(self, chosen: str) -> None:
        self.model.blockSignals(True)  # one change signal at the end, not one per item
        self.model.clear()
        self.model.addItem(self.tr(BUILT_IN_LABEL), BUNDLED)
        for name in self._sizes:
            self.model.addItem(size_label(name, name in self._downloaded), name)
        if chosen and self.model.findData(chosen) < 0:
            folder = looks_like_a_folder(chosen)
            shown = self.tr("Folder: {folder}").format(folder=chosen) if folder else chosen
            self.model.addItem(shown, chosen)
        self.model.setCurrentIndex(max(0, self.model.findData(chosen)))
        self.model.blockSignals(False)
        self._show_download()

    def _choose_folder(self) -> None:
        # open(), not exec(): a nested event loop would stall the app's asyncio tasks.
        dialog = QFileDialog(self, self.tr("Choose the folder that holds a Whisper model"))
        dialog.setFileMode(QFileDialog.FileMode.Directory)
        dialog.setOption(QFileDialog.Option.ShowDirsOnly)
        dialog.fileSelected.connect(self.use_folder)
        dialog.open()

    def use_folder(self, folder: str) -> None:
        """Choose the model in `folder`, if there is one (else say why not, at the field)."""
        row = self.fields["stt.model"]
        if not (Path(folder) / MODEL_FILE).is_file():
            row.mark(
                self.tr(
                    "The folder {folder} holds no Whisper model: it has no {file}. Choose the "
                    "folder that has it."
                ).format(folder=folder, file=MODEL_FILE)
            )
            return
        row.clear()
        self._fill_models(folder)

    # ---- downloading ---------------------------------------------------------------------

    def _needs_download(self) -> bool:
        name = self.chosen_model()
        return (
            self.provider.currentData() == "local"
            and name in self._sizes
            and name not in self._downloaded
        )

    def _model_changed(self) -> None:
        if self._download is None:
            self.download_result.clear()  # it was about the model chosen before
        self._show_download()

    def _show_download(self) -> None:
        """The Download button for a size not yet here; what a download said stays in view."""
        downloading = self._download is not None
        needed = self._needs_download()
        if needed and not downloading:
            self.download_button.setText(
                self.tr("&Download {model}").format(model=self.chosen_model())
            )
        said = bool(self.download_result.text())
        self.download_button.setVisible(needed or downloading)
        self.download_result.setVisible(said)  # an empty line would only leave a gap
        self.download_row.setVisible(downloading or needed or said)

    def _show_downloading(self, downloading: bool) -> None:
        self.download_button.setEnabled(not downloading)
        self.download_bar.setVisible(downloading)
        self.cancel_button.setVisible(downloading)
        self.download_bar.setRange(0, 0)  # moving until the size is known

    def _start_download(self) -> None:
        self._show_downloading(True)  # now, not when the task first runs: no second click
        self._download = self._tasks.start(self._download_model(self.chosen_model()))

    def _cancel_download(self) -> None:
        if self._download is not None:
            self._download.cancel()

    def _show_progress(self, update: LoadProgress) -> None:
        self.download_result.show_progress(update.text)
        if update.fraction is None:
            self.download_bar.setRange(0, 0)
        else:
            self.download_bar.setRange(0, 100)
            self.download_bar.setValue(round(min(1.0, max(0.0, update.fraction)) * 100))

    async def _download_model(self, name: str) -> None:
        self._show_downloading(True)
        self.download_result.show_progress(
            self.tr("Downloading the speech model {model}…").format(model=name)
        )
        self.download_result.show()
        try:
            await self._actions.download_model(name, self._show_progress)
        except asyncio.CancelledError:
            self.download_result.show_progress(
                self.tr("The download of {model} was cancelled.").format(model=name)
            )
            raise
        except AssistantError as error:
            self.download_result.show_failure(error.message)
        except Exception as error:
            self.download_result.show_failure(unexpected(error))
            raise
        else:
            self._downloaded.add(name)
            self.download_result.show_success(
                self.tr("{model} is downloaded. Save to use it.").format(model=name)
            )
        finally:
            self._download = None
            self._show_downloading(False)
            self._fill_models(self.chosen_model())  # "downloaded" now, and no Download button

    def _show_provider(self) -> None:
        local = self.provider.currentData() == "local"
        # What the model on this computer does with the languages and scripts: a service does
        # its own detection.
        for key in (
            "stt.model",
            "stt.languages",
            "stt.chinese_script",
            "stt.device",
            "stt.compute_type",
        ):
            self.fields[key].setEnabled(local)
        self.browse.setEnabled(local)
        for key in ("stt.openai.base_url", "stt.openai.model"):
            self.fields[key].setEnabled(not local)
        self._show_download()
