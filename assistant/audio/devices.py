"""The sound devices a person can choose, and opening the one a setting names.

People choose among the sound server's devices (PulseAudio's or PipeWire's sinks and sources, by
description; see sound_server.py); the settings keep the server's stable name. PortAudio cannot
open those by name: a stream to one opens PortAudio's "pulse" device with PULSE_SINK or
PULSE_SOURCE (and PipeWire's PIPEWIRE_NODE) set while it opens, which libpulse reads when the
stream connects. Where no sound server answers (Windows, macOS, bare ALSA) the choices
(device_choices.py) are PortAudio's own devices, without ALSA's pseudo-devices. Settings from
before, which name part of a PortAudio device's name or its index, still open that device.

Each `PortAudio` session scans the devices afresh, so a microphone plugged in after start-up is
found on the next press. PortAudio's calls are serialised by one lock (its set-up and tear-down
are not thread-safe, and the routing variables are process-wide); none of them runs on the event
loop. `open_device` is the one way the microphone, the hands-free listener and the speaker open
a stream.
"""

from __future__ import annotations

import asyncio
import os
import sys
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any, TypeVar

import pyaudio

from assistant.audio.sound_server import Kind, ServerDevice, server_devices
from assistant.core.errors import DeviceError

T = TypeVar("T")
# What PortAudio asks a device for a stream of: the (rate, channels) pairs to try, in order,
# given the device's own default rate and its most channels for the stream's direction.
Formats = Callable[[int, int], Iterable[tuple[int, int]]]

_lock = threading.Lock()
_DEVICE_WORDS: dict[Kind, str] = {"input": "microphone", "output": "speaker"}
_FORMAT_ERRORS = frozenset(
    {pyaudio.paInvalidSampleRate, pyaudio.paInvalidChannelCount, pyaudio.paSampleFormatNotSupported}
)
# PortAudio's devices that reach the sound server, best first: a stream opened on one of them
# goes where the routing variables say.
_SERVER_GATEWAYS = ("pulse", "pipewire", "default")
_ROUTE_VARIABLES: dict[Kind, tuple[str, ...]] = {
    "input": ("PULSE_SOURCE", "PIPEWIRE_NODE"),
    "output": ("PULSE_SINK", "PIPEWIRE_NODE"),
}


@dataclass(frozen=True, slots=True)
class DeviceInfo:
    index: int
    name: str
    max_input_channels: int
    max_output_channels: int
    default_sample_rate: int
    is_default_input: bool = False
    is_default_output: bool = False

    def channels(self, kind: Kind) -> int:
        return self.max_input_channels if kind == "input" else self.max_output_channels

    def describe(self) -> str:
        return f"{self.index}: {self.name}"


@dataclass(frozen=True, slots=True)
class Target:
    """Where a setting sends a stream: the PortAudio device to open, the environment that
    routes it to a sound server's device (empty: none needed), and its name in messages."""

    device: DeviceInfo
    label: str
    route: Mapping[str, str]


@contextmanager
def _quiet_stderr() -> Iterator[None]:
    """Hide what ALSA and JACK print while PortAudio probes every device: it is noise to a user.

    The C libraries write to file descriptor 2 directly, so it is pointed at /dev/null for the
    few tens of milliseconds the scan takes."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


class PortAudio:
    """One PortAudio session: scans the devices when made; `close()` ends it. Blocking calls,
    for worker threads only."""

    def __init__(self) -> None:
        try:
            with _lock, _quiet_stderr():
                self._pa = pyaudio.PyAudio()
        except OSError as error:
            raise DeviceError(
                f"The sound system could not be started ({error}). Check that sound works in "
                "other programs, then try again."
            ) from error

    def close(self) -> None:
        with _lock:
            self._pa.terminate()

    def __enter__(self) -> PortAudio:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def devices(self) -> list[DeviceInfo]:
        default_in = self._default_index("input")
        default_out = self._default_index("output")
        found = []
        for index in range(self._pa.get_device_count()):
            info = self._pa.get_device_info_by_index(index)
            found.append(
                DeviceInfo(
                    index=index,
                    name=str(info["name"]),
                    max_input_channels=int(info["maxInputChannels"]),
                    max_output_channels=int(info["maxOutputChannels"]),
                    default_sample_rate=round(float(info["defaultSampleRate"])),
                    is_default_input=index == default_in,
                    is_default_output=index == default_out,
                )
            )
        return found

    def find(self, spec: str | int | None, kind: Kind) -> DeviceInfo:
        """The PortAudio device a setting's stream is opened on (see `target`)."""
        return self.target(spec, kind).device

    def target(self, spec: str | int | None, kind: Kind) -> Target:
        """Where the setting `spec` sends a stream: None or "" is the system default; a sound
        server's device by name (what Settings keeps) or description; else, as settings of
        before, a PortAudio device by index or part of its name. Raises DeviceError saying what
        can be chosen instead when nothing matches."""
        devices = [d for d in self.devices() if d.channels(kind) > 0]
        if not devices:
            raise DeviceError(
                f"No {_DEVICE_WORDS[kind]} was found. Connect one (and check that the sound "
                "system is running), then try again."
            )
        if spec is None or spec == "":
            default = next((d for d in devices if is_default(d, kind)), None)
            device = default or devices[0]
            return Target(device, device.name, {})
        if isinstance(spec, int) or spec.strip().isdigit():
            return _direct(_match(devices, spec), devices, spec, kind)
        served = server_devices()
        chosen = _server_match(served or [], spec, kind, exact=True)
        if chosen is not None:
            return _routed(chosen, devices, kind)
        match = _match(devices, spec)
        if match is None and (chosen := _server_match(served or [], spec, kind, exact=False)):
            return _routed(chosen, devices, kind)
        return _direct(match, devices, spec, kind)

    def open(self, route: Mapping[str, str] | None = None, **options: Any) -> pyaudio.Stream:
        """`pyaudio.PyAudio.open`, serialised with the other PortAudio calls, with the
        environment variables of `route` set while the stream connects."""
        with _lock, _environment(route or {}):
            return self._pa.open(format=pyaudio.paInt16, **options)

    def _default_index(self, kind: Kind) -> int | None:
        try:
            if kind == "input":
                return int(self._pa.get_default_input_device_info()["index"])
            return int(self._pa.get_default_output_device_info()["index"])
        except OSError:  # PortAudio's way of saying there is none
            return None


