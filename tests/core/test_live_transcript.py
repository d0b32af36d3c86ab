"""The agreement between consecutive decodes of a growing utterance: what is committed, what
stays tentative, where the next decode starts, and the silence guard, with word lists as the
decodes of Whisper give them (leading spaces, punctuation, times in seconds)."""

from __future__ import annotations

import numpy as np

from assistant.core.live_transcript import LiveTranscript, Partial, Word, quietest_point


def said(text: str, start: float = 0.0, each: float = 0.4) -> list[Word]:
    """Words one after the other, `each` seconds long, from `start`."""
    return [
        Word(f" {word}", start + i * each, start + (i + 1) * each)
        for i, word in enumerate(text.split())
    ]


def test_words_are_committed_once_two_decodes_agree_on_them() -> None:
    live = LiveTranscript()
    first = live.add(said("what time"), 1.0)
    assert first == Partial("", "what time", 1.0)
    second = live.add(said("what time is my"), 1.5)
    assert second.committed == "what time"
    assert second.tentative == " is my"
    assert second.text == "what time is my"


def test_committed_words_never_change_when_a_later_decode_disagrees() -> None:
    live = LiveTranscript()
    live.add(said("what time is"), 1.7)
    live.add(said("what time is my"), 2.2)
    flipped = live.add(said("what tame is my dentist"), 2.6)
    # What the new decode says over committed audio is dropped; "my" agrees with the decode
    # before, so it is committed now.
    assert flipped.committed == "what time is my"
    assert flipped.tentative == " dentist"


def test_words_at_the_end_of_what_was_heard_wait_for_more_audio() -> None:
    live = LiveTranscript()
    live.add(said("and so am I"), 1.6)  # the last words, cut off mid-word: misheard
    partial = live.add(said("and so am I"), 1.7)  # and misheard alike again
    assert partial.committed == "and so"
    assert partial.tentative == " am I"


def test_tentative_words_that_keep_changing_are_never_committed() -> None:
    live = LiveTranscript()
    for guess in ("dentist", "dent is", "dentists", "the dentist's"):
        partial = live.add(said(f"my {guess}"), 2.0)
    assert partial.committed == "my"
    assert partial.tentative == " the dentist's"


def test_punctuation_and_case_differences_still_agree_and_the_newer_form_is_kept() -> None:
    live = LiveTranscript()
    live.add(said("Ask not what your country."), 2.0)
    partial = live.add(said("ask not, what your country can"), 2.5)
    assert partial.committed == "ask not, what your country"
    assert partial.tentative == " can"


def test_a_decode_that_shrinks_commits_only_what_both_say() -> None:
    live = LiveTranscript()
    live.add(said("the horizon seems extremely"), 2.0)
    partial = live.add(said("the horizon"), 2.5)  # the newer decode dropped its last words
    assert partial.committed == "the horizon"
    assert partial.tentative == ""
    again = live.add(said("the horizon seems extremely distant"), 3.0)
    assert again.committed == "the horizon"  # "seems" was not in the decode just before
    assert again.tentative == " seems extremely distant"


def test_a_phrase_said_twice_is_kept_twice() -> None:
    live = LiveTranscript()
    first = said("experience proves this.")
    second = said("experience proves this.", start=1.6)
    live.add(first, 1.4)
    live.add(first, 1.8)
    live.add([*first, *second[:1]], 2.0)
    live.add([*first, *second], 3.0)
    partial = live.add([*first, *second], 3.4)
    assert partial.text == "experience proves this. experience proves this."
    assert partial.committed == partial.text


def test_committed_words_decoded_again_in_a_later_window_are_not_repeated() -> None:
    live = LiveTranscript()
    words = said("and so my fellow americans")
    live.add(words, 2.2)
    live.add(words, 2.6)
    assert live.committed_text == "and so my fellow americans"
    # A decode that starts earlier than the committed end hears the last word again, its time a
    # little off; then the new words.
    again = [Word(" Americans", 1.7, 2.05), *said("ask not", start=2.3)]
    partial = live.add(again, 3.2)
    assert partial.text == "and so my fellow americans ask not"


