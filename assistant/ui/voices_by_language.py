"""Settings > Voice, the voices by language (issue 18): which voice speaks which language (one per
language; the voice service above speaks the rest), a sample of each, and Piper voices found in
the official list and downloaded here with progress. What it edits is `[tts] voices`.
"""

from __future__ import annotations

import asyncio
from typing import Final

from PySide6.QtCore import Qt
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from assistant.config.schema import CLOUD_VOICE_LANGUAGES
from assistant.core.errors import AssistantError
from assistant.core.languages import language_name
from assistant.core.protocols import LoadProgress
from assistant.ui.check_result import CheckResult, unexpected
from assistant.ui.settings_actions import SettingsActions, VoiceOffer
from assistant.ui.tasks import BackgroundTasks
from assistant.ui.translation import QT_TRANSLATE_NOOP

# The cloud voices, as the list shows them (through tr()); the languages each reads are the
# settings'.
CLOUD_LABELS: Final = {
    "volcano": QT_TRANSLATE_NOOP("VoicesByLanguage", "Volcano Engine v1 (cloud)"),
    "volcano_v3": QT_TRANSLATE_NOOP("VoicesByLanguage", "Volcano Engine v3 (cloud)"),
    "openai": QT_TRANSLATE_NOOP("VoicesByLanguage", "OpenAI-compatible service (cloud)"),
}
# Offered even before any voice for them is known: the languages the app is most asked to speak.
COMMON_LANGUAGES = ("en", "zh", "de", "es", "fr", "ja")


def _language_label(code: str) -> str:
    name = language_name(code)
    return name if name == code else f"{name} ({code})"


def _megabytes(size: int) -> str:
    return f"{size / 1e6:.0f} MB"


