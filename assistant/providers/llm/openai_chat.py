"""Streamed replies from any OpenAI-compatible chat completions endpoint: OpenAI, DeepSeek,
Volcano Ark, and local servers (Ollama, LM Studio, llama.cpp, vLLM).

`stream_options.include_usage` is deliberately not sent: the assistant has no use for token counts,
some servers reject the field, and retrying without it would cost a round trip before the first
word. A usage chunk that a server sends anyway (empty or null `choices`) is accepted.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from contextlib import aclosing
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import httpx
from h2.exceptions import H2Error

from assistant.core.endpoints import check_endpoint, is_loopback_host
from assistant.core.errors import (
    AuthError,
    ConfigError,
    RateLimitError,
    ServiceError,
    UnreachableError,
)
from assistant.core.protocols import Message
from assistant.logs import protect
from assistant.providers.http import (
    Deadline,
    DeadlineExceeded,
    body_within,
    read_timeout,
    stream_within,
)
from assistant.providers.llm.sse import SseEvent, SseParser

logger = logging.getLogger(__name__)

# Where each known service listens, and a model it serves. Local servers answer with whatever
# model is loaded; LM Studio wants the identifier it shows for the loaded model.
PRESETS: dict[str, tuple[str, str]] = {
    "ollama": ("http://127.0.0.1:11434/v1", "llama3.2"),
    "lmstudio": ("http://127.0.0.1:1234/v1", "local-model"),
    "llamacpp": ("http://127.0.0.1:8080/v1", "local-model"),
    "openai": ("https://api.openai.com/v1", "gpt-4o-mini"),
    "deepseek": ("https://api.deepseek.com/v1", "deepseek-chat"),
    "volcano_ark": ("https://ark.cn-beijing.volces.com/api/v3", "doubao-seed-1-6-flash-250828"),
}

MAX_REPLY_CHARS = 64 * 1024  # far beyond any spoken reply; a runaway model is stopped here
# All the bytes of one streamed reply: room for MAX_REPLY_CHARS in one-token events (JSON around
# each), not for a server that streams keep-alives or empty events without end.
MAX_STREAM_BYTES = 16 * 1024 * 1024
# How long one reply may take in all, in read timeouts (30 s each by default: 5 minutes).
DEADLINE_READ_TIMEOUTS = 10
_MAX_ERROR_BODY = 64 * 1024  # bytes of an error or non-streamed answer read at most
_DRAIN_SECONDS = 0.5  # after [DONE], how long the end of the body may take (keeps it reusable)
# Sending a reply's request again, while none of it was shown: how often, how patiently.
_TRIES = 3
_FIRST_DELAY = 0.25
_MAX_DELAY = 1.0
_LONGEST_WAIT = 2.0  # a server asking for a longer pause than this is not waited for
_OLLAMA_PORT = 11434
_KEY_CHARS = re.compile(r"[\x21-\x7e]+")  # printable ASCII, no spaces: what API keys are made of
_MISSING_MODEL = re.compile(r"not[ _]?found|not[ _]?exist|no such|unknown|does not have access")


class OpenAiChat:
    """A `ChatModel` over `{base_url}/chat/completions` with `stream: true`, through the app's
    shared client. Raises EndpointError (policy) or ConfigError (a malformed key) when made."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        base_url: str,
        model: str,
        api_key: str | None,
        temperature: float | None = None,
        *,
        max_reply_chars: int = MAX_REPLY_CHARS,
        deadline_seconds: float | None = None,
    ) -> None:
        self._client = client
        self._base_url = check_endpoint(base_url, "chat endpoint")
        self._url = f"{self._base_url}/chat/completions"
        self._model = model
        self._api_key = _checked_key(api_key)
        protect(self._api_key)
        self._deadline_seconds = deadline_seconds or DEADLINE_READ_TIMEOUTS * read_timeout(client)
        self._temperature = temperature
        self._max_reply_chars = max_reply_chars
        parts = urlsplit(self._base_url)
        self._host = parts.netloc
        self._is_local_ollama = is_loopback_host(parts.hostname or "") and (
            parts.port == _OLLAMA_PORT
        )

    def __repr__(self) -> str:
        return f"OpenAiChat({self._url!r}, model={self._model!r})"

    async def stream(self, messages: Sequence[Message]) -> AsyncIterator[str]:
        """The reply as text deltas. Stopping early closes the response at once and leaves the
        shared pool usable: cancel the task, or iterate inside `contextlib.aclosing(...)` when
        breaking out (a generator merely dropped is closed only when collected).

        A request that failed before any text came (a dropped kept-alive connection, a refused
        connection, a 5xx, a 429 asking for a short wait) is sent again, with capped back-off."""
        failed = 0
        while True:
            shown = False
            try:
                async with aclosing(self._attempt(messages)) as deltas:
                    async for delta in deltas:
                        shown = True
                        yield delta
                return
            except _TryAgain as again:
                failed += 1
                delay = None if shown else _retry_delay(failed, again.retry_after)
                if delay is None:
                    raise again.error from again.__cause__
                logger.info("%s Trying again in %.1f s.", again.error.message, delay)
            await asyncio.sleep(delay)

    async def _attempt(self, messages: Sequence[Message]) -> AsyncGenerator[str, None]:
        logger.debug(
            "chat request to %s, model %s, %d messages", self._host, self._model, len(messages)
        )
        deadline = Deadline(self._deadline_seconds)
        answering = False
        try:
            async with stream_within(
                self._client,
                "POST",
                self._url,
                deadline,
                json=self._body(messages),
                headers=self._headers(),
            ) as response:
                answering = True
                await self._raise_for_status(response, deadline)
                if _content_type(response) == "application/json":
                    if text := await self._whole_reply(response, deadline):
                        yield text
                    return
                self._check_is_event_stream(response)
                async with aclosing(self._deltas(response, deadline)) as deltas:
                    async for delta in deltas:
                        yield delta
        except DeadlineExceeded as exc:
            raise UnreachableError(
                f"The chat service at {self._host} took more than {exc.seconds:.0f} s over one "
                "reply, so it was stopped. Try again, or choose a faster model in Settings."
            ) from None
        except httpx.TimeoutException as exc:  # not retried: the listener waited long enough
            raise UnreachableError(self._timeout_message(exc, answering)) from exc
        except httpx.ConnectError as exc:
            error = UnreachableError(self._connect_message(exc))
            if "CERTIFICATE_VERIFY_FAILED" in str(exc):
                raise error from exc
            raise _TryAgain(error) from exc
        except (httpx.TransportError, H2Error) as exc:  # httpx does not wrap every H2Error
            raise _TryAgain(
                UnreachableError(
                    f"The connection to the chat service at {self._host} broke off "
                    f"({_reason(exc)}). Try again."
                )
            ) from exc
        except httpx.HTTPError as exc:
            raise ServiceError(
                f"The chat service at {self._host} sent a reply that could not be read "
                f"({_reason(exc)}). Try again, or choose another endpoint in Settings."
            ) from exc

    async def check(self) -> None:
        """Whether the service answers and accepts the key: a cheap GET {base_url}/models.
        Raises like `stream`. For a local Ollama, also whether the model has been pulled."""
        url = f"{self._base_url}/models"
        headers = {k: v for k, v in self._headers().items() if k == "Authorization"}
        try:
            # A Test button must not hang for the whole read timeout.
            timeout = httpx.Timeout(10.0, connect=self._client.timeout.connect)
            deadline = Deadline(20.0)  # and not for a slow drip of bytes either
            async with stream_within(
                self._client, "GET", url, deadline, headers=headers, timeout=timeout
            ) as response:
                body = await _read_capped(response, deadline)  # a hostile list cannot fill memory
        except DeadlineExceeded as exc:
            raise UnreachableError(
                f"The chat service at {self._host} took more than {exc.seconds:.0f} s to answer. "
                "Try again, or choose another endpoint in Settings."
            ) from None
        except httpx.TimeoutException as exc:
            raise UnreachableError(self._timeout_message(exc)) from exc
        except httpx.ConnectError as exc:
            raise UnreachableError(self._connect_message(exc)) from exc
        except httpx.TransportError as exc:
            raise UnreachableError(
                f"The connection to the chat service at {self._host} broke off "
                f"({_reason(exc)}). Try again."
            ) from exc
        if response.status_code in (404, 405):
            if not is_loopback_host(urlsplit(url).hostname or ""):
                return  # some cloud services list no models; that they answered is what counts
            raise ServiceError(
                f"{self._host} has no OpenAI-compatible service at {urlsplit(url).path} "
                f"({response.status_code}). Check the chat endpoint in Settings; it usually "
                "ends in /v1."
            )
        if not response.is_success:
            raise self._http_error(response, body)
        if self._is_local_ollama:
            try:
                listed = json.loads(body).get("data") or []
                names = {str(entry.get("id")) for entry in listed if isinstance(entry, dict)}
            except (ValueError, AttributeError):
                return  # not the usual list: no reason to doubt the model
            # Ollama lists "llama3.2:latest" for the model asked for as "llama3.2".
            if self._model not in names and f"{self._model}:latest" not in names:
                raise ServiceError(self._missing_model_message())

    # The request.

    def _body(self, messages: Sequence[Message]) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": self._model,
            "messages": [{"role": m.role, "content": m.content} for m in messages],
            "stream": True,
        }
        if self._temperature is not None:
            body["temperature"] = self._temperature
        return body

    def _headers(self) -> dict[str, str]:
        headers = {"Accept": "text/event-stream"}
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        return headers

    # The streamed answer.

    async def _deltas(
        self, response: httpx.Response, deadline: Deadline
    ) -> AsyncGenerator[str, None]:
        written = 0
        async with aclosing(self._events(response, deadline)) as events:
            async for event in events:
                text = self._delta_text(self._parse_chunk(event.data))
                if text:
                    written += len(text)
                    self._check_reply_length(written)
                    yield text

    async def _events(
        self, response: httpx.Response, deadline: Deadline
    ) -> AsyncGenerator[SseEvent, None]:
        """The stream's events up to [DONE], or to the end of the body if a server omits it."""
        parser = SseParser()
        received = 0
        async with aclosing(body_within(response, deadline)) as chunks:
            async for chunk in chunks:
                received += len(chunk)
                if received > MAX_STREAM_BYTES:
                    raise ServiceError(
                        f"The chat service at {self._host} sent more than "
                        f"{MAX_STREAM_BYTES // 2**20} MB for one reply, so it was stopped. Try "
                        "again, or choose another endpoint in Settings."
                    )
                for event in parser.feed(chunk):
                    if _is_done(event):
                        await _drain(chunks)
                        return
                    yield event
        for event in parser.finish():
            if _is_done(event):
                return
            yield event

    def _parse_chunk(self, data: str) -> dict[str, Any]:
        try:
            chunk = json.loads(data)
        except ValueError:
            chunk = None
        if not isinstance(chunk, dict):
            raise ServiceError(
                f"The chat service at {self._host} sent something that is not a chat reply. "
                "Check the chat endpoint in Settings."
            )
        error = chunk.get("error")
        if error:
            detail = self._error_text(error) or "no details given"
            raise ServiceError(
                f"The chat service reported an error in the middle of the reply: {detail}. "
                "Try again.",
                retryable=True,
            )
        if chunk.get("usage"):
            logger.debug("chat usage: %s", chunk["usage"])
        return chunk

    @staticmethod
    def _delta_text(chunk: dict[str, Any]) -> str:
        for choice in chunk.get("choices") or ():
            if isinstance(choice, dict) and choice.get("index", 0) == 0:
                delta = choice.get("delta") or {}
                content = delta.get("content") if isinstance(delta, dict) else None
                return content if isinstance(content, str) else ""
        return ""

    def _check_reply_length(self, written: int) -> None:
        if written > self._max_reply_chars:
            raise ServiceError(
                f"The chat reply ran past {self._max_reply_chars:,} characters and was cut off. "
                "Ask for a shorter answer, or choose another model in Settings."
            )

    async def _whole_reply(self, response: httpx.Response, deadline: Deadline) -> str:
        """A server that ignored `stream: true` and answered with one JSON completion."""
        body = await _read_capped(response, deadline)
        chunk = self._parse_chunk(body.decode("utf-8", "replace"))
        choices = chunk.get("choices") or [{}]
        message = choices[0].get("message") if isinstance(choices[0], dict) else None
        content = message.get("content") if isinstance(message, dict) else None
        text = content if isinstance(content, str) else ""
        self._check_reply_length(len(text))
        return text

    def _check_is_event_stream(self, response: httpx.Response) -> None:
        content_type = _content_type(response)
        if content_type and content_type != "text/event-stream":
            raise ServiceError(
                f"The chat service at {self._host} answered with '{content_type}' instead of a "
                "stream of events. Check the chat endpoint in Settings (it usually ends in /v1)."
            )

    # Failures.

    async def _raise_for_status(self, response: httpx.Response, deadline: Deadline) -> None:
        if response.is_success:
            return
        body = await _read_capped(response, deadline)
        error = self._http_error(response, body)
        if isinstance(error, RateLimitError):
            raise _TryAgain(error, error.retry_after)
        if response.status_code >= 500:
            raise _TryAgain(error)
        raise error

    def _http_error(self, response: httpx.Response, body: bytes) -> ServiceError:
        status = response.status_code
        message, code = self._error_details(body)
        said = f" The server said: {message}." if message else ""
        if status in (401, 403):
            detail = said if status == 403 else ""  # 403 has many causes (region, model access)
            return AuthError(
                f"The chat service rejected the API key. Check Settings > API keys.{detail}"
            )
        if status in (400, 404) and _names_missing_model(message, code):
            return ServiceError(self._missing_model_message())
        if status == 404:
            return ServiceError(
                f"{self._host} has no chat service at {urlsplit(self._url).path} (404). Check "
                "the chat endpoint in Settings; it usually ends in /v1."
            )
        if status == 429:
            retry_after = _retry_after(response.headers.get("retry-after"))
            wait = f"Wait {retry_after:.0f} s" if retry_after is not None else "Wait a moment"
            return RateLimitError(
                f"The chat service is limiting requests (429).{said} {wait} and try again.",
                retry_after=retry_after,
            )
        if status >= 500:
            return ServiceError(
                f"The chat service at {self._host} failed ({status}).{said} Try again in a moment.",
                retryable=True,
            )
        if 300 <= status < 400:
            return ServiceError(
                f"The chat endpoint redirects elsewhere ({status}). Put the final address in "
                "Settings."
            )
        return ServiceError(
            f"The chat service refused the request ({status}).{said} Check the chat settings."
        )

    def _missing_model_message(self) -> str:
        if self._is_local_ollama:
            return (
                f"The model '{self._model}' is not available on {self._host}. Pick another "
                f"model in Settings, or download it with: ollama pull {self._model}"
            )
        return (
            f"The model '{self._model}' is not available on {self._host}. Pick another model "
            "in Settings."
        )

    def _error_details(self, body: bytes) -> tuple[str, str]:
        """The server's own error message (trimmed, with the key masked) and error code."""
        try:
            payload = json.loads(body)
        except ValueError:
            text = body.decode("utf-8", "replace")
            return (self._clean(text) if "<" not in text else ""), ""  # skip HTML pages
        if not isinstance(payload, dict):
            return "", ""
        error = payload.get("error", payload)
        code = error.get("code") if isinstance(error, dict) else None
        return self._error_text(error), str(code or "")

    def _error_text(self, error: object) -> str:
        if isinstance(error, dict):
            error = error.get("message") or error.get("detail") or error.get("msg") or ""
        return self._clean(error) if isinstance(error, str) else ""

    def _clean(self, text: str) -> str:
        text = " ".join(text.split())
        if self._api_key:
            text = text.replace(self._api_key, "***")  # a server may echo what it was sent
        text = text.rstrip(".")
        return text if len(text) <= 300 else text[:299] + "…"

    def _connect_message(self, exc: httpx.ConnectError) -> str:
        if "CERTIFICATE_VERIFY_FAILED" in str(exc):
            return (
                f"The certificate of {self._host} could not be verified, so nothing was sent. "
                "If you use a private certificate authority, set [network] ca_file in the "
                "configuration; otherwise check the chat endpoint in Settings."
            )
        if self._is_local_ollama:
            return (
                f"Could not connect to Ollama at {self._host}. Is Ollama running? Start it "
                "(ollama serve) or choose another endpoint in Settings."
            )
        return (
            f"Could not connect to the chat service at {self._host} ({_reason(exc)}). Check "
            "your network connection and the chat endpoint in Settings."
        )

    def _timeout_message(self, exc: httpx.TimeoutException, answering: bool = True) -> str:
        if isinstance(exc, httpx.ConnectTimeout):
            return (
                f"The chat service at {self._host} did not accept a connection in time. Check "
                "your network connection and the chat endpoint in Settings."
            )
        if isinstance(exc, httpx.PoolTimeout):
            return "Too many requests were waiting for a connection. Try again in a moment."
        if not answering:
            return (
                f"The chat service at {self._host} did not start answering in time. Try again, "
                "or choose a faster model in Settings."
            )
        return (
            f"The chat service at {self._host} stopped answering in the middle of the reply. "
            "Try again, or choose a faster model in Settings."
        )


