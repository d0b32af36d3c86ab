"""What the network voices share: retrying a sentence with capped back-off while none of it was
heard, turning httpx failures into the assistant's errors, cutting text to a request's size,
warming a connection, and the checks both Volcano APIs make of their settings.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncGenerator, Callable
from contextlib import aclosing
from dataclasses import dataclass
from functools import partial

import httpx
from h2.exceptions import H2Error

from assistant.core.endpoints import check_vendor_endpoint
from assistant.core.errors import (
    AssistantError,
    AuthError,
    ConfigError,
    RateLimitError,
    ServiceError,
    UnreachableError,
)
from assistant.core.protocols import AudioChunk
from assistant.providers.http import Deadline, DeadlineExceeded, body_within, read_timeout

log = logging.getLogger(__name__)

# httpx does not wrap every HTTP/2 protocol error (a body shorter than its Content-Length, say).
TRANSPORT_ERRORS = (httpx.HTTPError, H2Error)

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
# How much of an error body is read and shown: enough for a vendor's message, no more.
ERROR_BODY_LIMIT = 64 * 1024
_MESSAGE_CHARS = 200


class Transient(Exception):
    """Raised inside one attempt: `error` may go away if the request is sent again.

    It never leaves `with_retries`, which raises `error` itself once the tries are used up.
    """

    def __init__(self, error: AssistantError, retry_after: float | None = None) -> None:
        super().__init__(error.message)
        self.error = error
        self.retry_after = retry_after


@dataclass(frozen=True)
class Backoff:
    """How often and how patiently a sentence is retried: a listener is waiting for it."""

    tries: int = 3
    first_delay: float = 0.2
    max_delay: float = 1.0
    # A server asking for a longer pause than this is not worth waiting for mid-reply.
    longest_wait: float = 2.0

    def delay(self, failed_tries: int, retry_after: float | None) -> float | None:
        """Seconds to wait before the next try, or None when it is time to give up."""
        if failed_tries >= self.tries:
            return None
        delay: float = min(self.first_delay * 2.0 ** (failed_tries - 1), self.max_delay)
        if retry_after is not None:
            if retry_after > self.longest_wait:
                return None
            delay = max(delay, retry_after)
        return delay


DEFAULT_BACKOFF = Backoff()

Attempt = Callable[[], AsyncGenerator[AudioChunk, None]]


async def with_retries(
    attempt: Attempt, what: str, backoff: Backoff = DEFAULT_BACKOFF
) -> AsyncGenerator[AudioChunk, None]:
    """Yield the audio of `attempt()`, starting it again after a `Transient` failure — but only
    while none of its audio was yielded, since a repeat would be heard twice."""
    failed_tries = 0
    while True:
        heard = False
        try:
            async with aclosing(attempt()) as chunks:
                async for chunk in chunks:
                    heard = True
                    yield chunk
            return
        except Transient as failure:
            failed_tries += 1
            delay = None if heard else backoff.delay(failed_tries, failure.retry_after)
            if delay is None:
                raise failure.error from failure.__cause__
            log.info("%s: %s Trying again in %.1f s.", what, failure.error.message, delay)
        await asyncio.sleep(delay)


async def synthesize_in_pieces(
    text: str,
    max_bytes: int,
    attempt: Callable[[str], AsyncGenerator[AudioChunk, None]],
    what: str,
) -> AsyncGenerator[AudioChunk, None]:
    """The audio of `text`, cut into pieces one request accepts, each retried as `with_retries`
    allows, in order."""
    for piece in split_text(text, max_bytes):
        async with aclosing(with_retries(partial(attempt, piece), what)) as chunks:
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


def transport_error(
    exc: httpx.HTTPError | H2Error, service: str, url: str
) -> AssistantError | Transient:
    """The user-facing error for a failure below HTTP; a `Transient` if sending again may help."""
    host = httpx.URL(url).host
    if isinstance(exc, httpx.TimeoutException):
        # Not retried: another full timeout would keep the listener waiting far too long.
        return UnreachableError(
            f"The {service} at {host} did not answer in time. Check your internet connection, "
            "or try again in a moment."
        )
    if isinstance(exc, httpx.ConnectError):
        if "CERTIFICATE_VERIFY_FAILED" in str(exc):
            return UnreachableError(
                f"The certificate of {host} could not be verified, so nothing was sent. If you "
                "use a private certificate authority, set [network] ca_file in the configuration.",
                retryable=False,
            )
        return Transient(
            UnreachableError(
                f"Could not connect to the {service} at {host} ({exc}). Check your internet "
                "connection and the endpoint in Settings > Voice."
            )
        )
    if isinstance(exc, httpx.NetworkError | httpx.RemoteProtocolError | H2Error):
        # A kept-alive connection the server closed just as we reused it ends up here too.
        reason = str(exc) or type(exc).__name__
        return Transient(
            UnreachableError(
                f"The connection to the {service} at {host} broke off ({reason}). Try again."
            )
        )
    return ServiceError(f"The request to the {service} at {host} failed ({exc}). Try again.")


def audio_seconds_allowed(text: str, speed: float = 1.0) -> float:
    """The most audio (in seconds) a server may send for `text` at `speed` before it is stopped."""
    seconds = _SECONDS_FLOOR + _SECONDS_PER_CHARACTER * len(text)
    return min(float(MAX_SENTENCE_SECONDS), seconds / max(speed, 0.25))


def request_deadline(client: httpx.AsyncClient, text: str) -> Deadline:
    """The moment by which the request for `text` must be done, headers and all its audio."""
    first_byte = _DEADLINE_READ_TIMEOUTS * read_timeout(client)
    return Deadline(first_byte + _DEADLINE_PER_CHARACTER * len(text))


def deadline_error(exc: DeadlineExceeded, service: str, url: str) -> UnreachableError:
    """Not retried: the listener has waited long enough."""
    return UnreachableError(
        f"The {service} at {httpx.URL(url).host} took more than {exc.seconds:.0f} s to send one "
        "sentence's audio, so it was stopped. Check your internet connection, or try again later."
    )


def status_error(
    status: int, service: str, detail: str, fix_credentials: str, retry_after: float | None = None
) -> AssistantError | Transient:
    """The error for an HTTP status without a more specific vendor code; `fix_credentials` says
    where the key or token is set. 429 and 5xx come back as `Transient`."""
    said = f"{status}: {detail}" if detail else str(status)
    if status in (401, 403):
        return AuthError(f"The {service} rejected the credentials ({said}). {fix_credentials}")
    if status == 429:
        return Transient(
            RateLimitError(
                f"The {service} is limiting requests ({said}). Wait a moment and try again.",
                retry_after=retry_after,
            ),
            retry_after,
        )
    if status >= 500:
        return Transient(
            ServiceError(
                f"The {service} had an internal error ({said}). Try again in a moment.",
                retryable=True,
            )
        )
    if 300 <= status < 400:
        return ServiceError(
            f"The {service} redirected the request elsewhere ({status}). Check the endpoint "
            "in Settings > Voice."
        )
    return ServiceError(
        f"The {service} refused the request ({said}). Check the voice settings in Settings > Voice."
    )


def retry_after_seconds(response: httpx.Response) -> float | None:
    """The Retry-After header in seconds, when given as a number (the HTTP-date form is ignored)."""
    value = response.headers.get("retry-after", "")
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if seconds >= 0 else None


def vendor_message(message: object, secret: str | None) -> str:
    """A server's own error text, fit to show: short, and never echoing the secret back."""
    text = " ".join(str(message).split())
    if text.startswith("<"):  # an HTML error page from a proxy says nothing useful
        return ""
    if secret:
        text = text.replace(secret, "***")
    return text if len(text) <= _MESSAGE_CHARS else text[: _MESSAGE_CHARS - 1] + "…"


