"""Settings > Speech recognition: the languages the user speaks and the characters they read
Chinese in, shown as saved, saved as chosen (names turned into codes), checked at their field."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from assistant.config import Settings, load_settings, save_settings
from assistant.ui.settings_speech_page import languages_typed
from tests.ui.test_settings_dialog import Rig

pytestmark = pytest.mark.gui


@pytest.fixture(autouse=True)
def german_system(monkeypatch: pytest.MonkeyPatch) -> None:
    """The system speaks German, in Germany, whatever the machine running the tests says."""
    for variable in ("LC_ALL", "LC_MESSAGES", "LANGUAGE"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("LANG", "de_DE.UTF-8")


async def test_the_defaults_say_what_they_follow(qtbot: Any, tmp_path: Path) -> None:
    page = Rig(qtbot, tmp_path / "config.toml").dialog.speech
    assert page.language.currentText() == "Detect automatically"  # the default, "auto"
    assert page.languages.text() == ""
    assert "Empty: your system's and English (Deutsch, English)." in (
        page.fields["stt.languages"].hint.text()
    )
    assert page.chinese_script.currentData() == "auto"
    assert page.chinese_script.currentText() == "Follow the system: Simplified (简体字)"


async def test_the_languages_and_the_script_are_saved_and_shown_again(
    qtbot: Any, tmp_path: Path
) -> None:
    rig = Rig(qtbot, tmp_path / "config.toml")
    page = rig.dialog.speech
    rig.dialog.show()
    qtbot.keyClicks(page.languages, "en, Deutsch")
    page.languages.insert("，中文")  # as an input method gives it (keyClicks types Latin only)
    page.chinese_script.setCurrentIndex(page.chinese_script.findData("traditional"))
    rig.dialog.save()
    stt = load_settings(rig.path).stt
    assert (stt.languages, stt.chinese_script) == (["en", "de", "zh"], "traditional")

    again = Rig(qtbot, tmp_path / "config.toml", load_settings(rig.path)).dialog.speech
    assert again.languages.text() == "en, de, zh"
    assert again.chinese_script.currentText() == "Traditional (繁體字)"


async def test_a_language_not_known_is_marked_at_its_field_and_nothing_is_saved(
    qtbot: Any, tmp_path: Path
) -> None:
    rig = Rig(qtbot, tmp_path / "config.toml")
    page = rig.dialog.speech
    rig.dialog.show()
    qtbot.keyClicks(page.languages, "en, Klingon")
    rig.dialog.save()
    row = rig.dialog.field("stt.languages")
    assert row is not None and "'Klingon' is not one" in row.problem
    assert row.problem.startswith("Languages you speak must list language codes")
    assert rig.dialog.tabs.currentIndex() == rig.dialog.pages.index(page)
    assert not rig.path.exists() and rig.saved == []


async def test_a_remote_service_does_not_use_them(qtbot: Any, tmp_path: Path) -> None:
    settings = Settings()
    settings.stt.provider = "openai"
    save_settings(settings, tmp_path / "config.toml")
    page = Rig(qtbot, tmp_path / "config.toml", settings).dialog.speech
    assert not page.fields["stt.languages"].isEnabled()
    assert not page.fields["stt.chinese_script"].isEnabled()
    page.provider.setCurrentIndex(page.provider.findData("local"))
    assert page.fields["stt.languages"].isEnabled()


def test_languages_are_read_as_codes_or_their_own_names() -> None:
    assert languages_typed("") == []
    assert languages_typed(" de ,, Español、日本語 ") == ["de", "es", "ja"]
    assert languages_typed("en, Klingon") == ["en", "Klingon"]  # for validation to name
