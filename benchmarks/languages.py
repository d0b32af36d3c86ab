"""Languages: what `[stt] language = "auto"` (the default) costs and gives, on the real clips of
tests/data/speech, with the app's own WhisperTranscriber.

- English: each clip transcribed as before (tiny.en told the language is English) and as now
  (the language detected by the multilingual base on the speech alone, then tiny.en); the
  difference is the price of detection on every English request.
- Detection itself, on the speech alone against Whisper's usual 30 s window padded with silence.
- Other languages with the default settings: the language found, the time, the error rate.
- Mandarin: character error rate against the Simplified reference, Whisper base as it writes by
  default and with the Simplified prompt the app adds on a mainland-Chinese system.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import tempfile
import time
from pathlib import Path

from faster_whisper import WhisperModel, decode_audio
from faster_whisper.vad import VadOptions, get_speech_timestamps

from assistant.config import SttSettings
from assistant.core.languages import CHINESE_PROMPTS
from assistant.core.protocols import Recording
from assistant.providers.stt.whisper_local import WhisperTranscriber, language_probabilities
from assistant.providers.whisper_models import multilingual_base
from tests.support.speech import (
    ENGLISH_CLIPS,
    SPEECH,
    character_error_rate,
    references,
    word_error_rate,
)

TITLE = "Languages: detecting the language, its cost on English, and other languages"

REPEATS = 5  # transcriptions per clip and way; the median is reported
OTHER_CLIPS = {"pv_test_de.wav": "WER", "fleurs_zh_1883.wav": "CER", "fleurs_ja_1837.wav": "CER"}
MANDARIN = "fleurs_zh_1883.wav"


def recording(clip: str) -> Recording:
    audio = decode_audio(str(SPEECH / clip))  # 16 kHz mono float32
    return Recording((audio.clip(-1, 1) * 32767).astype("<i2").tobytes())


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f}"


async def timed(transcriber: WhisperTranscriber, clip: str) -> tuple[float, str, str]:
    """The median time of REPEATS transcriptions of `clip`, the text and the language."""
    times = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        transcript = await transcriber.transcribe(recording(clip))
        times.append(time.perf_counter() - started)
    return statistics.median(times), transcript.text, transcript.language or "?"


async def loaded(settings: SttSettings, models_dir: Path) -> WhisperTranscriber:
    transcriber = WhisperTranscriber(settings, models_dir=models_dir)
    await transcriber.load()
    await transcriber.languages_ready()  # the multilingual model loads after English is ready
    return transcriber


async def english_table(models_dir: Path) -> str:
    before = await loaded(SttSettings(language="en"), models_dir)
    now = await loaded(SttSettings(), models_dir)
    rows = [
        "| English clip | length s | before: tiny.en, ms | now: detect + tiny.en, ms | extra ms "
        "| language | WER now |",
        "|---|---|---|---|---|---|---|",
    ]
    try:
        for clip in ENGLISH_CLIPS:
            old, _, _ = await timed(before, clip)
            new, text, language = await timed(now, clip)
            error = word_error_rate(references()[clip], text)
            rows.append(
                f"| {clip} | {recording(clip).duration:.1f} | {ms(old)} | {ms(new)} | "
                f"{ms(new - old)} | {language} | {error:.2f} |"
            )
    finally:
        before.close()
        now.close()
    return "\n".join(rows)


def detection_table(models_dir: Path) -> str:
    """Detection alone with the base model: on the speech only, and as faster-whisper does it
    (a 30 s window, padded)."""
    model = WhisperModel(
        str(multilingual_base(models_dir)), device="cpu", compute_type="int8", cpu_threads=2
    )
    rows = [
        "| clip | speech alone, ms | 30 s window, ms | top language (speech alone) |",
        "|---|---|---|---|",
    ]
    for clip in [*ENGLISH_CLIPS, *OTHER_CLIPS]:
        audio = decode_audio(str(SPEECH / clip))
        speech = get_speech_timestamps(audio, VadOptions())
        alone, padded = [], []
        for _ in range(REPEATS):
            started = time.perf_counter()
            probabilities = language_probabilities(model, audio, speech)
            alone.append(time.perf_counter() - started)
            started = time.perf_counter()
            model.detect_language(audio, vad_filter=True)
            padded.append(time.perf_counter() - started)
        top = max(probabilities, key=lambda language: probabilities[language])
        rows.append(
            f"| {clip} | {ms(statistics.median(alone))} | {ms(statistics.median(padded))} | "
            f"{top} {probabilities[top]:.3f} |"
        )
    return "\n".join(rows)


async def other_languages_table(models_dir: Path) -> str:
    now = await loaded(SttSettings(), models_dir)
    rows = [
        "| clip | length s | language found | ms | error rate | transcript |",
        "|---|---|---|---|---|---|",
    ]
    try:
        for clip, measure in OTHER_CLIPS.items():
            seconds, text, language = await timed(now, clip)
            rate = word_error_rate if measure == "WER" else character_error_rate
            error = rate(references()[clip], text)
            rows.append(
                f"| {clip} | {recording(clip).duration:.1f} | {language} | {ms(seconds)} | "
                f"{measure} {error:.3f} | {text} |"
            )
    finally:
        now.close()
    return "\n".join(rows)


def mandarin_table(models_dir: Path) -> str:
    model = WhisperModel(
        str(multilingual_base(models_dir)), device="cpu", compute_type="int8", cpu_threads=2
    )
    audio = decode_audio(str(SPEECH / MANDARIN))
    rows = ["| Whisper base on " + MANDARIN + " | CER | transcript |", "|---|---|---|"]
    for way, prompt in (
        ("no prompt (Whisper's default)", None),
        ("Simplified prompt", CHINESE_PROMPTS["simplified"]),
        ("Traditional prompt", CHINESE_PROMPTS["traditional"]),
    ):
        segments, _ = model.transcribe(
            audio, language="zh", beam_size=1, vad_filter=True, initial_prompt=prompt
        )
        text = " ".join(segment.text.strip() for segment in segments)
        error = character_error_rate(references()[MANDARIN], text)
        rows.append(f"| {way} | {error:.3f} | {text} |")
    return "\n".join(rows)


def run() -> str:
    os.environ.pop("LC_ALL", None)
    os.environ["LANG"] = "C.UTF-8"  # an English system: the languages expected are English alone
    with tempfile.TemporaryDirectory() as folder:
        models_dir = Path(folder)
        english = asyncio.run(english_table(models_dir))
        detection = detection_table(models_dir)
        others = asyncio.run(other_languages_table(models_dir))
        mandarin = mandarin_table(models_dir)
    return "\n\n".join(
        [
            f"English requests, before and now (median of {REPEATS}, greedy decoding, int8):",
            english,
            "Detection alone, by the multilingual base:",
            detection,
            'Other languages with the default settings (`language = "auto"`, an English '
            "system, no `languages` set):",
            others,
            "Mandarin in the characters the user reads (reference in Simplified):",
            mandarin,
        ]
    )
