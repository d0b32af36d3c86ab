"""Which language a recording is in, as far as the user has told us: the languages they speak (or,
unless they said, their system's language and English), and the script they read Chinese in.

Whisper's language detection alone is unreliable on a few seconds of speech (a Spanish sentence
can come out as Greek), so its probabilities are weighed against what the user told us.
Pure functions: the speech model computes the probabilities, these decide.
"""

from __future__ import annotations

import locale
import math
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
# Each language by its own name, as its speakers write it: shown beside what the user said, so
# that a German speaker reads "Deutsch" and a Chinese speaker "中文", in any window language.
LANGUAGE_NAMES: Final[dict[str, str]] = {
    "af": "Afrikaans", "am": "አማርኛ", "ar": "العربية", "as": "অসমীয়া", "az": "Azərbaycanca",
    "ba": "Башҡортса", "be": "Беларуская", "bg": "Български", "bn": "বাংলা", "bo": "བོད་སྐད་",
    "br": "Brezhoneg", "bs": "Bosanski", "ca": "Català", "cs": "Čeština", "cy": "Cymraeg",
    "da": "Dansk", "de": "Deutsch", "el": "Ελληνικά", "en": "English", "es": "Español",
    "et": "Eesti", "eu": "Euskara", "fa": "فارسی", "fi": "Suomi", "fo": "Føroyskt",
    "fr": "Français", "gl": "Galego", "gu": "ગુજરાતી", "ha": "Hausa", "haw": "ʻŌlelo Hawaiʻi",
    "he": "עברית", "hi": "हिन्दी", "hr": "Hrvatski", "ht": "Kreyòl ayisyen", "hu": "Magyar",
    "hy": "Հայերեն", "id": "Bahasa Indonesia", "is": "Íslenska", "it": "Italiano", "ja": "日本語",
    "jw": "Basa Jawa", "ka": "ქართული", "kk": "Қазақ тілі", "km": "ខ្មែរ", "kn": "ಕನ್ನಡ",
    "ko": "한국어", "la": "Latina", "lb": "Lëtzebuergesch", "ln": "Lingála", "lo": "ລາວ",
    "lt": "Lietuvių", "lv": "Latviešu", "mg": "Malagasy", "mi": "Māori", "mk": "Македонски",
    "ml": "മലയാളം", "mn": "Монгол", "mr": "मराठी", "ms": "Bahasa Melayu", "mt": "Malti",
    "my": "မြန်မာ", "ne": "नेपाली", "nl": "Nederlands", "nn": "Nynorsk", "no": "Norsk",
    "oc": "Occitan", "pa": "ਪੰਜਾਬੀ", "pl": "Polski", "ps": "پښتو", "pt": "Português",
    "ro": "Română", "ru": "Русский", "sa": "संस्कृतम्", "sd": "سنڌي", "si": "සිංහල",
    "sk": "Slovenčina", "sl": "Slovenščina", "sn": "chiShona", "so": "Soomaali", "sq": "Shqip",
    "sr": "Српски", "su": "Basa Sunda", "sv": "Svenska", "sw": "Kiswahili", "ta": "தமிழ்",
    "te": "తెలుగు", "tg": "Тоҷикӣ", "th": "ไทย", "tk": "Türkmençe", "tl": "Tagalog",
    "tr": "Türkçe", "tt": "Татарча", "uk": "Українська", "ur": "اردو", "uz": "Oʻzbekcha",
    "vi": "Tiếng Việt", "yi": "ייִדיש", "yo": "Yorùbá", "zh": "中文", "yue": "粵語",
}  # fmt: skip
# Locale language codes that Whisper spells differently.
_WHISPER_SPELLING: Final = {"nb": "no", "iw": "he", "fil": "tl", "jv": "jw"}

# A language the user did not name must be this many times likelier than the best one they did
# name: Whisper's top guess on a short clip is often a neighbour of the true language.
UNNAMED_LANGUAGE_ODDS: Final = 10.0
# ...and be heard for this long. On less, Whisper's guess is noise: measured with the base model on
# the real clips, the first 0.7 s of an English sentence came out Russian (0.24 against English's
# 0.005), of another Chinese (0.55 against 0.001), and a hands-free fragment (the user's first
# syllable over the echo) Tamil, so the reply went unspoken. From 1.5 s on, every clip was right.
UNNAMED_LANGUAGE_MIN_SECONDS: Final = 1.5

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
    probabilities: Mapping[str, float],
    preferred: Iterable[str],
    *,
    only_preferred: bool,
    speech_seconds: float = math.inf,
) -> str:
    """The language of a recording, from Whisper's probability for each: the likeliest of the
    `preferred` languages, unless (and only when `only_preferred` is false) another is
    UNNAMED_LANGUAGE_ODDS times likelier still, over at least UNNAMED_LANGUAGE_MIN_SECONDS of
    speech."""
    preferred = [language for language in preferred if language in probabilities]
    best_named = max(preferred, key=lambda language: probabilities[language], default=None)
    too_short = speech_seconds < UNNAMED_LANGUAGE_MIN_SECONDS
    if best_named is not None and (only_preferred or too_short):
        return best_named
    best = max(probabilities, key=lambda language: probabilities[language])
    if best_named is None:
        return best
    odds = probabilities[best] / max(probabilities[best_named], 1e-9)
    return best if odds >= UNNAMED_LANGUAGE_ODDS else best_named


def language_name(code: str) -> str:
    """The language's own name ("de" -> "Deutsch"); an unknown code as it is, so that it shows."""
    return LANGUAGE_NAMES.get(code.strip().lower(), code)


def find_language(name: str) -> str | None:
    """The Whisper code of a language typed by its code ("de"), its locale spelling ("nb") or its
    own name ("Deutsch"), in any case; None if it is none of these."""
    wanted = name.strip().casefold()
    code = _WHISPER_SPELLING.get(wanted, wanted)
    if code in WHISPER_LANGUAGES:
        return code
    return next((c for c, own in LANGUAGE_NAMES.items() if own.casefold() == wanted), None)


def _known(names: Iterable[str]) -> tuple[str, ...]:
    """Whisper's codes for `names`, without the unknown ones and repeats, in order."""
    codes = (_WHISPER_SPELLING.get(name.strip().lower(), name.strip().lower()) for name in names)
    return tuple(dict.fromkeys(code for code in codes if code in WHISPER_LANGUAGES))
