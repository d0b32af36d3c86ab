"""The settings dialog: invalid input is marked where it is and nothing invalid is saved; valid
settings go to the file and keys only to the keyring; every Test button reports what happened."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from keyring.backend import KeyringBackend
from keyring.backends import null
from keyring.errors import PasswordDeleteError
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QFileDialog

from assistant.config import (
    KEYRING_SERVICE,
    Secrets,
    Settings,
    delete_secret,
    load_settings,
    save_settings,
    store_secret,
)
from assistant.core.errors import AuthError, DeviceError, ModelMissing, ServiceError
from assistant.core.protocols import LoadProgress, ProgressListener
from assistant.providers.llm.openai_chat import PRESETS
from assistant.ui.settings_actions import AudioDevice, ModelSize, SettingsActions
from assistant.ui.settings_dialog import SettingsDialog
from assistant.ui.settings_speech_page import SpeechPage
from assistant.ui.translation import SIMPLIFIED_CHINESE, language_for

pytestmark = pytest.mark.gui

KEY = "sk-typed-in-the-dialog-0123456789"


class MemoryKeyring(KeyringBackend):
    """A keyring that keeps passwords in a dict (the machine has no keyring daemon)."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.saved: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.saved.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.saved[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.saved.pop((service, username), None) is None:
            raise PasswordDeleteError("not there")


class Rig:
    """The dialog with the real saving functions, pointed at a temporary file and keyring."""

    def __init__(self, qtbot: Any, path: Path, settings: Settings | None = None) -> None:
        self.path = path
        self.keyring: KeyringBackend = MemoryKeyring()
        self.brain_calls: list[tuple[Settings, Secrets]] = []
        self.voice_calls: list[tuple[Settings, Secrets]] = []
        self.brain_answer: Exception | None = None
        self.voice_answer: Exception | None = None
        self.levels: list[float] = [0.001, 0.3, 0.05]
        self.devices = [
            AudioDevice("Built-in Microphone", True, False),
            AudioDevice("USB Headset", True, True),
            AudioDevice("HDMI Speakers", False, True),
        ]
        self.saved: list[Settings] = []
        self.sizes = [ModelSize("tiny.en", False), ModelSize("base.en", True)]
        self.sizes.append(ModelSize("small", False))
        # What the download does next: report a LoadProgress, fail, or (None) finish.
        self.download_steps: asyncio.Queue[LoadProgress | Exception | None] = asyncio.Queue()
        self.downloads: list[str] = []
        self.downloads_cancelled = 0
        self.actions = SettingsActions(
            save_settings=lambda settings: save_settings(settings, path),
            store_secret=lambda name, value: store_secret(name, value, self.keyring),
            delete_secret=lambda name: delete_secret(name, self.keyring),
            test_brain=self._brain,
            test_voice=self._voice,
            test_microphone=self._microphone,
            test_speaker=self._speaker,
            list_devices=self._devices,
            brain_presets=dict(PRESETS),
            model_sizes=self._model_sizes,
            download_model=self._download,
        )
        self.dialog = SettingsDialog(
            settings or Settings(), Secrets(llm_api_key="sk-saved"), self.actions, environ={}
        )
        self.dialog.saved.connect(self.saved.append)
        qtbot.addWidget(self.dialog)

    async def _brain(self, settings: Settings, secrets: Secrets) -> None:
        self.brain_calls.append((settings, secrets))
        await asyncio.sleep(0.01)
        if self.brain_answer is not None:
            raise self.brain_answer

    async def _voice(self, settings: Settings, secrets: Secrets) -> None:
        self.voice_calls.append((settings, secrets))
        await asyncio.sleep(0.01)
        if self.voice_answer is not None:
            raise self.voice_answer

    async def _microphone(self, device: str | None, on_level: Callable[[float], None]) -> None:
        for level in self.levels:
            on_level(level)
            await asyncio.sleep(0.01)

    async def _speaker(self, device: str | None) -> None:
        await asyncio.sleep(0.01)

    async def _devices(self) -> list[AudioDevice]:
        return self.devices

    async def _model_sizes(self) -> list[ModelSize]:
        return self.sizes

    async def _download(self, name: str, progress: ProgressListener) -> None:
        self.downloads.append(name)
        try:
            while (step := await self.download_steps.get()) is not None:
                if isinstance(step, Exception):
                    raise step
                progress(step)
        except asyncio.CancelledError:
            self.downloads_cancelled += 1
            raise

    def click(self, qtbot: Any, button: Any) -> None:
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


