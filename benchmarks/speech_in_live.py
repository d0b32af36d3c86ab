"""Speech in, live (issue 17): the words while the user speaks, and the final transcript at the
end of speech, incremental against the whole-utterance decode, side by side in one run.

Utterances of 2, 5, 10, 20 and 30 s are made of the real clips in tests/data/speech (a breath
apart); each is fed to `WhisperTranscriber.live()` in real time, 0.5 s of audio per step (the
time is slept, as a microphone would deliver it), and the user lets go 300 ms after the last word.
Measured: release → final transcript, incremental (`finish`) and whole (`transcribe` on the same
recording); time from a word's end in the audio to it being shown as committed; CPU used while
the user speaks; the event loop's largest delay; and the word error rate of both ways on every
real clip (character error rate for Chinese and Japanese).
"""

from __future__ import annotations

import asyncio
import statistics
import time
from dataclasses import dataclass, field

import numpy as np

from assistant.audio.files import read_audio
from assistant.config import SttSettings
from assistant.core.protocols import BYTES_PER_SAMPLE, TRANSCRIBE_RATE, Partial, Recording
from assistant.providers.stt.whisper_live import WhisperLive
from assistant.providers.stt.whisper_local import WhisperTranscriber
from benchmarks.speech_in import GAP, TAIL, LoopLag, compose
from tests.support.speech import (
    ENGLISH_CLIPS,
    SPEECH,
    character_error_rate,
    references,
    word_error_rate,
)

TITLE = "Speech in, live: words while speaking, and the final transcript at the end of speech"

LENGTHS = (2, 5, 10, 20, 30)  # seconds of utterance
REPEATS = 3  # per length
STEP = 0.5  # seconds of audio per update, as the microphone delivers it
TARGET_FINAL = 0.150  # release → final transcript, for any length up to 30 s
TARGET_LAG = 0.016
# Hands-free: the end of the turn is decided after a pause (the end-of-turn model's), so the
# recording ends this long after the last word rather than at the release.
PAUSE_END = 0.8
WITHOUT_SPACES = ("zh", "ja")  # scored by characters


@dataclass
class Spoken:
    """One utterance spoken in real time into a live transcription."""

    incremental: float  # release → final transcript, `finish`
    whole: float  # release → transcript, `transcribe` on the same recording
    final_text: str
    whole_text: str
    commit_delays: list[float]  # per committed word: shown committed − its end in the audio
    cpu_share: float  # CPU seconds per second of speech, while speaking (1.0 = one core)
    largest_lag: float
    partials: list[tuple[float, Partial]] = field(default_factory=list)


def _pcm(clip: str) -> np.ndarray:
    return np.frombuffer(read_audio(SPEECH / clip, TRANSCRIBE_RATE), dtype=np.int16)


def utterance(seconds: float, tail: float = TAIL) -> tuple[tuple[str, ...], bytes]:
    """English clips filling `seconds`, a breath apart, then `tail` of silence before the end."""
    pcm = {clip: _pcm(clip) for clip in ENGLISH_CLIPS}
    durations = {clip: len(samples) / TRANSCRIBE_RATE for clip, samples in pcm.items()}
    clips = compose(seconds, durations)
    breath = np.zeros(round(GAP * TRANSCRIBE_RATE), dtype=np.int16)
    parts: list[np.ndarray] = []
    for clip in clips:
        parts += [breath, pcm[clip]] if parts else [pcm[clip]]
    parts.append(np.zeros(round(tail * TRANSCRIBE_RATE), dtype=np.int16))
    return tuple(clips), np.concatenate(parts).astype("<i2").tobytes()


async def speak(transcriber: WhisperTranscriber, pcm: bytes) -> Spoken:
    """Feed `pcm` in real time, an update per step (skipped by the transcription while it is
    still decoding), then let go and time the final transcript both ways."""
    live = transcriber.live()
    assert isinstance(live, WhisperLive)
    step = round(STEP * TRANSCRIBE_RATE) * BYTES_PER_SAMPLE
    updates: list[asyncio.Task[Partial | None]] = []
    shown: list[tuple[float, Partial]] = []
    committed_at: dict[int, float] = {}  # committed word's index → when it was first shown

    async def update(recording: Recording) -> Partial | None:
        partial = await live.update(recording)
        if partial is not None:
            now = time.perf_counter() - started
            shown.append((now, partial))
            for index in range(len(live.transcript.committed_words)):
                committed_at.setdefault(index, now)
        return partial

    started = time.perf_counter()
    cpu_started = time.process_time()
    async with LoopLag() as lag:
        for end in range(step, len(pcm) + step, step):
            due = started + min(end, len(pcm)) / BYTES_PER_SAMPLE / TRANSCRIBE_RATE
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            updates.append(asyncio.create_task(update(Recording(pcm[:end]))))
        cpu_share = (time.process_time() - cpu_started) / (time.perf_counter() - started)
        released = time.perf_counter()
        final = await live.finish(Recording(pcm))
        incremental = time.perf_counter() - released
    await asyncio.gather(*updates)
    words = live.transcript.committed_words
    delays = [committed_at[i] - word.end for i, word in enumerate(words) if i in committed_at]
    released = time.perf_counter()
    whole = await transcriber.transcribe(Recording(pcm))
    return Spoken(
        incremental,
        time.perf_counter() - released,
        final.text,
        whole.text,
        delays,
        cpu_share,
        lag.largest,
        shown,
    )


