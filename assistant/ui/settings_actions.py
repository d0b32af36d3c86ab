"""What the settings dialog may ask of the app: the small callables app.py hands it, so that no
widget ever touches a device, a provider or the keyring itself."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from assistant.config import Secrets, Settings
from assistant.core.errors import ModelError
from assistant.core.protocols import ProgressListener

LevelListener = Callable[[float], None]


@dataclass(frozen=True)
class AudioDevice:
    name: str  # what the settings file keeps
    has_input: bool
    has_output: bool
    label: str = ""  # what people see ("USB Headset"); "" shows the name
    is_default: bool = False  # the system's default now


@dataclass(frozen=True)
class ModelSize:
    """A Whisper model that can be downloaded by its size name ("base.en"), and whether it was."""

    name: str
    downloaded: bool


@dataclass(frozen=True)
class VoiceOffer:
    """A Piper voice of the catalogue (Settings > Voice), on this computer or to download."""

    key: str  # "de_DE-thorsten-medium", or "bundled"; what `[tts] voices` names it by
    language: str  # "de"
    label: str  # "Deutsch (Germany): thorsten, medium"
    size: int = 0  # bytes to download
    installed: bool = False


async def _no_voices() -> list[VoiceOffer]:
    return []


async def _no_voice_downloads(key: str, progress: ProgressListener) -> None:
    raise ModelError(f"The voice {key} cannot be downloaded from here.")


async def _no_samples(voice: str, language: str) -> None:
    raise ModelError(f"The voice {voice} cannot play a sample from here.")


async def _no_devices() -> list[AudioDevice]:
    return []


async def _no_model_sizes() -> list[ModelSize]:
    return []


async def _no_model_list(settings: Settings, secrets: Secrets) -> list[str]:
    return []  # the model is typed


async def _no_downloads(name: str, progress: ProgressListener) -> None:
    raise ModelError(
        f"The speech model {name} cannot be downloaded from here. Choose a folder that holds "
        "it, or the built-in model."
    )


@dataclass
class SettingsActions:
    """Every test raises an `AssistantError` whose message says what is wrong and what to do."""

    # Writes the (validated) settings file; raises ConfigError if it cannot.
    save_settings: Callable[[Settings], None]
    # Saves one key in the OS keyring / removes it: `llm_api_key`, `openai_api_key`,
    # `volcano_token`. Raise ConfigError if the keyring refuses.
    store_secret: Callable[[str, str], None]
    delete_secret: Callable[[str], None]
    # Asks the language model service whether it answers (settings and keys as in the dialog).
    test_brain: Callable[[Settings, Secrets], Awaitable[None]]
    # Speaks a short sample with the voice as set in the dialog.
    test_voice: Callable[[Settings, Secrets], Awaitable[None]]
    # Records from the named input device (None: the default) for a few seconds, reporting levels.
    test_microphone: Callable[[str | None, LevelListener], Awaitable[None]]
    # Plays a short tone on the named output device (None: the default).
    test_speaker: Callable[[str | None], Awaitable[None]]
    list_devices: Callable[[], Awaitable[list[AudioDevice]]] = _no_devices
    # Known language model services: name -> (base URL, a model it serves).
    brain_presets: dict[str, tuple[str, str]] = field(default_factory=dict)
    # The models the language model service lists (settings and keys as in the dialog), sorted.
    list_models: Callable[[Settings, Secrets], Awaitable[list[str]]] = _no_model_list
    # The Whisper sizes that can be downloaded by name, and whether each is on this computer.
    model_sizes: Callable[[], Awaitable[list[ModelSize]]] = _no_model_sizes
    # Downloads a Whisper size by name, telling `progress` how far it has come; cancelling it
    # leaves nothing behind.
    download_model: Callable[[str, ProgressListener], Awaitable[None]] = _no_downloads
    # Settings > Voice, the voices per language: the Piper voices on this computer (the bundled
    # one first); the official list of Piper voices, each marked when installed (raises an
    # AssistantError when the list cannot be had); downloading one by key, with progress
    # (cancelling leaves nothing behind; a damaged file is refused); and a sample of one voice
    # (a Piper voice's key, or "volcano", "volcano_v3", "openai") in a language.
    installed_voices: Callable[[], Awaitable[list[VoiceOffer]]] = _no_voices
    voice_catalogue: Callable[[], Awaitable[list[VoiceOffer]]] = _no_voices
    download_voice: Callable[[str, ProgressListener], Awaitable[None]] = _no_voice_downloads
    sample_voice: Callable[[str, str], Awaitable[None]] = _no_samples
    # While the talk shortcut's keys are being recorded, the shortcut must not fire: True
    # pauses it, False brings it back.
    pause_shortcut: Callable[[bool], None] = lambda paused: None
    # Why this desktop gives no global shortcut ("" when it does), shown under the field.
    shortcut_problem: str = ""
