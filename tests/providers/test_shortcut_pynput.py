"""The global talk shortcut on a real X server: keys are typed with xdotool while another
application's window (xev) has the focus, as when someone talks from their editor."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from assistant.core.shortcut import Chord, ShortcutUnavailable
from assistant.providers.shortcut_pynput import (
    NO_DISPLAY_REASON,
    WAYLAND_REASON,
    PynputShortcut,
    unavailable_reason,
)
from tests.support.xvfb import xvfb  # noqa: F401 (fixture)

# ------------------------------------------------------------------ where there is no shortcut


@pytest.mark.parametrize(
    "environ",
    [
        {"XDG_SESSION_TYPE": "wayland", "WAYLAND_DISPLAY": "wayland-0", "DISPLAY": ":0"},
        {"WAYLAND_DISPLAY": "wayland-0"},
    ],
)
def test_wayland_says_what_works_instead(environ: dict[str, str]) -> None:
    assert unavailable_reason(environ, "linux") == WAYLAND_REASON
    assert "Talk in the tray menu" in WAYLAND_REASON


def test_x11_windows_and_macos_have_a_shortcut() -> None:
    assert unavailable_reason({"XDG_SESSION_TYPE": "x11", "DISPLAY": ":0"}, "linux") is None
    assert unavailable_reason({}, "win32") is None
    assert unavailable_reason({}, "darwin") is None
    assert unavailable_reason({}, "linux") == NO_DISPLAY_REASON


async def test_start_on_wayland_raises_the_reason() -> None:
    shortcut = PynputShortcut(
        asyncio.get_running_loop(), environ={"WAYLAND_DISPLAY": "wayland-0"}, platform="linux"
    )
    with pytest.raises(ShortcutUnavailable) as raised:
        shortcut.start(Chord.parse("ctrl+alt+space"), lambda: None, lambda: None)
    assert str(raised.value) == WAYLAND_REASON
    assert not shortcut.listening


# ------------------------------------------------------------------ on a real X server


@dataclass
class OtherApp:
    """An xev window holding the keyboard focus; `keys()` are the key presses it received."""

    display: str
    log: Path

    def pressed_keys(self) -> list[str]:
        """The names of the keys it saw go down, e.g. ["Control_L", "space"]."""
        pressed, kind = [], ""
        for line in self.log.read_text(errors="replace").splitlines():
            if line.endswith("event,") or " event, serial" in line:
                kind = line.split()[0]
            elif "(keysym 0x" in line and kind == "KeyPress":
                pressed.append(line.split("(keysym ")[1].split(", ")[1].split(")")[0])
        return pressed


@dataclass
class Calls:
    events: list[str] = field(default_factory=list)

    def press(self) -> None:
        self.events.append("press")

    def release(self) -> None:
        self.events.append("release")


@pytest.fixture
def display(xvfb: str, monkeypatch: pytest.MonkeyPatch) -> str:  # noqa: F811
    if shutil.which("xdotool") is None:
        pytest.fail("xdotool is not installed: run scripts/setup.sh, which installs it.")
    monkeypatch.setenv("DISPLAY", xvfb)  # pynput's X connections read it
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.delenv("XDG_SESSION_TYPE", raising=False)
    return xvfb


@pytest.fixture
def other_app(display: str, tmp_path: Path) -> Iterator[OtherApp]:
    log = tmp_path / "xev.log"
    with log.open("wb") as out:
        xev = subprocess.Popen(
            ["xev", "-display", display, "-name", "other-app", "-event", "keyboard"],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        window = ""
        for _ in range(100):
            found = _xdotool(display, "search", "--name", "other-app")
            if found.returncode == 0:
                window = found.stdout.split()[0]
                break
            time.sleep(0.05)
        assert window, "the xev window did not appear"
        _xdotool(display, "windowfocus", "--sync", window)
        assert _xdotool(display, "getwindowfocus").stdout.strip() == window
        yield OtherApp(display, log)
    finally:
        xev.terminate()
        xev.wait(5)


def _xdotool(display: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["xdotool", *args],
        capture_output=True,
        text=True,
        timeout=10,
        check=False,
        env={"DISPLAY": display, "PATH": "/usr/bin:/bin"},
    )


async def _type(display: str, *args: str) -> None:
    result = await asyncio.to_thread(_xdotool, display, *args)
    assert result.returncode == 0, result.stderr


async def _until(condition: Callable[[], bool], within: float = 3.0) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.02)


async def _settle() -> None:
    """Long enough for a key that was going to fire to have reached the loop."""
    await asyncio.sleep(0.3)


def _listener_threads() -> list[threading.Thread]:
    from pynput import keyboard

    return [thread for thread in threading.enumerate() if isinstance(thread, keyboard.Listener)]


@pytest.mark.gui
async def test_the_chord_presses_and_releases_while_another_window_has_focus(
    other_app: OtherApp,
) -> None:
    calls = Calls()
    shortcut = PynputShortcut(asyncio.get_running_loop())
    shortcut.start(Chord.parse("ctrl+alt+space"), calls.press, calls.release)
    try:
        await _type(other_app.display, "keydown", "ctrl+alt+space")
        await _until(lambda: calls.events == ["press"])
        await asyncio.sleep(1.0)  # held: the X server repeats Space meanwhile
        assert calls.events == ["press"]
        await _type(other_app.display, "keyup", "ctrl+alt+space")
        await _until(lambda: calls.events == ["press", "release"])
        await _settle()
        assert calls.events == ["press", "release"]
    finally:
        shortcut.stop()
    assert "space" in other_app.pressed_keys()  # Space reached the focused application, not us


@pytest.mark.gui
async def test_other_keys_with_the_same_modifiers_do_not_fire(other_app: OtherApp) -> None:
    """whisper-writer #90: any Ctrl+Shift+key fired a Ctrl+Shift+<key> shortcut."""
    calls = Calls()
    shortcut = PynputShortcut(asyncio.get_running_loop())
    shortcut.start(Chord.parse("ctrl+shift+space"), calls.press, calls.release)
    try:
        for keys in ("ctrl+shift+a", "ctrl+shift+Return", "ctrl+alt+shift+space", "shift+space"):
            await _type(other_app.display, "key", keys)
        await _settle()
        assert calls.events == []
        await _type(other_app.display, "key", "ctrl+shift+space")  # the listener was listening
        await _until(lambda: calls.events == ["press", "release"])
    finally:
        shortcut.stop()