@pytest.fixture
def rig(qtbot: Any, tmp_path: Path) -> Rig:
    return Rig(qtbot, tmp_path / "config.toml")


def choose_preset(rig: Rig, name: str) -> None:
    combo = rig.dialog.brain.preset
    combo.setCurrentIndex(combo.findData(name))
    combo.activated.emit(combo.currentIndex())  # what a user's choice in the list sends


# ---- validation ------------------------------------------------------------------------------


async def test_invalid_input_is_marked_at_its_field_and_nothing_is_saved(
    rig: Rig, qtbot: Any
) -> None:
    dialog = rig.dialog
    dialog.show()
    dialog.brain.url.setText("http://example.com/v1")
    dialog.brain.model.setText("  ")
    qtbot.keyClicks(dialog.keys.edits["llm_api_key"], KEY)
    rig.click(qtbot, dialog.buttons.button(dialog.buttons.StandardButton.Save))

    address, model = dialog.field("llm.base_url"), dialog.field("llm.model")
    assert address is not None and model is not None
    assert address.problem.startswith("The address 'http://example.com/v1' uses plain http")
    assert address.error.isVisibleTo(dialog)
    assert model.problem == "Model must not be empty."
    assert dialog.tabs.currentIndex() == dialog.pages.index(dialog.brain)
    assert dialog.isVisible() and dialog.result() != QDialog.DialogCode.Accepted
    assert not rig.path.exists() and rig.saved == []
    assert rig.keyring.saved == {}  # not even the key is stored while anything is invalid

    dialog.brain.url.setText("https://example.com/v1")
    dialog.brain.model.setText("some-model")
    rig.click(qtbot, dialog.buttons.button(dialog.buttons.StandardButton.Save))
    assert address.problem == "" and not address.error.isVisibleTo(dialog)
    assert rig.path.exists()


async def test_valid_settings_are_saved_and_the_key_goes_only_to_the_keyring(
    rig: Rig, qtbot: Any
) -> None:
    dialog = rig.dialog
    dialog.show()
    choose_preset(rig, "openai")
    assert dialog.brain.url.text() == "https://api.openai.com/v1"
    assert dialog.brain.model.text() == "gpt-4o-mini"
    key_box = dialog.keys.edits["llm_api_key"]
    assert key_box.echoMode() is key_box.EchoMode.Password
    qtbot.keyClicks(key_box, KEY)
    dialog.audio.talk_mode.setCurrentIndex(dialog.audio.talk_mode.findData("toggle"))
    rig.click(qtbot, dialog.buttons.button(dialog.buttons.StandardButton.Save))

    assert dialog.result() == QDialog.DialogCode.Accepted
    saved = load_settings(rig.path)
    assert saved.llm.base_url == "https://api.openai.com/v1"
    assert saved.llm.model == "gpt-4o-mini"
    assert saved.audio.talk_mode == "toggle"
    assert rig.saved == [saved]
    assert rig.keyring.saved == {(KEYRING_SERVICE, "llm_api_key"): KEY}
    assert KEY not in rig.path.read_text()


async def test_how_to_talk_and_the_talk_shortcut_are_chosen_in_settings(
    rig: Rig, qtbot: Any
) -> None:
    audio = rig.dialog.audio
    assert audio.conversation_mode.currentData() == "push_to_talk"
    assert audio.echo_cancellation.isChecked()
    assert [audio.wake_word.itemText(i) for i in range(2)] == ["“Hey Jarvis”", "“Okay Nabu”"]
    audio.conversation_mode.setCurrentIndex(audio.conversation_mode.findData("wake_word"))
    audio.wake_word.setCurrentIndex(audio.wake_word.findData("okay_nabu"))
    audio.echo_cancellation.setChecked(False)
    assert audio.use_shortcut.isChecked() and audio.shortcut.text() == "Ctrl+Alt+Space"
    audio.use_shortcut.setChecked(False)  # no talk shortcut
    assert not audio.shortcut.isEnabled()
    rig.dialog.show()
    rig.click(qtbot, rig.dialog.buttons.button(rig.dialog.buttons.StandardButton.Save))
    conversation = load_settings(rig.path).conversation
    assert (conversation.mode, conversation.wake_word) == ("wake_word", "okay_nabu")
    assert conversation.echo_cancellation is False
    assert load_settings(rig.path).audio.talk_shortcut == ""