class _TryAgain(Exception):
    """Raised inside one attempt: sending the request again may help. Never leaves `stream`."""

    def __init__(self, error: ServiceError, retry_after: float | None = None) -> None:
        super().__init__(error.message)
        self.error = error
        self.retry_after = retry_after


def _retry_delay(failed: int, retry_after: float | None) -> float | None:
    """Seconds before the next try, or None to give up (tries used up, or a long wait asked)."""
    if failed >= _TRIES:
        return None
    delay = min(_FIRST_DELAY * 2.0 ** (failed - 1), _MAX_DELAY)
    if retry_after is not None:
        if retry_after > _LONGEST_WAIT:
            return None  # the user is waiting: say so instead
        delay = max(delay, retry_after)
    return delay


def _checked_key(api_key: str | None) -> str | None:
    key = (api_key or "").strip()
    if not key:
        return None
    if not _KEY_CHARS.fullmatch(key):
        # Checked here because an HTTP library's complaint about a bad header would quote it.
        raise ConfigError(
            "The chat API key contains spaces or characters that keys never have. Paste it "
            "again in Settings > API keys."
        )
    return key


def _is_done(event: SseEvent) -> bool:
    return event.data.strip() == "[DONE]"


def _content_type(response: httpx.Response) -> str:
    content_type: str = response.headers.get("content-type", "")
    return content_type.split(";")[0].strip().lower()


