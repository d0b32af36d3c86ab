"""What Settings > Voice asks of the app about the voices by language: the Piper voices on this
computer, the official list to download from (through the app-wide client and the `[stt] hub_url`
mirror the Whisper models use), a download, and a sample of one voice in one language."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Callable

import httpx

from assistant.config import Secrets, Settings
from assistant.core.errors import ModelError
from assistant.core.languages import language_name
from assistant.core.protocols import ProgressListener
from assistant.core.reply_speaker import ReplySpeaker, pieces_of
from assistant.core.timeline import TurnTimeline
from assistant.ui.settings_actions import VoiceOffer

# A short sentence in each language a sample is asked in; another language says its own name.
SAMPLES: dict[str, str] = {
    "en": "Hello! This is how I sound.",
    "zh": "你好！这是我的声音。",
    "de": "Hallo! So klinge ich.",
    "es": "¡Hola! Así es como sueno.",
    "fr": "Bonjour ! Voici ma voix.",
    "it": "Ciao! Questa è la mia voce.",
    "pt": "Olá! Esta é a minha voz.",
    "nl": "Hallo! Zo klink ik.",
    "ru": "Здравствуйте! Так звучит мой голос.",
    "ja": "こんにちは。これが私の声です。",
}


class VoiceActions:
    """The voice catalogue's actions, for `SettingsActions` (installed_voices, voice_catalogue,
    download_voice, sample_voice). The getters give the app's current client and settings."""

    def __init__(
        self,
        client: Callable[[], httpx.AsyncClient],
        settings: Callable[[], Settings],
        secrets: Callable[[], Secrets],
    ) -> None:
        self._client = client
        self._settings = settings
        self._secrets = secrets

    async def installed(self) -> list[VoiceOffer]:
        from assistant.providers.tts.piper_catalogue import default_voices_dir, installed_voices

        voices = await asyncio.to_thread(installed_voices, default_voices_dir())
        return [
            VoiceOffer(
                voice.key, voice.language, _installed_label(voice.key, voice.locale), 0, True
            )
            for voice in voices
        ]

    async def catalogue(self) -> list[VoiceOffer]:
        from assistant.providers.tts.piper_catalogue import fetch_catalogue

        voices = await fetch_catalogue(self._client(), self._settings().stt.hub_url)
        here = {offer.key for offer in await self.installed()}
        return [
            VoiceOffer(
                voice.key,
                voice.language,
                f"{voice.language_name or language_name(voice.language)} ({voice.region}): "
                f"{voice.key.split('-')[1] if '-' in voice.key else voice.key}, {voice.quality}",
                voice.size,
                voice.key in here,
            )
            for voice in voices
        ]

    async def download(self, key: str, progress: ProgressListener) -> None:
        from assistant.providers.tts.piper_catalogue import (
            default_voices_dir,
            download_voice,
            fetch_catalogue,
        )

        hub_url = self._settings().stt.hub_url
        voices = await fetch_catalogue(self._client(), hub_url)
        voice = next((voice for voice in voices if voice.key == key), None)
        if voice is None:
            raise ModelError(
                f"The list of Piper voices no longer has {key}. Find the voices again and choose "
                "another."
            )
        await download_voice(
            self._client(), voice, default_voices_dir(), hub_url=hub_url, progress=progress
        )

    async def sample(self, voice: str, language: str) -> None:
        """Speak a sentence in `language` with `voice` (as `[tts] voices` names it)."""
        from assistant.app.services import make_synthesizer
        from assistant.audio.speaker import Speaker
        from assistant.providers.tts.voice_router import VoiceRouter

        settings = copy.deepcopy(self._settings())
        settings.tts.voices = [f"{language}={voice}"]
        synthesizer = make_synthesizer(settings, self._secrets(), self._client())
        if isinstance(synthesizer, VoiceRouter):
            synthesizer.reply_language = language  # Latin text in the sample is in `language`
        speaker = ReplySpeaker(synthesizer, Speaker(settings.audio.output_device))
        text = SAMPLES.get(language, language_name(language))
        await speaker.speak(pieces_of(speaker.pieces(text)), TurnTimeline())


def _installed_label(key: str, locale: str) -> str:
    if key == "bundled":
        return "Joe (US English), built in"
    parts = key.split("-")
    name = f"{parts[1]}, {parts[2]}" if len(parts) >= 3 else key
    return f"{language_name(locale.split('_')[0])} ({locale}): {name}"


__all__ = ["SAMPLES", "VoiceActions"]
