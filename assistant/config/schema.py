"""The settings' shape: one dataclass per TOML table, each field with its type, its default and,
in its annotation, the rules its value must pass (docs/configuration.md describes every key).

Annotations here are evaluated when the classes are made (no `from __future__ import annotations`),
so each rule is built once and loading reads it back with `get_type_hints(include_extras=True)`.
"""

from dataclasses import dataclass, field
from typing import Annotated, Final, Literal

from assistant.config.rules import (
    BadSetting,
    TextLimit,
    audio_device,
    between,
    endpoint_url,
    key_chord,
    lan_addresses,
    lan_endpoint_url,
    language_code,
    language_codes,
    not_empty,
    one_of,
    shown,
)
from assistant.core.endpoints import ALLOW_LAN_PLACE, LAN_HOSTS_SETTING, lan_host, lan_host_of
from assistant.core.languages import WHISPER_LANGUAGES
from assistant.core.shortcut import DEFAULT_TALK_CHORD

DEFAULT_SYSTEM_PROMPT = (
    "You are a helpful voice assistant. Your answers are spoken aloud, so reply in short, "
    "natural sentences. Do not use Markdown, lists, tables, code or emoji. Be brief unless "
    "asked for detail."
)

# The PCM rates each Volcano speech API offers. The v1 provider checks settings made in code
# against this same list.
VOLCANO_V1_SAMPLE_RATES: Final = (8_000, 16_000, 24_000)
VOLCANO_V3_SAMPLE_RATES: Final = (8_000, 16_000, 22_050, 24_000, 32_000, 44_100, 48_000)

COMPUTE_TYPES: Final = (
    "default", "auto", "int8", "int8_float16", "int8_float32", "int8_bfloat16", "int16",
    "float16", "float32", "bfloat16",
)  # fmt: skip


@dataclass
class AudioSettings:
    # The sound server's device name (what Settings keeps) or description; older settings: part
    # of a PortAudio device's name, or its index; None: the system's default device.
    input_device: Annotated[str | int | None, audio_device] = None
    output_device: Annotated[str | int | None, audio_device] = None
    talk_mode: Literal["hold", "toggle"] = "hold"
    # Talk from any application (held or toggled as `talk_mode` says); "" for none.
    talk_shortcut: Annotated[str, key_chord] = DEFAULT_TALK_CHORD
    max_recording_seconds: Annotated[float, between(1, 600)] = 60.0


@dataclass
class ConversationSettings:
    """How a turn begins: the Talk button, or the voice alone (docs/configuration.md)."""

    mode: Literal["push_to_talk", "hands_free", "wake_word"] = "push_to_talk"
    wake_word: Literal["hey_jarvis", "okay_nabu", "hey_mycroft", "alexa", "hey_rhasspy"] = (
        "hey_jarvis"
    )
    # Off only to hear what the canceller does: the assistant then answers its own voice.
    echo_cancellation: bool = True


@dataclass
class RemoteSttSettings:
    base_url: Annotated[str, endpoint_url] = "https://api.openai.com/v1"
    model: Annotated[str, not_empty] = "whisper-1"


@dataclass
class SttSettings:
    provider: Literal["local", "openai"] = "local"
    # "bundled" (tiny.en shipped as a package), a size name, or a directory.
    model: Annotated[str, not_empty] = "bundled"
    # "auto": detected per recording (English on tiny.en, others on the multilingual base); or a
    # code such as "de". None, from settings made in code, means "auto" too.
    language: Annotated[str | None, language_code] = "auto"
    # The languages the user speaks, preferred by detection; empty: the system's and English.
    languages: Annotated[list[str], language_codes] = field(default_factory=list)
    # The characters Mandarin is written in; "auto" follows the system's locale.
    chinese_script: Literal["auto", "simplified", "traditional"] = "auto"
    device: Literal["cpu", "cuda", "auto"] = "cpu"
    compute_type: Annotated[str, one_of(*COMPUTE_TYPES)] = "int8"
    initial_prompt: Annotated[str, TextLimit(1_000, "it is sent with every recording")] = ""
    # Where size names download from; or a mirror.
    hub_url: Annotated[str, endpoint_url] = "https://huggingface.co"
    openai: RemoteSttSettings = field(default_factory=RemoteSttSettings)


@dataclass
class LlmSettings:
    # Plain http: this computer, or an address in [network] lan_http_hosts (`lan_http_problems`).
    base_url: Annotated[str, lan_endpoint_url] = "http://127.0.0.1:11434/v1"  # Ollama
    model: Annotated[str, not_empty] = "llama3.2"
    system_prompt: Annotated[str, TextLimit(20_000, "it is sent with every question")] = (
        DEFAULT_SYSTEM_PROMPT
    )
    # Older turns are dropped beyond this many characters.
    history_chars: Annotated[int, between(500, 200_000)] = 12_000
    temperature: Annotated[float | None, between(0.0, 2.0)] = None


@dataclass
class OpenAiTtsSettings:
    base_url: Annotated[str, endpoint_url] = "https://api.openai.com/v1"
    model: Annotated[str, not_empty] = "tts-1"
    voice: Annotated[str, not_empty] = "alloy"
    speed: Annotated[float, between(0.25, 4.0)] = 1.0


@dataclass
class VolcanoTtsSettings:
    endpoint: Annotated[str, endpoint_url] = "https://openspeech.bytedance.com/api/v1/tts"
    appid: str = ""
    cluster: Annotated[str, not_empty] = "volcano_tts"
    voice_type: Annotated[str, not_empty] = "BV001_streaming"
    speed_ratio: Annotated[float, between(0.8, 2.0)] = 1.0
    sample_rate: Annotated[int, one_of(*VOLCANO_V1_SAMPLE_RATES)] = 24_000


