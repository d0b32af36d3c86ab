"""Typed settings: the TOML file, its validation, and where secrets come from.

Only the schema lives here so far; loading and validation come next.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

DEFAULT_SYSTEM_PROMPT = (
    "You are a helpful voice assistant. Your answers are spoken aloud, so reply in short, "
    "natural sentences. Do not use Markdown, lists, tables, code or emoji. Be brief unless "
    "asked for detail."
)


@dataclass
class AudioSettings:
    input_device: str | int | None = None  # name (substring) or PortAudio index; None: default
    output_device: str | int | None = None
    talk_mode: Literal["hold", "toggle"] = "hold"
    max_recording_seconds: float = 60.0


@dataclass
class RemoteSttSettings:
    base_url: str = "https://api.openai.com/v1"
    model: str = "whisper-1"


@dataclass
class SttSettings:
    provider: Literal["local", "openai"] = "local"
    model: str = "bundled"  # "bundled" (tiny.en shipped as a package), a size name, or a directory
    language: str | None = None  # None: detect
    device: Literal["cpu", "cuda", "auto"] = "cpu"
    compute_type: str = "int8"
    initial_prompt: str = ""
    openai: RemoteSttSettings = field(default_factory=RemoteSttSettings)


@dataclass
class LlmSettings:
    base_url: str = "http://127.0.0.1:11434/v1"  # Ollama
    model: str = "llama3.2"
    system_prompt: str = DEFAULT_SYSTEM_PROMPT
    history_chars: int = 12_000  # older turns are dropped beyond this many characters
    temperature: float | None = None


@dataclass
class OpenAiTtsSettings:
    base_url: str = "https://api.openai.com/v1"
    model: str = "tts-1"
    voice: str = "alloy"
    speed: float = 1.0


@dataclass
class VolcanoTtsSettings:
    endpoint: str = "https://openspeech.bytedance.com/api/v1/tts"
    appid: str = ""
    cluster: str = "volcano_tts"
    voice_type: str = "BV001_streaming"
    speed_ratio: float = 1.0
    sample_rate: int = 24_000


@dataclass
class VolcanoV3TtsSettings:
    endpoint: str = "https://openspeech.bytedance.com/api/v3/tts/unidirectional"
    appid: str = ""
    resource_id: str = "seed-tts-1.0"
    speaker: str = ""
    sample_rate: int = 24_000


@dataclass
class PiperTtsSettings:
    voice: str = "bundled"  # "bundled" (en_US-joe-medium, shipped as a package) or an .onnx path
    length_scale: float = 1.0


@dataclass
class TtsSettings:
    provider: Literal["piper", "openai", "volcano", "volcano_v3"] = "piper"
    lookahead: int = 2  # sentences synthesized ahead of the one playing
    openai: OpenAiTtsSettings = field(default_factory=OpenAiTtsSettings)
    volcano: VolcanoTtsSettings = field(default_factory=VolcanoTtsSettings)
    volcano_v3: VolcanoV3TtsSettings = field(default_factory=VolcanoV3TtsSettings)
    piper: PiperTtsSettings = field(default_factory=PiperTtsSettings)


@dataclass
class NetworkSettings:
    ca_file: str | None = None  # an extra CA bundle (PEM) to trust, besides the system's
    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    keepalive_seconds: float = 90.0  # outlives the pause between two turns (Volcano keeps ~60 s)
    max_connections: int = 8


@dataclass
class Secrets:
    """API keys; never stored in the config file, never logged."""

    llm_api_key: str | None = None
    openai_api_key: str | None = None
    volcano_token: str | None = None


@dataclass
class Settings:
    audio: AudioSettings = field(default_factory=AudioSettings)
    stt: SttSettings = field(default_factory=SttSettings)
    llm: LlmSettings = field(default_factory=LlmSettings)
    tts: TtsSettings = field(default_factory=TtsSettings)
    network: NetworkSettings = field(default_factory=NetworkSettings)
