"""A real X screen (Xvfb) for tests that launch the app in a window and photograph it."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest


def _free_display() -> int:
    for number in range(90, 190):
        taken = Path(f"/tmp/.X11-unix/X{number}"), Path(f"/tmp/.X{number}-lock")
        if not any(path.exists() for path in taken):
            return number
    raise RuntimeError("no free X display number between :90 and :189")


@pytest.fixture(scope="session")
def xvfb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Start Xvfb on a free display and yield its name (e.g. ':91'); stopped after the session."""
    if shutil.which("Xvfb") is None:
        pytest.fail("Xvfb is not installed: run `make test`, which installs the xvfb package.")
    display = f":{_free_display()}"
    log = tmp_path_factory.mktemp("xvfb") / "xvfb.log"
    # -noreset: by default Xvfb resets whenever its last client leaves (every xwininfo poll),
    # and an app connecting during the reset makes Qt abort.
    with log.open("wb") as log_file:  # a file, not a pipe: nobody has to keep reading it
        server = subprocess.Popen(
            ["Xvfb", display, "-screen", "0", "1280x800x24", "-nolisten", "tcp", "-noreset"],
            stdout=subprocess.DEVNULL,
            stderr=log_file,
        )
    try:
        for _ in range(100):  # up to 5 s
            if server.poll() is not None:
                message = log.read_text(errors="replace")
                pytest.fail(f"Xvfb {display} did not start: {message.strip()[-400:]}")
            probe = subprocess.run(
                ["xwininfo", "-root", "-display", display], capture_output=True, check=False
            )
            if probe.returncode == 0:
                break
            time.sleep(0.05)
        else:
            pytest.fail(f"Xvfb {display} did not accept connections within 5 s")
        yield display
    finally:
        server.terminate()
        try:
            server.wait(5)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(5)


def window_titles(display: str) -> list[str]:
    """The titles of the top-level windows on `display`."""
    tree = subprocess.run(
        ["xwininfo", "-root", "-tree", "-display", display],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "DISPLAY": display},
    ).stdout
    return [line.split('"')[1] for line in tree.splitlines() if line.count('"') >= 2]


def screenshot(display: str, path: Path) -> Path:
    subprocess.run(
        ["import", "-display", display, "-window", "root", str(path)],
        check=True,
        capture_output=True,
        timeout=30,
    )
    return path