@dataclass
class OpenStream:
    """A stream `open_device` opened, with the PortAudio session it belongs to."""

    portaudio: PortAudio
    stream: pyaudio.Stream
    label: str  # the device, as messages name it
    rate: int
    channels: int

    def close(self) -> None:
        """Close the stream and end its session; never raises."""
        close_stream(self.stream)
        self.portaudio.close()


def open_device(
    spec: str | int | None,
    kind: Kind,
    formats: Formats,
    block_seconds: float,
    **options: Any,
) -> OpenStream:
    """Open a stream on the device the setting `spec` names (see `PortAudio.target`), at the
    first of `formats` it accepts, with PortAudio buffers of `block_seconds`. Blocking: call it
    from a worker thread (`open_in_worker`). Raises DeviceError saying what to do."""
    portaudio = PortAudio()
    try:
        target = portaudio.target(spec, kind)
        candidates = formats(target.device.default_sample_rate, target.device.channels(kind))
        stream, rate, channels = open_stream(
            portaudio, target, kind, candidates, block_seconds, **options
        )
    except BaseException:
        portaudio.close()
        raise
    return OpenStream(portaudio, stream, target.label, rate, channels)


def open_stream(
    portaudio: PortAudio,
    target: Target,
    kind: Kind,
    formats: Iterable[tuple[int, int]],
    block_seconds: float,
    **options: Any,
) -> tuple[pyaudio.Stream, int, int]:
    """Open `target` at the first (rate, channels) it accepts, with PortAudio buffers of
    `block_seconds`; return the stream, rate and channels. Raises DeviceError if it accepts
    none, or is busy or gone."""
    word = _DEVICE_WORDS[kind]
    device = target.device
    direction = {kind: True, f"{kind}_device_index": device.index}
    reason = "it offers no 16-bit format"
    for rate, channels in dict.fromkeys(formats):  # in order, without repeats
        if not 0 < channels <= device.channels(kind):
            continue
        try:
            stream = portaudio.open(
                target.route,
                rate=rate,
                channels=channels,
                frames_per_buffer=max(1, round(rate * block_seconds)),
                **direction,
                **options,
            )
        except OSError as error:
            reason = _reason(error)
            if error.errno in _FORMAT_ERRORS:
                continue
            break
        return stream, rate, channels
    raise DeviceError(
        f"The {word} {target.label!r} could not be opened ({reason}). It may be in use by "
        f"another program or disconnected: close other programs that use it, or choose another "
        f"{word} in Settings > Audio."
    )


def _reason(error: OSError) -> str:
    text = error.strerror or (str(error.args[-1]) if error.args else "")
    return text or "unknown error"


def close_stream(stream: pyaudio.Stream) -> None:
    """Stop and close a stream, dropping what it still buffers; never raises."""
    # A vanished device may fail to close: closing was all that was left to do anyway.
    with _lock, suppress(OSError):
        stream.close()


