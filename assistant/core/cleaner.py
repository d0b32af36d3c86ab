"""Turns what a language model wrote into what a voice should say.

Markdown, code blocks, web addresses, emoji and symbols that a speech synthesizer reads wrongly
become plain words (or nothing); Chinese and other CJK text is kept exactly as written.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterator

__all__ = ["CODE_MENTION", "clean_for_tts", "closing_fence_end", "is_speakable"]

CODE_MENTION = "There is a code example on screen."

_FENCE = re.compile(r"`{3,}")

_AUTOLINK = re.compile(r"<((?:https?|ftp)://[^>\s]+)>", re.IGNORECASE)
_LINK = re.compile(r"!?\[([^\[\]\n]*)\]\([^()\n]*\)")
# ASCII only, so that Chinese written right after an address is not taken for part of it.
_URL = re.compile(
    r"(?<![A-Za-z0-9@.])(?:(?:https?|ftp)://|www\.)[A-Za-z0-9\-._~:/?#@!$&*+,;=%]+",
    re.IGNORECASE,
)
_URL_TRAILING_PUNCTUATION = ".,;:!?*'"
_EMAIL = re.compile(r"(?<![A-Za-z0-9._%+-])([A-Za-z0-9._%+-]+)@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)")
_HTML_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9]*(?:\s[^<>\n]*)?/?>")
_HTML_ENTITY = re.compile(r"&(?:[A-Za-z]{2,8}|#[0-9]{1,6}|#[xX][0-9A-Fa-f]{1,6});")

_HORIZONTAL_RULE = re.compile(r"^\s*([-*_])(?:\s*\1){2,}\s*$")
_TABLE_RULE = re.compile(r"^[\s|:-]*-[\s|:-]*$")
_LINE_MARKERS = (
    re.compile(r"^\s{0,3}#{1,6}(?=\s|$)"),  # heading
    re.compile(r"^\s*(?:>\s?)+"),  # block quote
    re.compile(r"^\s*(?:[-*+•]|\d{1,3}[.)])\s+"),  # list bullet or number
)

_TIMES = re.compile(r"(?<=\d)[ \t]*\*[ \t]*(?=\d)")
_UNDERSCORES = re.compile(r"_+")

_PICTOGRAPHS = re.compile(
    "["
    "\U0001f000-\U0001faff"  # emoji, pictographs, flags' regional letters
    "\u2600-\u27bf"  # miscellaneous symbols and dingbats (☀ ✅ ❤)
    "\u2b00-\u2bff"  # stars and arrows (⭐ ⬆)
    "\u2300-\u23ff"  # technical symbols (⌚ ⏰)
    "\u25a0-\u25ff"  # geometric shapes (▶ ●)
    "\ufe0e\ufe0f\u200d\u20e3"  # emoji presentation, joiner, keycap
    "\U000e0020-\U000e007f"  # tag letters of subdivision flags
    "\ud800-\udfff"  # halves of a broken surrogate pair: a synthesizer cannot encode them
    "]"
)

# (pattern, English words, Chinese words); "{0}" is the pattern's first group.
_SYMBOLS: tuple[tuple[re.Pattern[str], str, str], ...] = (
    (re.compile(r"(?<=\d)[ \t]*[~～][ \t]*(?=\d)"), " to ", "到"),
    (re.compile(r"(?<=\d)(?:[ \t]*[–—][ \t]*|[ \t]+-[ \t]+)(?=\d)"), " to ", "到"),
    (re.compile(r"(\d+(?:[.,]\d+)*)[ \t]*[%％]"), "{0} percent", "百分之{0}"),
    (re.compile(r"[ \t]*(?:°[ \t]*C(?![A-Za-z])|℃)"), " degrees Celsius", "摄氏度"),
    (re.compile(r"[ \t]*(?:°[ \t]*F(?![A-Za-z])|℉)"), " degrees Fahrenheit", "华氏度"),
    (re.compile(r"[ \t]*°"), " degrees", "度"),
    (re.compile(r"[ \t]*&[ \t]*"), " and ", "和"),
    (re.compile(r"\b([CF])#"), "{0} sharp", "{0} sharp"),
    (re.compile(r"#(?=\d)"), "number ", "第"),
)
_UNSPOKEN = re.compile(r"<-+|-+>|=+>|[#|~～•·→←↑↓↔⇒⇐⇔™®©\\^]")
_LONE_HYPHEN = re.compile(r"(?<!\S)-{1,3}(?!\S)")
_NUMBER_AT_END = re.compile(r"\d(?:[.,]?\d)*$")
_NUMBER_AT_START = re.compile(r"^\d(?:[.,]?\d)*")
# Letters only: a mark such as "。" may end the sentence before, in a piece of its own.
_CJK_LETTER = re.compile(r"[\u2e80-\u2fff\u3040-\u9fff\uac00-\ud7af\uf900-\ufaff]")

_SPACE_BEFORE_MARK = re.compile(r" (?=[,.!?;:)\]}，。！？；：、）」』”])")
_REPEATED_MARK = re.compile(r"([^\w\s])\1{3,}")


def clean_for_tts(text: str, *, at_line_start: bool = True) -> str:
    """What a voice should say for `text`: plain words on one line ("" if nothing is left).

    `at_line_start` tells whether `text` begins a line of the reply. When it does not (a piece
    cut after a sentence in mid-line), line-start Markdown such as "1. " is not taken for a list
    number in its first line.
    """
    spoken = []
    for is_code, part in _code_and_prose(text):
        spoken.append(f" {CODE_MENTION} " if is_code else _clean_prose(part, at_line_start))
        at_line_start = False  # what follows a closing fence continues that line
    return _tidy("".join(spoken))


def is_speakable(spoken: str) -> bool:
    """True if `spoken` has a letter or a digit: only then is it worth sending to a voice."""
    return any(char.isalnum() for char in spoken)


def closing_fence_end(text: str, body_start: int, fence_length: int) -> int | None:
    """Where a code block ends (just after its closing fence), or None if it is not closed yet.

    The opening fence has `fence_length` backticks and ends at `body_start`; a closing fence is
    at least as long, as in CommonMark.
    """
    close = text.find("`" * fence_length, body_start)
    if close < 0:
        return None
    end = close + fence_length
    while end < len(text) and text[end] == "`":
        end += 1
    return end


def _code_and_prose(text: str) -> Iterator[tuple[bool, str]]:
    position = 0
    while (opener := _FENCE.search(text, position)) is not None:
        end = closing_fence_end(text, opener.end(), len(opener.group()))
        end = len(text) if end is None else end
        yield False, text[position : opener.start()]
        yield True, text[opener.start() : end]
        position = end
    yield False, text[position:]


def _clean_prose(text: str, at_line_start: bool) -> str:
    text = _speak_addresses(text)
    text = _HTML_TAG.sub(" ", text)
    text = _HTML_ENTITY.sub(lambda m: html.unescape(m.group()), text)
    text = _strip_line_markup(text, at_line_start)
    text = _strip_inline_markup(text)
    text = _PICTOGRAPHS.sub("", text)
    return _speak_symbols(text)


def _speak_addresses(text: str) -> str:
    text = _AUTOLINK.sub(lambda m: _host(m.group(1)), text)
    text = _LINK.sub(r"\1", text)
    text = _URL.sub(_speak_url, text)
    return _EMAIL.sub(r"\1 at \2", text)


def _speak_url(match: re.Match[str]) -> str:
    url = match.group()
    core = url.rstrip(_URL_TRAILING_PUNCTUATION)
    return _host(core) + url[len(core) :]


def _host(url: str) -> str:
    """The part of an address a listener can use: "https://www.example.com/a" -> "example.com"."""
    without_scheme = re.sub(r"^[A-Za-z][A-Za-z0-9+.-]*://", "", url)
    host = re.split(r"[/?#]", without_scheme, maxsplit=1)[0]
    host = host.rpartition("@")[2].split(":")[0]
    return host[4:] if host.lower().startswith("www.") else host


def _strip_line_markup(text: str, at_line_start: bool) -> str:
    lines = text.split("\n")
    for index in range(0 if at_line_start else 1, len(lines)):
        lines[index] = _line_without_markup(lines[index])
    return "\n".join(lines)


def _line_without_markup(line: str) -> str:
    if _HORIZONTAL_RULE.match(line) or ("|" in line and _TABLE_RULE.match(line)):
        return ""
    for marker in _LINE_MARKERS:
        line = marker.sub("", line, count=1)
    return line


def _strip_inline_markup(text: str) -> str:
    text = text.replace("`", "")
    text = _TIMES.sub(_worded(" times ", "乘"), text)
    text = text.replace("*", "")
    return _UNDERSCORES.sub(_underscores, text)


def _underscores(match: re.Match[str]) -> str:
    # Inside a word (snake_case) it separates words; around one (_emphasis_) it is markup.
    text, start, end = match.string, match.start(), match.end()
    inside_word = (
        start > 0 and end < len(text) and text[start - 1].isalnum() and text[end].isalnum()
    )
    return " " if inside_word else ""


def _speak_symbols(text: str) -> str:
    for pattern, english, chinese in _SYMBOLS:
        text = pattern.sub(_worded(english, chinese), text)
    text = _UNSPOKEN.sub(" ", text)
    # "fast - and cheap": a pause, which a comma says best.
    return _LONE_HYPHEN.sub(",", text)


def _worded(english: str, chinese: str) -> Callable[[re.Match[str]], str]:
    """A replacement that picks the words by the language written next to the symbol."""

    def replace(match: re.Match[str]) -> str:
        words = chinese if _next_to_cjk(match) else english
        return words.format(*match.groups())

    return replace


def _next_to_cjk(match: re.Match[str]) -> bool:
    # The letters next to it, past a number ("是25℃", "3~5天"), but not past a mark or a line
    # break: the sentence or line before may be a piece of its own.
    text = match.string
    before = _NUMBER_AT_END.sub("", text[: match.start()].rstrip(" \t")).rstrip(" \t")[-1:]
    after = _NUMBER_AT_START.sub("", text[match.end() :].lstrip(" \t")).lstrip(" \t")[:1]
    return bool(_CJK_LETTER.match(before) or _CJK_LETTER.match(after))


def _tidy(text: str) -> str:
    text = " ".join(text.split())
    text = _REPEATED_MARK.sub(r"\1\1\1", text)  # "Wow!!!!!!" is said as "Wow!!!"
    return _SPACE_BEFORE_MARK.sub("", text)
