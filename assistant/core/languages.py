"""Which language a recording is in, as far as the user has told us: the languages they speak (or,
unless they said, their system's language and English), and the script they read Chinese in.

Whisper's language detection alone is unreliable on a few seconds of speech (a Spanish sentence
can come out as Greek), so its probabilities are weighed against what the user told us.
Pure functions: the speech model computes the probabilities, these decide.
"""

from __future__ import annotations

import locale
import os
from collections.abc import Iterable, Mapping
from typing import Final, Literal

ENGLISH: Final = "en"
AUTO: Final = "auto"

# The codes Whisper knows (its tokenizer's list).
WHISPER_LANGUAGES: Final = frozenset({
    "af", "am", "ar", "as", "az", "ba", "be", "bg", "bn", "bo", "br", "bs", "ca", "cs", "cy",
    "da", "de", "el", "en", "es", "et", "eu", "fa", "fi", "fo", "fr", "gl", "gu", "ha", "haw",
    "he", "hi", "hr", "ht", "hu", "hy", "id", "is", "it", "ja", "jw", "ka", "kk", "km", "kn",
    "ko", "la", "lb", "ln", "lo", "lt", "lv", "mg", "mi", "mk", "ml", "mn", "mr", "ms", "mt",
    "my", "ne", "nl", "nn", "no", "oc", "pa", "pl", "ps", "pt", "ro", "ru", "sa", "sd", "si",
    "sk", "sl", "sn", "so", "sq", "sr", "su", "sv", "sw", "ta", "te", "tg", "th", "tk", "tl",
    "tr", "tt", "uk", "ur", "uz", "vi", "yi", "yo", "zh", "yue",
})  # fmt: skip
# Locale language codes that Whisper spells differently.
_WHISPER_SPELLING: Final = {"nb": "no", "iw": "he", "fil": "tl", "jv": "jw"}

# A language the user did not name must be this many times likelier than the best one they did
# name: Whisper's top guess on a short clip is often a neighbour of the true language.
UNNAMED_LANGUAGE_ODDS: Final = 10.0

ChineseScript = Literal["simplified", "traditional"]
_TRADITIONAL_REGIONS: Final = ("TW", "HK", "MO", "HANT")

# An initial prompt written in the wanted script: Whisper writes Mandarin in Traditional
# characters unless its context is in Simplified (and now and then the other way round).
CHINESE_PROMPTS: Final[dict[ChineseScript, str]] = {
    "simplified": "以下是普通话的句子。",
    "traditional": "以下是普通話的句子。",
}


def system_locale(environ: Mapping[str, str] = os.environ) -> str:
    """The user's locale name, e.g. "zh_CN" or "de_DE" ("" if none is set): the variables that
    choose the language of messages on Unix, else what the system reports (Windows, macOS)."""
    for variable in ("LC_ALL", "LC_MESSAGES", "LANG"):
        name = environ.get(variable, "").split(".")[0].split("@")[0]
        if name and name not in ("C", "POSIX"):
            return name
    if any(environ.get(variable) for variable in ("LC_ALL", "LC_MESSAGES", "LANG")):
        return ""  # C or POSIX was chosen on purpose: no language
    try:
        name = locale.getlocale()[0] or ""
    except ValueError:  # an unknown locale name in the environment
        return ""
    return "" if name in ("C", "POSIX") else name


def system_languages(environ: Mapping[str, str] = os.environ) -> tuple[str, ...]:
    """The Whisper codes of the user's languages as the system says them: $LANGUAGE's list (in
    order of preference), then the locale's language; those Whisper does not know are left out."""
    names = [*environ.get("LANGUAGE", "").split(":"), system_locale(environ)]
    return _known(name.replace("-", "_").split("_")[0].lower() for name in names)


def preferred_languages(
    named: Iterable[str], environ: Mapping[str, str] = os.environ
) -> tuple[str, ...]:
    """The languages to expect: those the user named, else the system's languages and English."""
    return _known(named) or _known([*system_languages(environ), ENGLISH])


def chinese_script(setting: str, environ: Mapping[str, str] = os.environ) -> ChineseScript:
    """The characters the user reads: as set, else the locale's (Taiwan, Hong Kong and Macao read
    Traditional; mainland China, Singapore and any other locale, Simplified, the more common)."""
    if setting in ("simplified", "traditional"):
        return "simplified" if setting == "simplified" else "traditional"
    region = system_locale(environ).replace("-", "_").upper().split("_")[1:]
    return "traditional" if any(part in _TRADITIONAL_REGIONS for part in region) else "simplified"


def choose_language(
    probabilities: Mapping[str, float], preferred: Iterable[str], *, only_preferred: bool
) -> str:
    """The language of a recording, from Whisper's probability for each: the likeliest of the
    `preferred` languages, unless (and only when `only_preferred` is false) another is
    UNNAMED_LANGUAGE_ODDS times likelier still."""
    preferred = [language for language in preferred if language in probabilities]
    best_named = max(preferred, key=lambda language: probabilities[language], default=None)
    if best_named is not None and only_preferred:
        return best_named
    best = max(probabilities, key=lambda language: probabilities[language])
    if best_named is None:
        return best
    odds = probabilities[best] / max(probabilities[best_named], 1e-9)
    return best if odds >= UNNAMED_LANGUAGE_ODDS else best_named


def _known(names: Iterable[str]) -> tuple[str, ...]:
    """Whisper's codes for `names`, without the unknown ones and repeats, in order."""
    codes = (_WHISPER_SPELLING.get(name.strip().lower(), name.strip().lower()) for name in names)
    return tuple(dict.fromkeys(code for code in codes if code in WHISPER_LANGUAGES))
