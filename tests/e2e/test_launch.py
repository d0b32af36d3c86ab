"""`make run` as a user sees it: the app opens a real window on an X screen (Xvfb)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PySide6.QtGui import QImage

from tests.support.pulse import VirtualSoundCard
from tests.support.xvfb import screenshot, window_titles, xvfb  # noqa: F401 (fixture)

pytestmark = [pytest.mark.e2e, pytest.mark.gui, pytest.mark.timeout(120)]


def test_the_app_opens_its_window_on_a_real_screen(
    xvfb: str,  # noqa: F811
    virtual_sound_card: VirtualSoundCard,
    tmp_path: Path,
) -> None:
    env = {
        **os.environ,
        "DISPLAY": xvfb,
        "QT_QPA_PLATFORM": "xcb",
        "HOME": str(tmp_path),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "XDG_RUNTIME_DIR": str(tmp_path / "runtime"),
        "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
    }
    (tmp_path / "runtime").mkdir(mode=0o700)
    app = subprocess.Popen(
        [sys.executable, "-m", "assistant"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output = ""
    try:
        deadline = time.monotonic() + 30
        while "Voice Assistant" not in window_titles(xvfb):
            if app.poll() is not None:
                output = app.communicate()[0]
                raise AssertionError(f"the app exited: {output[-2000:]}")
            assert time.monotonic() < deadline, "no window titled 'Voice Assistant' within 30 s"
            time.sleep(0.1)
        time.sleep(1.0)  # let it paint
        picture = QImage(str(screenshot(xvfb, tmp_path / "window.png")))
        colours = {picture.pixel(x, y) for x in range(0, 1280, 16) for y in range(0, 800, 16)}
        assert len(colours) > 5, "the screen is blank"
        assert app.poll() is None
    finally:
        app.terminate()
        try:
            output += app.communicate(timeout=10)[0]
        except subprocess.TimeoutExpired:
            app.kill()
            output += app.communicate(timeout=10)[0]
    assert "Traceback" not in output, output[-2000:]
