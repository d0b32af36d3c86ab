"""Settings > Audio lists devices by what people call them, "System default" first; the settings
keep each device's stable name. Offscreen, with the real listing of the virtual sound card."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from assistant.audio.device_choices import device_choices
from assistant.config import Settings
from assistant.ui.settings_actions import AudioDevice, SettingsActions
from assistant.ui.settings_audio_page import AudioPage
from assistant.ui.tasks import BackgroundTasks
from tests.support.headset import HEADSET, HEADSET_MIC, Headset, plugged_in_headset
from tests.support.pulse import VirtualSoundCard

pytestmark = [pytest.mark.gui, pytest.mark.audio, pytest.mark.timeout(60)]


@dataclass(frozen=True)
class ListedDevice(AudioDevice):
    """AudioDevice with what the app's wiring adds: the label people see, and the default."""

    label: str = ""
    is_default: bool = False


@pytest.fixture
def headset(virtual_sound_card: VirtualSoundCard) -> Iterator[Headset]:
    with plugged_in_headset(virtual_sound_card) as plugged:
        yield plugged


async def found_now() -> list[AudioDevice]:
    """The app's listing, as its wiring hands it to the dialog."""
    choices = await asyncio.to_thread(device_choices)
    return [
        ListedDevice(c.setting, c.kind == "input", c.kind == "output", c.label, c.is_default)
        for c in choices
    ]


async def not_used(*args: Any) -> None:
    raise AssertionError("no test button is pressed here")


def page(qtbot: Any) -> AudioPage:
    actions = SettingsActions(
        save_settings=lambda settings: None,
        store_secret=lambda name, value: None,
        delete_secret=lambda name: None,
        test_brain=not_used,
        test_voice=not_used,
        test_microphone=not_used,
        test_speaker=not_used,
        list_devices=found_now,
    )
    audio = AudioPage(actions, BackgroundTasks())
    qtbot.addWidget(audio)
    return audio


def texts(combo: Any) -> list[str]:
    return [combo.itemText(i) for i in range(combo.count())]


async def test_devices_are_listed_by_description_with_the_system_default_first(
    qtbot: Any, headset: Headset, tmp_path: Path
) -> None:
    audio = page(qtbot)
    settings = Settings()
    audio.load(settings)
    audio.show_devices(await found_now())
    assert texts(audio.output_device) == [
        "System default (Assistant_test_speaker)",
        "Assistant_test_speaker",
        "USB Headset",
    ]
    assert texts(audio.input_device) == ["System default", "USB Headset Microphone"]
    audio.output_device.setCurrentIndex(2)
    audio.input_device.setCurrentIndex(1)
    audio.store(settings)
    assert settings.audio.output_device == HEADSET  # the stable name, not the description
    assert settings.audio.input_device == HEADSET_MIC
    audio.grab().save(str(tmp_path / "settings-audio.png"))


async def test_a_saved_device_shows_its_description_and_an_unplugged_one_says_so(
    qtbot: Any, headset: Headset
) -> None:
    audio = page(qtbot)
    settings = Settings()
    settings.audio.output_device = HEADSET
    settings.audio.input_device = "alsa_input.usb-Gone_Headset-00.mono-fallback"
    audio.load(settings)
    audio.show_devices(await found_now())
    assert audio.output_device.currentText() == "USB Headset"
    assert audio.input_device.currentText() == (
        "alsa_input.usb-Gone_Headset-00.mono-fallback (not found now)"
    )
    audio.store(settings)
    assert settings.audio.input_device == "alsa_input.usb-Gone_Headset-00.mono-fallback"


async def test_a_device_written_by_its_description_is_chosen_and_saved_by_name(
    qtbot: Any, headset: Headset
) -> None:
    audio = page(qtbot)
    settings = Settings()
    settings.audio.output_device = "usb headset"
    audio.load(settings)
    assert audio.output_device.currentText() == "usb headset"  # no verdict before the list
    audio.show_devices(await found_now())
    assert audio.output_device.currentText() == "USB Headset"
    audio.store(settings)
    assert settings.audio.output_device == HEADSET
