"""What the Settings dialog's Test buttons, samples and downloads do, and the window's check
of the language model: each raises an AssistantError that says what is wrong."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING

import httpx

from assistant.app.services import key_origin_of, make_chat, make_synthesizer
from assistant.config import Secrets, Settings
from assistant.core.errors import ConfigError
from assistant.core.protocols import ChatModel, Checkable, ProgressListener, Synthesizer
from assistant.core.reply_speaker import ReplySpeaker, pieces_of
from assistant.core.timeline import TurnTimeline

if TYPE_CHECKING:
    from assistant.ui.settings_actions import AudioDevice, ModelSize


VOICE_SAMPLE = "Hello! This is how I will sound when I answer you."
MICROPHONE_TEST_SECONDS = 3.0


async def check_chat(chat: ChatModel | None) -> None:
    """Whether a language model answers (the window shows a banner if not)."""
    from assistant.core.turn import NO_BRAIN

    if chat is None:
        raise ConfigError(NO_BRAIN)
    if isinstance(chat, Checkable):
        await chat.check()


async def check_brain_settings(
    client: httpx.AsyncClient, settings: Settings, secrets: Secrets
) -> None:
    await check_chat(make_chat(settings, secrets, client))


async def chat_models(client: httpx.AsyncClient, settings: Settings, secrets: Secrets) -> list[str]:
    """The models the language model service of `settings` lists, for Settings' model field."""
    from assistant.providers.llm.model_list import list_models

    return await list_models(
        client,
        settings.llm.base_url,
        secrets.llm_api_key,
        key=key_origin_of(secrets, "llm_api_key"),
        lan_http_hosts=settings.network.lan_http_hosts,
    )


async def speak_sample(
    client: httpx.AsyncClient,
    settings: Settings,
    secrets: Secrets,
    synthesizer: Synthesizer | None = None,
) -> None:
    """Speak VOICE_SAMPLE with the voice `settings` name, through the chosen speaker."""
    from assistant.audio.speaker import Speaker

    synthesizer = synthesizer or make_synthesizer(settings, secrets, client)
    speaker = ReplySpeaker(synthesizer, Speaker(settings.audio.output_device))
    await speaker.speak(pieces_of(speaker.pieces(VOICE_SAMPLE)), TurnTimeline())


async def listen_to_microphone(device: str | None, on_level: Callable[[float], None]) -> None:
    from assistant.audio.microphone import Microphone

    microphone = Microphone(device)
    await microphone.start(on_level)
    try:
        await asyncio.sleep(MICROPHONE_TEST_SECONDS)
    finally:
        await microphone.stop()


async def play_test_tone(device: str | None) -> None:
    """Play a soft 440 Hz beep of 0.6 s (faded in and out, so it does not click)."""
    import numpy as np

    from assistant.audio.speaker import Speaker

    rate = 24_000
    t = np.arange(int(rate * 0.6)) / rate
    fade = np.minimum(1.0, np.minimum(t, t[-1] - t) / 0.02)
    tone = (0.3 * 32767 * np.sin(2 * np.pi * 440 * t) * fade).astype("<i2").tobytes()
    stream = await Speaker(device).open(rate, lambda event: None)
    try:
        await stream.write(tone, 0)
        stream.end_tag(0)
        await stream.drain()
    finally:
        await stream.close()


async def model_sizes() -> list[ModelSize]:
    """The Whisper sizes the settings offer, and which of them are downloaded already."""
    from assistant.providers.stt.model_download import (
        default_models_dir,
        is_downloaded,
        size_names,
    )
    from assistant.ui.settings_actions import ModelSize

    def find() -> list[ModelSize]:  # imports faster-whisper and looks at the disk: not on the loop
        folder = default_models_dir()
        return [ModelSize(name, is_downloaded(name, folder)) for name in size_names()]

    return await asyncio.to_thread(find)


async def download_speech_model(
    client: httpx.AsyncClient, settings: Settings, name: str, progress: ProgressListener
) -> None:
    """Settings' Download button: fetch Whisper size `name` into the models folder."""
    from assistant.providers.stt.model_download import default_models_dir, download_model

    await download_model(
        client, name, default_models_dir(), hub_url=settings.stt.hub_url, progress=progress
    )


async def audio_devices() -> list[AudioDevice]:
    from assistant.audio.device_choices import device_choices
    from assistant.ui.settings_actions import AudioDevice

    found = await asyncio.to_thread(device_choices)
    return [
        AudioDevice(c.setting, c.kind == "input", c.kind == "output", c.label, c.is_default)
        for c in found
    ]
