"""`assistant --self-test`, check by check, on the virtual sound card: a microphone or speaker
named in the settings that is not there fails the check, naming the device and what to do."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from assistant.selftest import SelfTest
from tests.support.pulse import VirtualSoundCard


def sound_check(config: Path) -> str:
    """The self-test's "Sound devices" line for the settings in `config`."""
    test = SelfTest(url=None, config=str(config))
    out = io.StringIO()
    test.record("Settings", test.check_settings, out)
    test.record("Sound devices", test.check_sound_devices, out)
    assert test.outcomes[0].status == "ok", out.getvalue()
    return test.outcomes[1].line()


@pytest.mark.audio
@pytest.mark.parametrize(
    ("key", "device", "kind"),
    [
        ("input_device", '"Blue Yeti"', "microphone"),
        ("input_device", "42", "microphone"),
        ("output_device", '"HDMI 7"', "speaker"),
    ],
)
def test_a_configured_device_that_is_not_there_fails(
    virtual_sound_card: VirtualSoundCard, tmp_path: Path, key: str, device: str, kind: str
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f"[audio]\n{key} = {device}\n", encoding="utf-8")
    line = sound_check(config)
    assert line.startswith("FAILED  Sound devices:"), line
    assert f"[audio] {key} = {device}" in line, line
    assert f"no {kind}" in line.lower()
    assert "Settings > Audio" in line and "leave the setting out" in line
    assert "pulse" in line or "default" in line  # what there is instead


@pytest.mark.audio
def test_the_configured_devices_are_named_when_they_are_there(
    virtual_sound_card: VirtualSoundCard, tmp_path: Path
) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[audio]\ninput_device = "pulse"\noutput_device = "default"\n', "utf-8")
    line = sound_check(config)
    assert line.startswith("ok      Sound devices:"), line
    assert "microphone 'pulse'" in line and "speaker 'default'" in line


@pytest.mark.audio
def test_without_settings_the_default_devices_are_checked(
    virtual_sound_card: VirtualSoundCard, tmp_path: Path
) -> None:
    config = tmp_path / "config.toml"
    config.write_text("", encoding="utf-8")
    line = sound_check(config)
    assert line.startswith("ok      Sound devices:"), line
    assert "microphone '" in line and "speaker '" in line
