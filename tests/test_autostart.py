"""Start at login (XDG autostart): the entry written runs this very app, with every argument
quoted as desktops read it, and turning it off removes it; failures say what to do."""

from __future__ import annotations

import configparser
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.autostart import ENTRY_NAME, XdgAutostart, entry_path, own_command, supported
from assistant.core.errors import AssistantError


def read_entry(path: Path) -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive
    parser.read(path, encoding="utf-8")
    return parser["Desktop Entry"]


def test_the_entry_goes_to_the_user_s_autostart_folder() -> None:
    assert entry_path({"XDG_CONFIG_HOME": "/home/ada/.cfg"}) == Path(
        "/home/ada/.cfg/autostart", ENTRY_NAME
    )
    assert entry_path({}) == Path.home() / ".config" / "autostart" / ENTRY_NAME
    assert supported("linux") and not supported("win32") and not supported("darwin")


def test_turning_it_on_writes_an_entry_that_starts_this_app(tmp_path: Path) -> None:
    login = XdgAutostart(tmp_path / "autostart" / ENTRY_NAME)
    assert not login.enabled()
    login.set_enabled(True)
    assert login.enabled()
    entry = read_entry(login.path)
    assert entry["Type"] == "Application" and entry["Name"] == "Voice Assistant"
    assert shlex.split(entry["Exec"]) == own_command() == [sys.executable, "-m", "assistant"]
    # The very command a desktop runs at login starts the assistant (asked for its version).
    version = subprocess.run(
        [*shlex.split(entry["Exec"]), "--version"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    assert version.stdout.startswith("assistant ")

    login.set_enabled(False)
    assert not login.enabled() and not login.path.exists()
    login.set_enabled(False)  # already off: nothing to do, no error


def test_arguments_with_spaces_and_special_characters_are_quoted(tmp_path: Path) -> None:
    command = ["/opt/Voice Assistant/bin/assistant", 'say "hi" for $5', "50%"]
    login = XdgAutostart(tmp_path / ENTRY_NAME, command)
    login.set_enabled(True)
    exec_line = read_entry(login.path)["Exec"]
    assert exec_line == (
        '"/opt/Voice Assistant/bin/assistant" "say \\\\"hi\\\\" for \\\\$5" "50%%"'
    )


def test_an_entry_a_desktop_hid_counts_as_off(tmp_path: Path) -> None:
    login = XdgAutostart(tmp_path / ENTRY_NAME)
    login.set_enabled(True)
    with login.path.open("a", encoding="utf-8") as entry:
        entry.write("Hidden=true\n")
    assert not login.enabled()


def test_a_file_in_place_of_the_folder_says_what_to_do(tmp_path: Path) -> None:
    (tmp_path / "autostart").write_text("not a folder", encoding="utf-8")
    login = XdgAutostart(tmp_path / "autostart" / ENTRY_NAME)
    with pytest.raises(AssistantError) as raised:
        login.set_enabled(True)
    assert str(login.path) in raised.value.message
    assert "Check that the folder is yours" in raised.value.message
    assert not login.enabled()
