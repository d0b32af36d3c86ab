"""The window in the user's language: the shipped Simplified Chinese translation loads and shows
on the Talk button, the tray menu and Settings; English stays English; a missing translation
falls back to English with a log line; and every string of the .ts file is translated."""

from __future__ import annotations

import asyncio
import logging
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QLocale, QTranslator
from PySide6.QtWidgets import QApplication, QDialogButtonBox

from assistant.config import Secrets, Settings
from assistant.config.places import resources_dir
from assistant.providers.llm.openai_chat import PRESETS
from assistant.ui.check_result import unexpected
from assistant.ui.main_window import MainWindow
from assistant.ui.settings_actions import ModelSize, SettingsActions
from assistant.ui.settings_dialog import SettingsDialog
from assistant.ui.translation import ENGLISH, SIMPLIFIED_CHINESE, install_translation, language_for
from assistant.ui.tray import Tray, app_icon
from tests.ui.harness import close_controllers, make_controller, until

pytestmark = pytest.mark.gui

TRANSLATIONS = resources_dir() / "translations"
SCREENSHOTS = Path(os.environ.get("TRANSLATION_SCREENSHOTS", "/tmp"))
PLACEHOLDER = re.compile(r"\{\w*\}")  # where str.format puts a value: "{model}", "{}"


@pytest.fixture(autouse=True)
async def _closing() -> AsyncIterator[None]:
    yield
    await close_controllers()


@pytest.fixture
def in_language(qapp: QApplication) -> Iterator[Any]:
    """Installs a translation for one test; every translator is taken off the app afterwards,
    so that the other tests see the English they compare with."""

    def install(setting: str, folder: Path = TRANSLATIONS) -> str:
        return install_translation(qapp, setting, folder)

    yield install
    for translator in qapp.findChildren(QTranslator):
        qapp.removeTranslator(translator)
        translator.setParent(None)


async def _no_test(*args: object) -> None:
    return None


def settings_dialog(qtbot: Any) -> SettingsDialog:
    actions = SettingsActions(
        save_settings=lambda settings: None,
        store_secret=lambda name, value: None,
        delete_secret=lambda name: None,
        test_brain=_no_test,
        test_voice=_no_test,
        test_microphone=_no_test,
        test_speaker=_no_test,
        brain_presets=dict(PRESETS),
    )
    dialog = SettingsDialog(Settings(), Secrets(), actions, environ={})
    qtbot.addWidget(dialog)
    return dialog


async def window_and_tray(qtbot: Any) -> tuple[MainWindow, Tray]:
    """The main window, ready (its speech model loaded), with its tray menu."""
    window = MainWindow(make_controller())
    qtbot.addWidget(window)
    window.controller.start()
    await until(lambda: not window.controller.getting_ready, what="the model loaded")
    tray = Tray(window, app_icon(resources_dir() / "icons"), available=False)
    return window, tray


def menu_texts(tray: Tray) -> list[str]:
    tray.refresh()
    return [action.text() for action in tray.menu.actions() if action.text()]


async def test_in_chinese_the_window_the_tray_and_settings_speak_chinese(
    qtbot: Any, in_language: Any
) -> None:
    assert in_language("zh_CN") == SIMPLIFIED_CHINESE
    window, tray = await window_and_tray(qtbot)
    assert window.talk.text() == "按住说话"
    assert window.talk.accessibleName() == "说话"
    assert window.windowTitle() == "语音助手"
    assert window.settings_button.text() == "设置(&T)…"
    assert window.status.text().startswith("就绪。按住“说话”")
    assert menu_texts(tray)[1:] == ["说话", "对话模式", "登录时启动", "显示窗口", "退出"]
    assert tray.state_text == "就绪"

    dialog = settings_dialog(qtbot)
    titles = [dialog.tabs.tabText(index) for index in range(dialog.tabs.count())]
    assert titles[:2] == ["音频", "语音识别"]
    assert "语音" in titles and "API 密钥" in titles
    assert dialog.windowTitle() == "设置"
    # Qt's own translation: the standard buttons of the dialog.
    buttons = dialog.findChild(QDialogButtonBox)
    assert buttons is not None
    cancel = buttons.button(QDialogButtonBox.StandardButton.Cancel)
    assert cancel is not None and cancel.text() == "取消"

    window.resize(680, 760)
    window.show()
    dialog.resize(720, 640)
    dialog.show()
    await asyncio.sleep(0.2)  # laid out (an await: qtbot.wait deadlocks in async tests)
    assert window.grab().save(str(SCREENSHOTS / "assistant-window-zh_CN.png"))
    assert dialog.grab().save(str(SCREENSHOTS / "assistant-settings-zh_CN.png"))


