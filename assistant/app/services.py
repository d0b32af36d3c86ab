"""The services of one assistant, and the factories that make each part from the settings: the
only place besides the run modes that names concrete classes (issue 15: the composition root,
split by what it builds)."""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import httpx

from assistant import logs
from assistant.config import Secrets, Settings
from assistant.core.conversation import Conversation
from assistant.core.errors import AssistantError, ConfigError
from assistant.core.hands_free import HandsFree, Listener
from assistant.core.history import HistoryStore
from assistant.core.protocols import (
    AudioInput,
    AudioOutput,
    ChatModel,
    Closable,
    Synthesizer,
    Transcriber,
)
from assistant.core.reply_speaker import ReplySpeaker
from assistant.core.turn import TurnController, TurnOptions
from assistant.providers.http import ConnectionStats, KeyOrigin, key_origin, make_http_client

if TYPE_CHECKING:
    from assistant.providers.tts.voice_router import LanguageVoice

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
    hands_free: HandsFree  # how a turn begins
    history: HistoryStore | None = None
    handed_over: bool = False  # the transcriber went on to newer services, which close it

    def hand_over_transcriber(self) -> Transcriber:
        """The loaded transcriber, for the services built next; `aclose` then leaves it open."""
        self.handed_over = True
        return self.transcriber

    async def aclose(self) -> None:
        await self.hands_free.aclose()
        await self.controller.aclose()
        if not self.handed_over and isinstance(self.transcriber, Closable):
            self.transcriber.close()
        await self.client.aclose()
        if self.history is not None:
            self.history.close()


def make_transcriber(
    settings: Settings, secrets: Secrets, client: httpx.AsyncClient
) -> Transcriber:
    if settings.stt.provider == "openai":
        from assistant.providers.stt.openai_remote import RemoteTranscriber

        key, name = transcription_key(settings, secrets)
        return RemoteTranscriber(
            client,
            settings.stt.openai,
            key,
            language=settings.stt.language,
            prompt=settings.stt.initial_prompt,
            key=key_origin_of(secrets, name),
        )
    from assistant.providers.stt.whisper_local import WhisperTranscriber

    return WhisperTranscriber(settings.stt, client=client)


def transcription_key(settings: Settings, secrets: Secrets) -> tuple[str | None, str]:
    """The key for the remote transcription service and its name in `Secrets`: its own, or the
    OpenAI key when the service is the same server the OpenAI voice uses (never the OpenAI key
    to another host)."""
    from assistant.core.endpoints import same_origin

    if not secrets.stt_api_key and same_origin(
        settings.stt.openai.base_url, settings.tts.openai.base_url
    ):
        return secrets.openai_api_key, "openai_api_key"
    return secrets.stt_api_key, "stt_api_key"


def key_origin_of(secrets: Secrets, name: str) -> KeyOrigin:
    """Which key `name` is and where this one came from, for the messages that name it."""
    return key_origin(name, from_environment=secrets.from_environment(name))


def make_synthesizer(
    settings: Settings, secrets: Secrets, client: httpx.AsyncClient
) -> Synthesizer:
    """The voice of `settings`: `[tts] provider` alone when it reads every language's script (a
    cloud voice with no `[tts] voices`); else a router that hands each sentence to the voice for
    its language, so a Piper voice is never handed a script it cannot read (issue 18)."""
    from assistant.audio.resample import Resampler
    from assistant.core.languages import language_name
    from assistant.providers.tts.voice_router import VoiceRouter

    tts = settings.tts
    made: dict[str, LanguageVoice] = {}

    def voice(name: str) -> LanguageVoice:  # each voice made once, however many languages
        if name not in made:
            made[name] = _language_voice(name, settings, secrets, client)
        return made[name]

    main = voice(tts.provider)
    if not tts.voices and main.languages is None:
        return main.synthesizer
    chosen = {language: voice(name) for language, name in tts.chosen_voices().items()}
    for language, picked in chosen.items():
        if not picked.speaks(language):
            raise ConfigError(
                f"[tts] voices: the voice {picked.name} does not speak "
                f"{language_name(language)} ({language}), so it cannot be its voice. Choose a "
                "voice for that language in Settings > Voice."
            )
    return VoiceRouter(main, chosen, Resampler)