async def open_in_worker(open_: Callable[[], T], undo: Callable[[T], object]) -> T:
    """Run a blocking open in a worker thread. If the caller is cancelled meanwhile, the device
    is closed again (`undo`, in another thread) as soon as the open completes."""
    opening = asyncio.ensure_future(asyncio.to_thread(open_))
    try:
        return await asyncio.shield(opening)
    except asyncio.CancelledError:

        def close_if_opened(done: asyncio.Future[T]) -> None:
            if not done.cancelled() and done.exception() is None:
                threading.Thread(target=undo, args=(done.result(),), daemon=True).start()

        opening.add_done_callback(close_if_opened)
        raise


@contextmanager
def _environment(variables: Mapping[str, str]) -> Iterator[None]:
    """Set `variables` in this process's environment (C's getenv sees them) until the block
    ends, then put back what was there. Called under `_lock`: opens never race on them."""
    saved = {name: os.environ.get(name) for name in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _server_match(
    served: list[ServerDevice], spec: str, kind: Kind, *, exact: bool
) -> ServerDevice | None:
    """The sound server's device `spec` names: exactly, by its name (what Settings keeps) or its
    description; or, not `exact`, by part of a description (never a monitor's, then)."""
    wanted = spec.strip()
    folded = wanted.casefold()
    candidates = [d for d in served if d.kind == kind]
    if exact:
        named = [d for d in candidates if d.name == wanted]
        described = [d for d in candidates if d.description.casefold() == folded]
        return next(iter(named or described), None)
    return next(
        (d for d in candidates if not d.is_monitor and folded in d.description.casefold()), None
    )


def _routed(chosen: ServerDevice, devices: list[DeviceInfo], kind: Kind) -> Target:
    """A stream to a sound server's device: opened on PortAudio's gateway to the server, with
    the variables that make the server connect it to `chosen`."""
    by_name = {d.name: d for d in devices}
    gateway = next((by_name[name] for name in _SERVER_GATEWAYS if name in by_name), None)
    if gateway is None:
        word = _DEVICE_WORDS[kind]
        raise DeviceError(
            f"The {word} {chosen.description!r} belongs to the sound server, which PortAudio "
            "cannot reach here (it lists no 'pulse' device). Install the ALSA plugin for "
            "PulseAudio (libasound2-plugins on Debian and Ubuntu, alsa-plugins-pulseaudio on "
            f"Fedora), or choose the system default in Settings > Audio."
        )
    route = dict.fromkeys(_ROUTE_VARIABLES[kind], chosen.name)
    return Target(gateway, chosen.description, route)


def _direct(
    match: DeviceInfo | None, devices: list[DeviceInfo], spec: str | int, kind: Kind
) -> Target:
    """A PortAudio device the setting names, opened as it is; DeviceError naming the choices
    there are when it names none."""
    if match is not None:
        return Target(match, match.name, {})
    # The choices' module builds on this one; asked only on this error path, so imported here.
    from assistant.audio.device_choices import choices_among

    word = _DEVICE_WORDS[kind]
    labels = [c.label for c in choices_among(server_devices(), devices) if c.kind == kind]
    there = (
        f"Connected now: {'; '.join(labels)}."
        if labels
        else f"No other {word} than the system default is connected now."
    )
    raise DeviceError(
        f"No {word} matches the setting {spec!r} (is it unplugged?). {there} Plug it in, or "
        f"choose another {word} in Settings > Audio (or leave the setting out to use the "
        "system default)."
    )


def is_default(device: DeviceInfo, kind: Kind) -> bool:
    return device.is_default_input if kind == "input" else device.is_default_output


def _match(devices: list[DeviceInfo], spec: str | int) -> DeviceInfo | None:
    if isinstance(spec, int) or spec.strip().isdigit():
        index = int(spec)
        return next((d for d in devices if d.index == index), None)
    wanted = spec.strip().casefold()
    exact = [d for d in devices if d.name.casefold() == wanted]
    partial = [d for d in devices if wanted in d.name.casefold()]
    return next(iter(exact or partial), None)


def list_devices() -> list[DeviceInfo]:
    """Every device PortAudio sees now (blocking: tens of ms; call from a worker thread)."""
    with PortAudio() as portaudio:
        return portaudio.devices()


def find_device(spec: str | int | None, kind: Kind) -> int | None:
    """The PortAudio index of the device `spec` names (see `PortAudio.target`; for a sound
    server's device, PortAudio's gateway to the server); None for None, meaning the system
    default. Raises DeviceError, listing what is available, when nothing matches."""
    if spec is None or spec == "":
        return None
    with PortAudio() as portaudio:
        return portaudio.find(spec, kind).index


__all__ = [
    "DeviceInfo",
    "Formats",
    "Kind",
    "OpenStream",
    "PortAudio",
    "Target",
    "close_stream",
    "find_device",
    "is_default",
    "list_devices",
    "open_device",
    "open_in_worker",
    "open_stream",
]
