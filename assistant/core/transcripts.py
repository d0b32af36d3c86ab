"""What counts as having said something: the shortest press worth transcribing, and the phrases
Whisper-style models invent on silence. Shared by every transcriber and by the turn."""

from __future__ import annotations

import re

MIN_SPEECH_SECONDS = 0.3  # shorter than any word: an accidental tap of the talk button

# What Whisper writes when it hears silence or noise, learned from the subtitles it was trained on.
# Compared after normalising case and punctuation, and only when they make up the whole transcript.
_SILENCE_PHRASES = frozenset(
    {
        "you",
        "thank you",
        "thanks for watching",
        "thank you for watching",
        "thanks for listening",
        "thank you for listening",
        "please subscribe",
        "like and subscribe",
        "bye",
        "bye bye",
        "blank audio",
        "silence",
        "music",
        "applause",
        "laughter",
        "inaudible",
        "noise",
    }
)
_SILENCE_PREFIXES = (
    "subtitles by",
    "subtitled by",
    "captions by",
    "transcribed by",
    "transcription by",
    "untertitel",
    "sous titres",
    "sous titrage",
    "subtítulos",
)
_PIECES = re.compile(r"(?<=[.!?])\s+|[\[\]()*♪]+")
_NOT_A_WORD = re.compile(r"[^\w']+|_")


def _normalize(text: str) -> str:
    return " ".join(_NOT_A_WORD.sub(" ", text.lower()).replace("'", "").split())


def is_silence_hallucination(text: str) -> bool:
    """True if `text` is only what Whisper invents on silence ("Thank you.", "[BLANK_AUDIO]", ...),
    or nothing but punctuation and symbols."""
    pieces = [_normalize(piece) for piece in _PIECES.split(text)]
    return all(
        not piece or piece in _SILENCE_PHRASES or piece.startswith(_SILENCE_PREFIXES)
        for piece in pieces
    )
