"""The one place API keys and tokens are checked before they go into a header, and the words for
a key that is missing or rejected, naming where that key comes from (Settings, which keeps it in
the system keyring, or an environment variable), so the user fixes it in the right place.

A key with a character no key has (an accent, a zero-width space pasted with it) would make the
HTTP library raise while building the header, with the key quoted in its message, and no request
would be sent: it is refused here, when the provider is made, with words and no key.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from assistant.config import SECRET_ENV_VARS
from assistant.core.endpoints import carries_keys
from assistant.core.errors import ConfigError

_KEY_CHARS = re.compile(r"[\x21-\x7e]+")  # printable ASCII without spaces: what keys are made of
SETTINGS_PLACE = "Settings > API keys"
# Each key's name in `Secrets`, as a person calls it.
_LABELS = {
    "llm_api_key": "chat API key",
    "openai_api_key": "OpenAI API key",
    "volcano_token": "Volcano Engine access token",
    "stt_api_key": "transcription service key",
}


@dataclass(frozen=True)
class KeyOrigin:
    """Which key a provider uses, and where this one came from."""

    label: str  # "chat API key", as a person calls it
    variable: str  # the environment variable that can carry it
    from_environment: bool = False  # else it came from Settings (the keyring), or is not set

    @property
    def place(self) -> str:
        """Where this key is set, for a message that says to fix it."""
        if self.from_environment:
            return f"the environment variable {self.variable}"
        return SETTINGS_PLACE

    def missing(self, service: str) -> str:
        """The words for a service that answered 401 to a request sent without a key."""
        return (
            f"The {service} needs an API key, and no {self.label} is set. Add it in "
            f"{SETTINGS_PLACE}, or set the environment variable {self.variable}."
        )

    def rejected(self, service: str, status: int) -> str:
        return f"The {service} rejected the {self.label} ({status}). Check the key in {self.place}."


def key_origin(name: str, *, from_environment: bool = False) -> KeyOrigin:
    """The origin of the key `name` (a field of `config.Secrets`, e.g. "llm_api_key")."""
    return KeyOrigin(_LABELS[name], SECRET_ENV_VARS[name], from_environment)


def checked_key(value: str | None, origin: KeyOrigin) -> str | None:
    """`value` without surrounding blanks, None when empty; ConfigError when it has a character
    that no key has (the message names the kind of character and where to fix it, never the key)."""
    key = (value or "").strip()
    if not key:
        return None
    if _KEY_CHARS.fullmatch(key):
        return key
    fix = (
        f"Set {origin.variable} again without it"
        if origin.from_environment
        else f"Paste the key again in {SETTINGS_PLACE}"
    )
    raise ConfigError(f"The {origin.label} from {origin.place} contains {_odd_one(key)}. {fix}.")


def key_sent_to(url: str, key: str | None) -> str | None:
    """`key` if it may travel to `url` (over https, or to this computer); None over plain http to
    a server on the home network. Which server a key was typed for is not known (the chat key
    may be the one set for OpenAI before the address changed), so none goes there: a cloud key
    never crosses a network in clear, and a private address is another machine on another Wi-Fi."""
    return key if carries_keys(url) else None


def checked_header_value(value: str, setting: str) -> str:
    """A setting that is sent in a header (Volcano's app ID or resource ID), if it is printable
    ASCII without spaces; ConfigError naming the setting otherwise (a header cannot carry it, and
    the HTTP library's complaint would come too late, mid-reply, as a crash of the voice)."""
    value = value.strip()
    if value and not _KEY_CHARS.fullmatch(value):
        raise ConfigError(
            f"{setting} contains {_odd_one(value)}, which it never has. Type it again in "
            "Settings > Voice."
        )
    return value


def _odd_one(key: str) -> str:
    """The first character no key has, described without showing the key."""
    odd = next(char for char in key if not _KEY_CHARS.fullmatch(char))
    if odd.isspace():
        return "a space"
    if not odd.isprintable() or unicodedata.category(odd) == "Cf":  # zero-width and the like
        return f"an invisible character ({unicodedata.name(odd, 'a control character')})"
    return f"a character that keys never have ({unicodedata.name(odd, repr(odd))})"


__all__ = [
    "SETTINGS_PLACE",
    "KeyOrigin",
    "checked_header_value",
    "checked_key",
    "key_origin",
    "key_sent_to",
]