async def test_the_window_language_is_chosen_in_settings_and_saved(
    qtbot: Any, tmp_path: Path
) -> None:
    """Settings > Audio offers the window's languages, each named in itself, after following the
    system (which it names); the choice goes to [ui] language and says when it takes effect."""
    rig = Rig(qtbot, tmp_path / "config.toml")
    audio = rig.dialog.audio
    choices = [audio.window_language.itemText(i) for i in range(audio.window_language.count())]
    followed = "简体中文" if language_for("auto") == SIMPLIFIED_CHINESE else "English"
    assert choices == [f"Follow the system ({followed})", "English", "简体中文"]
    assert audio.window_language.currentData() == "auto"  # the default
    row = rig.dialog.field("ui.language")
    assert row is not None and row.hint.text() == (
        "Takes effect the next time the assistant starts."
    )
    audio.window_language.setCurrentIndex(audio.window_language.findData("zh_CN"))
    rig.dialog.show()
    rig.click(qtbot, rig.dialog.buttons.button(rig.dialog.buttons.StandardButton.Save))
    assert load_settings(rig.path).ui.language == "zh_CN"

    settings = load_settings(rig.path)
    again = Rig(qtbot, tmp_path / "config.toml", settings)  # opened again: the choice shows
    assert again.dialog.audio.window_language.currentText() == "简体中文"
    again.dialog.audio.window_language.setCurrentIndex(0)
    again.dialog.show()
    again.click(qtbot, again.dialog.buttons.button(again.dialog.buttons.StandardButton.Save))
    assert load_settings(rig.path).ui.language == "auto"


async def test_forgetting_a_saved_key_removes_it_from_the_keyring(rig: Rig, qtbot: Any) -> None:
    rig.keyring.set_password(KEYRING_SERVICE, "llm_api_key", "sk-saved")
    keys = rig.dialog.keys
    assert "saved" in keys.edits["llm_api_key"].placeholderText()
    assert keys.edits["llm_api_key"].text() == ""  # a saved key is never shown
    assert not keys.forget_buttons["openai_api_key"].isEnabled()  # nothing saved to forget
    rig.click(qtbot, keys.forget_buttons["llm_api_key"])
    rig.dialog.save()
    assert rig.keyring.saved == {}


async def test_a_keyring_that_refuses_the_key_is_reported_at_the_key(rig: Rig, qtbot: Any) -> None:
    rig.keyring = null.Keyring()
    qtbot.keyClicks(rig.dialog.keys.edits["openai_api_key"], KEY)
    rig.dialog.save()
    row = rig.dialog.field("secrets.openai_api_key")
    assert row is not None and row.problem.startswith("No system keyring is available")
    assert KEY not in row.problem
    assert rig.dialog.tabs.currentIndex() == rig.dialog.pages.index(rig.dialog.keys)
    assert not rig.path.exists()


async def test_a_file_that_cannot_be_written_is_reported(qtbot: Any, tmp_path: Path) -> None:
    (tmp_path / "not-a-folder").write_text("")
    rig = Rig(qtbot, tmp_path / "not-a-folder" / "config.toml")
    rig.dialog.show()
    rig.dialog.save()
    assert rig.dialog.problem.failed
    assert "could not be saved" in rig.dialog.problem.text()
    assert rig.dialog.isVisible() and rig.saved == []


async def test_a_problem_without_a_field_is_shown_below_the_tabs(
    qtbot: Any, tmp_path: Path
) -> None:
    settings = Settings()
    settings.network.max_connections = 0  # only the file sets this
    rig = Rig(qtbot, tmp_path / "config.toml", settings)
    rig.dialog.save()
    assert "max_connections" in rig.dialog.problem.text()
    assert not rig.path.exists()


# ---- the Test buttons ------------------------------------------------------------------------


async def test_the_brain_test_reports_success_or_the_exact_problem(rig: Rig, qtbot: Any) -> None:
    page = rig.dialog.brain
    qtbot.keyClicks(rig.dialog.keys.edits["llm_api_key"], KEY)
    rig.brain_answer = AuthError(
        "The chat service rejected the API key. Check Settings > API keys."
    )
    rig.click(qtbot, page.test_button)
    assert not page.test_button.isEnabled()  # at once: a second click starts nothing
    await asyncio.sleep(0.001)
    assert page.result.text() == "Asking the service…"
    await rig.dialog.tasks.wait()
    assert page.result.failed
    assert page.result.text() == rig.brain_answer.message
    assert page.test_button.isEnabled()
    tested, secrets = rig.brain_calls[0]
    assert tested.llm.base_url == "http://127.0.0.1:11434/v1"
    assert secrets.llm_api_key == KEY  # the key as typed, not yet saved

    rig.brain_answer = None
    rig.click(qtbot, page.test_button)
    await rig.dialog.tasks.wait()
    assert not page.result.failed
    assert page.result.text() == "✓ It works: http://127.0.0.1:11434/v1 answered."
    assert not rig.path.exists()  # testing saves nothing


