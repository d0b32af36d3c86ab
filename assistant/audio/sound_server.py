"""The sound server's own devices (PulseAudio's or PipeWire's sinks and sources), by the
descriptions people know them by: "Built-in Audio Analog Stereo", "USB Headset".

Asked through `pactl`, the server's own command-line client, rather than libpulse through ctypes:
pactl comes with every PulseAudio desktop and speaks to PipeWire's PulseAudio service too; since
PulseAudio 16 it prints JSON (`-f json`), and older versions print a plain listing that is read
here in the C locale. A ctypes binding of libpulse's asynchronous API would mirror its structs
and callbacks by hand, where a mismatch crashes the app instead of failing cleanly. Asking costs
about 7 ms a call (measured on the test rig), so it runs in worker threads like PortAudio's scan.

No answer (no pactl, no server: Windows, macOS, bare ALSA) is `None`, never an error: the caller
falls back to PortAudio's own names.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from typing import Any, Literal

Kind = Literal["input", "output"]

ASK_TIMEOUT_SECONDS = 3.0  # a server that does not answer in this long is as good as none
_LISTS: dict[Kind, str] = {"input": "sources", "output": "sinks"}
_PLAIN_HEADINGS: dict[Kind, str] = {"input": "Source #", "output": "Sink #"}


@dataclass(frozen=True, slots=True)
class ServerDevice:
    """One sink (a speaker) or source (a microphone) of the sound server."""

    name: str  # "alsa_output.pci-0000_00_1f.3.analog-stereo": stable, what settings keep
    description: str  # "Built-in Audio Analog Stereo": what people see
    kind: Kind
    is_monitor: bool = False  # a source that records what a sink plays: not a microphone
    is_default: bool = False


def server_devices() -> list[ServerDevice] | None:
    """Every sink and source the sound server has now, or None when no server answers.

    Blocking (three calls of pactl, ~20 ms): call it from a worker thread."""
    if shutil.which("pactl") is None:
        return None
    found = _ask_json() or _ask_plain()
    return found


# -- JSON (pactl 16 and newer) -----------------------------------------------------------------


def _ask_json() -> list[ServerDevice] | None:
    info = _pactl_json("info")
    if not isinstance(info, dict):
        return None
    defaults: dict[Kind, str] = {
        "input": str(info.get("default_source_name") or ""),
        "output": str(info.get("default_sink_name") or ""),
    }
    found: list[ServerDevice] = []
    for kind, listing in _LISTS.items():
        entries = _pactl_json("list", listing)
        if not isinstance(entries, list):
            return None
        found += [_from_json(entry, kind, defaults[kind]) for entry in entries]
    return found


def _from_json(entry: dict[str, Any], kind: Kind, default_name: str) -> ServerDevice:
    name = str(entry.get("name", ""))
    properties = entry.get("properties") or {}
    # For a source, "monitor_source" names the sink it monitors (empty for a real microphone).
    monitor = kind == "input" and (
        bool(entry.get("monitor_source")) or properties.get("device.class") == "monitor"
    )
    return ServerDevice(
        name=name,
        description=str(entry.get("description") or name),
        kind=kind,
        is_monitor=monitor,
        is_default=name == default_name,
    )


def _pactl_json(*args: str) -> Any:
    output = _pactl("--format=json", *args)
    if output is None:
        return None
    try:
        return json.loads(output)
    except ValueError:  # an older pactl without JSON may print its normal listing anyway
        return None


# -- the plain listing (pactl before 16) -------------------------------------------------------


def _ask_plain() -> list[ServerDevice] | None:
    info = _pactl("info")
    if info is None:
        return None
    fields = _fields(info.splitlines())
    defaults: dict[Kind, str] = {
        "input": fields.get("Default Source", ""),
        "output": fields.get("Default Sink", ""),
    }
    found: list[ServerDevice] = []
    for kind, listing in _LISTS.items():
        text = _pactl("list", listing)
        if text is None:
            return None
        found += [_from_plain(block, kind, defaults[kind]) for block in _blocks(text, kind)]
    return found


def _blocks(text: str, kind: Kind) -> list[list[str]]:
    """The listing cut into one list of lines per device ("Sink #0" starts one)."""
    blocks: list[list[str]] = []
    for line in text.splitlines():
        if line.startswith(_PLAIN_HEADINGS[kind]):
            blocks.append([])
        elif blocks:
            blocks[-1].append(line)
    return blocks


def _from_plain(block: list[str], kind: Kind, default_name: str) -> ServerDevice:
    fields = _fields(block)
    name = fields.get("Name", "")
    monitor_of = fields.get("Monitor of Sink", "n/a")
    monitor = kind == "input" and (
        monitor_of not in ("", "n/a") or 'device.class = "monitor"' in "\n".join(block)
    )
    return ServerDevice(
        name=name,
        description=fields.get("Description") or name,
        kind=kind,
        is_monitor=monitor,
        is_default=name == default_name,
    )


def _fields(lines: list[str]) -> dict[str, str]:
    """ "Key: value" lines, first of each key (the properties below use " = " and are left)."""
    fields: dict[str, str] = {}
    for line in lines:
        key, colon, value = line.strip().partition(": ")
        if colon and key not in fields:
            fields[key] = value.strip()
    return fields


def _pactl(*args: str) -> str | None:
    """pactl's output, or None if it failed (no server, or an option it does not know)."""
    # The C locale: the plain listing's headings are translated otherwise.
    environment = {**os.environ, "LC_ALL": "C"}
    try:
        result = subprocess.run(
            ["pactl", *args],
            env=environment,
            capture_output=True,
            text=True,
            encoding="utf-8",  # what the server sends, whatever this process's locale
            errors="replace",
            timeout=ASK_TIMEOUT_SECONDS,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout if result.returncode == 0 else None


__all__ = ["ServerDevice", "server_devices"]
