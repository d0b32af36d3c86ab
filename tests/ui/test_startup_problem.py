"""A settings file that cannot be used never means "no window": the start-up problem window shows
the same precise message the command line prints, opens the file, reads it again once fixed, or
starts with the defaults without ever writing over the file; every such problem is logged."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QObject, QTimer, QUrl, Slot
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QApplication

from assistant.app import open_session
from assistant.config import Secrets, Settings, load_settings
from assistant.core.errors import ConfigError
from assistant.core.hands_free import ListeningMode
from assistant.ui.startup_problem import (
    ON_DEFAULTS,
    StartChoice,
    StartupProblem,
    on_defaults,
    settings_to_start_with,
)
from tests.ui.harness import until

pytestmark = pytest.mark.gui

BROKEN = "[llm]\nmodel = llama3.2\n"  # a text value without its quotes
FIXED = '[llm]\nmodel = "llama3.2"\n'


def the_message(path: Path) -> str:
    """What the command line prints for the file (after "Configuration problem: ")."""
    with pytest.raises(ConfigError) as raised:
        load_settings(path)
    return raised.value.message


def when_shown(act: Callable[[StartupProblem], None]) -> list[StartupProblem]:
    """Do `act` on the start-up problem window once it is up (it runs its own event loop)."""
    seen: list[StartupProblem] = []

    def find() -> None:
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, StartupProblem):
            QTimer.singleShot(10, find)
            return
        seen.append(dialog)
        act(dialog)

    QTimer.singleShot(0, find)
    return seen


def test_a_file_that_is_not_toml_opens_the_window_with_the_precise_message_and_logs_it(
    qtbot: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "config.toml"
    path.write_text(BROKEN, encoding="utf-8")
    message = the_message(path)
    assert "line 2" in message  # precise: the file, the line, what to do

    shown = when_shown(lambda dialog: dialog.defaults_button.click())
    with caplog.at_level(logging.INFO):
        choice = settings_to_start_with(path, lambda: load_settings(path))

    (dialog,) = shown
    assert dialog.message.text() == message
    assert dialog.open_button.isVisibleTo(dialog) and dialog.note.text() == ON_DEFAULTS
    assert choice == StartChoice(Settings(), message)
    assert path.read_text(encoding="utf-8") == BROKEN  # never written over
    logged = [(r.levelno, r.getMessage()) for r in caplog.records]
    assert (logging.ERROR, f"The settings file cannot be used: {message}") in logged


def test_a_file_that_can_be_used_opens_no_problem_window(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(FIXED, encoding="utf-8")
    choice = settings_to_start_with(path, lambda: load_settings(path))
    assert choice is not None and choice.problem is None
    assert choice.settings.llm.model == "llama3.2"


def test_a_bad_value_is_named_and_quit_means_no_start(qtbot: Any, tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[tts]\nprovider = "polly"\n', encoding="utf-8")
    shown = when_shown(lambda dialog: dialog.quit_button.click())
    assert settings_to_start_with(path, lambda: load_settings(path)) is None
    assert "[tts] provider" in shown[0].message.text()
    assert "polly" in shown[0].message.text()


class Opened(QObject):
    """Receives the URLs the desktop is asked to open (Qt's own hook for a URL scheme)."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[QUrl] = []

    @Slot(QUrl)
    def open(self, url: QUrl) -> None:
        self.urls.append(url)


def test_open_the_file_asks_the_desktop_to_open_that_file(qtbot: Any, tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(BROKEN, encoding="utf-8")
    dialog = StartupProblem(path, the_message(path), lambda: load_settings(path))
    qtbot.addWidget(dialog)
    opened = Opened()
    QDesktopServices.setUrlHandler("file", opened, "open")
    try:
        dialog.open_button.click()
    finally:
        QDesktopServices.unsetUrlHandler("file")
    assert opened.urls == [QUrl.fromLocalFile(str(path))]
    assert not dialog.feedback.isVisibleTo(dialog) and dialog.choice is None


def test_try_again_says_it_is_still_broken_then_starts_with_the_fixed_file(
    qtbot: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "config.toml"
    path.write_text(BROKEN, encoding="utf-8")
    dialog = StartupProblem(path, the_message(path), lambda: load_settings(path))
    qtbot.addWidget(dialog)
    dialog.show()

    path.write_text('[llm]\nmodel = "llama3.2"\ntemperature = "warm"\n', encoding="utf-8")
    with caplog.at_level(logging.ERROR):
        dialog.retry_button.click()
    assert dialog.isVisible() and dialog.choice is None
    assert dialog.message.text() == the_message(path)  # the new problem, precisely
    assert "temperature" in dialog.message.text() and dialog.feedback.isVisibleTo(dialog)
    layout = dialog.layout()
    assert layout is not None
    assert dialog.height() >= layout.totalHeightForWidth(dialog.width())  # nothing cut off
    assert any("temperature" in r.getMessage() for r in caplog.records)

    path.write_text(FIXED, encoding="utf-8")
    dialog.retry_button.click()
    assert not dialog.isVisible() and dialog.result() == StartupProblem.DialogCode.Accepted
    assert dialog.choice is not None and dialog.choice.problem is None
    assert dialog.choice.settings.llm.model == "llama3.2"


def test_a_named_file_that_does_not_exist_has_nothing_to_open(qtbot: Any, tmp_path: Path) -> None:
    path = tmp_path / "missing.toml"
    message = the_message(path)
    assert "does not exist" in message
    dialog = StartupProblem(path, message, lambda: load_settings(path))
    qtbot.addWidget(dialog)
    dialog.show()
    assert not dialog.open_button.isVisible()
    assert dialog.retry_button.isVisible() and dialog.defaults_button.isVisible()


# ---- the window on the defaults --------------------------------------------------------------


@pytest.fixture
def own_history(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The session's history in the test's folder: no earlier test's conversation is shown."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))


async def test_on_the_defaults_the_window_says_why_and_settings_never_write_over_the_file(
    qtbot: Any, tmp_path: Path, own_history: None
) -> None:
    path = tmp_path / "config.toml"
    path.write_text(BROKEN, encoding="utf-8")
    message = the_message(path)
    session = open_session(Settings(), Secrets(), path, config_problem=message)
    running = asyncio.get_running_loop().create_task(session.run())
    await until(lambda: not session.services.controller.getting_ready, 30)  # run() began
    window = session.window
    assert " ".join(on_defaults(message).split()) in " ".join(
        window.conversation.toPlainText().split()
    )

    changed = Settings()
    changed.llm.model = "another-model"
    session.settings_actions().save_settings(changed)  # as the Settings dialog's Save does
    assert path.read_text(encoding="utf-8") == BROKEN
    assert f"Not saved: {path} is left as it is" in window.conversation.toPlainText()

    window.close()
    await asyncio.wait_for(running, 20)


async def test_settings_that_fail_when_the_services_are_built_fall_back_to_the_defaults(
    qtbot: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture, own_history: None
) -> None:
    settings = Settings()
    settings.network.ca_file = str(tmp_path / "gone.pem")  # deleted since it was chosen
    session = open_session(settings, Secrets(), tmp_path / "config.toml")
    with caplog.at_level(logging.ERROR):
        running = asyncio.get_running_loop().create_task(session.run())
        await until(lambda: not session.services.controller.getting_ready, 30)  # run() began
    window = session.window
    assert session.config_problem is not None
    assert "gone.pem" in session.config_problem and session.settings == Settings()
    assert "default settings for now" in window.conversation.toPlainText()
    assert any("gone.pem" in r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR)
    window.close()
    await asyncio.wait_for(running, 20)


async def test_a_microphone_missing_at_start_up_leaves_the_window_and_goes_to_the_log(
    qtbot: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture, own_history: None
) -> None:
    settings = Settings()
    settings.conversation.mode = "hands_free"
    settings.audio.input_device = "No such microphone"
    session = open_session(settings, Secrets(), tmp_path / "config.toml")
    with caplog.at_level(logging.WARNING):
        running = asyncio.get_running_loop().create_task(session.run())
        await until(lambda: not session.services.controller.getting_ready, 30)  # run() began
        window = session.window
        await until(lambda: "microphone" in window.conversation.toPlainText(), 20)
    assert window.listening_mode.mode is ListeningMode.PUSH_TO_TALK
    shown = window.conversation.toPlainText().strip()  # why, in the window's words
    logged = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert f"The hands_free mode could not start: {shown}" in logged
    window.close()
    await asyncio.wait_for(running, 20)