def error_rate(language: str, reference: str, text: str) -> float:
    if language in WITHOUT_SPACES:
        return character_error_rate(reference, text)
    return word_error_rate(reference, text)


def _languages() -> dict[str, str]:
    import csv

    with (SPEECH / "references.tsv").open(newline="", encoding="utf-8") as table:
        rows = csv.DictReader(table, delimiter="\t", quoting=csv.QUOTE_NONE)
        return {row["file"]: row["language"] for row in rows}


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


async def measure() -> tuple[str, str, str, str]:
    transcriber = WhisperTranscriber(SttSettings())
    await transcriber.load()
    await transcriber.languages_ready()
    try:
        await speak(transcriber, utterance(2)[1])  # untimed: warms both paths
        lengths = await _lengths(transcriber)
        clips = await _clips(transcriber)
    finally:
        transcriber.close()
    return lengths + clips


async def _lengths(transcriber: WhisperTranscriber) -> tuple[str, str]:
    rows = [
        "| utterance | made of | release → final, incremental | release → transcript, whole "
        f"| end after a {ms(PAUSE_END)} pause (hands-free): incremental (whole) "
        "| word end → shown committed: median, worst | CPU while speaking | largest loop "
        "delay | WER incremental / whole |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    finals: list[float] = []
    paused_finals: list[float] = []
    for seconds in LENGTHS:
        clips, pcm = utterance(seconds)
        runs = [await speak(transcriber, pcm) for _ in range(REPEATS)]
        paused = await speak(transcriber, utterance(seconds, PAUSE_END)[1])
        reference = " ".join(references()[clip] for clip in clips)
        incremental = [run.incremental for run in runs]
        finals += incremental
        delays = [delay for run in runs for delay in run.commit_delays]
        commit = f"{ms(statistics.median(delays))}, {ms(max(delays))}" if delays else "none"
        wer_live = statistics.median(word_error_rate(reference, r.final_text) for r in runs)
        wer_whole = statistics.median(word_error_rate(reference, r.whole_text) for r in runs)
        rows.append(
            f"| {seconds} s | {' + '.join(c.rsplit('.', 1)[0] for c in clips)} "
            f"| **{ms(statistics.median(incremental))}** ({', '.join(ms(v) for v in incremental)}) "
            f"| {ms(statistics.median(run.whole for run in runs))} "
            f"| {ms(paused.incremental)} ({ms(paused.whole)}) | {commit} "
            f"| {statistics.median(run.cpu_share for run in runs):.0%} of a core "
            f"| {ms(max(run.largest_lag for run in runs))} | {wer_live:.2f} / {wer_whole:.2f} |"
        )
        paused_finals.append(paused.incremental)
    met = "met" if max(finals) <= TARGET_FINAL else "**missed**"
    paused_met = "met" if max(paused_finals) <= TARGET_FINAL else "**missed**"
    verdict = (
        f"- Release → final transcript ≤ {ms(TARGET_FINAL)} for every length: {met} "
        f"(median {ms(statistics.median(finals))}, worst {ms(max(finals))} over "
        f"{len(finals)} utterances).\n"
        f"- End of turn after a {ms(PAUSE_END)} pause → final transcript ≤ {ms(TARGET_FINAL)}: "
        f"{paused_met} (median {ms(statistics.median(paused_finals))}, worst "
        f"{ms(max(paused_finals))})."
    )
    return verdict, "\n".join(rows)


async def _clips(transcriber: WhisperTranscriber) -> tuple[str, str]:
    rows = [
        "| clip | language | incremental (fed in real time) | error | whole | error |",
        "|---|---|---|---|---|---|",
    ]
    languages = _languages()
    for clip, reference in references().items():
        language = languages[clip]
        pcm = read_audio(SPEECH / clip, TRANSCRIBE_RATE)
        pcm += bytes(round(TAIL * TRANSCRIBE_RATE) * BYTES_PER_SAMPLE)
        run = await speak(transcriber, pcm)
        if reference.startswith("("):  # no reference transcript: the text only
            live_error = whole_error = "-"
        else:
            live_error = f"{error_rate(language, reference, run.final_text):.2f}"
            whole_error = f"{error_rate(language, reference, run.whole_text):.2f}"
        rows.append(
            f"| {clip.rsplit('.', 1)[0]} | {language} | {run.final_text} | {live_error} "
            f"| {run.whole_text} | {whole_error} |"
        )
    note = "Error: word error rate; character error rate for " + ", ".join(WITHOUT_SPACES) + "."
    return note, "\n".join(rows)


def run() -> str:
    lengths_verdict, lengths_table, clips_note, clips_table = asyncio.run(measure())
    return "\n\n".join(
        [
            "`WhisperTranscriber.live()` (bundled tiny.en, the multilingual base beside it for "
            "language detection and other languages; CPU, int8, beam 1, VAD on) on a plain "
            f"asyncio loop. Audio fed in real time, {STEP} s per update; the user lets go "
            f"{ms(TAIL)} after the last word; medians of {REPEATS} utterances per length; a first, "
            "untimed utterance warms up. Whole: `transcribe` on the same recording, right after.",
            lengths_verdict,
            "### End of speech → final transcript, incremental and whole",
            lengths_table,
            "### Every real clip, both ways",
            clips_note,
            clips_table,
        ]
    )


if __name__ == "__main__":
    print(run())