class VoicesByLanguage(QWidget):
    """The `[tts] voices` editor, with the Piper catalogue beside it."""

    def __init__(self, actions: SettingsActions | None, tasks: BackgroundTasks | None) -> None:
        super().__init__()
        self._actions = actions or SettingsActions(
            save_settings=lambda settings: None,
            store_secret=lambda name, value: None,
            delete_secret=lambda name: None,
            test_brain=_nothing,
            test_voice=_nothing,
            test_microphone=_nothing,
            test_speaker=_nothing,
        )
        self._tasks = tasks or BackgroundTasks()
        self._chosen: dict[str, str] = {}
        self._installed: list[VoiceOffer] = []
        self._offers: list[VoiceOffer] = []
        self._download: asyncio.Task[None] | None = None
        self._asked = False
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self._build_table(layout)
        self._build_choice(layout)
        self._build_catalogue(layout)
        self.result = CheckResult()
        layout.addWidget(self.result)

    # ---- building --------------------------------------------------------------------------

    def _build_table(self, layout: QVBoxLayout) -> None:
        self.table = QTableWidget(0, 3)
        self.table.setAccessibleName(self.tr("Voices by language"))
        self.table.setHorizontalHeaderLabels([self.tr("Language"), self.tr("Voice"), ""])
        self.table.verticalHeader().setVisible(False)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.setMinimumHeight(self.fontMetrics().height() * 6)
        self.table.setMaximumHeight(self.fontMetrics().height() * 12)
        self.remove_button = QPushButton(self.tr("&Remove"))
        self.remove_button.setAccessibleName(self.tr("Remove the selected language's voice"))
        self.remove_button.clicked.connect(self._remove_selected)
        line = QHBoxLayout()
        line.addWidget(self.remove_button)
        line.addStretch(1)
        layout.addWidget(self.table)
        layout.addLayout(line)

    def _build_choice(self, layout: QVBoxLayout) -> None:
        self.language = QComboBox()
        self.language.setAccessibleName(self.tr("Language"))
        self.voice = QComboBox()
        self.voice.setAccessibleName(self.tr("Voice for this language"))
        self.use_button = QPushButton(self.tr("&Use for this language"))
        self.use_button.clicked.connect(self._use_chosen)
        self.language.currentIndexChanged.connect(self._fill_voices)
        line = QHBoxLayout()
        line.addWidget(self.language)
        line.addWidget(self.voice, 1)
        line.addWidget(self.use_button)
        layout.addLayout(line)

    def _build_catalogue(self, layout: QVBoxLayout) -> None:
        self.find_button = QPushButton(self.tr("&Find Piper voices to download…"))
        self.find_button.clicked.connect(lambda: self._tasks.start(self.find_offers()))
        self.offers = QComboBox()
        self.offers.setAccessibleName(self.tr("Piper voices to download"))
        self.download_button = QPushButton(self.tr("&Download"))
        self.download_button.clicked.connect(self._start_download)
        self.download_bar = QProgressBar()
        self.download_bar.setAccessibleName(self.tr("Voice download progress"))
        self.cancel_button = QPushButton(self.tr("Cancel download"))
        self.cancel_button.clicked.connect(self._cancel_download)
        line = QHBoxLayout()
        line.addWidget(self.find_button)
        line.addWidget(self.offers, 1)
        line.addWidget(self.download_button)
        progress = QHBoxLayout()
        progress.addWidget(self.download_bar, 1)
        progress.addWidget(self.cancel_button)
        layout.addLayout(line)
        layout.addLayout(progress)
        self.offers.setVisible(False)
        self.download_button.setVisible(False)
        self._show_downloading(False)

    # ---- the setting -----------------------------------------------------------------------

    def load(self, voices: dict[str, str]) -> None:
        self._chosen = dict(voices)
        self._fill_table()
        self._fill_languages()

    def voices(self) -> list[str]:
        """`[tts] voices` as edited."""
        return [f"{language}={voice}" for language, voice in self._chosen.items()]

    def choose(self, language: str, voice: str) -> None:
        """`voice` speaks `language` from now on (one voice per language)."""
        self._chosen[language] = voice
        self._fill_table()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return  # shown outside the app's loop (a picture of the page): nothing to ask
        if not self._asked:
            self._asked = True
            self._tasks.start(self.find_installed())

    async def find_installed(self) -> None:
        """Ask the app which Piper voices are on this computer."""
        try:
            self._installed = await self._actions.installed_voices()
        except AssistantError as error:
            self.result.show_failure(error.message)
        self._fill_table()
        self._fill_languages()

    def _voice_label(self, voice: str) -> str:
        if voice in CLOUD_LABELS:
            return self.tr(CLOUD_LABELS[voice])
        found = next((offer for offer in self._installed if offer.key == voice), None)
        return found.label if found is not None else voice

    def _fill_table(self) -> None:
        self.table.setRowCount(0)
        for language, voice in sorted(self._chosen.items()):
            row = self.table.rowCount()
            self.table.insertRow(row)
            item = QTableWidgetItem(_language_label(language))
            item.setData(Qt.ItemDataRole.UserRole, language)
            self.table.setItem(row, 0, item)
            self.table.setItem(row, 1, QTableWidgetItem(self._voice_label(voice)))
            sample = QPushButton(self.tr("Sample"))
            sample.setAccessibleName(
                self.tr("Play a sample of the {language} voice").format(
                    language=_language_label(language)
                )
            )
            sample.clicked.connect(lambda _=False, v=voice, lang=language: self._sample(v, lang))
            self.table.setCellWidget(row, 2, sample)
        self.remove_button.setEnabled(bool(self._chosen))

    def _fill_languages(self) -> None:
        wanted = self.language.currentData()
        languages = {*COMMON_LANGUAGES, *self._chosen}
        languages |= {offer.language for offer in [*self._installed, *self._offers]}
        self.language.blockSignals(True)
        self.language.clear()
        for code in sorted(languages, key=_language_label):
            self.language.addItem(_language_label(code), code)
        self.language.setCurrentIndex(max(0, self.language.findData(wanted)))
        self.language.blockSignals(False)
        self._fill_voices()

    def _fill_voices(self) -> None:
        language = self.language.currentData()
        self.voice.clear()
        for offer in self._installed:
            if offer.language == language:
                label = self.tr("{voice} (Piper, offline)").format(voice=offer.label)
                self.voice.addItem(label, offer.key)
        for name, languages in CLOUD_VOICE_LANGUAGES.items():
            if languages is None or language in languages:
                self.voice.addItem(self.tr(CLOUD_LABELS[name]), name)
        self.use_button.setEnabled(self.voice.count() > 0)

    def _use_chosen(self) -> None:
        language, voice = self.language.currentData(), self.voice.currentData()
        if language and voice:
            self.choose(str(language), str(voice))
            self.result.show_success(
                self.tr("{voice} will speak {language}. Save to use it.").format(
                    voice=self._voice_label(voice), language=_language_label(language)
                )
            )

    def _remove_selected(self) -> None:
        row = self.table.currentRow()
        item = self.table.item(row, 0) if row >= 0 else None
        if item is not None:
            self._chosen.pop(str(item.data(Qt.ItemDataRole.UserRole)), None)
            self._fill_table()

    def _sample(self, voice: str, language: str) -> None:
        self._tasks.start(self._play_sample(voice, language))

    async def _play_sample(self, voice: str, language: str) -> None:
        self.result.show_progress(
            self.tr("Playing a sample of {voice}…").format(voice=self._voice_label(voice))
        )
        try:
            await self._actions.sample_voice(voice, language)
        except AssistantError as error:
            self.result.show_failure(error.message)
        except Exception as error:
            self.result.show_failure(unexpected(error))
            raise
        else:
            self.result.show_success(self.tr("The sample was played."))

    # ---- the catalogue ---------------------------------------------------------------------

    async def find_offers(self) -> None:
        """Ask the app for the official list of Piper voices, by language."""
        self.find_button.setEnabled(False)
        self.result.show_progress(self.tr("Getting the list of Piper voices…"))
        try:
            self._offers = await self._actions.voice_catalogue()
        except AssistantError as error:
            self.result.show_failure(error.message)
            return
        finally:
            self.find_button.setEnabled(True)
        self.offers.clear()
        for offer in self._offers:
            state = self.tr("installed") if offer.installed else _megabytes(offer.size)
            self.offers.addItem(f"{offer.label} ({state})", offer.key)
        self.offers.setVisible(True)
        self.download_button.setVisible(True)
        languages = {offer.language for offer in self._offers}
        self.result.show_success(
            self.tr(
                "{voices} Piper voices in {languages} languages. Choose one to download."
            ).format(voices=len(self._offers), languages=len(languages))
        )
        self._fill_languages()

    def _show_downloading(self, downloading: bool) -> None:
        self.download_button.setEnabled(not downloading)
        self.find_button.setEnabled(not downloading)
        self.download_bar.setVisible(downloading)
        self.cancel_button.setVisible(downloading)
        self.download_bar.setRange(0, 0)  # moving until the size is known

    def _start_download(self) -> None:
        key = self.offers.currentData()
        offer = next((offer for offer in self._offers if offer.key == key), None)
        if offer is None:
            return
        self._show_downloading(True)  # now, not when the task first runs: no second click
        self._download = self._tasks.start(self._download_voice(offer))

    def _cancel_download(self) -> None:
        if self._download is not None:
            self._download.cancel()

    def _show_progress(self, update: LoadProgress) -> None:
        self.result.show_progress(update.text)
        if update.fraction is not None:
            self.download_bar.setRange(0, 100)
            self.download_bar.setValue(round(min(1.0, max(0.0, update.fraction)) * 100))

    async def _download_voice(self, offer: VoiceOffer) -> None:
        self.result.show_progress(self.tr("Downloading the voice {voice}…").format(voice=offer.key))
        try:
            await self._actions.download_voice(offer.key, self._show_progress)
            self._installed = await self._actions.installed_voices()
        except asyncio.CancelledError:
            self.result.show_progress(
                self.tr("The download of {voice} was cancelled.").format(voice=offer.key)
            )
            raise
        except AssistantError as error:
            self.result.show_failure(error.message)
        except Exception as error:
            self.result.show_failure(unexpected(error))
            raise
        else:
            if offer.language in self._chosen:
                said = self.tr("{voice} is installed. Save to use it.")
            else:
                self.choose(offer.language, offer.key)
                said = self.tr("{voice} is installed. It will speak {language}. Save to use it.")
            language = _language_label(offer.language)
            self.result.show_success(said.format(voice=offer.key, language=language))
            self._fill_table()
            self._fill_languages()
        finally:
            self._download = None
            self._show_downloading(False)


async def _nothing(*_: object) -> None:
    return None


__all__ = ["CLOUD_LABELS", "VoicesByLanguage"]
