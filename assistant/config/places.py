"""Where the app's files are: the user's folders (settings, data, cache) and the files it ships.

One place, so the app's name in the folder paths and the bundle's layout are written once:

    user_config_dir()  ~/.config/voice-assistant          config.toml
    user_data_dir()    ~/.local/share/voice-assistant      history, downloaded voices
    user_cache_dir()   ~/.cache/voice-assistant            downloaded Whisper models
    resources_dir()    <checkout>/resources, or inside the PyInstaller bundle
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Final

APP_NAME: Final = "voice-assistant"


def user_config_dir() -> Path:
    import platformdirs

    # appauthor=False keeps Windows at AppData\Local\voice-assistant (not the name twice).
    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))


def user_data_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def user_cache_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False))


def resources_dir() -> Path:
    """The files the app ships (icons, models, translations): inside the bundle, where
    PyInstaller's bootloader unpacked it, or beside the package in a checkout."""
    bundle = getattr(sys, "_MEIPASS", None)
    root = Path(bundle) if bundle else Path(__file__).resolve().parents[2]
    return root / "resources"


__all__ = ["APP_NAME", "resources_dir", "user_cache_dir", "user_config_dir", "user_data_dir"]
