"""The checks a setting must pass beyond its type, written beside the field they guard.

The schema states each rule in the field's annotation (`Annotated[int, between(1, 8)]`), so a
rule is defined once, next to what it checks; loading finds it there. A failed check is a whole
sentence naming the key, for the list the user reads.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from assistant.core.endpoints import (
    check_endpoint,
    is_loopback_host,
    is_private_address,
    lan_host,
    lan_host_of,
)
from assistant.core.errors import ConfigError, EndpointError
from assistant.core.languages import AUTO, WHISPER_LANGUAGES
from assistant.core.shortcut import Chord


class BadSetting(Exception):
    """One invalid setting; the message is a whole sentence naming the key."""


Rule = Callable[[Any, str], Any]
"""Takes a value of the field's type and the key's name as shown to the user ("[llm] model");
returns the value to keep (possibly normalized) or raises BadSetting."""


def between(low: float, high: float, *, above: bool = False) -> Rule:
    """A range rule; `above=True` makes `low` exclusive ("greater than 0"). Every number has an
    upper bound: a timeout of 1e308 seconds is no timeout, and a size of 10**10 is no limit."""

    def check(value: float, name: str) -> float:
        whole = isinstance(value, int)
        kind = "a whole number" if whole else "a number"
        if not whole and not math.isfinite(value):
            raise BadSetting(f"{name} must be a finite number (got {value}).")
        too_low = value <= low if above else value < low
        if too_low or value > high:
            if above:
                limit = f"greater than {low:,} and at most {high:,}"
            else:
                limit = f"from {low:,} to {high:,}"
            raise BadSetting(f"{name} must be {kind} {limit} (got {shown(value)}).")
        return value

    return check


def one_of(*choices: object) -> Rule:
    def check(value: object, name: str) -> object:
        if value not in choices:
            listed = ", ".join(str(choice) for choice in choices)
            raise BadSetting(f"{name} must be one of {listed} (got {shown(value)}).")
        return value

    return check


def not_empty(value: str, name: str) -> str:
    if not value.strip():
        raise BadSetting(f"{name} must not be empty.")
    return value


MAX_DEVICE_NUMBER: Final = 999  # PortAudio numbers devices from 0; no machine has a thousand


def audio_device(value: str | int, name: str) -> str | int:
    if isinstance(value, int) and not 0 <= value <= MAX_DEVICE_NUMBER:
        raise BadSetting(
            f"{name} must be a device number from 0 to {MAX_DEVICE_NUMBER}, or a device name "
            f"(got {value}). `assistant devices` lists them."
        )
    if isinstance(value, str) and not value.strip():
        raise BadSetting(
            f"{name} must not be empty; leave it out to use the system's default device."
        )
    return value


def key_chord(value: str, name: str) -> str:
    """A key combination as `Chord` reads it, kept in its one spelling; empty: none."""
    if not value.strip():
        return ""
    try:
        return str(Chord.parse(value))
    except ConfigError as error:
        raise BadSetting(f"{name}: {error.message}") from None


def endpoint_url(value: str, name: str) -> str:
    """The endpoint policy of the core (https for the cloud, plain http for this computer only);
    returns the URL normalized (no trailing slash)."""
    try:
        return check_endpoint(value, name)
    except EndpointError as exc:
        raise BadSetting(exc.message) from None


def lan_endpoint_url(value: str, name: str) -> str:
    """`endpoint_url` for an OpenAI-compatible server, which may also be on the home network:
    plain http to a private address passes here. A field sees only itself, so whether the user
    allowed that address is `schema.lan_http_problems`' check, which sees [network] too."""
    lan = lan_host_of(value)
    try:
        return check_endpoint(value, name, lan_http_hosts=[lan] if lan else [])
    except EndpointError as exc:
        raise BadSetting(exc.message) from None


def lan_addresses(values: list[str], name: str) -> list[str]:
    """Addresses on the home network that plain http may go to, each once in one spelling.

    Only private addresses: a name may resolve to any address, and a public address is never
    reached over plain http (the words and the traffic would cross the internet in clear)."""
    refused = [value for value in values if not is_private_address(value.strip())]
    if refused:
        listed = ", ".join(shown(value) for value in refused)
        loopback = (
            " (this computer needs no entry)"
            if any(is_loopback_host(value.strip()) for value in refused)
            else ""
        )
        raise BadSetting(
            f'{name} must list addresses on your own network, such as "192.168.1.20" or '
            f'"fd00::2" (10.x, 172.16-31.x, 192.168.x, 169.254.x, fc00::/7, fe80::/10); '
            f"{listed} is not one{loopback}. A server is allowed by its address, never by its "
            "name, and never one on the internet: those need https."
        )
    return list(dict.fromkeys(lan_host(value.strip()) for value in values))


def language_code(value: str, name: str) -> str:
    """A language Whisper knows, by its code ("de", "zh"), lower case; or "auto"."""
    code = value.strip().lower()
    if code != AUTO and code not in WHISPER_LANGUAGES:
        raise BadSetting(
            f'{name} must be "auto" or a language code such as "en", "de", "es", "fr" or "zh" '
            f"(got {shown(value)})."
        )
    return code


def language_codes(values: list[str], name: str) -> list[str]:
    """Languages Whisper knows, by their codes, lower case, each once."""
    codes = [value.strip().lower() for value in values]
    unknown = [
        value for value, code in zip(values, codes, strict=True) if code not in WHISPER_LANGUAGES
    ]
    if unknown:
        listed = ", ".join(shown(value) for value in unknown)
        raise BadSetting(
            f'{name} must list language codes such as "en", "de", "es", "fr" or "zh"; '
            f"{listed} is not one."
        )
    return list(dict.fromkeys(codes))


@dataclass(frozen=True)
class TextLimit:
    """The longest text a setting may hold. Every text setting has one (DEFAULT_TEXT_LIMIT unless
    its field names another); it is checked before the field's own rule."""

    chars: int
    reason: str = ""  # why this limit, ending the sentence: "since {reason}"

    def check(self, value: str, name: str) -> None:
        if len(value) > self.chars:
            since = f", since {self.reason}" if self.reason else ""
            # The value itself is not repeated: it is long, and may be anything the user pasted.
            raise BadSetting(
                f"{name} is {len(value):,} characters long; at most {self.chars:,} are allowed"
                f"{since}. Shorten it."
            )


# Prompts are sent with every request, so a pasted novel would cost its size on every turn (their
# fields name their own limits); any other text (a name, a URL, a path) is far shorter.
DEFAULT_TEXT_LIMIT: Final = TextLimit(4_096)


def shown(value: object) -> str:
    """A value as a message quotes it: TOML's spelling, long text cut short."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str) and len(value) > 60:
        return repr(value[:57] + "...")
    return repr(value)
