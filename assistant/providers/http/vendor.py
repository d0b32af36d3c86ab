"""A server's own words, made fit to show: the one scrubber every provider passes a vendor's error
message through, and the one way a message quotes them ("The server said: …"). The OpenAI error
body itself is read in `openai_errors`.
"""

from __future__ import annotations

import re

from assistant.logs import redact

MESSAGE_CHARS = 200  # of a vendor's message shown at most
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")
# Python reprs of library objects (`<StreamReset stream_id:1, error_code:...>`) mean nothing to a
# person and leak how the app is built.
_REPR = re.compile(r"<[A-Za-z_][\w.]*[ :][^<>]*>")


def scrub(message: object, *secrets: str | None) -> str:
    """`message` as one short line: control and direction characters removed, HTML and library
    reprs dropped, every secret (those given, those registered, anything credential-shaped)
    masked, at most MESSAGE_CHARS characters. Empty when nothing readable is left."""
    text = " ".join(_CONTROL.sub("", str(message)).split())
    if text.startswith("<") and not _REPR.fullmatch(text):  # an HTML page from a proxy
        return ""
    text = _REPR.sub("", text).strip()
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    text = redact(text).rstrip(".")
    return text if len(text) <= MESSAGE_CHARS else text[: MESSAGE_CHARS - 1] + "…"


# C0 and C1 control characters but tab and newline: nobody types them, an escape sequence drives
# a terminal (`assistant turn` prints the reply), and a NUL cuts a string short in C libraries.
_UNTYPED = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def readable(text: str) -> str:
    """Text a server wrote for the user (a reply, a transcript), without control characters."""
    return _UNTYPED.sub("", text)


def server_said(detail: str) -> str:
    """ " The server said: {detail}." to end a sentence with, or "" when it said nothing."""
    return f" The server said: {detail}." if detail else ""


def reason(exc: BaseException) -> str:
    """A low-level exception in a few plain words: its scrubbed text, else its type's name."""
    return scrub(str(exc)) or type(exc).__name__


__all__ = ["MESSAGE_CHARS", "readable", "reason", "scrub", "server_said"]