def _names_missing_model(message: str, code: str) -> bool:
    if code == "model_not_found":
        return True
    text = message.lower()
    return "model" in text and _MISSING_MODEL.search(text) is not None


def _retry_after(value: str | None) -> float | None:
    """Retry-After as seconds, whether the server sent seconds or an HTTP date."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _reason(exc: Exception) -> str:
    return str(exc) or type(exc).__name__


async def _read_capped(response: httpx.Response, deadline: Deadline | None = None) -> bytes:
    body = bytearray()
    async with aclosing(body_within(response, deadline)) as chunks:
        async for chunk in chunks:
            body += chunk
            if len(body) >= _MAX_ERROR_BODY:
                break
    return bytes(body[:_MAX_ERROR_BODY])


async def _drain(chunks: AsyncIterator[bytes]) -> None:
    """Read what follows [DONE] (normally only the end of the body), so that an HTTP/1.1
    connection goes back to the pool instead of being closed half-read."""
    try:
        async with asyncio.timeout(_DRAIN_SECONDS):
            received = 0
            async for chunk in chunks:
                received += len(chunk)
                if received > _MAX_ERROR_BODY:
                    return
    except (TimeoutError, httpx.HTTPError):
        return  # the reply is complete; only the connection's reuse is lost


__all__ = ["MAX_REPLY_CHARS", "PRESETS", "OpenAiChat"]
