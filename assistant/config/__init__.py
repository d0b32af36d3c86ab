"""Typed settings: the TOML file the user may edit by hand, its validation, and where the API keys
come from (never that file: the environment or the OS keyring). docs/configuration.md lists every
key.

- `schema`: the settings' dataclasses, each field with its default and the rules it must pass;
- `rules`: those rules (ranges, choices, endpoints, text limits), each a sentence when it fails;
- `loading`: where the file is, reading it, and every check, listed in one ConfigError;
- `saving`: writing it back, atomically and privately;
- `secrets`: the keys, from the environment, else from the OS keyring;
- `places`: where the app's files are (the user's folders, the files it ships).

Callers import from `assistant.config` itself; the modules are its inside.
"""

from assistant.config.loading import (
    CONFIG_ENV_VAR,
    config_path,
    default_config_path,
    load_settings,
    validate_settings,
)
from assistant.config.places import APP_NAME
from assistant.config.saving import save_settings, to_toml
from assistant.config.schema import (
    DEFAULT_SYSTEM_PROMPT,
    VOLCANO_V1_SAMPLE_RATES,
    AudioSettings,
    ConversationSettings,
    LlmSettings,
    NetworkSettings,
    OpenAiTtsSettings,
    PiperTtsSettings,
    RemoteSttSettings,
    Settings,
    SttSettings,
    TtsSettings,
    UiSettings,
    VolcanoTtsSettings,
    VolcanoV3TtsSettings,
)
from assistant.config.secrets import (
    KEYRING_SERVICE,
    SECRET_ENV_VARS,
    SETTINGS_KEYS_PLACE,
    Secrets,
    delete_secret,
    load_secrets,
    store_secret,
)

__all__ = [
    "APP_NAME",
    "CONFIG_ENV_VAR",
    "DEFAULT_SYSTEM_PROMPT",
    "KEYRING_SERVICE",
    "SECRET_ENV_VARS",
    "SETTINGS_KEYS_PLACE",
    "VOLCANO_V1_SAMPLE_RATES",
    "AudioSettings",
    "ConversationSettings",
    "LlmSettings",
    "NetworkSettings",
    "UiSettings",
    "OpenAiTtsSettings",
    "PiperTtsSettings",
    "RemoteSttSettings",
    "Secrets",
    "Settings",
    "SttSettings",
    "TtsSettings",
    "VolcanoTtsSettings",
    "VolcanoV3TtsSettings",
    "config_path",
    "default_config_path",
    "delete_secret",
    "load_secrets",
    "load_settings",
    "save_settings",
    "store_secret",
    "to_toml",
    "validate_settings",
]
