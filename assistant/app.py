"""The composition root: the only module that names concrete classes. It builds THE app-wide HTTP
client, the adapters and the turn controller, then hands them to the GUI or the command line."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Sequence
from dataclasses import dataclass

import httpx

from assistant.config import Secrets, Settings
from assistant.core.conversation import Conversation
from assistant.core.protocols import AudioInput, AudioOutput, ChatModel, Synthesizer, Transcriber
from assistant.core.reply_speaker import ReplySpeaker
from assistant.core.turn import TurnController, TurnOptions
from assistant.providers.http import ConnectionStats, make_http_client

log = logging.getLogger(__name__)


@dataclass
class Services:
    """Everything one running assistant is made of. Close with `await services.aclose()`."""

    settings: Settings
    client: httpx.AsyncClient
    connections: ConnectionStats
    transcriber: Transcriber
    synthesizer: Synthesizer
    output: AudioOutput
    controller: TurnController

    async def aclose(self) -> None:
        await self.controller.aclose()
        close = getattr(self.transcriber, "close", None)
        if close is not None:
            close()
        await self.client.aclose()


def make_transcriber(
    settings: Settings, secrets: Secrets, client: httpx.AsyncClient
) -> Transcriber:
    if settings.stt.provider == "openai":
        from assistant.providers.stt.openai_remote import RemoteTranscriber

        return RemoteTranscriber(
            client,
            settings.stt.openai,
            secrets.openai_api_key,
            language=settings.stt.language,
            prompt=settings.stt.initial_prompt,
        )
    from assistant.providers.stt.whisper_local import WhisperTranscriber

    return WhisperTranscriber(settings.stt)


def make_synthesizer(
    settings: Settings, secrets: Secrets, client: httpx.AsyncClient
) -> Synthesizer:
    tts = settings.tts
    if tts.provider == "openai":
        from assistant.providers.tts.openai_speech import OpenAiSpeech

        return OpenAiSpeech(client, tts.openai, secrets.openai_api_key)
    if tts.provider == "volcano":
        from assistant.providers.tts.volcano_v1 import VolcanoTts

        return VolcanoTts(client, tts.volcano, secrets.volcano_token)
    if tts.provider == "volcano_v3":
        from assistant.providers.tts.volcano_v3 import VolcanoV3Tts

        return VolcanoV3Tts(client, tts.volcano_v3, secrets.volcano_token)
    from assistant.providers.tts.piper_local import PiperTts

    return PiperTts(tts.piper)


def make_chat(settings: Settings, secrets: Secrets, client: httpx.AsyncClient) -> ChatModel | None:
    if not settings.llm.base_url:
        return None  # no brain configured: dictation and read-aloud still work
    from assistant.providers.llm.openai_chat import OpenAiChat

    return OpenAiChat(
        client,
        settings.llm.base_url,
        settings.llm.model,
        secrets.llm_api_key,
        temperature=settings.llm.temperature,
    )


def build_services(
    settings: Settings,
    secrets: Secrets,
    *,
    microphone: AudioInput | None = None,
) -> Services:
    """Wire one assistant. `microphone` replaces the sound card's input (`turn --wav FILE`)."""
    from assistant.audio.microphone import Microphone
    from assistant.audio.speaker import Speaker

    client, connections = make_http_client(settings.network)
    transcriber = make_transcriber(settings, secrets, client)
    synthesizer = make_synthesizer(settings, secrets, client)
    output = Speaker(settings.audio.output_device)
    controller = TurnController(
        microphone=microphone or Microphone(settings.audio.input_device),
        transcriber=transcriber,
        chat=make_chat(settings, secrets, client),
        speaker=ReplySpeaker(synthesizer, output, lookahead=settings.tts.lookahead),
        conversation=Conversation(settings.llm.system_prompt, settings.llm.history_chars),
        connections=connections,
        options=TurnOptions(max_recording_seconds=settings.audio.max_recording_seconds),
    )
    return Services(settings, client, connections, transcriber, synthesizer, output, controller)


def run_gui(settings: Settings, secrets: Secrets) -> int:
    """One loop for Qt and asyncio (qasync): the window shows first, the model loads behind it."""
    from PySide6.QtWidgets import QApplication

    from assistant.ui.event_loop import AppEventLoop
    from assistant.ui.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv)
    app.setApplicationName("Voice Assistant")
    app.setDesktopFileName("voice-assistant")

    async def main() -> None:
        closed = asyncio.Event()
        services = build_services(settings, secrets)
        window = MainWindow(services.controller, talk_mode=settings.audio.talk_mode)
        window.closed.connect(closed.set)
        window.show()
        services.controller.start()
        try:
            await closed.wait()
        finally:
            await services.aclose()

    asyncio.run(main(), loop_factory=lambda: AppEventLoop(app))
    return 0


class Wiring:
    """The concrete pieces the command line needs, so that it names no adapter itself."""

    @staticmethod
    def build_services(
        settings: Settings, secrets: Secrets, *, microphone: AudioInput | None = None
    ) -> Services:
        return build_services(settings, secrets, microphone=microphone)

    @staticmethod
    def run_gui(settings: Settings, secrets: Secrets) -> int:
        return run_gui(settings, secrets)

    @staticmethod
    def file_input(path: str) -> AudioInput:
        from assistant.audio.files import FileInput

        return FileInput(path)

    @staticmethod
    def read_audio(path: str) -> bytes:
        from assistant.audio.files import read_audio

        return read_audio(path)

    @staticmethod
    def list_devices() -> list[dict[str, object]]:
        from dataclasses import asdict

        from assistant.audio.devices import list_devices

        return [asdict(device) for device in list_devices()]


def main(argv: Sequence[str] | None = None) -> int:
    from assistant.cli import run

    return run(argv, Wiring)
