"""Cleaning a reply for the voice: what a listener hears instead of Markdown, links and symbols."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assistant.core.cleaner import CODE_MENTION, clean_for_tts, is_speakable

# (as the model wrote it, what the voice says)
CASES = [
    pytest.param("# Heading", "Heading", id="heading"),
    pytest.param("### Sub heading ###", "Sub heading", id="heading-closed"),
    pytest.param(
        "**Bold** and *italic* and __strong__ and _em_.",
        "Bold and italic and strong and em.",
        id="emphasis",
    ),
    pytest.param("Use `pip install x` now.", "Use pip install x now.", id="inline-code"),
    pytest.param("> A quote\n> more", "A quote more", id="block-quote"),
    pytest.param("- one\n* two\n+ three\n• four", "one two three four", id="bullets"),
    pytest.param("1. First\n2) Second\n10. Tenth", "First Second Tenth", id="numbered"),
    pytest.param("See [the docs](https://docs.example.com/a?b=1).", "See the docs.", id="link"),
    pytest.param("![a cat](http://x.y/cat.png)", "a cat", id="image"),
    pytest.param(
        "Go to https://www.example.com/path?q=1&r=2.", "Go to example.com.", id="url-with-query"
    ),
    pytest.param("Visit www.python.org/downloads today", "Visit python.org today", id="www"),
    pytest.param("<https://example.org/x>", "example.org", id="autolink"),
    pytest.param("访问https://example.cn/a了解更多", "访问example.cn了解更多", id="url-in-chinese"),
    pytest.param("Mail me@example.com please", "Mail me at example.com please", id="email"),
    pytest.param("Fish & chips, AT&T", "Fish and chips, AT and T", id="ampersand"),
    pytest.param(
        "Up 25% today, 3.5 % tomorrow", "Up 25 percent today, 3.5 percent tomorrow", id="%"
    ),
    pytest.param(
        "It is 25°C, or 77°F, and 10° off.",
        "It is 25 degrees Celsius, or 77 degrees Fahrenheit, and 10 degrees off.",
        id="degrees",
    ),
    pytest.param("about ~5 minutes, 3~5 days", "about 5 minutes, 3 to 5 days", id="tilde"),
    pytest.param("10–20 people, pages 10 - 20", "10 to 20 people, pages 10 to 20", id="ranges"),
    pytest.param("Great job 🎉👍🏽!", "Great job!", id="emoji"),
    pytest.param("Family 👨\u200d👩\u200d👧 time ✅", "Family time", id="emoji-sequence"),
    pytest.param("Press 1️⃣ now", "Press 1 now", id="keycap"),
    pytest.param("Settings → Voice", "Settings Voice", id="arrow"),
    pytest.param("a -> b => c", "a b c", id="ascii-arrows"),
    pytest.param(
        "Code:\n```python\nprint('hi. there')\n```\nDone.",
        f"Code: {CODE_MENTION} Done.",
        id="code-block",
    ),
    pytest.param("Start:\n```sh\nls -la", f"Start: {CODE_MENTION}", id="unclosed-code-block"),
    pytest.param(
        "C# and F#; item #2 wins #python",
        "C sharp and F sharp; item number 2 wins python",
        id="hash-signs",
    ),
    pytest.param("snake_case_name and __init__", "snake case name and init", id="underscores"),
    pytest.param("fast - and cheap", "fast, and cheap", id="spaced-hyphen"),
    pytest.param("Wow!!!!!! Really??", "Wow!!! Really??", id="repeated-marks"),
    pytest.param("Tom &amp; Jerry&nbsp;now", "Tom and Jerry now", id="html-entities"),
    pytest.param("line<br>break <b>bold</b>", "line break bold", id="html-tags"),
    pytest.param("| Name | Age |\n|:-----|----:|\n| Bob | 5 |", "Name Age Bob 5", id="table"),
    pytest.param("Above\n\n---\n\n***\nBelow", "Above Below", id="rules"),
    pytest.param("2 * 3 = 6, ~~old~~", "2 times 3 = 6, old", id="times-strike"),
    pytest.param("Brand™ ® ©", "Brand", id="trademarks"),
    pytest.param("  lots \t of\n\n space  ", "lots of space", id="whitespace"),
    # Chinese stays as written; its symbols are said in Chinese.
    pytest.param("你好，世界！😊", "你好，世界！", id="chinese-emoji"),
    pytest.param("温度是25℃，湿度60%。", "温度是25摄氏度，湿度百分之60。", id="chinese-symbols"),
    pytest.param("大约3~5天，猫&狗", "大约3到5天，猫和狗", id="chinese-range-and"),
    pytest.param(
        "## 步骤\n1. 打开**设置**\n2. 选择「声音」",
        "步骤 打开设置 选择「声音」",
        id="chinese-markdown",
    ),
]


@pytest.mark.parametrize(("written", "spoken"), CASES)
def test_a_reply_is_cleaned_for_the_voice(written: str, spoken: str) -> None:
    assert clean_for_tts(written) == spoken


def test_line_start_markup_counts_only_at_a_line_start() -> None:
    # A piece cut after "Done. " is mid-line: its "2." is a number, not a list bullet.
    assert clean_for_tts("2. Next line", at_line_start=False) == "2. Next line"
    assert clean_for_tts("2. Next\n3. Last", at_line_start=False) == "2. Next Last"
    assert clean_for_tts("2. Next line") == "Next line"


@pytest.mark.parametrize(
    ("spoken", "speakable"),
    [("Hello", True), ("5", True), ("你好", True), ("", False), ("...", False), ("!? —", False)],
)
def test_only_text_with_a_letter_or_digit_is_worth_saying(spoken: str, speakable: bool) -> None:
    assert is_speakable(spoken) is speakable


PICTOGRAPHS = re.compile("[\U0001f000-\U0001faff\u2600-\u27bf\u2b00-\u2bff\ufe0f\u200d]")
MARKDOWN_CHARS = "*`#|~_"


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=120) | st.text(alphabet="# *_`>-|~&%°\n\t.1aA[]()h:/🎉你好", max_size=60))
def test_the_voice_never_gets_markup_emoji_or_line_breaks(text: str) -> None:
    spoken = clean_for_tts(text)
    assert spoken == spoken.strip()
    assert "  " not in spoken and "\n" not in spoken and "\t" not in spoken
    assert not PICTOGRAPHS.search(spoken)
    assert not any(char in spoken for char in MARKDOWN_CHARS)


hosts = st.from_regex(r"[a-z]{1,8}(\.[a-z]{2,6}){1,2}", fullmatch=True)
# Ending in a letter or digit: a final "." or "," is read as the sentence's, not the address's.
paths = st.from_regex(
    r"(/[A-Za-z0-9._~-]{0,7}[A-Za-z0-9]){0,3}/?(\?[a-z]=[0-9a-z]{1,6}(&[a-z]=[0-9a-z]{1,4})?)?",
    fullmatch=True,
)


@settings(max_examples=200, deadline=None)
@given(
    scheme=st.sampled_from(["https://", "http://", "https://www.", "www."]), host=hosts, path=paths
)
def test_a_web_address_is_said_as_its_host(scheme: str, host: str, path: str) -> None:
    assert clean_for_tts(f"Open {scheme}{host}{path} now.") == f"Open {host} now."


cjk_prose = st.text(
    alphabet=st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF)
    | st.sampled_from("，。！？：；、“”「」（）……  "),
    max_size=80,
)


@settings(max_examples=300, deadline=None)
@given(cjk_prose)
def test_chinese_text_is_kept_as_written(text: str) -> None:
    # Only spaces may change (collapsed, or dropped before a mark).
    assert "".join(clean_for_tts(text).split()) == "".join(text.split())
