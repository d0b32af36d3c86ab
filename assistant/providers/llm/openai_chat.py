"""Streamed replies from any OpenAI-compatible chat completions endpoint: OpenAI, DeepSeek,
Volcano Ark, and local servers (Ollama, LM Studio, llama.cpp, vLLM).

`stream_options.include_usage` is deliberately not sent: the assistant has no use for token counts,
some servers reject the field, and retrying without it would cost a round trip before the first
word. A usage chunk that a server sends anyway (empty or null `choices`) is accepted.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import re
from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from contextlib import aclosing
from functools import partial
from typing import Any
from urllib.parse import urlsplit

import httpx

from assistant.core.endpoints import check_endpoint, is_loopback_host
from assistant.core.errors import (
    AssistantError,
    RateLimitError,
    ReplyCutOff,
    ServiceError,
)
from assistant.core.protocols import Message
from assistant.logs import protect
from assistant.providers.http import (
    Backoff,
    Deadline,
    KeyOrigin,
    Service,
    Transient,
    body_within,
    checked_key,
    key_origin,
    openai_error,
    read_capped,
    read_timeout,
    retry_after,
    scrub,
    status_error,
    stream_within,
    translated,
    with_retries,
)
from assistant.providers.llm.chat_chunks import CUT_REASONS, ReplySeen, cut_words, read_chunk
from assistant.providers.llm.presets import PRESETS
from assistant.providers.llm.sse import SseEvent, SseParser

logger = logging.getLogger(__name__)

MAX_REPLY_CHARS = 64 * 1024  # far beyond any spoken reply; a runaway model is stopped here
# All the bytes of one streamed reply: room for MAX_REPLY_CHARS in one-token events (JSON around
# each), not for a server that streams keep-alives or empty events without end.
MAX_STREAM_BYTES = 16 * 1024 * 1024
# How long one reply may take in all, in read timeouts (30 s each by default: 5 minutes).
DEADLINE_READ_TIMEOUTS = 10
_MAX_ERROR_BODY = 64 * 1024  # bytes of an error or non-streamed answer read at most
_DRAIN_SECONDS = 0.5  # after [DONE], how long the end of the body may take (keeps it reusable)
# Sending a reply's request again, while none of it was shown: 3 tries, 0.25 s then 0.5 s apart.
CHAT_BACKOFF = Backoff(tries=3, first_delay=0.25, max_delay=1.0, longest_wait=2.0)
_OLLAMA_PORT = 11434
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
        key: KeyOrigin | None = None,  # which key it is and where it came from, for messages
        max_reply_chars: int = MAX_REPLY_CHARS,
        deadline_seconds: float | None = None,
    ) -> None:
        key = key or key_origin("llm_api_key")
        self._client = client
        self._base_url = check_endpoint(base_url, "chat endpoint")
        self._url = f"{self._base_url}/chat/completions"
        self._model = model
        self._api_key = checked_key(api_key, key)
        protect(self._api_key)
        self._deadline_seconds = deadline_seconds or DEADLINE_READ_TIMEOUTS * read_timeout(client)
        self._temperature = temperature
        self._max_reply_chars = max_reply_chars
        parts = urlsplit(self._base_url)
        self._host = parts.netloc
        self._is_local_ollama = is_loopback_host(parts.hostname or "") and (
            parts.port == _OLLAMA_PORT
        )
        self._service = Service(
            "chat service",
            self._url,
            "the chat endpoint in Settings",
            key,
            self._api_key is not None,
            slow_hint="Try again, or choose a faster model in Settings.",
            deadline_words="over one reply",
            refused_words=(
                f"Could not connect to Ollama at {self._host}. Is Ollama running? Start it "
                "(ollama serve) or choose another endpoint in Settings."
                if self._is_local_ollama
                else ""
            ),
        )

    def __repr__(self) -> str:
        return f"OpenAiChat({self._url!r}, model={self._model!r})"

    async def stream(self, messages: Sequence[Message]) -> AsyncIterator[str]:
        """The reply as text deltas. Stopping early closes the response at once and leaves the
        shared pool usable: cancel the task, or iterate inside `contextlib.aclosing(...)` when
        breaking out (a generator merely dropped is closed only when collected).

        A request that failed before any text came (a dropped kept-alive connection, a refused
        connection, a 5xx, a 429 asking for a short wait) is sent again, with capped back-off.
        A reply that the service cut short (its length limit, a content filter) ends, after its
        last text, in `ReplyCutOff`."""
        attempts = with_retries(partial(self._attempt, messages), "Chat", CHAT_BACKOFF)
        async with aclosing(attempts) as deltas:
            async for delta in deltas:
                yield delta

    async def _attempt(self, messages: Sequence[Message]) -> AsyncGenerator[str, None]:
        logger.debug(
            "chat request to %s, model %s, %d messages", self._host, self._model, len(messages)
        )
        deadline = Deadline(self._deadline_seconds)
        with translated(self._service) as call:
            async with stream_within(
                self._client,
                "POST",
                self._url,
                deadline,
                json=self._body(messages),
                headers=self._headers(),
            ) as response:
                call.answering = True
                await self._raise_for_status(response, deadline)
                if _content_type(response) == "application/json":
                    yield await self._whole_reply(response, deadline)
                    return
                self._check_is_event_stream(response)
                async with aclosing(self._deltas(response, deadline)) as deltas:
                    async for delta in deltas:
                        yield delta

    async def check(self) -> None:
        """Whether the service answers and accepts the key: a cheap GET {base_url}/models.
        Raises like `stream`. For a local Ollama, also whether the model has been pulled."""
        url = f"{self._base_url}/models"
        headers = {k: v for k, v in self._headers().items() if k == "Authorization"}
        service = dataclasses.replace(self._service, url=url, deadline_words="to answer")
        try:
            with translated(service) as call:
                # A Test button must not hang for the whole read timeout, nor for a slow drip.
                timeout = httpx.Timeout(10.0, connect=self._client.timeout.connect)
                deadline = Deadline(20.0)
                async with stream_within(
                    self._client, "GET", url, deadline, headers=headers, timeout=timeout
                ) as response:
                    call.answering = True
                    body, _ = await read_capped(response, _MAX_ERROR_BODY, deadline)
        except Transient as failure:  # a check is asked once: the person pressed Test
            raise failure.error from failure.__cause__
        if response.status_code in (404, 405):
            if not is_loopback_host(urlsplit(url).hostname or ""):
                return  # some cloud services list no models; that they answered is what counts
            raise ServiceError(
                f"{self._host} has no OpenAI-compatible service at {urlsplit(url).path} "
                f"({response.status_code}). Check the chat endpoint in Settings; it usually "
                "ends in /v1."
            )
        if not response.is_success:
            error = self._http_error(response, body)
            raise error.error if isinstance(error, Transient) else error
        if self._is_local_ollama:
            self._check_model_is_pulled(body)

    def _check_model_is_pulled(self, listing: bytes) -> None:
        try:
            listed = json.loads(listing).get("data") or []
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
        """The text of each event; at the end, an error for a reply that carried no text or that
        the service cut short."""
        reply = ReplySeen()
        async with aclosing(self._events(response, deadline, reply)) as events:
            async for event in events:
                if event.event == "error":
                    raise self._error_event(event.data)
                content = read_chunk(self._parse_chunk(event.data))
                reply.note(content)
                if content.text:
                    self._check_reply_length(reply.written)
                    yield content.text
        if not reply.written:
            raise self._no_text_error(reply)
        if reply.finish_reason in CUT_REASONS:
            raise ReplyCutOff(cut_words(reply.finish_reason))

    async def _events(
        self, response: httpx.Response, deadline: Deadline, reply: ReplySeen
    ) -> AsyncGenerator[SseEvent, None]:
        """The stream's events up to [DONE], or to the end of the body if a server omits it.
        The body's first bytes are kept in `reply.head`: a server that sends an error as a plain
        body under an event-stream type has it read from there."""
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
                if len(reply.head) < _MAX_ERROR_BODY:
                    reply.head += chunk[: _MAX_ERROR_BODY - len(reply.head)]
                for event in parser.feed(chunk):
                    reply.events += 1
                    if _is_done(event):
                        await _drain(chunks)
                        return
                    yield event
        for event in parser.finish():
            reply.events += 1
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
        if chunk.get("error"):
            raise self._error_event(data, retryable=True)
        if chunk.get("usage"):
            logger.debug("chat usage: %s", chunk["usage"])
        return chunk

    def _error_event(self, data: str, *, retryable: bool = False) -> ServiceError:
        """An error the service reported inside the stream (an `error` event or field)."""
        message, code = openai_error(data.encode())
        detail = scrub(message, self._api_key) or "no details given"
        if "insufficient_quota" in code:
            return RateLimitError(
                f"The chat service at {self._host} says the account's quota is used up. The "
                f"server said: {detail}. Check the plan and billing with the provider."
            )
        return ServiceError(
            f"The chat service reported an error in the middle of the reply: {detail}. Try again.",
            retryable=retryable,
        )

    def _no_text_error(self, reply: ReplySeen) -> AssistantError:
        """Why a reply that ended without a word of text had none, in words."""
        where = f"The chat service at {self._host}"
        if reply.events == 0 and reply.head.strip():
            # Not a stream of events at all: an error body sent under an event-stream type.
            message, code = openai_error(reply.head)
            detail = scrub(message, self._api_key)
            if detail:
                error = status_error(200, self._service, detail, code=code)
                if isinstance(error, RateLimitError):
                    return error
                return ServiceError(
                    f"{where} sent an error instead of a reply. The server said: {detail}. "
                    "Check the chat settings, or try again."
                )
        if reply.finish_reason in CUT_REASONS:
            return ReplyCutOff(cut_words(reply.finish_reason, before_any_text=True))
        if reply.tool_calls:
            return ServiceError(
                f"The model '{self._model}' asked to use a tool instead of answering in words, "
                "and this assistant offers it none. Ask again, or choose another model in Settings."
            )
        if reply.reasoning:
            return ServiceError(
                f"The model '{self._model}' only thought about the question and sent no answer "
                "(its reasoning is not spoken). Ask again, or choose another model in Settings."
            )
        return ServiceError(
            f"{where} ended the reply without any text. Try again; if it keeps happening, "
            "choose another model in Settings."
        )

    def _check_reply_length(self, written: int) -> None:
        if written > self._max_reply_chars:
            raise ServiceError(
                f"The chat reply ran past {self._max_reply_chars:,} characters and was cut off. "
                "Ask for a shorter answer, or choose another model in Settings."
            )

    async def _whole_reply(self, response: httpx.Response, deadline: Deadline) -> str:
        """A server that ignored `stream: true` and answered with one JSON completion."""
        body, _ = await read_capped(response, _MAX_ERROR_BODY, deadline)
        content = read_chunk(self._parse_chunk(body.decode("utf-8", "replace")))
        reply = ReplySeen(events=1)
        reply.note(content)
        self._check_reply_length(reply.written)
        if not reply.written:
            raise self._no_text_error(reply)
        if reply.finish_reason in CUT_REASONS:
            # Nothing was shown yet: the text and the words that it is cut come together.
            raise ReplyCutOff(cut_words(reply.finish_reason))
        return content.text

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
        body, _ = await read_capped(response, _MAX_ERROR_BODY, deadline)
        raise self._http_error(response, body)

    def _http_error(self, response: httpx.Response, body: bytes) -> AssistantError | Transient:
        status = response.status_code
        message, code = openai_error(body)
        detail = scrub(message, self._api_key)
        if status in (400, 404) and _names_missing_model(detail, code):
            return ServiceError(self._missing_model_message())
        if status == 404:
            return ServiceError(
                f"{self._host} has no chat service at {urlsplit(self._url).path} (404). Check "
                "the chat endpoint in Settings; it usually ends in /v1."
            )
        return status_error(
            status,
            self._service,
            detail,
            code=code,
            retry_after=retry_after(response.headers.get("retry-after")),
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


__all__ = ["CHAT_BACKOFF", "MAX_REPLY_CHARS", "PRESETS", "OpenAiChat"]
