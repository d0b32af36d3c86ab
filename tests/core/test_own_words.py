"""What the microphone heard over the reply: the reply's own words coming back, or the user's."""

from __future__ import annotations

import pytest

from assistant.core.own_words import is_its_own_words, words

REPLY = (
    "Here is a long answer, so that you can hear how the assistant keeps talking. "
    "It has several sentences, each one spoken in turn by the offline voice."
)


@pytest.mark.parametrize(
    "heard",
    [
        "Here is a long answer.",  # the leak, read back right
        "so that you can hear how the assistant keeps",
        "Here is a long answer so that you can here how",  # and read back with a slip
        "answer.",  # a word of it
        "",  # nothing Whisper could read
        " ... ",
    ],
)
def test_the_replys_own_words_are_its_echo(heard: str) -> None:
    assert is_its_own_words(heard, REPLY)


@pytest.mark.parametrize(
    "heard",
    [
        "Wait, stop.",
        "And so my fellow Americans.",
        "What about the answer to my question?",  # some of its words, but a question of theirs
        "Ask not what your country can do for you.",
    ],
)
def test_the_users_words_are_not(heard: str) -> None:
    assert not is_its_own_words(heard, REPLY)


def test_words_of_the_reply_out_of_its_order_are_the_users() -> None:
    plan = "Sunday is quiet, with nothing planned at all, and that may be the best day of the week."
    assert not is_its_own_words("Is it dry on Sunday?", plan)
    assert not is_its_own_words("Which day is the best?", plan)
    assert is_its_own_words("nothing planned at all and that may be", plan)


def test_chinese_is_compared_character_by_character() -> None:
    reply = "今天天气很好，最高气温二十度。"
    assert words("今天天气") == ["今", "天", "天", "气"]
    assert is_its_own_words("今天天气很好", reply)
    assert not is_its_own_words("明年我们去北京吗", reply)