def test_the_next_decode_starts_after_a_committed_sentence_with_a_pause_in_a_long_window() -> None:
    live = LiveTranscript()
    first = said("one two three four five six seven eight nine ten eleven twelve thirteen.")
    assert first[-1].end > 5
    second = said("next sentence", start=first[-1].end + 0.6)
    live.add(first, 10.0)
    assert live.window_start == 0.0  # a short window is decoded whole: context picks words
    live.add([*first, *second], 11.0)
    assert first[-1].end - 0.1 <= live.window_start <= second[0].start
    assert live.committed_text.endswith("thirteen.")


def test_the_window_does_not_move_in_the_middle_of_fluent_speech() -> None:
    live = LiveTranscript()
    words = said(" ".join(["word"] * 30), each=0.35)  # 10.5 s without a pause or sentence end
    live.add(words, 11.0)
    live.add(words, 11.5)
    assert live.window_start == 0.0


def test_silence_phrases_are_not_shown_nor_committed() -> None:
    live = LiveTranscript()
    live.add(said("Thank you."), 1.0)
    partial = live.add(said("Thank you."), 1.5)
    assert partial == Partial("", "", 1.5)
    assert live.committed_text == ""
    assert live.final_text() == ""
    # Real words after it: now all of it is what was said.
    live.add(said("Thank you. Turn on the light"), 3.0)
    partial = live.add(said("Thank you. Turn on the light"), 3.5)
    assert partial.text == "Thank you. Turn on the light"


def test_a_silence_phrase_after_real_words_is_not_flashed_as_tentative() -> None:
    live = LiveTranscript()
    live.add(said("turn on"), 1.0)
    partial = live.add(said("turn on Thank you."), 2.0)
    assert partial == Partial("turn on", "", 2.0)


def test_the_final_text_is_the_latest_decode_of_the_window() -> None:
    live = LiveTranscript()
    live.add(said("and so am I"), 2.0)
    live.add(said("and so am I fellow"), 2.5)  # two short decodes misheard "my" alike
    assert live.committed_text == "and so am I"
    # The decode of the whole window hears it right, as the whole utterance's decode does: the
    # final text is that decode's, whatever was committed on the way.
    assert live.final_text(said("and so my fellow Americans")) == "and so my fellow Americans"
    assert live.final_text() == "and so am I fellow"  # the latest decode, when it heard all


def test_the_final_text_keeps_the_sentences_before_the_window_as_whole_windows_heard_them() -> None:
    live = LiveTranscript()
    misheard = said("one two three four five six seven eight nine ten eleven twelve thirteen.")
    first = [*misheard[:1], Word(" too", misheard[1].start, misheard[1].end), *misheard[2:]]
    second = said("next sentence", start=misheard[-1].end + 0.6)
    live.add(first, 8.0)
    live.add(first, 8.5)  # "too" committed: two decodes misheard it alike
    live.add([*misheard, *second], 11.0)  # the whole window's decode hears "two"
    assert "too" in live.committed_text
    assert live.window_start > 5
    tail = said("next sentence please", start=live.window_start + 0.1)
    expected = "one two three four five six seven eight nine ten eleven twelve thirteen."
    assert live.final_text(tail) == f"{expected} next sentence please"


def test_words_are_withheld_from_commitment_while_the_language_is_not_known() -> None:
    live = LiveTranscript()
    live.add(said("guten tag"), 1.0, commit=False)
    partial = live.add(said("guten tag"), 1.5, commit=False)
    assert partial == Partial("", "guten tag", 1.5)
    live.restart()
    assert live.add(said("guten tag wie"), 2.0).committed == ""


def test_languages_without_spaces_are_joined_as_written() -> None:
    live = LiveTranscript()
    words = [Word("桥", 0.0, 0.3), Word("下", 0.3, 0.6), Word("垂直", 0.6, 1.0)]
    live.add(words[:2], 0.8)
    partial = live.add(words, 1.2)
    assert partial.committed == "桥下"
    assert partial.tentative == "垂直"
    assert partial.text == "桥下垂直"


def test_the_cut_falls_in_the_quietest_place() -> None:
    rate = 16_000
    audio = np.full(rate, 0.5, dtype=np.float32)
    audio[int(0.62 * rate) : int(0.66 * rate)] = 0.0  # a short gap between two words
    cut = quietest_point(audio, 0.5, 0.8)
    assert 0.62 <= cut <= 0.66