def _language_voice(
    name: str, settings: Settings, secrets: Secrets, client: httpx.AsyncClient
) -> LanguageVoice:
    """One voice by its `[tts]` name ("openai", "volcano", "volcano_v3", "piper": the
    [tts.piper] voice) or a Piper voice ("bundled", a downloaded voice's key, an .onnx file), with
    the languages it reads. Raises ModelError for a Piper voice that is not there."""
    from assistant.config.schema import CLOUD_VOICE_LANGUAGES
    from assistant.providers.tts.voice_router import LanguageVoice

    tts = settings.tts
    if name == "openai":
        from assistant.providers.tts.openai_speech import OpenAiSpeech

        speech = OpenAiSpeech(
            client, tts.openai, secrets.openai_api_key, key=key_origin_of(secrets, "openai_api_key")
        )
        return LanguageVoice(speech, CLOUD_VOICE_LANGUAGES[name], name)
    volcano_key = key_origin_of(secrets, "volcano_token")
    if name == "volcano":
        from assistant.providers.tts.volcano_v1 import VolcanoTts

        v1 = VolcanoTts(client, tts.volcano, secrets.volcano_token, key=volcano_key)
        return LanguageVoice(v1, CLOUD_VOICE_LANGUAGES[name], name)
    if name == "volcano_v3":
        from assistant.providers.tts.volcano_v3 import VolcanoV3Tts

        v3 = VolcanoV3Tts(client, tts.volcano_v3, secrets.volcano_token, key=volcano_key)
        return LanguageVoice(v3, CLOUD_VOICE_LANGUAGES[name], name)
    from assistant.config import PiperTtsSettings
    from assistant.providers.tts.piper_catalogue import (
        default_voices_dir,
        model_path,
        voice_language,
    )
    from assistant.providers.tts.piper_local import PiperTts

    spec = tts.piper.voice if name == "piper" else name
    model = model_path(spec, default_voices_dir())
    chosen = tts.piper if name == "piper" else PiperTtsSettings(str(model), tts.piper.length_scale)
    local = PiperTts(chosen)  # raises ModelError when the voice is not there
    return LanguageVoice(local, frozenset({voice_language(model)}), f"Piper {spec}")


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
        key=key_origin_of(secrets, "llm_api_key"),
        lan_http_hosts=settings.network.lan_http_hosts,
    )


def build_services(
    settings: Settings,
    secrets: Secrets,
    *,
    microphone: AudioInput | None = None,
    history_path: Path | None = None,
    transcriber: Transcriber | None = None,
) -> Services:
    """Wire one assistant. `microphone` replaces the sound card's input (`turn --wav FILE`);
    the conversation history goes to `history_path` (default: the per-user data folder);
    `transcriber` is one already loaded for these [stt] settings (see `hand_over_transcriber`)."""
    from assistant.audio.microphone import Microphone
    from assistant.audio.speaker import Speaker
    from assistant.providers.history_sqlite import SqliteHistory, default_history_path

    logs.protect(*(getattr(secrets, f.name) for f in dataclasses.fields(secrets)))
    client, connections = make_http_client(settings.network)
    transcriber = transcriber or make_transcriber(settings, secrets, client)
    synthesizer = make_synthesizer(settings, secrets, client)
    chat = make_chat(settings, secrets, client)
    output = Speaker(settings.audio.output_device)
    history: HistoryStore | None
    try:
        history = SqliteHistory(history_path or default_history_path())
    except AssistantError as error:  # the assistant still works, it just cannot remember
        log.warning("%s", error.message)
        history = None
    controller = TurnController(
        microphone=microphone or Microphone(settings.audio.input_device),
        transcriber=transcriber,
        chat=chat,
        speaker=ReplySpeaker(synthesizer, output, lookahead=settings.tts.lookahead),
        conversation=Conversation(settings.llm.system_prompt, settings.llm.history_chars),
        connections=connections,
        options=TurnOptions(max_recording_seconds=settings.audio.max_recording_seconds),
        history=history,
    )
    from assistant.providers.tts.voice_router import VoiceRouter

    if isinstance(synthesizer, VoiceRouter):  # its notices and the user's language, per reply
        synthesizer.attach(controller.events)
    hands_free = HandsFree(controller, lambda: make_listener(settings, output), cue_output=output)
    return Services(
        settings,
        client,
        connections,
        transcriber,
        synthesizer,
        output,
        controller,
        hands_free,
        history,
    )


def make_listener(settings: Settings, output: AudioOutput) -> Listener:
    """The always-open microphone of hands-free and wake-word modes, with its models."""
    from assistant.audio.listener import HandsFreeListener, ListeningParts
    from assistant.audio.speaker import Speaker
    from assistant.providers.vad_silero import SileroVoiceDetector

    conversation = settings.conversation
    canceller = turn_end = None
    if conversation.echo_cancellation:
        from assistant.providers.aec_webrtc import WebRtcEchoCanceller

        canceller = WebRtcEchoCanceller
    from assistant.providers.turn_end_smart import SmartTurnDetector, bundled_model_path

    if bundled_model_path().is_file():
        turn_end = SmartTurnDetector
    else:  # without it a pause that adapts to the utterance ends the turn
        log.warning("The end-of-turn model is missing; hands-free uses pauses alone.")
    from assistant.core.wake_gate import VoiceGatedWakeWord
    from assistant.providers.wake_word import OpenWakeWordDetector

    def wake_word() -> VoiceGatedWakeWord:  # fed only while waiting for the wake word
        # Its model hears only the moments around speech: a silent room costs the VAD alone.
        return VoiceGatedWakeWord(
            OpenWakeWordDetector(conversation.wake_word), SileroVoiceDetector()
        )

    parts = ListeningParts(SileroVoiceDetector, canceller, turn_end, wake_word)
    speaker = output if isinstance(output, Speaker) else None
    return HandsFreeListener(settings.audio.input_device, parts, speaker)
