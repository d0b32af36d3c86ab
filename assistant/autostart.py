"""Start at login on Linux and other freedesktop systems: an XDG autostart entry
(~/.config/autostart/voice-assistant.desktop) that runs this very app, written or removed on
request. (The macOS and Windows equivalents belong to their packaging.)"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from assistant.core.errors import AssistantError

ENTRY_NAME = "voice-assistant.desktop"


def supported(platform: str = sys.platform) -> bool:
    return platform.startswith(("linux", "freebsd", "openbsd", "netbsd"))


def entry_path(environ: Mapping[str, str] = os.environ) -> Path:
    """$XDG_CONFIG_HOME/autostart/voice-assistant.desktop (~/.config when it is not set)."""
    config = environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(config) / "autostart" / ENTRY_NAME


def own_command() -> list[str]:
    """What starts this app again: the bundle's executable, or this Python with the package."""
    if getattr(sys, "frozen", False):
        return [sys.executable]
    return [sys.executable, "-m", "assistant"]


class XdgAutostart:
    """Start at login through the entry at `path` (default: the user's), running `command`
    (default: this app)."""

    def __init__(self, path: Path | None = None, command: Sequence[str] | None = None) -> None:
        self.path = path or entry_path()
        self.command = list(command or own_command())

    def enabled(self) -> bool:
        try:
            return "Hidden=true" not in self.path.read_text(encoding="utf-8").splitlines()
        except OSError:
            return False

    def set_enabled(self, on: bool) -> None:
        """Write or remove the entry; raise AssistantError saying why if it cannot be done."""
        if on:
            enable(self.path, self.command)
        else:
            disable(self.path)


def enable(path: Path, command: Sequence[str]) -> None:
    """Write the entry that runs `command` at login; raise AssistantError if it cannot be."""
    entry = "\n".join(
        [
            "[Desktop Entry]",
            "Type=Application",
            "Name=Voice Assistant",
            "Comment=Starts the voice assistant when you log in",
            f"Exec={_exec_line(command)}",
            "Icon=voice-assistant",
            "Terminal=false",
            "X-GNOME-Autostart-enabled=true",
            "",
        ]
    )
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(entry, encoding="utf-8")
    except OSError as error:
        raise AssistantError(
            f"Start at login could not be turned on: {path} could not be written "
            f"({error.strerror or error}). Check that the folder is yours and the disk has room."
        ) from None


def disable(path: Path) -> None:
    try:
        path.unlink(missing_ok=True)
    except OSError as error:
        raise AssistantError(
            f"Start at login could not be turned off: {path} could not be removed "
            f"({error.strerror or error}). Remove that file by hand."
        ) from None


def _exec_line(command: Sequence[str]) -> str:
    # Quoted per argument, then escaped as any string value of the file (backslashes doubled).
    return " ".join(map(_exec_argument, command)).replace("\\", "\\\\")


def _exec_argument(argument: str) -> str:
    """One argument of an Exec line, quoted as the Desktop Entry Specification says."""
    if not any(c in argument for c in " \t\n\"'\\><~|&;$*?#()`=%"):
        return argument
    escaped = "".join(f"\\{c}" if c in '"`$\\' else c for c in argument)
    return f'"{escaped.replace("%", "%%")}"'


__all__ = [
    "ENTRY_NAME",
    "XdgAutostart",
    "disable",
    "enable",
    "entry_path",
    "own_command",
    "supported",
]
