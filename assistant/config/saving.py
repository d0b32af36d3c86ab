"""Writing the settings back: validated first, then TOML written atomically and readable by the
user alone (the settings dialog's Save). Keys never go in this file (see `secrets`).
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

from assistant.config.loading import table_of, validate_settings
from assistant.config.schema import Settings
from assistant.core.errors import ConfigError


def save_settings(settings: Settings, path: Path) -> None:
    """Validate, then write the settings as TOML: atomically, readable by the user only."""
    table = table_of(validate_settings(settings))
    try:
        _write_private(path, to_toml(table, header=_FILE_HEADER))
    except OSError as exc:
        raise ConfigError(
            f"The settings could not be saved to {path} ({exc.strerror or exc}). "
            "Check that the folder exists and is writable."
        ) from None


_FILE_HEADER = (
    "Settings of the voice assistant; see docs/configuration.md for every key.\n"
    "API keys are not kept here: they live in the system keyring, or in the environment\n"
    "variables ASSISTANT_LLM_API_KEY, ASSISTANT_OPENAI_API_KEY, ASSISTANT_VOLCANO_TOKEN and\n"
    "ASSISTANT_STT_API_KEY."
)


def _write_private(path: Path, text: str) -> None:
    # A temporary file beside the target and os.replace: a crash never leaves half a file.
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    descriptor, temporary = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"
    )
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8", newline="\n") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        if os.name == "posix":
            os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def to_toml(table: Mapping[str, Any], header: str = "") -> str:
    """TOML for nested tables of strings, numbers, booleans and lists of them (None values are left
    out)."""
    lines = [f"# {line}".rstrip() for line in header.splitlines()]
    _write_table(lines, (), table)
    return "\n".join(lines).lstrip("\n") + "\n"


def _write_table(lines: list[str], path: tuple[str, ...], table: Mapping[str, Any]) -> None:
    scalars = [(k, v) for k, v in table.items() if v is not None and not isinstance(v, Mapping)]
    tables = [(k, v) for k, v in table.items() if isinstance(v, Mapping)]
    if path and (scalars or not tables):
        lines += ["", f"[{'.'.join(_toml_key(part) for part in path)}]"]
    lines += [f"{_toml_key(key)} = {_toml_value(value)}" for key, value in scalars]
    for key, value in tables:
        _write_table(lines, (*path, key), value)


def _toml_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else _toml_string(key)


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return _toml_string(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(item) for item in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} as a TOML value")


_TOML_ESCAPES: Final = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n",
                        "\f": "\\f", "\r": "\\r"}  # fmt: skip


def _toml_string(text: str) -> str:
    def escape(char: str) -> str:
        if char in _TOML_ESCAPES:
            return _TOML_ESCAPES[char]
        if ord(char) < 0x20 or ord(char) == 0x7F:
            return f"\\u{ord(char):04X}"
        return char

    return '"' + "".join(escape(char) for char in text) + '"'
