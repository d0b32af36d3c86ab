"""The settings dialog: audio, speech recognition, the language model, the voice and API keys.

Invalid input is marked at its field with the validation message, and nothing is saved until
every field is valid. Tests and saving go through the callables app.py hands over.
"""

from __future__ import annotations

import copy
import os
import re
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QPushButton,
    QScrollArea,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from assistant.config import Secrets, Settings, validate_settings
from assistant.core.errors import AssistantError, ConfigError
from assistant.ui.check_result import CheckResult, unexpected
from assistant.ui.field_row import FieldRow
from assistant.ui.settings_actions import SettingsActions
from assistant.ui.settings_audio_page import AudioPage
from assistant.ui.settings_brain_page import BrainPage
from assistant.ui.settings_keys_page import KeysPage
from assistant.ui.settings_page import SettingsPage
from assistant.ui.settings_speech_page import SpeechPage
from assistant.ui.settings_voice_page import VoicePage
from assistant.ui.tasks import BackgroundTasks

# Validation names a setting as "[table] key" ("The [llm] base_url 'x' is not ...").
_SETTING = re.compile(r"\[([\w.]+)\] (\w+)")

Problem = tuple[str | None, str]  # the setting's key ("llm.base_url"), if known; the message


def problems_of(error: ConfigError) -> list[Problem]:
    """Each problem a validation error lists, with the setting it is about."""
    problems: list[Problem] = []
    for line in error.message.splitlines():
        if line.startswith("- "):
            found = _SETTING.search(line)
            problems.append((f"{found[1]}.{found[2]}" if found else None, line[2:]))
    return problems or [(None, error.message)]


def _in_words(message: str, label: str) -> str:
    """The message as shown at its field: the setting named as the form names it."""
    if not label:
        return message
    named = _SETTING.sub(label[0].lower() + label[1:], message, count=1)
    return named[0].upper() + named[1:]


@dataclass(frozen=True)
class _Test:
    """One Test button: what it tries, and how its answer is said."""

    button: QPushButton
    result: CheckResult
    prefix: str  # the settings it depends on ("llm.")
    doing: str  # said while it runs
    action: Callable[[Settings, Secrets], Awaitable[None]]
    success: Callable[[Settings], str]


