"""The composition root: the only package that names concrete classes. It builds THE app-wide
HTTP client, the adapters and the turn controller (`services`), then hands them to the desktop
app (`gui`) or the command line (`main`, through `Wiring`); `checks` are what Settings' Test
buttons do."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from assistant.app.checks import (
    check_brain_settings,
    check_chat,
    listen_to_microphone,
    play_test_tone,
    speak_sample,
)
from assistant.app.gui import GuiSession, open_session, run_gui
from assistant.app.services import Services, build_services, make_listener, make_transcriber
from assistant.config import Secrets, Settings
from assistant.core.protocols import AudioInput


class Wiring:
    """The concrete pieces the command line needs, so that it names no adapter itself."""

    @staticmethod
    def build_services(
        settings: Settings, secrets: Secrets, *, microphone: AudioInput | None = None
    ) -> Services:
        return build_services(settings, secrets, microphone=microphone)

    @staticmethod
    def run_gui(path: Path) -> int:
        return run_gui(path)

    @staticmethod
    def file_input(path: str, max_seconds: float) -> AudioInput:
        from assistant.audio.files import FileInput

        return FileInput(path, max_seconds=max_seconds)

    @staticmethod
    def read_audio(path: str, max_seconds: float) -> bytes:
        from assistant.audio.files import read_audio

        return read_audio(path, max_seconds=max_seconds)

    @staticmethod
    def list_devices() -> list[dict[str, object]]:
        from dataclasses import asdict

        from assistant.audio.device_choices import device_choices

        return [asdict(choice) for choice in device_choices()]


def main(argv: Sequence[str] | None = None) -> int:
    from assistant.cli import run

    return run(argv, Wiring)


__all__ = [
    "GuiSession",
    "Services",
    "Wiring",
    "build_services",
    "check_brain_settings",
    "check_chat",
    "listen_to_microphone",
    "main",
    "make_listener",
    "make_transcriber",
    "open_session",
    "play_test_tone",
    "run_gui",
    "speak_sample",
]
