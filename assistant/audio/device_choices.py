"""The microphones and speakers a person can choose (Settings > Audio, `assistant devices`): the
sound server's by description, or where none answers, PortAudio's without ALSA's pseudo-devices.
Opening the one chosen is devices.py's."""

from __future__ import annotations

import sys
from dataclasses import dataclass

from assistant.audio.devices import DeviceInfo, PortAudio, is_default
from assistant.audio.sound_server import Kind, ServerDevice, server_devices

# ALSA's names for ways of reaching a card (mixers, converters, routing plugins, channel
# layouts), not cards: meaningless in a list of microphones and speakers. "default" is the
# list's "System default".
_ALSA_PSEUDO_DEVICES = frozenset(
    {
        "default", "sysdefault", "pulse", "pipewire", "jack", "oss", "null", "dmix", "dsnoop",
        "samplerate", "speexrate", "speex", "lavrate", "upmix", "vdownmix", "front", "rear",
        "center_lfe", "side", "iec958", "spdif", "hdmi", "modem", "phoneline",
    }
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class DeviceChoice:
    """One device a person can pick (Settings > Audio, `assistant devices`)."""

    setting: str  # what the settings keep: the sound server's name, or PortAudio's
    label: str  # what people see: "Built-in Audio Analog Stereo"
    kind: Kind
    is_default: bool = False  # the system's default now


def device_choices() -> list[DeviceChoice]:
    """The microphones and speakers a person can choose now: the sound server's (monitors are
    no microphones), or where none answers, PortAudio's without ALSA's pseudo-devices. The
    system default is not among them: a list shows it first, itself. Blocking (tens of ms):
    call it from a worker thread."""
    served = server_devices()
    if served is not None:
        return _server_choices(served)
    with PortAudio() as portaudio:
        return _portaudio_choices(portaudio.devices())


def choices_among(
    served: list[ServerDevice] | None, devices: list[DeviceInfo]
) -> list[DeviceChoice]:
    """The choices, given what the sound server (None: none answers) and PortAudio list."""
    return _server_choices(served) if served is not None else _portaudio_choices(devices)


def _server_choices(served: list[ServerDevice]) -> list[DeviceChoice]:
    return [
        DeviceChoice(d.name, d.description, d.kind, d.is_default)
        for d in served
        if not d.is_monitor
    ]


def _portaudio_choices(devices: list[DeviceInfo]) -> list[DeviceChoice]:
    """PortAudio's devices as choices, each name once per kind (Windows lists a device once per
    host API), without ALSA's pseudo-devices."""
    choices: dict[tuple[str, Kind], DeviceChoice] = {}
    for device in devices:
        if _is_alsa_pseudo_device(device.name):
            continue
        for kind in ("input", "output"):
            if device.channels(kind) > 0 and (device.name, kind) not in choices:
                label = _without_alsa_address(device.name)
                default = is_default(device, kind)
                choices[device.name, kind] = DeviceChoice(device.name, label, kind, default)
    return list(choices.values())


def _is_alsa_pseudo_device(name: str) -> bool:
    if not sys.platform.startswith("linux"):
        return False
    return name in _ALSA_PSEUDO_DEVICES or name.startswith("surround")


def _without_alsa_address(name: str) -> str:
    """ "HDA Intel PCH: ALC892 Analog (hw:0,0)" as people say it: without "(hw:0,0)"."""
    head, bracket, tail = name.rpartition(" (hw:")
    return head if bracket and tail.endswith(")") else name


__all__ = ["DeviceChoice", "choices_among", "device_choices"]
