"""Where the window remembers its size, position and last mode between runs (Qt's QSettings,
an INI file beside the app's config.toml, never the config itself)."""

from __future__ import annotations

from PySide6.QtCore import QSettings

ORGANIZATION = "voice-assistant"  # the folder: ~/.config/voice-assistant/ on Linux
FILE_NAME = "window"  # ...window.ini


def window_memory() -> QSettings:
    """The per-user store; tests point it elsewhere with QSettings.setPath(IniFormat, ...)."""
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, ORGANIZATION, FILE_NAME)