class SettingsDialog(QDialog):
    saved = Signal(object)  # the validated Settings, once written

    def __init__(
        self,
        settings: Settings,
        secrets: Secrets,
        actions: SettingsActions,
        parent: QWidget | None = None,
        environ: Mapping[str, str] = os.environ,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Settings"))
        self.setAccessibleName(self.tr("Settings"))
        self.settings_actions = actions
        self.tasks = BackgroundTasks()
        self._settings = settings
        self._devices_asked = False
        self.audio = AudioPage(actions, self.tasks)
        self.speech = SpeechPage(actions, self.tasks)
        self.brain = BrainPage(
            actions.brain_presets,
            lambda: actions.list_models(self.candidate(), self.keys.secrets_in_use()),
            self.tasks,
        )
        self.voice = VoicePage(actions, self.tasks)
        self.keys = KeysPage(secrets, environ)
        self.pages: list[SettingsPage] = [
            self.audio,
            self.speech,
            self.brain,
            self.voice,
            self.keys,
        ]
        self.tabs = QTabWidget()
        for page in self.pages:
            self.tabs.addTab(self._scrolling(page), page.tr(page.title))
            page.load(settings)
        self.problem = CheckResult()
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.problem)
        layout.addWidget(self.buttons)
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        self.brain.test_button.clicked.connect(self._test_brain)
        self.voice.test_button.clicked.connect(self._test_voice)
        self.resize(self.fontMetrics().averageCharWidth() * 100, self.fontMetrics().height() * 44)

    @staticmethod
    def _scrolling(page: QWidget) -> QScrollArea:
        area = QScrollArea()
        area.setWidget(page)
        area.setWidgetResizable(True)
        area.setFrameShape(QScrollArea.Shape.NoFrame)
        return area

    # ---- the settings as edited ----------------------------------------------------------

    def candidate(self) -> Settings:
        """The settings as the dialog shows them (not yet validated)."""
        edited = copy.deepcopy(self._settings)
        for page in self.pages:
            page.store(edited)
        return edited

    def field(self, key: str) -> FieldRow | None:
        return next((page.fields[key] for page in self.pages if key in page.fields), None)

    def _check(self, edited: Settings, *, reveal: bool = True) -> list[Problem]:
        """Validate, and mark each problem at its field (or below the tabs)."""
        try:
            validate_settings(edited)
        except ConfigError as error:
            problems = problems_of(error)
        else:
            problems = []
        self._mark(problems, reveal=reveal)
        return problems

    def _mark(self, problems: list[Problem], *, reveal: bool) -> None:
        for page in self.pages:
            for shown in page.fields.values():
                shown.clear()
        self.problem.clear()
        elsewhere: list[str] = []
        first: FieldRow | None = None
        for key, message in problems:
            row = self.field(key) if key else None
            if row is None:
                elsewhere.append(message)
                continue
            row.mark(_in_words(message, row.label))
            if first is None:
                first = row
        if elsewhere:
            self.problem.show_failure("\n".join(elsewhere))
        if first is not None and reveal:
            self._reveal(first)

    def _reveal(self, row: FieldRow) -> None:
        for index, page in enumerate(self.pages):
            if row in page.fields.values():
                self.tabs.setCurrentIndex(index)
                row.setFocus()
                return

    # ---- saving --------------------------------------------------------------------------

    def save(self) -> None:
        """Save if everything is valid: the keys into the keyring, the rest into the file."""
        edited = self.candidate()
        if self._check(edited):
            return
        validated = validate_settings(edited)
        for name, value in self.keys.changes().items():
            try:
                if value is None:
                    self.settings_actions.delete_secret(name)
                else:
                    self.settings_actions.store_secret(name, value)
            except ConfigError as error:
                self._mark([(f"secrets.{name}", error.message)], reveal=True)
                return
        try:
            self.settings_actions.save_settings(validated)
        except ConfigError as error:
            self.problem.show_failure(error.message)
            return
        self.saved.emit(validated)
        self.accept()

    def done(self, result: int) -> None:
        self.tasks.cancel()
        super().done(result)

    # ---- the Test buttons ----------------------------------------------------------------

    def _start(self, button: QPushButton, test: Coroutine[Any, Any, None]) -> None:
        button.setEnabled(False)  # now, not when the task first runs: no second click meanwhile
        self.tasks.start(test)

    def _tested(self, prefix: str) -> Settings | None:
        """The edited settings, if nothing the test depends on is invalid (else marked)."""
        edited = self.candidate()
        problems = self._check(edited, reveal=False)
        relevant = [key for key, _ in problems if key is None or key.startswith(prefix)]
        if relevant:
            row = self.field(relevant[0] or "")
            if row is not None:
                self._reveal(row)
            return None
        return edited

    def _test_brain(self) -> None:
        test = _Test(
            self.brain.test_button,
            self.brain.result,
            "llm.",
            self.tr("Asking the service…"),
            self.settings_actions.test_brain,
            lambda edited: self.tr("It works: {address} answered.").format(
                address=edited.llm.base_url
            ),
        )
        self._start(test.button, self._run_test(test))

    def _test_voice(self) -> None:
        test = _Test(
            self.voice.test_button,
            self.voice.result,
            "tts.",
            self.tr("Speaking a sample…"),
            self.settings_actions.test_voice,
            lambda edited: self.tr(
                "The sample was played. If you heard nothing, check the speaker under Audio."
            ),
        )
        self._start(test.button, self._run_test(test))

    async def _run_test(self, test: _Test) -> None:
        """Try the settings as edited (if what the test needs is valid) and say what happened."""
        test.button.setEnabled(False)
        test.result.show_progress(test.doing)
        try:
            edited = self._tested(test.prefix)
            if edited is None:
                test.result.show_failure(self.tr("Fix the marked setting first, then test again."))
                return
            await test.action(edited, self.keys.secrets_in_use())
        except AssistantError as error:
            test.result.show_failure(error.message)
        except Exception as error:
            test.result.show_failure(unexpected(error))
            raise
        else:
            test.result.show_success(test.success(edited))
        finally:
            test.button.setEnabled(True)

    # ---- the devices, found when the dialog first shows ----------------------------------

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._devices_asked:
            self._devices_asked = True
            self.tasks.start(self._load_devices())
            self.tasks.start(self.speech.find_sizes())

    async def _load_devices(self) -> None:
        try:
            devices = await self.settings_actions.list_devices()
        except AssistantError as error:
            self.audio.mic_result.show_failure(error.message)
        else:
            self.audio.show_devices(devices)
