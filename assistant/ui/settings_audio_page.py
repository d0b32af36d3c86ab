"""Settings > Audio: which microphone and speaker, how a turn begins (the Talk button, or the
voice alone), a test of each device, and the window's language (the dialog's general choices
live on this first page).

The device lists show what people call their devices ("USB Headset", the sound server's
descriptions), with "System default" first; the settings keep each device's stable name."""

from __future__ import annotations

from collections.abc import Coroutine
from typing import Any, get_args, get_type_hints

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from assistant.config import ConversationSettings, Settings
from assistant.core.errors import AssistantError
from assistant.core.shortcut import DEFAULT_TALK_CHORD, Chord
from assistant.ui.check_result import CheckResult, unexpected
from assistant.ui.level_meter import LevelMeter, fill_of
from assistant.ui.listening_mode_box import LABELS as MODE_LABELS
from assistant.ui.settings_actions import AudioDevice, SettingsActions
from assistant.ui.settings_page import SettingsPage
from assistant.ui.shortcut_field import ShortcutField
from assistant.ui.tasks import BackgroundTasks
from assistant.ui.translation import (
    ENGLISH,
    QT_TRANSLATE_NOOP,
    SIMPLIFIED_CHINESE,
    language_for,
)

SYSTEM_DEFAULT = QT_TRANSLATE_NOOP("AudioPage", "System default")
NOT_FOUND = QT_TRANSLATE_NOOP("AudioPage", "not found now")
QUIET = 0.3  # a test recording whose loudest moment filled less of the meter heard nothing
WAKE_WORDS: tuple[str, ...] = get_args(get_type_hints(ConversationSettings)["wake_word"])
# The languages the window can be shown in, each named in itself (as language menus do, so that
# a person finds their own language whatever the window is in now); "auto" comes first.
WINDOW_LANGUAGES = {ENGLISH: "English", SIMPLIFIED_CHINESE: "简体中文"}


def _label_of(device: AudioDevice) -> str:
    """What people call the device ("USB Headset"); its name where nothing else is known."""
    return device.label or device.name


def _is_default(device: AudioDevice) -> bool:
    return device.is_default


def wake_phrase(name: str) -> str:
    """ "hey_jarvis" as the user says it: "Hey Jarvis"."""
    return name.replace("_", " ").title()


