"""What the network voices share: retrying a sentence while none of it was heard, a request's
deadline and audio cap, warming a connection, and the checks both
Volcano APIs make of their settings. Errors, retries and body reading are the network layer's
(`providers/http`), the same for every provider.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, Callable
from contextlib import aclosing
from functools import partial

import httpx

from assistant.core.endpoints import check_vendor_endpoint
from assistant.core.errors import AssistantError, ConfigError, ServiceError
from assistant.core.protocols import AudioChunk
from assistant.providers.http import (
    TRANSPORT_ERRORS,
    Backoff,
    Deadline,
    KeyOrigin,
    Service,
    checked_header_value,
    checked_key,
    read_timeout,
    with_retries,
)

log = logging.getLogger(__name__)

# The longest stretch of audio one request may bring: a runaway or hostile server stops here.
# Within that, what a text may bring grows with its length: speech runs at about 15 characters
# a second in English and 4-5 in Chinese, so 0.5 s per character leaves room for slow voices.
MAX_SENTENCE_SECONDS = 600
_SECONDS_FLOOR = 10.0
_SECONDS_PER_CHARACTER = 0.5
# How long one request may take in all, in read timeouts for the first byte plus a time per
# character: a server must make the audio about as fast as it plays, even in Chinese.
_DEADLINE_READ_TIMEOUTS = 2.0
_DEADLINE_PER_CHARACTER = 0.25
# Volcano tokens are sent only to hosts under these domains (or to this machine).
VOLCANO_DOMAINS = ("bytedance.com", "volces.com", "volcengine.com")
# A sentence is sent again 3 times, 0.2 s then 0.4 s apart: a listener is waiting for it.
SENTENCE_BACKOFF = Backoff(tries=3, first_delay=0.2, max_delay=1.0, longest_wait=2.0)


def voice_service(name: str, url: str, key: KeyOrigin, has_key: bool) -> Service:
    """A network voice, as its errors name it."""
    return Service(
        name,
        url,
        "Settings > Voice",
        key,
        has_key,
        deadline_words="to send one sentence's audio",
    )


async def synthesize_piece(
    text: str,
    max_bytes: int,
    attempt: Callable[[str], AsyncGenerator[AudioChunk, None]],
    what: str,
) -> AsyncGenerator[AudioChunk, None]:
    """The audio of one piece of text, retried as `with_retries` allows.

    The text is split once, by the reply speaker's splitter sized to this voice
    (`ReplySpeaker.splitter`): a piece longer than one request takes is a caller's bug, refused
    here rather than re-split by rules of its own."""
    size = len(text.encode())
    if size > max_bytes:
        raise ValueError(f"a {size}-byte piece for a voice that takes {max_bytes}: split it first")
    if not text.strip():
        return
    retried = with_retries(partial(attempt, text.strip()), what, SENTENCE_BACKOFF)
    async with aclosing(retried) as chunks:
        async for chunk in chunks:
            yield chunk


async def warm_connection(client: httpx.AsyncClient, url: str) -> None:
    """HEAD `url` without credentials: any answer (401, 404, 405...) leaves a warm TLS connection
    in the pool without synthesizing anything; a failure only means the first request pays."""
    host = httpx.URL(url).host
    try:
        response = await client.head(url)
    except (*TRANSPORT_ERRORS, AssistantError) as exc:
        log.debug("Warming up the connection to %s failed: %r", host, exc)
        return
    log.debug("Warmed up the connection to %s (HTTP %d)", host, response.status_code)


def audio_seconds_allowed(text: str, speed: float = 1.0) -> float:
    """The most audio (in seconds) a server may send for `text` at `speed` before it is stopped."""
    seconds = _SECONDS_FLOOR + _SECONDS_PER_CHARACTER * len(text)
    return min(float(MAX_SENTENCE_SECONDS), seconds / max(speed, 0.25))


def request_deadline(client: httpx.AsyncClient, text: str) -> Deadline:
    """The moment by which the request for `text` must be done, headers and all its audio."""
    first_byte = _DEADLINE_READ_TIMEOUTS * read_timeout(client)
    return Deadline(first_byte + _DEADLINE_PER_CHARACTER * len(text))


class WholeSamples:
    """Re-cuts audio bytes on whole int16 samples (an odd byte waits for its partner) and stops a
    sentence whose audio runs past `seconds` (at most MAX_SENTENCE_SECONDS)."""

    def __init__(
        self, sample_rate: int, service: str, seconds: float = MAX_SENTENCE_SECONDS
    ) -> None:
        self._carry = b""
        self._seconds = min(seconds, MAX_SENTENCE_SECONDS)
        self._bytes_left = int(self._seconds * sample_rate) * 2
        self._service = service

    def feed(self, data: bytes) -> bytes:
        data = self._carry + data
        whole = len(data) - len(data) % 2
        self._carry = data[whole:]
        self._bytes_left -= whole
        if self._bytes_left < 0:
            raise ServiceError(
                f"The {self._service} sent more than {_spoken(self._seconds)} of audio for "
                "one sentence, so it was stopped. Try again, or choose another voice service."
            )
        return data[:whole]


def _spoken(seconds: float) -> str:
    whole = round(seconds)
    return f"{whole // 60} minutes" if whole >= 120 else f"{whole} seconds"


def origin_of(url: str) -> str:
    """The server's root: it answers a HEAD at once (any status will do), so it is what
    `warm_connection` asks to leave a warm connection behind."""
    return str(httpx.URL(url).copy_with(path="/", query=None, fragment=None))


def checked_volcano_endpoint(
    endpoint: str, appid: str, token: str | None, origin: KeyOrigin
) -> tuple[str, str]:
    """The Volcano endpoint and token, if the endpoint is Volcano's, an app ID is set, and the
    token is set and could be a token."""
    url = check_vendor_endpoint(endpoint, "Volcano TTS endpoint", "Volcano Engine", VOLCANO_DOMAINS)
    if not checked_header_value(appid, "The Volcano TTS app ID"):
        raise ConfigError("No Volcano TTS app ID is set. Enter it in Settings > Voice.")
    checked = checked_key(token, origin)
    if not checked:
        raise ConfigError(
            f"No Volcano TTS token is set. Enter it in Settings > API keys, or set the "
            f"environment variable {origin.variable}."
        )
    return url, checked