async def test_an_invalid_address_is_marked_instead_of_tested(rig: Rig, qtbot: Any) -> None:
    rig.dialog.brain.url.setText("ftp://example.com")
    rig.click(qtbot, rig.dialog.brain.test_button)
    await rig.dialog.tasks.wait()
    assert rig.brain_calls == []
    assert rig.dialog.brain.result.text() == "Fix the marked setting first, then test again."
    row = rig.dialog.field("llm.base_url")
    assert row is not None and "is not a web address" in row.problem


async def test_an_unexpected_failure_still_gives_the_button_back(rig: Rig, qtbot: Any) -> None:
    rig.brain_answer = RuntimeError("a bug")
    rig.click(qtbot, rig.dialog.brain.test_button)
    await rig.dialog.tasks.wait()
    assert "unexpected" in rig.dialog.brain.result.text()
    assert rig.dialog.brain.test_button.isEnabled()


async def test_the_voice_test_speaks_with_the_voice_as_edited(rig: Rig, qtbot: Any) -> None:
    page = rig.dialog.voice
    page.provider.setCurrentIndex(page.provider.findData("openai"))
    assert page.openai_url.isVisibleTo(page) or not page.isVisible()
    page.openai_speed.setValue(1.5)
    qtbot.keyClicks(rig.dialog.keys.edits["openai_api_key"], KEY)
    rig.click(qtbot, page.test_button)
    await rig.dialog.tasks.wait()
    tested, secrets = rig.voice_calls[0]
    assert tested.tts.provider == "openai" and tested.tts.openai.speed == 1.5
    assert secrets.openai_api_key == KEY
    assert page.result.text().startswith("✓ The sample was played.")

    rig.voice_answer = ServiceError("The voice service failed (500). Try again in a moment.")
    rig.click(qtbot, page.test_button)
    await rig.dialog.tasks.wait()
    assert page.result.failed and page.result.text() == rig.voice_answer.message


async def test_the_microphone_test_shows_the_level_and_what_it_heard(rig: Rig, qtbot: Any) -> None:
    page = rig.dialog.audio
    shown: list[float] = []
    rig.levels = [0.001, 0.3, 0.05]
    original = rig.actions.test_microphone

    async def watching(device: str | None, on_level: Callable[[float], None]) -> None:
        await original(device, lambda level: (on_level(level), shown.append(page.meter.fill)))

    rig.actions.test_microphone = watching
    rig.click(qtbot, page.mic_button)
    assert not page.mic_button.isEnabled()
    await rig.dialog.tasks.wait()
    assert max(shown) > 0.8  # 0.3 RMS is loud speech: most of the bar
    assert page.mic_result.text() == "✓ The microphone works: it heard you."
    assert page.meter.fill == 0 and page.mic_button.isEnabled()

    rig.levels = [0.0001, 0.0002]
    rig.click(qtbot, page.mic_button)
    await rig.dialog.tasks.wait()
    assert page.mic_result.failed and "only silence" in page.mic_result.text()

    async def no_microphone(device: str | None, on_level: Callable[[float], None]) -> None:
        raise DeviceError("No microphone was found. Connect one, then try again.")

    rig.actions.test_microphone = no_microphone
    rig.click(qtbot, page.mic_button)
    await rig.dialog.tasks.wait()
    assert page.mic_result.text() == "No microphone was found. Connect one, then try again."
    assert page.mic_button.isEnabled()


async def test_the_speaker_test_plays_and_says_so(rig: Rig, qtbot: Any) -> None:
    page = rig.dialog.audio
    rig.click(qtbot, page.speaker_button)
    await rig.dialog.tasks.wait()
    assert page.speaker_result.text().startswith("✓ The tone was played.")
    assert page.speaker_button.isEnabled()


# ---- devices ---------------------------------------------------------------------------------