@pytest.mark.gui
async def test_rebinding_replaces_the_chord(other_app: OtherApp) -> None:
    """whisper-writer #106: a new shortcut did not take, or the old one kept firing."""
    old, new = Calls(), Calls()
    shortcut = PynputShortcut(asyncio.get_running_loop())
    shortcut.start(Chord.parse("ctrl+alt+space"), old.press, old.release)
    try:
        shortcut.start(Chord.parse("ctrl+alt+k"), new.press, new.release)
        assert len(_listener_threads()) == 1
        await _type(other_app.display, "key", "ctrl+alt+space")
        await _settle()
        assert old.events == [] and new.events == []
        await _type(other_app.display, "key", "ctrl+alt+k")
        await _until(lambda: new.events == ["press", "release"])
        assert old.events == []
    finally:
        shortcut.stop()


@pytest.mark.gui
async def test_stop_leaves_no_thread_and_lets_go_of_a_held_chord(other_app: OtherApp) -> None:
    calls = Calls()
    shortcut = PynputShortcut(asyncio.get_running_loop())
    shortcut.start(Chord.parse("ctrl+alt+space"), calls.press, calls.release)
    await _type(other_app.display, "keydown", "ctrl+alt+space")
    await _until(lambda: calls.events == ["press"])
    shortcut.stop()
    assert calls.events == ["press", "release"]  # a hold-to-talk turn is not left listening
    assert _listener_threads() == []
    await _type(other_app.display, "keyup", "ctrl+alt+space")
    await _type(other_app.display, "key", "ctrl+alt+space")
    await _settle()
    assert calls.events == ["press", "release"]


@pytest.mark.gui
async def test_a_listener_that_dies_is_started_again(other_app: OtherApp) -> None:
    """whisper-writer #44: the shortcut stopped working after some minutes."""
    calls = Calls()
    shortcut = PynputShortcut(asyncio.get_running_loop(), watch_interval=0.1)
    shortcut.start(Chord.parse("ctrl+alt+space"), calls.press, calls.release)
    try:
        shortcut._end_listener()  # what a lost X connection does to the thread
        assert not shortcut.listening
        await _until(lambda: shortcut.restarts == 1 and shortcut.listening)
        await _type(other_app.display, "key", "ctrl+alt+space")
        await _until(lambda: calls.events == ["press", "release"])
        assert len(_listener_threads()) == 1
    finally:
        shortcut.stop()