@dataclass
class VolcanoV3TtsSettings:
    endpoint: Annotated[str, endpoint_url] = (
        "https://openspeech.bytedance.com/api/v3/tts/unidirectional"
    )
    appid: str = ""
    resource_id: Annotated[str, not_empty] = "seed-tts-1.0"
    speaker: str = ""
    sample_rate: Annotated[int, one_of(*VOLCANO_V3_SAMPLE_RATES)] = 24_000


@dataclass
class PiperTtsSettings:
    # "bundled" (en_US-joe-medium, shipped as a package) or an .onnx path.
    voice: Annotated[str, not_empty] = "bundled"
    length_scale: Annotated[float, between(0.25, 4.0)] = 1.0


# The cloud voices `[tts] voices` may name besides Piper voices (each with its own table), and
# the languages each reads (None: every language). Volcano's Chinese voices read English too.
CLOUD_VOICE_LANGUAGES: Final[dict[str, frozenset[str] | None]] = {
    "volcano": frozenset({"zh", "en"}),
    "volcano_v3": frozenset({"zh", "en"}),
    "openai": None,
}
CLOUD_VOICES: Final = tuple(CLOUD_VOICE_LANGUAGES)


def language_voices(values: list[str], name: str) -> list[str]:
    """`[tts] voices`: "language=voice" entries ("zh=volcano", "de=de_DE-thorsten-medium"), one
    voice per language; kept as "code=voice", the code in lower case."""
    kept: dict[str, str] = {}
    for value in values:
        language, equals, voice = (part.strip() for part in value.partition("="))
        code = language.lower()
        if not equals or not voice or code not in WHISPER_LANGUAGES:
            raise BadSetting(
                f'{name} must list entries such as "zh=volcano" or "de=de_DE-thorsten-medium": '
                f"a language code, =, then {', '.join(CLOUD_VOICES)}, bundled, a downloaded "
                f"Piper voice or a Piper .onnx file (got {shown(value)})."
            )
        if code in kept:
            raise BadSetting(
                f"{name} names two voices for {code} ({kept[code]} and {voice}); one voice per "
                "language: keep one."
            )
        kept[code] = voice
    return [f"{code}={voice}" for code, voice in kept.items()]


@dataclass
class TtsSettings:
    provider: Literal["piper", "openai", "volcano", "volcano_v3"] = "piper"
    # Sentences synthesized ahead of the one playing.
    lookahead: Annotated[int, between(1, 8)] = 2
    # Which voice speaks which language, besides `provider` (which speaks the rest): entries
    # "language=voice", the voice one of CLOUD_VOICES, "bundled", a downloaded Piper voice's key
    # or a Piper .onnx file. Empty: `provider` alone.
    voices: Annotated[list[str], language_voices] = field(default_factory=list)
    openai: OpenAiTtsSettings = field(default_factory=OpenAiTtsSettings)
    volcano: VolcanoTtsSettings = field(default_factory=VolcanoTtsSettings)
    volcano_v3: VolcanoV3TtsSettings = field(default_factory=VolcanoV3TtsSettings)
    piper: PiperTtsSettings = field(default_factory=PiperTtsSettings)

    def chosen_voices(self) -> dict[str, str]:
        """`voices` as language code -> voice."""
        return dict(entry.split("=", 1) for entry in self.voices)


@dataclass
class NetworkSettings:
    ca_file: str | None = None  # an extra CA bundle (PEM) to trust, besides the system's
    connect_timeout: Annotated[float, between(0, 60, above=True)] = 5.0
    read_timeout: Annotated[float, between(0, 600, above=True)] = 30.0
    # Outlives the pause between two turns (Volcano keeps ~60 s).
    keepalive_seconds: Annotated[float, between(0, 3_600)] = 90.0
    max_connections: Annotated[int, between(1, 100)] = 8
    # Addresses on the home network that plain http may go to (a GPU box running Ollama): each
    # allowed by the user, one by one. No API key is ever sent there (core/endpoints.py says why).
    lan_http_hosts: Annotated[list[str], lan_addresses] = field(default_factory=list)


@dataclass
class UiSettings:
    # The window's language: "auto" follows the system's locale (Chinese in mainland China or
    # Singapore: Simplified Chinese; anything else: English). Applied at the next start.
    language: Literal["auto", "en", "zh_CN"] = "auto"


@dataclass
class Settings:
    audio: AudioSettings = field(default_factory=AudioSettings)
    conversation: ConversationSettings = field(default_factory=ConversationSettings)
    stt: SttSettings = field(default_factory=SttSettings)
    llm: LlmSettings = field(default_factory=LlmSettings)
    tts: TtsSettings = field(default_factory=TtsSettings)
    network: NetworkSettings = field(default_factory=NetworkSettings)
    ui: UiSettings = field(default_factory=UiSettings)


def lan_http_problems(settings: Settings) -> list[str]:
    """The rule that spans two tables: a chat endpoint using plain http to an address on the home
    network needs that address in [network] lan_http_hosts (the field rule lets such an address
    pass, since a field sees only itself). A sentence if it is not there."""
    host = lan_host_of(settings.llm.base_url)
    allowed = {lan_host(allowed) for allowed in settings.network.lan_http_hosts}
    if host is None or host in allowed:
        return []
    return [
        f"[llm] base_url '{settings.llm.base_url}' uses plain http to {host} on your network, "
        f"which is not allowed yet. Allow it in {ALLOW_LAN_PLACE} (Allow this computer) or add "
        f'"{host}" to {LAN_HOSTS_SETTING}; traffic on your network is not encrypted, and no '
        "API key is ever sent there."
    ]
