"""Transcribing while the user speaks, with the real tiny.en model (and the multilingual base) on
the real clips fed 0.5 s at a time: the final transcript is as good as the whole-utterance
decode, committed words only grow, decoding never queues, silence gives nothing.

Run with `-s` to see the figures (time from the last step to the final transcript, loop lag).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import httpx
import pytest

from assistant.config import SttSettings
from assistant.config.schema import RemoteSttSettings
from assistant.core.live_transcript import Partial
from assistant.core.protocols import (
    BYTES_PER_SAMPLE,
    TRANSCRIBE_RATE,
    LiveTranscribing,
    LiveTranscription,
    Recording,
)
from assistant.providers.stt.openai_remote import RemoteTranscriber
from assistant.providers.stt.whisper_local import WhisperTranscriber
from tests.providers.stt.test_whisper_local import low_noise, read_clip, silence
from tests.support.speech import ENGLISH_CLIPS, references, word_error_rate

STEP = round(0.5 * TRANSCRIBE_RATE) * BYTES_PER_SAMPLE  # what a microphone adds per update
QUIET_AFTER = 0.5  # seconds of silence after the last word, before the end of speech


@pytest.fixture(scope="module")
def transcriber() -> Iterator[WhisperTranscriber]:
    """The bundled tiny.en, with the multilingual base beside it, as the app runs them."""
    shared = WhisperTranscriber(SttSettings())

    async def ready() -> None:
        await shared.load()
        await shared.languages_ready()

    asyncio.run(ready())
    yield shared
    shared.close()


def with_quiet_after(recording: Recording, seconds: float = QUIET_AFTER) -> Recording:
    return Recording(recording.pcm + bytes(round(seconds * TRANSCRIBE_RATE) * BYTES_PER_SAMPLE))


async def speak(live: LiveTranscription, recording: Recording) -> list[Partial]:
    """Every partial of `recording` fed a step at a time, each step waiting for its decode."""
    partials = []
    for end in range(STEP, len(recording.pcm) + STEP, STEP):
        partial = await live.update(Recording(recording.pcm[:end]))
        if partial is not None:
            partials.append(partial)
    return partials


def test_the_local_transcriber_is_live_and_the_remote_one_is_not() -> None:
    assert isinstance(WhisperTranscriber(SttSettings()), LiveTranscribing)
    remote = RemoteTranscriber(httpx.AsyncClient(), RemoteSttSettings(), None)
    assert not isinstance(remote, LiveTranscribing)


@pytest.mark.parametrize("clip", ENGLISH_CLIPS)
async def test_the_final_transcript_is_as_good_as_the_whole_utterance_decode(
    transcriber: WhisperTranscriber, clip: str
) -> None:
    recording = with_quiet_after(read_clip(clip))
    live = transcriber.live()
    partials = await speak(live, recording)
    started = time.perf_counter()
    final = await live.finish(recording)
    finish_seconds = time.perf_counter() - started
    whole = await transcriber.transcribe(recording)
    reference = references()[clip]
    print(
        f"\n{clip}: final {finish_seconds * 1000:.0f} ms after the last step: {final.text!r}"
        f" (WER {word_error_rate(reference, final.text):.2f}; whole: {whole.text!r})"
    )
    assert word_error_rate(reference, final.text) <= word_error_rate(reference, whole.text)
    assert word_error_rate(reference, final.text) == 0.0
    assert final.language == "en"
    # Shown while spoken (committed too, once the language is known: see the test below).
    assert partials and partials[-1].text, "the words were shown as they were spoken"


async def test_committed_words_only_grow(transcriber: WhisperTranscriber) -> None:
    partials = await speak(transcriber.live(), with_quiet_after(read_clip("fw_jfk.flac")))
    committed = [partial.committed for partial in partials]
    for before, after in zip(committed, committed[1:], strict=False):
        assert after.startswith(before), (before, after)
    assert len(set(committed)) > 3, "words were committed while the clip was spoken"


async def test_an_update_while_a_decode_runs_is_skipped_at_once(
    transcriber: WhisperTranscriber,
) -> None:
    recording = read_clip("fw_jfk.flac")
    live = transcriber.live()
    first = asyncio.create_task(live.update(recording))
    await asyncio.sleep(0.02)  # the decode is under way in the worker
    started = time.perf_counter()
    skipped = await live.update(recording)
    assert skipped is None
    assert time.perf_counter() - started < 0.016
    assert await first is not None


async def test_the_event_loop_keeps_ticking_while_decoding_live(
    transcriber: WhisperTranscriber,
) -> None:
    lags: list[float] = []
    done = asyncio.Event()

    async def tick_every_10_ms() -> None:
        while not done.is_set():
            due = time.perf_counter() + 0.01
            await asyncio.sleep(0.01)
            lags.append(time.perf_counter() - due)

    ticker = asyncio.create_task(tick_every_10_ms())
    recording = with_quiet_after(read_clip("fw_stereo_diarization_left.wav"))
    live = transcriber.live()
    await speak(live, recording)
    await live.finish(recording)
    done.set()
    await ticker
    print(f"\nloop while decoding live: {len(lags)} ticks, max lag {max(lags) * 1000:.1f} ms")
    assert len(lags) > 20
    assert sorted(lags)[len(lags) // 2] < 0.016  # the median tick: the loop is not blocked


@pytest.mark.parametrize("recording", [silence(3.0), low_noise(3.0)], ids=["zeros", "low-noise"])
async def test_silence_shows_nothing_and_gives_an_empty_transcript(
    transcriber: WhisperTranscriber, recording: Recording
) -> None:
    live = transcriber.live()
    partials = await speak(live, recording)
    assert all(partial.text == "" for partial in partials)
    assert (await live.finish(recording)).text == ""


async def test_a_tap_of_the_button_shows_nothing(transcriber: WhisperTranscriber) -> None:
    tap = silence(0.1)
    live = transcriber.live()
    assert await live.update(tap) is None
    assert (await live.finish(tap)).text == ""


async def test_a_cancelled_utterance_decodes_no_more(transcriber: WhisperTranscriber) -> None:
    live = transcriber.live()
    live.cancel()
    assert await live.update(read_clip("fw_stereo_diarization_right.wav")) is None


async def test_another_language_is_detected_and_transcribed_by_the_multilingual_model(
    transcriber: WhisperTranscriber,
) -> None:
    recording = with_quiet_after(read_clip("pv_test_de.wav"))
    live = transcriber.live()
    await speak(live, recording)
    final = await live.finish(recording)
    whole = await transcriber.transcribe(recording)
    reference = references()["pv_test_de.wav"]
    print(f"\nGerman, live: {final.text!r}; whole: {whole.text!r}")
    assert final.language == "de"
    assert word_error_rate(reference, final.text) <= word_error_rate(reference, whole.text)
