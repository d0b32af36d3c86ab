"""A USB headset plugged into the virtual sound card: a sink "USB Headset" and a microphone
"USB Headset Microphone" (a source remapped from the headset sink's monitor, so what is played
into the headset sink is what its microphone hears), with a recorder on the sink's monitor."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np

from tests.support.pulse import VirtualSoundCard, _MonitorReader

HEADSET = "assistant_test_headset"
HEADSET_MIC = "assistant_test_headset_mic"


class Headset:
    """The headset's devices on the virtual card, and a recorder on its sink's monitor."""

    def __init__(self, card: VirtualSoundCard) -> None:
        self.card = card
        self._modules: list[str] = []
        self._reader: _MonitorReader | None = None

    def plug_in(self) -> None:
        self._load(
            "module-null-sink",
            f"sink_name={HEADSET}",
            "rate=48000",
            "channels=2",
            "norewinds=1",
            "sink_properties=\"device.description='USB Headset'\"",
        )
        self._load(
            "module-remap-source",
            f"master={HEADSET}.monitor",
            f"source_name={HEADSET_MIC}",
            "source_properties=\"device.description='USB Headset Microphone'\"",
        )
        env = {**os.environ, **self.card.env}
        self._reader = _MonitorReader(env, self.card.server, f"{HEADSET}.monitor")
        assert self._reader.prompt.wait(10), "the headset sink never rendered in small steps"

    def record(self) -> _Recording:
        assert self._reader is not None
        return _Recording(self._reader)

    def pull_out(self) -> None:
        if self._reader is not None:
            self._reader.stop()
        for module in reversed(self._modules):
            self._pactl("unload-module", module)

    def _load(self, *args: str) -> None:
        self._modules.append(self._pactl("load-module", *args).strip())

    def _pactl(self, *args: str) -> str:
        result = subprocess.run(
            ["pactl", f"--server={self.card.server}", *args],
            env={**os.environ, **self.card.env},
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        )
        return result.stdout


class _Recording:
    def __init__(self, reader: _MonitorReader) -> None:
        self._recorder = reader.attach()

    def stop(self) -> np.ndarray:
        return self._recorder.stop()


@contextmanager
def plugged_in_headset(card: VirtualSoundCard) -> Iterator[Headset]:
    """The headset's devices exist on `card` inside the block, and are gone after it."""
    headset = Headset(card)
    try:
        headset.plug_in()
        yield headset
    finally:
        headset.pull_out()
