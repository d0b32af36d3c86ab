"""Settings > Voice, the voices by language: the Piper catalogue from a fake hub on 127.0.0.1
(the official list's format, the bundled voice's real files), a download with its progress bar,
a corrupted download refused in words, one voice per language, and a sample per voice."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from PySide6.QtCore import Qt

from assistant.app.voices import VoiceActions
from assistant.config import NetworkSettings, Secrets, Settings
from assistant.providers.http import make_http_client
from assistant.ui.settings_actions import SettingsActions
from assistant.ui.settings_voice_page import VoicePage
from assistant.ui.tasks import BackgroundTasks
from tests.support.voice_hub import KEY, VoiceHub
from tests.ui.harness import until


async def _nothing(*_: object) -> None:
    return None


@pytest.fixture
async def client(tls: Any, loopback: Any) -> AsyncIterator[httpx.AsyncClient]:
    client, _ = make_http_client(NetworkSettings(ca_file=str(tls.ca_file)))
    yield client
    await client.aclose()


class Rig:
    def __init__(self, client: httpx.AsyncClient, hub_url: str) -> None:
        self.settings = Settings()
        self.settings.stt.hub_url = hub_url
        voices = VoiceActions(lambda: client, lambda: self.settings, Secrets)
        self.samples: list[tuple[str, str]] = []

        async def sample(voice: str, language: str) -> None:
            self.samples.append((voice, language))

        actions = SettingsActions(
            save_settings=lambda settings: None,
            store_secret=lambda name, value: None,
            delete_secret=lambda name: None,
            test_brain=_nothing,
            test_voice=_nothing,
            test_microphone=_nothing,
            test_speaker=_nothing,
            installed_voices=voices.installed,
            voice_catalogue=voices.catalogue,
            download_voice=voices.download,
            sample_voice=sample,
        )
        self.tasks = BackgroundTasks()
        self.page = VoicePage(actions, self.tasks)
        self.page.load(self.settings)
        self.part = self.page.by_language


@pytest.fixture
def hub() -> VoiceHub:
    return VoiceHub()


@pytest.fixture
async def rig(
    client: httpx.AsyncClient,
    loopback: Any,
    hub: VoiceHub,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    qtbot: Any,
) -> AsyncIterator[Rig]:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    rig = Rig(client, str(loopback(hub.handler).url))
    qtbot.addWidget(rig.page)
    rig.page.show()
    await rig.tasks.wait()
    yield rig
    rig.tasks.cancel()
    await rig.tasks.wait()


def offer_index(rig: Rig, key: str) -> int:
    return rig.part.offers.findData(key)


async def find_offers(rig: Rig, qtbot: Any) -> None:
    qtbot.mouseClick(rig.part.find_button, Qt.MouseButton.LeftButton)
    await rig.tasks.wait()
    assert rig.part.offers.isVisible(), rig.part.result.text()


async def test_a_voice_is_downloaded_with_progress_and_speaks_its_language(
    rig: Rig, qtbot: Any, tmp_path: Path
) -> None:
    part = rig.part
    assert part.table.rowCount() == 0  # by default the voice service alone
    await find_offers(rig, qtbot)
    assert part.offers.count() == 2
    assert "中文" in part.offers.itemText(offer_index(rig, "zh_CN-huayan-medium"))
    part.offers.setCurrentIndex(offer_index(rig, KEY))
    assert "63 MB" in part.offers.currentText()

    qtbot.mouseClick(part.download_button, Qt.MouseButton.LeftButton)
    assert not part.download_button.isEnabled()  # at once: a second click starts nothing
    assert part.download_bar.isVisible() and part.cancel_button.isVisible()
    await until(lambda: 0 < part.download_bar.value() < 100, what="the download's progress")
    await rig.tasks.wait()

    assert (
        part.result.text() == f"✓ {KEY} is installed. It will speak English (en). Save to use it."
    )
    assert not part.download_bar.isVisible()
    assert os.listdir(tmp_path / "voice-assistant" / "voices") == [KEY]
    edited = Settings()
    rig.page.store(edited)
    assert edited.tts.voices == [f"en={KEY}"]
    language = part.table.item(0, 0)
    assert language is not None and language.text() == "English (en)"

    sample = part.table.cellWidget(0, 2)
    qtbot.mouseClick(sample, Qt.MouseButton.LeftButton)
    await rig.tasks.wait()
    assert rig.samples == [(KEY, "en")]


async def test_a_corrupted_download_is_refused_in_words(
    rig: Rig, hub: VoiceHub, qtbot: Any, tmp_path: Path
) -> None:
    await find_offers(rig, qtbot)
    rig.part.offers.setCurrentIndex(offer_index(rig, KEY))
    hub.corrupt = True

    qtbot.mouseClick(rig.part.download_button, Qt.MouseButton.LeftButton)
    await rig.tasks.wait()

    result = rig.part.result
    assert result.failed
    assert "damaged" in result.text() and "checksum" in result.text()
    assert os.listdir(tmp_path / "voice-assistant" / "voices") == []
    assert rig.part.table.rowCount() == 0 and rig.part.download_button.isEnabled()


async def test_one_voice_per_language(rig: Rig) -> None:
    part = rig.part
    part.language.setCurrentIndex(part.language.findData("zh"))
    assert [part.voice.itemData(i) for i in range(part.voice.count())] == [
        "volcano",
        "volcano_v3",
        "openai",
    ]  # no Piper voice here reads Chinese
    part.voice.setCurrentIndex(part.voice.findData("volcano"))
    part.use_button.click()
    part.voice.setCurrentIndex(part.voice.findData("volcano_v3"))
    part.use_button.click()

    edited = Settings()
    rig.page.store(edited)
    assert edited.tts.voices == ["zh=volcano_v3"]
    part.table.selectRow(0)
    part.remove_button.click()
    rig.page.store(edited)
    assert edited.tts.voices == []
