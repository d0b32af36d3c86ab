"""`[tts] voices`: which voice speaks which language, one voice per language."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.config import Settings, load_settings, save_settings
from assistant.core.errors import ConfigError


def load(tmp_path: Path, text: str) -> Settings:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return load_settings(path)


def test_each_language_gets_its_voice(tmp_path: Path) -> None:
    settings = load(tmp_path, '[tts]\nvoices = ["ZH = volcano", "de=de_DE-thorsten-medium"]\n')

    assert settings.tts.voices == ["zh=volcano", "de=de_DE-thorsten-medium"]
    assert settings.tts.chosen_voices() == {"zh": "volcano", "de": "de_DE-thorsten-medium"}
    assert Settings().tts.voices == []  # by default the one voice of [tts] provider


def test_the_voices_survive_saving(tmp_path: Path) -> None:
    settings = Settings()
    settings.tts.voices = ["zh=volcano_v3", "en=/home/me/en_GB-alan-low.onnx"]
    save_settings(settings, tmp_path / "saved.toml")

    assert load_settings(tmp_path / "saved.toml").tts.chosen_voices() == {
        "zh": "volcano_v3",
        "en": "/home/me/en_GB-alan-low.onnx",
    }


@pytest.mark.parametrize(
    ("entry", "said"),
    [
        ('["volcano"]', 'such as "zh=volcano"'),
        ('["klingon=volcano"]', "a language code, =, then"),
        ('["zh="]', "(got 'zh=')"),
        ('["zh=volcano", "zh=openai"]', "two voices for zh (volcano and openai)"),
    ],
)
def test_a_bad_entry_is_refused_in_words(tmp_path: Path, entry: str, said: str) -> None:
    with pytest.raises(ConfigError) as refused:
        load(tmp_path, f"[tts]\nvoices = {entry}\n")
    assert "[tts] voices" in refused.value.message
    assert said in refused.value.message