async def test_the_devices_found_are_offered_and_the_choice_is_saved(rig: Rig, qtbot: Any) -> None:
    rig.dialog.show()
    await rig.dialog.tasks.wait()
    inputs = rig.dialog.audio.input_device
    outputs = rig.dialog.audio.output_device
    assert [inputs.itemText(i) for i in range(inputs.count())] == [
        "System default",
        "Built-in Microphone",
        "USB Headset",
    ]
    assert outputs.count() == 3 and outputs.itemText(2) == "HDMI Speakers"
    inputs.setCurrentIndex(2)
    rig.dialog.save()
    saved = load_settings(rig.path)
    assert saved.audio.input_device == "USB Headset" and saved.audio.output_device is None


async def test_a_device_not_plugged_in_now_stays_chosen(qtbot: Any, tmp_path: Path) -> None:
    settings = Settings()
    settings.audio.input_device = "Old Microphone"
    rig = Rig(qtbot, tmp_path / "config.toml", settings)
    rig.dialog.show()
    await rig.dialog.tasks.wait()
    assert rig.dialog.audio.input_device.currentText() == "Old Microphone (not found now)"
    rig.dialog.save()
    assert load_settings(rig.path).audio.input_device == "Old Microphone"


async def test_closing_the_dialog_stops_a_test_that_is_still_running(rig: Rig, qtbot: Any) -> None:
    started = asyncio.Event()

    async def slow(settings: Settings, secrets: Secrets) -> None:
        started.set()
        await asyncio.sleep(30)

    rig.actions.test_brain = slow
    rig.dialog.show()
    rig.click(qtbot, rig.dialog.brain.test_button)
    await started.wait()
    rig.dialog.reject()
    await asyncio.wait_for(rig.dialog.tasks.wait(), 2)
    assert not rig.dialog.tasks.busy


# ---- speech recognition: the model, downloading one, and the other settings ------------------


async def speech_page(rig: Rig) -> SpeechPage:
    """The dialog shown at Settings > Speech recognition, with the sizes the app knows."""
    rig.dialog.show()
    rig.dialog.tabs.setCurrentIndex(rig.dialog.pages.index(rig.dialog.speech))
    await rig.dialog.tasks.wait()
    return rig.dialog.speech


def choose_model(rig: Rig, name: str) -> None:
    combo = rig.dialog.speech.model
    combo.setCurrentIndex(combo.findData(name))


def model_items(rig: Rig) -> list[str]:
    combo = rig.dialog.speech.model
    return [combo.itemText(i) for i in range(combo.count())]


async def test_the_speech_model_is_the_built_in_one_a_size_or_a_folder(
    rig: Rig, qtbot: Any, tmp_path: Path
) -> None:
    page = await speech_page(rig)  # the sizes are asked for when the dialog shows
    assert model_items(rig) == [
        "Built-in: tiny.en (English, works offline)",
        "tiny.en (English, 75 MB download)",
        "base.en (English, downloaded)",
        "small (many languages, 485 MB download)",
    ]
    assert page.chosen_model() == "bundled" and not page.download_row.isVisible()
    choose_model(rig, "small")
    assert page.download_button.isVisible() and page.download_button.text() == "&Download small"
    choose_model(rig, "base.en")
    assert not page.download_row.isVisible()  # it is here already

    empty, model = tmp_path / "empty", tmp_path / "my-model"
    empty.mkdir()
    model.mkdir()
    (model / "model.bin").write_bytes(b"weights")
    for folder in (empty, model):
        qtbot.mouseClick(page.browse, Qt.MouseButton.LeftButton)
        chooser = page.findChildren(QFileDialog)[-1]
        assert chooser.isVisible()
        chooser.selectFile(str(folder))  # what a person picks and accepts
        chooser.accept()
        if folder is empty:
            row = rig.dialog.field("stt.model")
            assert row is not None and "has no model.bin" in row.problem
            assert page.chosen_model() == "base.en"  # refused: the choice stays
    assert page.model.currentText() == f"Folder: {model}"
    rig.dialog.save()
    assert load_settings(rig.path).stt.model == str(model)


