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
from difflib import SequenceMatcher
from typing import Final

# This share of what was heard must be the reply's words, in the reply's order: a leak
# transcribes as the reply (Whisper reads the assistant's clear voice well), a person's "wait,
# stop" or question does not. Compared with the sentences sounding then, not the whole reply: a
# long reply has most common words somewhere ("is it dry on Sunday" is all in a week's plan).
OWN_WORDS_SHARE: Final = 0.6

# Words of scripts written with spaces, and single characters of those without (Chinese,
# Japanese): each character is compared on its own there.
_WORD = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]|[^\W_]+")


def words(text: str) -> list[str]:
    """The words of `text`, lower-cased, without punctuation."""
    return _WORD.findall(text.casefold())


def is_its_own_words(heard: str, sounding: str) -> bool:
    """Whether `heard` (transcribed from the microphone while `sounding` was being said) is
    that coming back: nothing readable, or mostly its words, in its order."""
    said = words(heard)
    if not said:
        return True
    matcher = SequenceMatcher(None, said, words(sounding), autojunk=False)
    # Runs of two words or more: a lone "is" or "the" in common is chance, not an echo.
    shortest = min(2, len(said))
    runs = (block.size for block in matcher.get_matching_blocks() if block.size >= shortest)
    return sum(runs) >= OWN_WORDS_SHARE * len(said)


__all__ = ["OWN_WORDS_SHARE", "is_its_own_words", "words"]
