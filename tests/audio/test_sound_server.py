"""Devices by their real names: the sound server's sinks and sources are listed by description,
a chosen one really gets the sound (heard on its own monitor, not on the default), an unknown
saved name says so, and without a sound server PortAudio's names stand in.

The virtual card gets a second pair of devices as a USB headset would bring them: a sink
"USB Headset" and a microphone "USB Headset Microphone" (a source remapped from the headset
sink's monitor, so what is played into the headset sink is what its microphone hears; see
tests/support/headset.py)."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from assistant.audio import sound_server
from assistant.audio.device_choices import DeviceChoice, _portaudio_choices, device_choices
from assistant.audio.devices import DeviceInfo
from assistant.audio.files import read_audio
from assistant.audio.microphone import Microphone
from assistant.audio.speaker import Speaker
from assistant.core.errors import DeviceError
from assistant.core.protocols import PlaybackEvent
from tests.support.headset import HEADSET, HEADSET_MIC, Headset, plugged_in_headset
from tests.support.pulse import RECORD_RATE, VirtualSoundCard, likeness_in_pieces

pytestmark = [pytest.mark.audio, pytest.mark.timeout(60)]

SPEECH = Path(__file__).parents[1] / "data" / "speech"
CLIP = SPEECH / "ds_2830-3980-0043.wav"  # "Experience proves this", 2 s
RATE = 22_050
SILENT_RMS = 30.0  # int16 RMS below which a recording is silence


@pytest.fixture
def headset(virtual_sound_card: VirtualSoundCard) -> Iterator[Headset]:
    with plugged_in_headset(virtual_sound_card) as plugged:
        yield plugged


def rms(samples: np.ndarray) -> float:
    return float(np.sqrt(np.mean(samples.astype(np.float64) ** 2))) if samples.size else 0.0


def tone(seconds: float, rate: int = RATE) -> bytes:
    t = np.arange(round(seconds * rate)) / rate
    return (12_000 * np.sin(2 * np.pi * 440 * t)).astype(np.int16).tobytes()


async def play(speaker: Speaker, pcm: bytes) -> None:
    events: list[PlaybackEvent] = []
    stream = await speaker.open(RATE, events.append)
    try:
        await stream.write(pcm, 1)
        stream.end_tag(1)
        await stream.drain()
    finally:
        await stream.close()


# -- the listing --------------------------------------------------------------------------------


def test_the_listing_shows_the_servers_devices_by_description(
    virtual_sound_card: VirtualSoundCard, headset: Headset
) -> None:
    started = time.monotonic()
    choices = device_choices()
    print(f"\nlisting the sound server's devices took {1000 * (time.monotonic() - started):.0f} ms")
    assert DeviceChoice(HEADSET, "USB Headset", "output") in choices
    assert DeviceChoice(HEADSET_MIC, "USB Headset Microphone", "input") in choices
    speaker = next(c for c in choices if c.setting == virtual_sound_card.sink_name)
    assert speaker.kind == "output" and speaker.is_default
    labels = {c.label for c in choices}
    assert not labels & {"pulse", "default", "sysdefault"}  # no ALSA pseudo-devices
    # A monitor records what a sink plays: it is no microphone.
    assert not [c for c in choices if c.kind == "input" and "Monitor" in c.label]


def test_the_plain_listing_of_an_older_pactl_reads_the_same_as_its_json(
    virtual_sound_card: VirtualSoundCard, headset: Headset
) -> None:
    as_json = sound_server._ask_json()
    plain = sound_server._ask_plain()
    assert as_json is not None and plain is not None
    assert sorted(plain, key=repr) == sorted(as_json, key=repr)
    monitors = {d.name for d in plain if d.is_monitor}
    assert f"{HEADSET}.monitor" in monitors and HEADSET_MIC not in monitors


def test_without_a_sound_server_nothing_is_listed_and_nothing_fails(
    no_sound_card: None,
) -> None:
    assert sound_server.server_devices() is None
    labels = {c.label for c in device_choices()}  # PortAudio's, here none at all
    assert not labels & {"pulse", "default"}


def test_without_a_sound_server_alsas_pseudo_devices_are_left_out() -> None:
    """What PortAudio lists on a bare ALSA machine (names as seen on a laptop)."""
    seen = [
        ("HDA Intel PCH: ALC3246 Analog (hw:0,0)", 2, 2),
        ("HDA Intel PCH: HDMI 0 (hw:0,3)", 0, 8),
        ("sysdefault", 128, 128),
        ("front", 0, 2),
        ("surround40", 0, 4),
        ("dmix", 0, 2),
        ("pulse", 32, 32),
        ("default", 32, 32),
    ]
    devices = [
        DeviceInfo(i, name, inputs, outputs, 44_100, name == "default", name == "default")
        for i, (name, inputs, outputs) in enumerate(seen)
    ]
    choices = _portaudio_choices(devices)
    assert [(c.label, c.kind) for c in choices] == [
        ("HDA Intel PCH: ALC3246 Analog", "input"),
        ("HDA Intel PCH: ALC3246 Analog", "output"),
        ("HDA Intel PCH: HDMI 0", "output"),
    ]
    assert choices[0].setting == "HDA Intel PCH: ALC3246 Analog (hw:0,0)"  # what opens it


# -- choosing one -------------------------------------------------------------------------------


async def test_a_chosen_speaker_plays_on_that_device_and_not_on_the_default(
    virtual_sound_card: VirtualSoundCard, headset: Headset
) -> None:
    sound = read_audio(CLIP, RATE)
    on_headset = headset.record()
    on_default = virtual_sound_card.start_recording()
    await play(Speaker(HEADSET), sound)
    await asyncio.sleep(0.15)  # the monitors deliver what the sinks played ~10 ms later
    heard, elsewhere = on_headset.stop(), on_default.stop()
    samples = np.frombuffer(sound, dtype=np.int16)
    # Piece by piece: an underrun on a busy machine spoils one piece, not the whole clip.
    likeness = float(np.median(likeness_in_pieces(samples, RATE, heard, RECORD_RATE)))
    print(
        f"\nchosen sink: likeness {likeness:.3f}, RMS {rms(heard):.0f}; default sink RMS "
        f"{rms(elsewhere):.1f}"
    )
    assert likeness > 0.95
    assert rms(elsewhere) < SILENT_RMS
    for variable in ("PULSE_SINK", "PULSE_SOURCE", "PIPEWIRE_NODE"):
        assert variable not in os.environ  # set only while the stream connected


async def test_the_default_speaker_still_plays_on_the_default_after_a_chosen_one(
    virtual_sound_card: VirtualSoundCard, headset: Headset
) -> None:
    await play(Speaker(HEADSET), tone(0.1))
    on_headset = headset.record()
    on_default = virtual_sound_card.start_recording()
    await play(Speaker(), tone(0.4))
    await asyncio.sleep(0.15)
    assert rms(on_default.stop()) > 1000
    assert rms(on_headset.stop()) < SILENT_RMS


async def test_a_chosen_microphone_records_that_device(
    virtual_sound_card: VirtualSoundCard, headset: Headset
) -> None:
    chosen, default = Microphone(HEADSET_MIC), Microphone()
    await chosen.start()
    await default.start()
    await virtual_sound_card.play_file(CLIP, sink=HEADSET).finished()
    await asyncio.sleep(0.2)
    recording, elsewhere = await chosen.stop(), await default.stop()
    heard = np.frombuffer(recording.pcm, dtype=np.int16)
    clip = np.frombuffer(read_audio(CLIP, recording.sample_rate), dtype=np.int16)
    rate = recording.sample_rate
    likeness = float(np.median(likeness_in_pieces(clip, rate, heard, rate)))
    quiet = rms(np.frombuffer(elsewhere.pcm, dtype=np.int16))
    print(f"\nchosen microphone: likeness {likeness:.3f}; default microphone RMS {quiet:.1f}")
    assert likeness > 0.9
    assert quiet < SILENT_RMS


async def test_an_old_setting_naming_a_portaudio_device_still_opens_it(
    virtual_sound_card: VirtualSoundCard,
) -> None:
    on_default = virtual_sound_card.start_recording()
    await play(Speaker("pulse"), tone(0.4))
    await asyncio.sleep(0.15)
    assert rms(on_default.stop()) > 1000


async def test_an_unknown_saved_name_says_it_is_not_connected_and_what_is(
    virtual_sound_card: VirtualSoundCard, headset: Headset
) -> None:
    with pytest.raises(DeviceError) as caught:
        await Speaker("alsa_output.usb-Gone_Headset-00.analog-stereo").open(RATE, print)
    message = str(caught.value)
    assert "alsa_output.usb-Gone_Headset-00.analog-stereo" in message
    assert "unplugged" in message
    assert "USB Headset" in message  # what can be chosen instead, by its real name
    assert "Settings > Audio" in message
    microphone = Microphone("Gone Microphone")
    with pytest.raises(DeviceError, match="USB Headset Microphone"):
        await microphone.start()
    assert not microphone.capturing