async def test_speech_settings_are_checked_where_they_are_and_saved(rig: Rig, qtbot: Any) -> None:
    page = rig.dialog.speech
    rig.dialog.show()
    assert page.compute_type.currentText() == "int8"  # the default
    assert page.device.currentData() == "cpu"
    rig.dialog.tabs.setCurrentIndex(0)
    page.compute_type.setEditText("int9")
    rig.dialog.save()
    row = rig.dialog.field("stt.compute_type")
    assert row is not None and row.problem.startswith("Precision must be one of default, auto,")
    assert "(got 'int9')" in row.problem
    assert rig.dialog.tabs.currentIndex() == rig.dialog.pages.index(page)
    assert not rig.path.exists() and rig.saved == []

    page.compute_type.setEditText("float16")
    page.device.setCurrentIndex(page.device.findData("cuda"))
    qtbot.keyClicks(page.prompt, "Anna Kowalski, Kubernetes")
    page.language.setCurrentIndex(page.language.findData("de"))
    rig.dialog.save()
    assert row.problem == ""
    stt = load_settings(rig.path).stt
    assert (stt.compute_type, stt.device, stt.language) == ("float16", "cuda", "de")
    assert stt.initial_prompt == "Anna Kowalski, Kubernetes"


async def test_a_remote_service_has_no_model_to_choose_or_download(rig: Rig) -> None:
    page = await speech_page(rig)
    choose_model(rig, "small")
    page.provider.setCurrentIndex(page.provider.findData("openai"))
    assert not page.download_row.isVisible()
    assert not page.model.isEnabled() and not page.device.isEnabled()
    assert page.prompt.isEnabled()  # a remote service takes names too


async def test_the_download_button_shows_progress_and_can_be_cancelled(
    rig: Rig, qtbot: Any
) -> None:
    page = await speech_page(rig)
    choose_model(rig, "small")
    qtbot.mouseClick(page.download_button, Qt.MouseButton.LeftButton)
    assert not page.download_button.isEnabled()  # at once: a second click starts nothing
    assert page.download_bar.isVisible() and page.cancel_button.isVisible()
    rig.download_steps.put_nowait(
        LoadProgress("Downloading the speech model small: 121 of 485 MB", 0.25)
    )
    await until(lambda: page.download_bar.value() == 25, what="the download's progress")
    assert page.download_result.text() == "Downloading the speech model small: 121 of 485 MB"

    qtbot.mouseClick(page.cancel_button, Qt.MouseButton.LeftButton)
    await rig.dialog.tasks.wait()
    assert rig.downloads_cancelled == 1
    assert page.download_result.text() == "The download of small was cancelled."
    assert not page.download_bar.isVisible() and not page.cancel_button.isVisible()
    assert page.download_button.isEnabled() and page.download_button.isVisible()

    qtbot.mouseClick(page.download_button, Qt.MouseButton.LeftButton)
    rig.download_steps.put_nowait(LoadProgress("Downloading the speech model small: done", 1.0))
    rig.download_steps.put_nowait(None)
    await rig.dialog.tasks.wait()
    assert rig.downloads == ["small", "small"]
    assert page.download_result.text() == "✓ small is downloaded. Save to use it."
    assert page.model.currentText() == "small (many languages, downloaded)"
    assert not page.download_button.isVisible() and not page.download_bar.isVisible()
    assert not rig.path.exists()  # downloading saves nothing


async def test_a_failed_download_says_why_and_gives_the_button_back(rig: Rig, qtbot: Any) -> None:
    page = await speech_page(rig)
    choose_model(rig, "tiny.en")
    problem = ModelMissing(
        "The speech model 'tiny.en' is not on this computer and could not be downloaded "
        "(the model hub could not be reached; are you offline?).",
        model="tiny.en",
    )
    qtbot.mouseClick(page.download_button, Qt.MouseButton.LeftButton)
    rig.download_steps.put_nowait(problem)
    await rig.dialog.tasks.wait()
    assert page.download_result.failed and page.download_result.text() == problem.message
    assert page.download_button.isEnabled() and not page.download_bar.isVisible()
    assert page.model.currentText() == "tiny.en (English, 75 MB download)"


async def test_closing_the_dialog_stops_a_download(rig: Rig, qtbot: Any) -> None:
    page = await speech_page(rig)
    choose_model(rig, "small")
    qtbot.mouseClick(page.download_button, Qt.MouseButton.LeftButton)
    await until(lambda: rig.downloads == ["small"], what="the download to start")
    rig.dialog.reject()
    await asyncio.wait_for(rig.dialog.tasks.wait(), 2)
    assert rig.downloads_cancelled == 1


async def until(condition: Callable[[], object], seconds: float = 5.0, what: str = "") -> None:
    from tests.ui.harness import until as wait_until

    await wait_until(condition, seconds, what)
