"""Which language a piece of a reply is written in, from its script alone, so that each piece goes
to a voice that can read it (issue 18): an English voice handed Chinese characters spells them out
("Chinese letter, Chinese letter…"), which is worse than silence.

Deliberately simple, and pure (no model): the script decides where it can (kana: Japanese; Hangul:
Korean; Chinese characters: Chinese; Cyrillic, Greek, Arabic, Hebrew, Devanagari, Thai: the
reply's language when it is written in that script, else the script's most spoken language); text
in the Latin alphabet is in the reply's language (what the user spoke), or English. It does not
tell Latin-script languages apart by their words (a German sentence in an English reply counts as
English), nor Mandarin from Cantonese, nor Serbian's two alphabets.
"""

from __future__ import annotations

import re
from typing import Final

__all__ = ["CJK_LANGUAGES", "NON_LATIN_LANGUAGES", "latin_language", "piece_language"]

ENGLISH: Final = "en"

# Any one of these characters decides, since a voice for another language cannot say it. Kana
# before Han: Japanese writes both, Chinese only Han.
_KANA: Final = re.compile("[\u3040-\u30ff\u31f0-\u31ff\uff66-\uff9f]")
_HANGUL: Final = re.compile("[\u1100-\u11ff\u3130-\u318f\uac00-\ud7af]")
_HAN: Final = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]")
# Languages that write with Chinese characters, when the reply is in one of them.
_HAN_LANGUAGES: Final = ("zh", "yue", "ja")
CJK_LANGUAGES: Final = frozenset({"zh", "yue", "ja", "ko"})

# Alphabets that decide only when most of a piece's letters are theirs (an English sentence naming
# the angle α stays English): each with the languages written in it, the most spoken first.
_ALPHABETS: Final[tuple[tuple[re.Pattern[str], tuple[str, ...]], ...]] = (
    (re.compile("[\u0400-\u04ff]"), ("ru", "uk", "bg", "sr", "be", "mk", "kk", "mn", "tg", "tt")),
    (re.compile("[\u0370-\u03ff\u1f00-\u1fff]"), ("el",)),
    (re.compile("[\u0600-\u06ff\u0750-\u077f]"), ("ar", "fa", "ur", "ps", "sd")),
    (re.compile("[\u0590-\u05ff]"), ("he", "yi")),
    (re.compile("[\u0900-\u097f]"), ("hi", "mr", "ne", "sa")),
    (re.compile("[\u0e00-\u0e7f]"), ("th",)),
)
NON_LATIN_LANGUAGES: Final = CJK_LANGUAGES | frozenset(
    code for _, codes in _ALPHABETS for code in codes
)


def latin_language(reply_language: str | None) -> str:
    """The language of text in the Latin alphabet: the reply's, when that is written in it (a
    Chinese reply's English sentence is English, not Chinese), else English."""
    if reply_language and reply_language not in NON_LATIN_LANGUAGES:
        return reply_language
    return ENGLISH


def piece_language(text: str, reply_language: str | None = None) -> str:
    """The language a voice must speak to read `text` (a language code such as "zh"), given the
    language the reply is in (`reply_language`, e.g. the user's; None: not known)."""
    if _KANA.search(text):
        return "ja"
    if _HANGUL.search(text):
        return "ko"
    if _HAN.search(text):
        return reply_language if reply_language and reply_language in _HAN_LANGUAGES else "zh"
    letters = sum(1 for character in text if character.isalpha())
    for alphabet, languages in _ALPHABETS:
        if 2 * len(alphabet.findall(text)) > letters:
            return (
                reply_language if reply_language and reply_language in languages else languages[0]
            )
    return latin_language(reply_language)
