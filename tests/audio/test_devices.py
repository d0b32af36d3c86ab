"""Finding sound devices: what PortAudio lists on the virtual sound card, and on none; settings
that name a PortAudio device (as before the sound server's names) still find it."""

from __future__ import annotations

import pytest

from assistant.audio.devices import find_device, list_devices
from assistant.audio.microphone import Microphone
from assistant.audio.speaker import Speaker
from assistant.core.errors import DeviceError
from tests.support.pulse import VirtualSoundCard

pytestmark = [pytest.mark.audio, pytest.mark.timeout(30)]


def test_the_sound_servers_device_is_listed_for_input_and_output(
    virtual_sound_card: VirtualSoundCard,
) -> None:
    devices = list_devices()
    pulse = next(device for device in devices if device.name == "pulse")
    assert pulse.max_input_channels > 0
    assert pulse.max_output_channels > 0
    assert pulse.default_sample_rate > 0
    assert sum(device.is_default_input for device in devices) == 1
    assert sum(device.is_default_output for device in devices) == 1


def test_a_setting_names_a_device_by_part_of_its_name_or_its_index(
    virtual_sound_card: VirtualSoundCard,
) -> None:
    pulse = next(device for device in list_devices() if device.name == "pulse")
    assert find_device("PULSE", "input") == pulse.index
    assert find_device("puls", "output") == pulse.index
    assert find_device(pulse.index, "output") == pulse.index
    assert find_device(str(pulse.index), "input") == pulse.index
    assert find_device(None, "input") is None  # the system default


def test_an_unknown_device_is_refused_with_the_list_of_what_there_is(
    virtual_sound_card: VirtualSoundCard,
) -> None:
    with pytest.raises(DeviceError) as caught:
        find_device("USB headset that is not plugged in", "output")
    message = str(caught.value)
    assert "USB headset that is not plugged in" in message
    # What the user can pick instead, by the sound server's description, not as "pulse".
    assert "Assistant_test_speaker" in message
    assert "pulse" not in message
    assert "Settings > Audio" in message
    with pytest.raises(DeviceError) as caught:
        find_device("USB headset that is not plugged in", "input")
    # The rig's only sources are monitors, which are no microphones.
    assert "No other microphone than the system default" in str(caught.value)
    with pytest.raises(DeviceError, match="No speaker matches"):
        find_device(99, "output")


def test_without_a_sound_server_no_device_is_listed(no_sound_card: None) -> None:
    assert [device.name for device in list_devices() if device.name == "pulse"] == []
    with pytest.raises(DeviceError, match="No microphone"):
        find_device("pulse", "input")


async def test_without_a_sound_server_the_microphone_says_so(
    virtual_sound_card: VirtualSoundCard, no_sound_card: None
) -> None:
    microphone = Microphone()
    with pytest.raises(DeviceError) as caught:
        await microphone.start()
    assert "microphone" in str(caught.value)
    assert "try again" in str(caught.value) or "Settings > Audio" in str(caught.value)
    assert not microphone.capturing


async def test_without_a_sound_server_the_speaker_says_so(
    virtual_sound_card: VirtualSoundCard, no_sound_card: None
) -> None:
    with pytest.raises(DeviceError, match="speaker"):
        await Speaker().open(22_050, lambda event: None)
