"""Was what the microphone heard over the reply the reply itself?

The echo canceller takes the assistant's voice out of the microphone, but not always all of it:
a reply's first second can leak while the canceller learns the echo's new delay (each reply opens
a new output stream), and on two busy cores it leaked enough, about one e2e run in four, for the
voice detector to hear speech. Levels cannot tell that leak from a person: on the e2e rig the
leak was 0 to 3 dB above the echo the room predicts, and JFK's soft "And so" over the reply 3 to
4 dB (a level gate was tried and cut real barge-ins off). Words can: what leaked is the reply's
own words (or nothing Whisper can read), what a person says over it is not.

So speech heard while the assistant speaks holds the reply (turn.py) until it is transcribed;
then it goes on if these words are its own, and is cut off if they are the user's.
"""

from __future__ import annotations

import re
from typing import Final

# This share of what was heard must be the reply's words: a leak transcribes as the reply
# (Whisper reads the assistant's clear voice well), a person's "wait, stop" or question does not.
OWN_WORDS_SHARE: Final = 0.6

# Words of scripts written with spaces, and single characters of those without (Chinese,
# Japanese): each character is compared on its own there.
_WORD = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]|[^\W_]+")


def words(text: str) -> list[str]:
    """The words of `text`, lower-cased, without punctuation."""
    return _WORD.findall(text.casefold())


def is_its_own_words(heard: str, reply: str) -> bool:
    """Whether `heard` (transcribed from the microphone while `reply` was being said) is the
    reply coming back: nothing readable, or mostly the reply's own words."""
    said = words(heard)
    if not said:
        return True
    own = set(words(reply))
    return sum(word in own for word in said) >= OWN_WORDS_SHARE * len(said)


__all__ = ["OWN_WORDS_SHARE", "is_its_own_words", "words"]