async def test_in_chinese_every_settings_page_speaks_chinese(qtbot: Any, in_language: Any) -> None:
    """The texts built with values in them (sizes, states, hints) are translated too, and each
    page is photographed for a person to look at (TRANSLATION_SCREENSHOTS, /tmp by default)."""
    in_language("zh_CN")
    dialog = settings_dialog(qtbot)
    audio, speech, brain = dialog.audio, dialog.speech, dialog.brain
    voice, keys = dialog.voice, dialog.keys
    assert audio.window_language.itemText(1) == "English"
    assert audio.window_language.itemText(2) == "简体中文"
    assert audio.fields["ui.language"].hint.text() == "下次启动助手时生效。"
    speech.show_sizes([ModelSize("small", False), ModelSize("base.en", True)])
    models = [speech.model.itemText(i) for i in range(speech.model.count())]
    assert models == [
        "内置：tiny.en（英语，可离线使用）",
        "small（多种语言，需下载 485 MB）",
        "base.en（英语，已下载）",
    ]
    assert speech.language.itemText(0) == "自动检测"
    assert speech.language.itemText(3) == "德语 (de)"
    assert brain.preset.itemText(0) == "这台电脑上的 Ollama"
    assert brain.allow_lan.text() == "允许这台电脑(&A)"
    assert (
        keys.fields["secrets.llm_api_key"].hint.text()
        == "用于语言模型服务（如果它需要密钥）。未设置。"
    )
    assert keys.forget_buttons["llm_api_key"].accessibleName() == "删除已保存的语言模型密钥"
    assert voice.provider.itemText(0) == "这台电脑上的离线声音（Piper，无需账号）"
    assert unexpected(RuntimeError()).startswith("发生了意外错误（RuntimeError）")

    dialog.resize(760, 720)
    dialog.show()
    for index, name in enumerate(["audio", "speech", "brain", "voice", "keys"]):
        dialog.tabs.setCurrentIndex(index)
        await asyncio.sleep(0.1)  # laid out (an await: qtbot.wait deadlocks in async tests)
        assert dialog.grab().save(str(SCREENSHOTS / f"assistant-settings-{name}-zh_CN.png"))


def test_every_value_in_a_translated_text_keeps_its_place() -> None:
    """A translation that dropped "{model}" would hide it; one that renamed it would fail when
    shown. Each translation has exactly the placeholders of its English text."""
    root = ET.parse(TRANSLATIONS / "assistant_zh_CN.ts").getroot()
    wrong = [
        (source, translated)
        for message in root.iter("message")
        if sorted(PLACEHOLDER.findall(source := message.findtext("source") or ""))
        != sorted(PLACEHOLDER.findall(translated := message.findtext("translation") or ""))
    ]
    assert wrong == []


@pytest.mark.parametrize("setting", ["en", "auto"])
async def test_in_english_the_window_says_what_it_always_said(
    qtbot: Any, in_language: Any, setting: str
) -> None:
    # Under pytest the locale is whatever the machine has: "auto" is checked against English
    # only where the system is not Chinese (the LANG cases run in a process of their own below).
    if setting == "auto" and language_for("auto") != ENGLISH:
        pytest.skip("this machine's locale is Chinese")
    assert in_language(setting) == ENGLISH
    window, tray = await window_and_tray(qtbot)
    assert window.talk.text() == "Hold to talk"
    assert menu_texts(tray)[1:] == [
        "Talk",
        "Conversation mode",
        "Start at login",
        "Show window",
        "Quit",
    ]
    dialog = settings_dialog(qtbot)
    assert dialog.tabs.tabText(0) == "Audio"


@pytest.mark.parametrize(
    ("lang", "shown"),
    [
        ("en_US.UTF-8", "Hold to talk"),
        ("de_DE.UTF-8", "Hold to talk"),
        ("zh_CN.UTF-8", "按住说话"),
        ("zh_SG.UTF-8", "按住说话"),
        (
            "zh_TW.UTF-8",
            "Hold to talk",
        ),  # Traditional is not shipped: English over the wrong script
    ],
)
def test_auto_follows_the_system_locale(lang: str, shown: str) -> None:
    """QLocale.system() is read once per process: each LANG gets a process of its own."""
    script = (
        "from PySide6.QtWidgets import QApplication, QPushButton\n"
        "from assistant.config.places import resources_dir\n"
        "from assistant.ui.talk_button import TalkButton\n"
        "from assistant.ui.translation import install_translation\n"
        "app = QApplication([])\n"
        "install_translation(app, 'auto', resources_dir() / 'translations')\n"
        "print(TalkButton().text())\n"
    )
    environ = {key: value for key, value in os.environ.items() if not key.startswith("LC_")}
    environ.update(LANG=lang, LANGUAGE="", QT_QPA_PLATFORM="offscreen", PYTHONIOENCODING="utf-8")
    done = subprocess.run(
        [sys.executable, "-c", script],
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        encoding="utf-8",
    )
    assert done.stdout.strip() == shown


def test_the_locale_decides_the_language_on_auto() -> None:
    assert language_for("auto", QLocale("zh_CN")) == SIMPLIFIED_CHINESE
    assert language_for("auto", QLocale("zh_SG")) == SIMPLIFIED_CHINESE
    assert language_for("auto", QLocale("zh_HK")) == ENGLISH
    assert language_for("auto", QLocale("en_GB")) == ENGLISH
    assert language_for("zh_CN", QLocale("en_US")) == SIMPLIFIED_CHINESE
    assert language_for("en", QLocale("zh_CN")) == ENGLISH


async def test_a_missing_translation_leaves_english_and_says_so_in_the_log(
    qtbot: Any, in_language: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="assistant.ui.translation"):
        assert in_language("zh_CN", tmp_path) == ENGLISH
    assert "could not be loaded" in caplog.text and str(tmp_path) in caplog.text
    window, _ = await window_and_tray(qtbot)
    assert window.talk.text() == "Hold to talk"


def test_every_string_in_the_translation_is_translated() -> None:
    root = ET.parse(TRANSLATIONS / "assistant_zh_CN.ts").getroot()
    messages = list(root.iter("message"))
    assert len(messages) > 150
    untranslated = [
        message.findtext("source")
        for message in messages
        if (translation := message.find("translation")) is None
        or translation.get("type") in ("unfinished", "vanished", "obsolete")
        or not (translation.text or "").strip()
    ]
    assert untranslated == []
    compiled = TRANSLATIONS / "assistant_zh_CN.qm"
    assert compiled.stat().st_mtime >= (TRANSLATIONS / "assistant_zh_CN.ts").stat().st_mtime - 1, (
        "the .qm is older than the .ts: run `make translations`"
    )
