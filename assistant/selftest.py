"""`assistant --self-test`: checks that what the app needs at run time is there and works (Qt, the
sound system, the speech models, the voice, the network) and prints one line per check.

Meant for an installed bundle as much as for a source checkout: it exercises the same code paths the
app uses, so a library or data file missing from the bundle shows up here, named, not as a crash.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal, TextIO
from urllib.parse import urlsplit, urlunsplit

from assistant import __version__
from assistant.config import (
    AudioSettings,
    NetworkSettings,
    PiperTtsSettings,
    Settings,
    SttSettings,
    config_path,
    load_settings,
)
from assistant.config.places import resources_dir
from assistant.core.errors import AssistantError, ModelMissing

if TYPE_CHECKING:
    from assistant.audio.devices import PortAudio

# Set in the environment of the child process that runs the Qt check.
CHILD_ENV = "ASSISTANT_SELF_TEST_PART"
QT_TIMEOUT_SECONDS = 30.0
HTTP_TIMEOUT_SECONDS = 15.0
ICON_NAME = "voice-assistant.svg"
VAD_MODEL_FILE = "silero_vad_v6.onnx"  # what faster_whisper.vad.get_vad_model loads


class CheckFailed(Exception):
    """A check found a problem; the message says what and, where it can, what to do."""


@dataclass
class Outcome:
    name: str
    status: str  # "ok", "FAILED" or "skipped"
    detail: str

    def line(self) -> str:
        first, *rest = self.detail.splitlines() or [""]
        text = f"{self.status:<8}{self.name}: {first}"
        return "\n".join([text, *(f"{'':<10}{more}" for more in rest)])


@dataclass
class SelfTest:
    """The checks, in the order a user would want them read, and what they found."""

    url: str | None
    config: str | None
    settings: Settings = field(default_factory=Settings)
    outcomes: list[Outcome] = field(default_factory=list)

    def run(self, out: TextIO) -> int:
        print(f"Voice Assistant {__version__} self-test", file=out, flush=True)
        checks: list[tuple[str, Callable[[], str]]] = [
            ("Settings", self.check_settings),
            ("Qt", check_qt),
            ("Sound devices", self.check_sound_devices),
            ("Voice activity model", check_vad_model),
            ("Hands-free models", self.check_hands_free_models),
            ("Speech model files", check_model_files),
            ("Speech model", self.check_speech_model),
            ("Voice", self.check_voice),
        ]
        for name, check in checks:
            self.record(name, check, out)
        if self.url:
            self.record("Network", self.check_network, out)
        else:
            self.report(Outcome("Network", "skipped", "no URL given (--self-test-url URL)"), out)
        return self.summary(out)

    def record(self, name: str, check: Callable[[], str], out: TextIO) -> None:
        try:
            outcome = Outcome(name, "ok", check())
        except (CheckFailed, AssistantError) as problem:
            outcome = Outcome(name, "FAILED", _message(problem))
        except Exception as problem:  # a self-test reports whatever breaks, never a traceback
            outcome = Outcome(name, "FAILED", f"{type(problem).__name__}: {problem}")
        self.report(outcome, out)

    def report(self, outcome: Outcome, out: TextIO) -> None:
        self.outcomes.append(outcome)
        print(outcome.line(), file=out, flush=True)

    def summary(self, out: TextIO) -> int:
        failed = [o.name for o in self.outcomes if o.status == "FAILED"]
        checked = sum(o.status != "skipped" for o in self.outcomes)
        if failed:
            print(f"{len(failed)} of {checked} checks FAILED: {', '.join(failed)}.", file=out)
            return 1
        print(f"All {checked} checks passed.", file=out)
        return 0

    # --- the checks that depend on the settings ---

    def check_settings(self) -> str:
        path = config_path(self.config)
        self.settings = load_settings(path)  # on failure the other checks use the defaults
        return str(path) if path.is_file() else f"the defaults (there is no file at {path})"

    def check_sound_devices(self) -> str:
        return check_sound_devices(self.settings.audio)

    def check_hands_free_models(self) -> str:
        conversation = self.settings.conversation
        found = check_hands_free_models(conversation.wake_word)
        unused = " (not in use: push-to-talk)" if conversation.mode == "push_to_talk" else ""
        return found + unused

    def check_speech_model(self) -> str:
        from assistant.providers.stt.whisper_local import WhisperTranscriber

        stt = self.settings.stt
        used = stt.provider == "local"
        if not used:
            stt = SttSettings()  # remote transcription: the bundled model is the offline fallback
        transcriber = WhisperTranscriber(stt)
        try:
            asyncio.run(transcriber.load())
        finally:
            transcriber.close()
        load = transcriber.load_seconds or 0.0
        warm = transcriber.warm_up_seconds or 0.0
        unused = "" if used else " (not in use: [stt] provider is not local)"
        return f"'{stt.model}' loaded in {load:.1f} s, first pass {warm:.1f} s{unused}"

    def check_voice(self) -> str:
        from assistant.providers.tts.piper_local import PiperTts

        tts = self.settings.tts
        used = tts.provider == "piper"
        voice_settings = tts.piper if used else PiperTtsSettings()
        started = time.perf_counter()
        voice = PiperTts(voice_settings)
        asyncio.run(voice.load())
        seconds = time.perf_counter() - started
        unused = "" if used else " (not in use: [tts] provider is not piper)"
        return (
            f"Piper voice '{voice_settings.voice}' ({voice.sample_rate} Hz) loaded and spoke in "
            f"{seconds:.1f} s{unused}"
        )

    def check_network(self) -> str:
        assert self.url is not None
        return asyncio.run(reach(self.url, self.settings.network))


def run(url: str | None = None, config: str | None = None, out: TextIO | None = None) -> int:
    """Run every check, print the report, and return the exit code: 0 only if all passed."""
    if os.environ.get(CHILD_ENV) == "qt":
        return qt_child(out or sys.stdout)
    return SelfTest(url, config).run(out or sys.stdout)


# --- Qt: in a child process, because Qt aborts the process when no platform plugin starts ---


def check_qt() -> str:
    try:
        child = subprocess.run(
            _own_command(),
            env={**os.environ, CHILD_ENV: "qt"},
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=QT_TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise CheckFailed(
            f"Qt did not start within {QT_TIMEOUT_SECONDS:.0f} s. Check that the display "
            f"({_display()}) answers."
        ) from None
    found = _last_json_line(child.stdout)
    if child.returncode != 0 or found is None:
        raise CheckFailed(f"Qt could not start: {_qt_reason(child.stderr)} {_qt_hint()}")
    detail = f"platform {found['platform']}, Qt {found['qt']}"
    icon = found.get("icon")
    if icon == "unreadable":
        raise CheckFailed(
            f"{detail}, but the app icon could not be drawn (Qt's SVG support is "
            "missing). Reinstall the app."
        )
    return f"{detail}, app icon {icon}"


def qt_child(out: TextIO) -> int:
    """In the child: start a QApplication on the current platform, show a window, draw the icon."""
    from PySide6.QtCore import qVersion
    from PySide6.QtGui import QIcon
    from PySide6.QtWidgets import QApplication, QWidget

    app = QApplication(sys.argv[:1])
    window = QWidget()
    window.setWindowTitle("Voice Assistant self-test")
    window.resize(64, 64)
    window.show()
    app.processEvents()
    icon_file = resources_dir() / ICON_NAME
    if not icon_file.is_file():
        icon = f"not found at {icon_file}"
    else:
        icon = "drawn" if not QIcon(str(icon_file)).pixmap(64, 64).isNull() else "unreadable"
    window.close()
    report = {"platform": app.platformName(), "qt": qVersion(), "icon": icon}
    print(json.dumps(report), file=out, flush=True)
    return 0


def _own_command() -> list[str]:
    if getattr(sys, "frozen", False):
        return [sys.executable, "--self-test"]  # the bundle's executable is the app itself
    return [sys.executable, "-m", "assistant", "--self-test"]


def _last_json_line(text: str) -> dict[str, str] | None:
    for line in reversed(text.splitlines()):
        if line.startswith("{"):
            try:
                found = json.loads(line)
            except ValueError:
                return None
            return found if isinstance(found, dict) else None
    return None


def _qt_reason(stderr: str) -> str:
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    telling = [line for line in lines if "qt.qpa" in line or "platform plugin" in line]
    # The first complaint is the cause; later ones guess at it (Qt 6.5+ always blames xcb-cursor).
    chosen = telling[:1] or lines[-1:] or ["it exited without saying why"]
    return chosen[0].rstrip(".") + "."


def _display() -> str:
    return os.environ.get("WAYLAND_DISPLAY") or os.environ.get("DISPLAY") or "none is set"


def _qt_hint() -> str:
    platform = os.environ.get("QT_QPA_PLATFORM", "the default")
    return (
        f"(QT_QPA_PLATFORM is {platform}; display: {_display()}.) Run it on a desktop, or set "
        "QT_QPA_PLATFORM=offscreen to check everything else without a screen."
    )


# --- sound, the voice activity model, the network ---


def check_sound_devices(audio: AudioSettings | None = None) -> str:
    """Some microphone and some speaker exist, and the ones `audio` names (or the system's
    defaults) are among them, found the same way the app finds them when it records and plays."""
    audio = audio or AudioSettings()
    try:
        from assistant.audio.devices import PortAudio
    except (ImportError, OSError) as exc:  # PyAudio's extension could not load PortAudio
        raise CheckFailed(
            f"PyAudio could not be loaded ({exc}). Install the PortAudio library (on Debian and "
            "Ubuntu: sudo apt-get install libportaudio2)."
        ) from None
    with PortAudio() as portaudio:
        devices = portaudio.devices()
        inputs = [d for d in devices if d.max_input_channels > 0]
        outputs = [d for d in devices if d.max_output_channels > 0]
        if not devices or not inputs or not outputs:
            missing = "no microphone" if devices and not inputs else "no speaker"
            raise CheckFailed(
                f"PortAudio found {missing if devices else 'no sound device'}. Connect one and "
                "check that the sound system (PulseAudio or PipeWire) is running."
            )
        microphone = _configured_device(portaudio, "input_device", audio.input_device)
        speaker = _configured_device(portaudio, "output_device", audio.output_device)
    return (
        f"{len(devices)} devices, {len(inputs)} with input, {len(outputs)} with output; "
        f"microphone '{microphone}', speaker '{speaker}'"
    )


def _configured_device(portaudio: PortAudio, key: str, spec: str | int | None) -> str:
    """The name of the device the setting `[audio] key` chooses; CheckFailed naming the setting
    when no device matches it (the app would fail on the first press of Talk)."""
    kind: Literal["input", "output"] = "input" if key == "input_device" else "output"
    try:
        return portaudio.target(spec, kind).label
    except AssistantError as error:
        setting = f'"{spec}"' if isinstance(spec, str) else str(spec)
        raise CheckFailed(
            f"[audio] {key} = {setting}: {error.message.rstrip('.')}, or leave the setting out "
            "to use the system's default."
        ) from None


def check_vad_model() -> str:
    import numpy as np
    from faster_whisper.utils import get_assets_path
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    model = Path(get_assets_path()) / VAD_MODEL_FILE
    if not model.is_file():
        raise CheckFailed(
            f"The voice activity model {model} is missing, so speech cannot be told from silence. "
            "Reinstall the app (a bundle must include faster-whisper's package data)."
        )
    noise = (np.random.default_rng(0).standard_normal(16_000) * 0.003).astype(np.float32)
    get_speech_timestamps(noise, VadOptions())  # loads the model with onnxruntime and runs it
    return f"{model.name} loaded and ran"


def check_hands_free_models(wake_word: str = "hey_jarvis") -> str:
    """Each part hands-free listening runs on (the Silero VAD, WebRTC's echo canceller, Smart Turn,
    the wake word model) loads and judges a moment of silence, as the listening thread would: a
    bundle without one of their models or native libraries fails here, naming the part."""
    from assistant.core.listening import FRAME_BYTES, LISTEN_RATE

    # Each part imports its own module: a library missing from the bundle is named by its part.
    def voice_activity() -> None:
        from assistant.providers.vad_silero import SileroVoiceDetector

        detector = SileroVoiceDetector()
        if not 0.0 <= detector.probability(bytes(2 * detector.window_samples)) < 0.5:
            raise CheckFailed("it heard speech in silence")

    def echo_canceller() -> None:
        from assistant.providers.aec_webrtc import WebRtcEchoCanceller

        canceller = WebRtcEchoCanceller(noise_suppression=True)
        canceller.far(bytes(FRAME_BYTES))
        if len(canceller.near(bytes(FRAME_BYTES))) != FRAME_BYTES:
            raise CheckFailed("it returned a frame of the wrong size")

    def end_of_turn() -> None:
        from assistant.providers.turn_end_smart import SmartTurnDetector

        if not 0.0 <= SmartTurnDetector().complete(bytes(2 * LISTEN_RATE)) <= 1.0:
            raise CheckFailed("it gave no probability")

    def wake_word_model() -> None:
        from assistant.providers.wake_word import STEP_BYTES, OpenWakeWordDetector

        if OpenWakeWordDetector(wake_word).feed(bytes(STEP_BYTES * 25)):  # 2 s
            raise CheckFailed("it fired on silence")

    parts: list[tuple[str, Callable[[], None]]] = [
        ("the voice activity model (Silero VAD)", voice_activity),
        ("the echo canceller (WebRTC AEC3)", echo_canceller),
        ("the end-of-turn model (Smart Turn)", end_of_turn),
        (f"the wake word model '{wake_word}'", wake_word_model),
    ]
    started = time.perf_counter()
    for part, run_once in parts:
        try:
            run_once()
        except AssistantError:  # its message names the part and says what to do
            raise
        except Exception as problem:  # a module or native library missing is what this finds
            raise CheckFailed(
                f"{part[0].upper()}{part[1:]} does not work ({type(problem).__name__}: "
                f"{str(problem).rstrip('.')}). Hands-free and wake-word listening cannot run; "
                "push-to-talk still works. Reinstall the app."
            ) from None
    seconds = time.perf_counter() - started
    return (
        f"voice activity, echo canceller, end of turn and wake word '{wake_word}' loaded and ran "
        f"on silence in {seconds:.1f} s"
    )


def check_model_files(models_dir: Path | None = None) -> str:
    """Every byte of the built-in tiny.en and of the multilingual base against their pinned
    checksums, ignoring the stamps that spare a normal start this cost."""
    from assistant.providers.whisper_models import bundled_tiny_en, multilingual_base

    started = time.perf_counter()
    bundled_tiny_en(models_dir, recheck=True)
    try:
        base = multilingual_base(models_dir, recheck=True)
    except ModelMissing:  # not in every installation yet: tiny.en alone still works
        seconds = time.perf_counter() - started
        return f"tiny.en matches its checksums ({seconds:.1f} s); no multilingual base installed"
    seconds = time.perf_counter() - started
    return f"tiny.en and the multilingual base (in {base}) match their checksums ({seconds:.1f} s)"


async def reach(url: str, network: NetworkSettings) -> str:
    """GET `url` with the app's own HTTP client; any HTTP answer means it was reached."""
    import httpx

    from assistant.providers.http import make_http_client

    shown = _without_credentials(url)
    client, _ = make_http_client(network)
    try:
        started = time.perf_counter()
        async with asyncio.timeout(HTTP_TIMEOUT_SECONDS):
            async with client.stream("GET", url) as response:
                ms = (time.perf_counter() - started) * 1000
                answer = f"{response.status_code} over {response.http_version}"
                return f"{shown} answered {answer} in {ms:.0f} ms"
    except TimeoutError:
        raise CheckFailed(f"{shown} did not answer within {HTTP_TIMEOUT_SECONDS:.0f} s.") from None
    except httpx.HTTPError as exc:
        raise CheckFailed(
            f"{shown} could not be reached ({type(exc).__name__}: {exc}). Check the address, "
            "the network and, for https, that the server's certificate is trusted."
        ) from None
    finally:
        await client.aclose()


def _without_credentials(url: str) -> str:
    parts = urlsplit(url)
    if parts.username or parts.password:
        host = parts.hostname or ""
        netloc = f"{host}:{parts.port}" if parts.port else host
        return urlunsplit(parts._replace(netloc=netloc))
    return url


def _message(problem: Exception) -> str:
    return problem.message if isinstance(problem, AssistantError) else str(problem)


__all__ = ["CHILD_ENV", "CheckFailed", "Outcome", "SelfTest", "reach", "run"]
