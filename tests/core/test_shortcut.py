"""The talk chord as written in the settings file, and exactly when it counts as pressed."""

from __future__ import annotations

import pytest

from assistant.core.errors import ConfigError
from assistant.core.shortcut import DEFAULT_TALK_CHORD, Chord, ChordMatcher


def test_parse_normalises_spelling_and_order() -> None:
    chord = Chord.parse(" Shift + Control + F9 ")
    assert chord == Chord(frozenset({"ctrl", "shift"}), "f9")
    assert str(chord) == "ctrl+shift+f9"
    assert chord.label == "Ctrl+Shift+F9"
    assert str(Chord.parse("cmd+alt+space")) == "alt+super+space"
    assert Chord.parse(DEFAULT_TALK_CHORD).label == "Ctrl+Alt+Space"
    assert Chord.parse("ctrl+page_up").label == "Ctrl+Page Up"


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", "not a key combination"),
        ("ctrl++space", "not a key combination"),
        ("hyper+space", '"hyper" as a modifier'),
        ("ctrl+alt", "ends with a modifier"),
        ("a", "single key"),
        ("space", "single key"),
    ],
)
def test_parse_says_what_is_wrong(text: str, words: str) -> None:
    with pytest.raises(ConfigError, match=words):
        Chord.parse(text)


def test_a_function_key_alone_is_a_chord() -> None:
    assert Chord.parse("f12") == Chord(frozenset(), "f12")


def _feed(matcher: ChordMatcher, events: str) -> list[str]:
    """Feed "+ctrl +space -space" style events; return what the matcher reported."""
    fired = []
    for event in events.split():
        if event[0] == "+" and matcher.key_down(event[1:]):
            fired.append("press")
        elif event[0] == "-" and matcher.key_up(event[1:]):
            fired.append("release")
    return fired


def test_exactly_the_chord_presses_and_any_of_its_keys_lets_go() -> None:
    matcher = ChordMatcher(Chord.parse("ctrl+shift+space"))
    assert _feed(matcher, "+ctrl +shift +space -space -shift -ctrl") == ["press", "release"]
    assert _feed(matcher, "+ctrl +shift +space -ctrl -space -shift") == ["press", "release"]


def test_other_keys_with_the_same_modifiers_do_not_fire() -> None:
    """whisper-writer #90: any Ctrl+Shift+key fired the shortcut."""
    matcher = ChordMatcher(Chord.parse("ctrl+shift+space"))
    assert _feed(matcher, "+ctrl +shift +a -a +return -return -shift -ctrl") == []
    assert _feed(matcher, "+ctrl +alt +shift +space -space -shift -alt -ctrl") == []
    assert _feed(matcher, "+shift +space -space -shift") == []


def test_key_repeat_is_one_press() -> None:
    matcher = ChordMatcher(Chord.parse("ctrl+alt+space"))
    assert _feed(matcher, "+ctrl +alt +space +space +space +space -space") == ["press", "release"]


def test_pressing_the_key_again_with_modifiers_held_is_a_new_press() -> None:
    matcher = ChordMatcher(Chord.parse("ctrl+alt+space"))
    events = "+ctrl +alt +space -space +space -space -alt -ctrl"
    assert _feed(matcher, events) == ["press", "release", "press", "release"]


def test_a_key_released_under_another_name_does_not_block_the_chord_for_good() -> None:
    """X11 reports Shift+1 going down as "!" and, Shift let go first, coming up as "1"."""
    matcher = ChordMatcher(Chord.parse("ctrl+alt+space"))
    assert _feed(matcher, "+shift +! -shift -1") == []
    assert _feed(matcher, "+ctrl +alt +space -space -alt -ctrl") == ["press", "release"]


def test_a_stale_picture_while_held_lets_go() -> None:
    matcher = ChordMatcher(Chord.parse("ctrl+alt+space"))
    assert _feed(matcher, "+ctrl +alt +space -meta") == ["press", "release"]
    assert not matcher.held