def body_of(
    response: httpx.Response, deadline: Deadline | None = None
) -> AsyncGenerator[bytes, None]:
    """The body as it arrives, until `deadline` (DeadlineExceeded after it). Close it with
    `aclosing` as soon as we stop reading, rather than leave httpx's inner generators to the
    garbage collector (which may finalize them later, on a loop that is no longer running)."""
    return body_within(response, deadline)


async def read_limited(
    response: httpx.Response, limit: int, deadline: Deadline | None = None
) -> tuple[bytes, bool]:
    """Up to `limit` bytes of the body, and whether the body was longer than that."""
    body = bytearray()
    async with aclosing(body_of(response, deadline)) as pieces:
        async for piece in pieces:
            body += piece
            if len(body) > limit:
                return bytes(body[:limit]), True
    return bytes(body), False


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


# Where a long text may be cut, best first: after a sentence, after a clause, at any space.
_SENTENCE_END = re.compile(r"[.!?…]+[\"'”’)\]]*\s+|[。！？]+[\"”’」』）)]*\s*")
_CLAUSE_END = re.compile(r"[,;:—–]\s+|[，；：、]\s*")
_SPACE = re.compile(r"\s+")


def split_text(text: str, max_bytes: int) -> list[str]:
    """Cut `text` into pieces of at most `max_bytes` UTF-8 bytes, at the most natural boundary
    that fits; a text without any boundary is cut between characters. Blank pieces are dropped."""
    pieces: list[str] = []
    rest = text.strip()
    while len(rest.encode()) > max_bytes:
        fits = rest.encode()[:max_bytes].decode("utf-8", "ignore")
        cut = _last_boundary(fits) or max(len(fits), 1)
        pieces.append(rest[:cut].strip())
        rest = rest[cut:].strip()
    pieces.append(rest)
    return [piece for piece in pieces if piece]


def _last_boundary(prefix: str) -> int:
    for boundary in (_SENTENCE_END, _CLAUSE_END, _SPACE):
        ends = [match.end() for match in boundary.finditer(prefix) if match.start() > 0]
        if ends:
            return ends[-1]
    return 0


def origin_of(url: str) -> str:
    """The server's root: it answers a HEAD at once (any status will do), so it is what
    `warm_connection` asks to leave a warm connection behind."""
    return str(httpx.URL(url).copy_with(path="/", query=None, fragment=None))


def checked_volcano_endpoint(endpoint: str, appid: str, token: str | None) -> str:
    """The Volcano endpoint, if it is Volcano's and an app ID and a token are set."""
    url = check_vendor_endpoint(endpoint, "Volcano TTS endpoint", "Volcano Engine", VOLCANO_DOMAINS)
    if not appid:
        raise ConfigError("No Volcano TTS app ID is set. Enter it in Settings > Voice.")
    if not token:
        raise ConfigError("No Volcano TTS token is set. Enter it in Settings > API keys.")
    return url
