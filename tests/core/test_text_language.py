"""Which language a reply's piece is in, from its script: what decides which voice reads it."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from assistant.core.text_language import CJK_LANGUAGES, latin_language, piece_language


@pytest.mark.parametrize(
    ("text", "reply_language", "expected"),
    [
        ("The weather is fine today.", None, "en"),
        ("今天天气很好。", None, "zh"),
        ("今天天气很好。", "en", "zh"),
        # Mandarin with an English name in it is still Chinese: the Chinese voice reads the name.
        ("我在用Python写代码。", None, "zh"),
        # Any Chinese character decides: an English-only voice must never get one to spell out.
        ("The word 你好 means hello.", "en", "zh"),
        ("東京は晴れです。", None, "ja"),
        ("日本語", "ja", "ja"),  # kanji alone, in a Japanese reply
        ("오늘 날씨가 좋아요.", None, "ko"),
        ("Das Wetter ist heute schön.", "de", "de"),
        ("Das Wetter ist heute schön.", None, "en"),  # Latin text in an unknown reply: English
        ("OK, here it is in English.", "zh", "en"),  # a Chinese reply's Latin sentence: English
        ("Погода сегодня хорошая.", None, "ru"),
        ("Погода сьогодні гарна.", "uk", "uk"),
        ("The angle α is thirty degrees.", "en", "en"),  # one Greek letter does not make Greek
        ("Ο καιρός είναι καλός.", None, "el"),
        ("12:30, 2026-12-03!", None, "en"),
    ],
)
def test_the_script_decides_the_language(
    text: str, reply_language: str | None, expected: str
) -> None:
    assert piece_language(text, reply_language) == expected


def test_latin_text_is_in_the_reply_language_when_that_is_written_in_latin() -> None:
    assert latin_language("fr") == "fr"
    assert latin_language("zh") == "en"
    assert latin_language(None) == "en"


@given(
    before=st.text(max_size=40),
    han=st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF),
    after=st.text(max_size=40),
    reply_language=st.sampled_from([None, "en", "de", "fr", "zh", "ru"]),
)
def test_a_chinese_character_never_goes_to_a_latin_voice(
    before: str, han: str, after: str, reply_language: str | None
) -> None:
    assert piece_language(before + han + after, reply_language) in CJK_LANGUAGES
