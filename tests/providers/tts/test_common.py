"""What the network voices share: cutting long text for a request, and how patiently they retry."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from assistant.providers.http import Backoff
from assistant.providers.tts._common import split_text

LIMIT = 64


def test_short_text_is_left_whole() -> None:
    assert split_text("  Hello there.  ", LIMIT) == ["Hello there."]
    assert split_text("   ", LIMIT) == []


def test_text_is_cut_after_a_sentence_before_a_clause_before_a_word() -> None:
    text = "One short sentence. Then a clause, and words that run on and on and on."
    assert split_text(text, LIMIT) == [
        "One short sentence.",
        "Then a clause, and words that run on and on and on.",
    ]
    assert split_text("Words, then more words that keep going and going on", 40) == [
        "Words,",
        "then more words that keep going and",
        "going on",
    ]


def test_chinese_is_cut_after_its_own_punctuation() -> None:
    text = "今天天气很好。我们去公园散步吧！你觉得怎么样？"
    assert split_text(text, 30) == ["今天天气很好。", "我们去公园散步吧！", "你觉得怎么样？"]


def test_a_word_longer_than_the_limit_is_cut_between_characters() -> None:
    pieces = split_text("é" * 40, 25)
    assert pieces == ["é" * 12, "é" * 12, "é" * 12, "é" * 4]


@given(st.text(alphabet=st.sampled_from("ab é中😀 .,!?。，\n"), max_size=400), st.integers(4, 80))
def test_pieces_fit_and_lose_nothing_but_spaces(text: str, limit: int) -> None:
    pieces = split_text(text, limit)

    assert all(0 < len(piece.encode()) <= limit for piece in pieces)
    assert all(piece == piece.strip() for piece in pieces)
    assert "".join("".join(pieces).split()) == "".join(text.split())


def test_retries_wait_longer_each_time_up_to_a_cap() -> None:
    backoff = Backoff(tries=5, first_delay=0.2, max_delay=1.0)
    assert [backoff.delay(n, None) for n in range(1, 6)] == [0.2, 0.4, 0.8, 1.0, None]


def test_a_server_asking_for_a_short_pause_gets_it_and_a_long_one_is_not_waited_for() -> None:
    backoff = Backoff()
    assert backoff.delay(1, 1.5) == 1.5
    assert backoff.delay(1, 30.0) is None
