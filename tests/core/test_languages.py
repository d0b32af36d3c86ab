"""The user's languages from the system's locale, the script they read Chinese in, and the choice
of a recording's language from Whisper's probabilities and what the user told us."""

from __future__ import annotations

import pytest

from assistant.core.languages import (
    LANGUAGE_NAMES,
    WHISPER_LANGUAGES,
    chinese_script,
    choose_language,
    find_language,
    language_name,
    preferred_languages,
    system_languages,
    system_locale,
)


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({"LANG": "de_DE.UTF-8"}, "de_DE"),
        ({"LANG": "de_DE.UTF-8", "LC_MESSAGES": "fr_FR.UTF-8"}, "fr_FR"),
        ({"LANG": "de_DE.UTF-8", "LC_ALL": "zh_TW.UTF-8"}, "zh_TW"),
        ({"LANG": "sr_RS@latin"}, "sr_RS"),
        ({"LANG": "C.UTF-8"}, ""),
        ({"LC_ALL": "POSIX", "LANG": "de_DE.UTF-8"}, "de_DE"),
    ],
)
def test_the_locale_is_read_as_unix_programs_read_it(
    environ: dict[str, str], expected: str
) -> None:
    assert system_locale(environ) == expected


def test_the_system_languages_follow_language_then_the_locale() -> None:
    environ = {"LANGUAGE": "pt_BR:es", "LANG": "de_AT.UTF-8"}
    assert system_languages(environ) == ("pt", "es", "de")
    assert system_languages({"LANG": "nb_NO.UTF-8"}) == ("no",)  # Whisper's spelling
    assert system_languages({"LANG": "C.UTF-8"}) == ()


def test_the_preferred_languages_are_the_users_else_the_systems_and_english() -> None:
    assert preferred_languages(["de", "xx", "de"], {"LANG": "fr_FR.UTF-8"}) == ("de",)
    assert preferred_languages([], {"LANG": "fr_FR.UTF-8"}) == ("fr", "en")
    assert preferred_languages([], {"LANG": "en_GB.UTF-8"}) == ("en",)
    assert preferred_languages([], {"LANG": "C.UTF-8"}) == ("en",)


@pytest.mark.parametrize(
    ("setting", "lang", "script"),
    [
        ("auto", "zh_CN.UTF-8", "simplified"),
        ("auto", "zh_SG.UTF-8", "simplified"),
        ("auto", "zh_TW.UTF-8", "traditional"),
        ("auto", "zh_HK.UTF-8", "traditional"),
        ("auto", "en_US.UTF-8", "simplified"),
        ("simplified", "zh_TW.UTF-8", "simplified"),
        ("traditional", "zh_CN.UTF-8", "traditional"),
    ],
)
def test_chinese_is_written_in_the_script_of_the_locale_unless_set(
    setting: str, lang: str, script: str
) -> None:
    assert chinese_script(setting, {"LANG": lang}) == script


# Whisper's probabilities on a few seconds of Spanish, as it can get them wrong.
SPANISH_HEARD_AS_GREEK = {"el": 0.41, "es": 0.33, "pt": 0.12, "en": 0.02, "de": 0.001}


def test_a_close_guess_goes_to_the_language_the_user_speaks() -> None:
    chosen = choose_language(SPANISH_HEARD_AS_GREEK, ("es", "en"), only_preferred=False)
    assert chosen == "es"


def test_a_language_the_user_did_not_name_wins_when_it_is_far_likelier() -> None:
    assert choose_language(SPANISH_HEARD_AS_GREEK, ("de",), only_preferred=False) == "el"
    assert choose_language(SPANISH_HEARD_AS_GREEK, ("en",), only_preferred=False) == "el"
    # 0.41 against 0.33 is no such evidence, nor against English's 0.06:
    assert choose_language({"el": 0.41, "en": 0.06}, ("en",), only_preferred=False) == "en"


def test_a_language_the_user_did_not_name_needs_more_than_a_fragment_of_speech() -> None:
    # The base model on the first 0.7 s of an English clip (tests/data/speech/ds_2830-3980-0043):
    english_start = {"ru": 0.244, "te": 0.179, "hi": 0.13, "en": 0.005}
    assert choose_language(english_start, ("en",), only_preferred=False, speech_seconds=0.7) == "en"
    assert choose_language(english_start, ("en",), only_preferred=False, speech_seconds=1.5) == "ru"
    # Long enough and far likelier: another language than the user's is still heard.
    german = {"de": 0.991, "en": 0.002}
    assert choose_language(german, ("en",), only_preferred=False, speech_seconds=3.0) == "de"


def test_languages_the_user_named_are_the_only_choices() -> None:
    assert choose_language(SPANISH_HEARD_AS_GREEK, ("de", "en"), only_preferred=True) == "en"


def test_without_a_known_preferred_language_the_likeliest_wins() -> None:
    assert choose_language(SPANISH_HEARD_AS_GREEK, ("xx",), only_preferred=True) == "el"


def test_every_language_whisper_knows_has_its_own_name() -> None:
    assert set(LANGUAGE_NAMES) == WHISPER_LANGUAGES
    assert all(name.strip() == name and name for name in LANGUAGE_NAMES.values())
    assert len(set(LANGUAGE_NAMES.values())) == len(LANGUAGE_NAMES)  # none told apart by code only
    assert [language_name(code) for code in ("de", "zh", "ES", "ja")] == [
        "Deutsch",
        "中文",
        "Español",
        "日本語",
    ]
    assert language_name("xx") == "xx"  # unknown: shown as it came, not hidden


@pytest.mark.parametrize(
    ("typed", "code"),
    [("de", "de"), (" DE ", "de"), ("Deutsch", "de"), ("deutsch", "de"), ("中文", "zh")]
    + [("nb", "no"), ("Español", "es"), ("German", None), ("xx", None), ("", None)],
)
def test_a_language_is_found_by_its_code_or_its_own_name(typed: str, code: str | None) -> None:
    assert find_language(typed) == code
