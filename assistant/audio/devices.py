"""The sound devices PortAudio (PyAudio) sees, and finding the one a setting names.

Each `PortAudio` session scans the devices afresh, so a microphone plugged in after start-up is
found on the next press. PortAudio's calls are serialised by one lock (its set-up and tear-down
are not thread-safe); none of them runs on the event loop.
"""

from __future__ import annotations

import asyncio
import os
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

import pyaudio

from assistant.core.errors import DeviceError

Kind = Literal["input", "output"]
T = TypeVar("T")

_lock = threading.Lock()
_DEVICE_WORDS: dict[Kind, str] = {"input": "microphone", "output": "speaker"}
_FORMAT_ERRORS = frozenset(
    {pyaudio.paInvalidSampleRate, pyaudio.paInvalidChannelCount, pyaudio.paSampleFormatNotSupported}
)


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
        """The device a setting names (index, or part of its name; None: the system default)."""
        devices = [d for d in self.devices() if d.channels(kind) > 0]
        word = _DEVICE_WORDS[kind]
        if not devices:
            raise DeviceError(
                f"No {word} was found. Connect one (and check that the sound system is "
                "running), then try again."
            )
        if spec is None or spec == "":
            default = next((d for d in devices if _is_default(d, kind)), None)
            return default or devices[0]
        match = _match(devices, spec)
        if match is None:
            available = "; ".join(d.describe() for d in devices)
            raise DeviceError(
                f"No {word} matches the setting {spec!r}. Available {kind} devices: "
                f"{available}. Choose one of them in Settings > Audio."
            )
        return match

    def open(self, **options: Any) -> pyaudio.Stream:
        """`pyaudio.PyAudio.open`, serialised with the other PortAudio calls."""
        with _lock:
            return self._pa.open(format=pyaudio.paInt16, **options)

    def _default_index(self, kind: Kind) -> int | None:
        try:
            if kind == "input":
                return int(self._pa.get_default_input_device_info()["index"])
            return int(self._pa.get_default_output_device_info()["index"])
        except OSError:  # PortAudio's way of saying there is none
            return None


def open_stream(
    portaudio: PortAudio,
    device: DeviceInfo,
    kind: Kind,
    formats: Iterable[tuple[int, int]],
    block_seconds: float,
    **options: Any,
) -> tuple[pyaudio.Stream, int, int]:
    """Open `device` at the first (rate, channels) it accepts, with PortAudio buffers of
    `block_seconds`; return the stream, rate and channels. Raises DeviceError if it accepts
    none, or is busy or gone."""
    word = _DEVICE_WORDS[kind]
    direction = {kind: True, f"{kind}_device_index": device.index}
    reason = "it offers no 16-bit format"
    for rate, channels in dict.fromkeys(formats):  # in order, without repeats
        if not 0 < channels <= device.channels(kind):
            continue
        try:
            stream = portaudio.open(
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
        f"The {word} {device.name!r} could not be opened ({reason}). It may be in use by another "
        f"program or disconnected: close other programs that use it, or choose another {word} "
        "in Settings > Audio."
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


def _is_default(device: DeviceInfo, kind: Kind) -> bool:
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
    """The PortAudio index of the device `spec` names (part of its name, case-insensitive, or
    its index); None for None, meaning the system default. Raises DeviceError, listing what is
    available, when nothing matches."""
    if spec is None or spec == "":
        return None
    with PortAudio() as portaudio:
        return portaudio.find(spec, kind).index


__all__ = [
    "DeviceInfo",
    "PortAudio",
    "close_stream",
    "find_device",
    "list_devices",
    "open_in_worker",
    "open_stream",
]
