"""The real speech clips in tests/data/speech, their reference transcripts, and word and character
error rates."""

from __future__ import annotations

import csv
import re
from pathlib import Path

SPEECH = Path(__file__).parents[1] / "data" / "speech"

ENGLISH_CLIPS = [
    "ds_2830-3980-0043.wav",
    "fw_stereo_diarization_left.wav",
    "fw_stereo_diarization_right.wav",
    "fw_jfk.flac",
]


def references() -> dict[str, str]:
    with (SPEECH / "references.tsv").open(newline="", encoding="utf-8") as table:
        rows = csv.DictReader(table, delimiter="\t", quoting=csv.QUOTE_NONE)
        return {row["file"]: row["reference"] for row in rows}


def words(text: str) -> list[str]:
    return re.sub(r"[^\w\s']", " ", text.lower()).replace("'", "").split()


def word_error_rate(reference: str, hypothesis: str) -> float:
    """Word edits (substitutions, insertions, deletions) per word of the reference."""
    return _edits(words(reference), words(hypothesis)) / max(1, len(words(reference)))


def character_error_rate(reference: str, hypothesis: str) -> float:
    """Character edits per character of the reference, spaces and punctuation left out: for
    languages written without spaces between words (Chinese, Japanese)."""
    said, heard = "".join(words(reference)), "".join(words(hypothesis))
    return _edits(list(said), list(heard)) / max(1, len(said))


def _edits(said: list[str], heard: list[str]) -> int:
    """The fewest substitutions, insertions and deletions that turn `said` into `heard`."""
    previous = list(range(len(heard) + 1))
    for i, expected in enumerate(said, start=1):
        current = [i]
        for j, got in enumerate(heard, start=1):
            current.append(
                min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (expected != got))
            )
        previous = current
    return previous[-1]