class AudioPage(SettingsPage):
    title = QT_TRANSLATE_NOOP("AudioPage", "Audio")

    def __init__(self, actions: SettingsActions, tasks: BackgroundTasks) -> None:
        super().__init__()
        self._actions = actions
        self._tasks = tasks
        self.input_device = QComboBox()
        self.output_device = QComboBox()
        self._devices_found = False  # until the list arrives, a chosen device is not "missing"
        self.talk_mode = QComboBox()
        self.talk_mode.addItem(self.tr("Hold to talk (let go to send)"), "hold")
        self.talk_mode.addItem(self.tr("Click to start, click again to send"), "toggle")
        self.use_shortcut = QCheckBox(self.tr("From any application:"))
        self.shortcut = ShortcutField(Chord.parse(DEFAULT_TALK_CHORD))
        self.shortcut.recording_changed.connect(actions.pause_shortcut)
        self.use_shortcut.toggled.connect(self.shortcut.setEnabled)
        self.max_seconds = QSpinBox()
        self.max_seconds.setRange(1, 600)
        self.max_seconds.setSuffix(self.tr(" s"))
        self.conversation_mode = QComboBox()
        for mode, label in MODE_LABELS.items():
            self.conversation_mode.addItem(
                QCoreApplication.translate("ListeningModeBox", label), mode.value
            )
        self.wake_word = QComboBox()
        for name in WAKE_WORDS:
            self.wake_word.addItem(f"“{wake_phrase(name)}”", name)
        self.echo_cancellation = QCheckBox(
            self.tr("Take the assistant's own voice out of the microphone")
        )
        self.window_language = QComboBox()
        followed = WINDOW_LANGUAGES[language_for("auto")]
        self.window_language.addItem(
            self.tr("Follow the system ({language})").format(language=followed), "auto"
        )
        for language, name in WINDOW_LANGUAGES.items():
            self.window_language.addItem(name, language)
        self.mic_button = QPushButton(self.tr("Test the &microphone"))
        self.meter = LevelMeter()
        self.mic_result = CheckResult()
        self.speaker_button = QPushButton(self.tr("Play a test &sound"))
        self.speaker_result = CheckResult()
        self.mic_button.clicked.connect(
            lambda: self._start(self.mic_button, self._test_microphone())
        )
        self.speaker_button.clicked.connect(
            lambda: self._start(self.speaker_button, self._test_speaker())
        )

        self.add_field(self.tr("&Microphone:"), "audio.input_device", self.input_device)
        self.form.addRow("", self._test_row(self.mic_button, self.meter, self.mic_result))
        self.add_field(self.tr("S&peaker:"), "audio.output_device", self.output_device)
        self.form.addRow("", self._test_row(self.speaker_button, None, self.speaker_result))
        self.add_field(self.tr("&Talk button:"), "audio.talk_mode", self.talk_mode)
        shortcut_row = self.add_field(
            self.tr("Talk s&hortcut:"),
            "audio.talk_shortcut",
            self._shortcut_row(),
            actions.shortcut_problem
            or self.tr(
                "Click the shortcut, then press the keys you want; it works as the Talk button."
            ),
        )
        self.shortcut.refused.connect(shortcut_row.mark)
        self.add_field(
            self.tr("&Longest recording:"),
            "audio.max_recording_seconds",
            self.max_seconds,
            self.tr("A recording stops by itself after this long."),
        )
        self.add_field(
            self.tr("How to t&alk:"),
            "conversation.mode",
            self.conversation_mode,
            self.tr(
                "Hands-free keeps the microphone open and answers when you pause; the wake word "
                "waits for its phrase first. Also beside the Talk button (Ctrl+L)."
            ),
        )
        self.add_field(self.tr("&Wake word:"), "conversation.wake_word", self.wake_word)
        self.add_field(
            self.tr("&Echo cancellation:"),
            "conversation.echo_cancellation",
            self.echo_cancellation,
            self.tr(
                "Keep it on with speakers: without it the assistant hears itself and interrupts "
                "its own answers. Headphones do not need it."
            ),
        )
        # Applied at the next start: Qt does not re-label the widgets that already exist, and
        # re-labelling every one of them by hand would miss some.
        self.add_field(
            self.tr("Window lan&guage:"),
            "ui.language",
            self.window_language,
            self.tr("Takes effect the next time the assistant starts."),
        )

    def _start(self, button: QPushButton, test: Coroutine[Any, Any, None]) -> None:
        button.setEnabled(False)  # now, not when the task first runs: no second click meanwhile
        self._tasks.start(test)

    def _shortcut_row(self) -> QWidget:
        row = QWidget()
        layout = QHBoxLayout(row)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.use_shortcut)
        layout.addWidget(self.shortcut, 1)
        return row

    @staticmethod
    def _test_row(button: QPushButton, meter: LevelMeter | None, result: CheckResult) -> QWidget:
        row = QWidget()
        layout = QVBoxLayout(row)
        layout.setContentsMargins(0, 0, 0, 0)
        line = QHBoxLayout()
        line.addWidget(button)
        if meter is not None:
            line.addWidget(meter, 1)
        else:
            line.addStretch(1)
        layout.addLayout(line)
        layout.addWidget(result)
        return row

    def load(self, settings: Settings) -> None:
        self._fill(self.input_device, [], settings.audio.input_device)
        self._fill(self.output_device, [], settings.audio.output_device)
        self._devices_found = False
        self.talk_mode.setCurrentIndex(max(0, self.talk_mode.findData(settings.audio.talk_mode)))
        self.max_seconds.setValue(round(settings.audio.max_recording_seconds))
        chord = settings.audio.talk_shortcut
        self.use_shortcut.setChecked(bool(chord))
        self.shortcut.setEnabled(bool(chord))
        self.shortcut.set_chord(Chord.parse(chord or DEFAULT_TALK_CHORD))
        conversation = settings.conversation
        self._choose(self.conversation_mode, conversation.mode)
        self._choose(self.wake_word, conversation.wake_word)
        self.echo_cancellation.setChecked(conversation.echo_cancellation)
        self._choose(self.window_language, settings.ui.language)

    def show_devices(self, devices: list[AudioDevice]) -> None:
        """The devices found now; what was chosen stays chosen (even if it is unplugged)."""
        self._devices_found = True
        inputs = [d for d in devices if d.has_input]
        outputs = [d for d in devices if d.has_output]
        self._fill(self.input_device, inputs, self.input_device.currentData())
        self._fill(self.output_device, outputs, self.output_device.currentData())

    def store(self, settings: Settings) -> None:
        settings.audio.input_device = self.input_device.currentData()
        settings.audio.output_device = self.output_device.currentData()
        settings.audio.talk_mode = self.talk_mode.currentData()
        settings.audio.max_recording_seconds = float(self.max_seconds.value())
        on = self.use_shortcut.isChecked()
        settings.audio.talk_shortcut = str(self.shortcut.chord) if on else ""
        settings.conversation.mode = self.conversation_mode.currentData()
        settings.conversation.wake_word = self.wake_word.currentData()
        settings.conversation.echo_cancellation = self.echo_cancellation.isChecked()
        settings.ui.language = self.window_language.currentData()

    @staticmethod
    def _choose(combo: QComboBox, value: str) -> None:
        combo.setCurrentIndex(max(0, combo.findData(value)))

    def _fill(self, combo: QComboBox, devices: list[AudioDevice], chosen: str | int | None) -> None:
        """`devices` by what people call them, "System default" (saying which device that is
        now) first; `chosen` selected, found by its name or, as written by hand, its label."""
        combo.clear()
        default = next((_label_of(d) for d in devices if _is_default(d)), "")
        system = self.tr(SYSTEM_DEFAULT)
        combo.addItem(f"{system} ({default})" if default else system, None)
        for device in devices:
            combo.addItem(_label_of(device), device.name)
        if chosen is not None and combo.findData(chosen) < 0:
            by_label = combo.findText(str(chosen), Qt.MatchFlag.MatchFixedString)
            if by_label > 0:
                chosen = combo.itemData(by_label)
            else:
                missing = f"{chosen} ({self.tr(NOT_FOUND)})" if self._devices_found else str(chosen)
                combo.addItem(missing, chosen)
        combo.setCurrentIndex(max(0, combo.findData(chosen)))

    async def _test_microphone(self) -> None:
        self.mic_button.setEnabled(False)
        self.mic_result.show_progress(self.tr("Listening for a few seconds… say something."))
        loudest = 0.0

        def heard(level: float) -> None:
            nonlocal loudest
            loudest = max(loudest, level)
            self.meter.set_level(level)

        try:
            await self._actions.test_microphone(self.input_device.currentData(), heard)
        except AssistantError as error:
            self.mic_result.show_failure(error.message)
        except Exception as error:
            self.mic_result.show_failure(unexpected(error))
            raise
        else:
            if fill_of(loudest) < QUIET:
                self.mic_result.show_failure(
                    self.tr(
                        "The microphone recorded only silence. Check that it is not muted, or "
                        "choose another microphone above."
                    )
                )
            else:
                self.mic_result.show_success(self.tr("The microphone works: it heard you."))
        finally:
            self.meter.set_level(0.0)
            self.mic_button.setEnabled(True)

    async def _test_speaker(self) -> None:
        self.speaker_button.setEnabled(False)
        self.speaker_result.show_progress(self.tr("Playing a short tone…"))
        try:
            await self._actions.test_speaker(self.output_device.currentData())
        except AssistantError as error:
            self.speaker_result.show_failure(error.message)
        except Exception as error:
            self.speaker_result.show_failure(unexpected(error))
            raise
        else:
            self.speaker_result.show_success(
                self.tr(
                    "The tone was played. If you heard nothing, check the volume or choose "
                    "another speaker."
                )
            )
        finally:
            self.speaker_button.setEnabled(True)
