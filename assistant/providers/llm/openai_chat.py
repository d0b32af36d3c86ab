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
from collections.abc import AsyncGenerator, AsyncIterator, Iterable, Sequence
from contextlib import aclosing
from functools import partial
from typing import Any
from urllib.parse import urlsplit

import httpx

from assistant.core.endpoints import check_endpoint, is_loopback_host, is_private_address
from assistant.core.errors import ReplyCutOff, ServiceError
from assistant.core.protocols import Message
from assistant.logs import protect
from assistant.providers.http import (
    ERROR_BODY_BYTES,
    Backoff,
    Deadline,
    KeyOrigin,
    Service,
    Transient,
    body_within,
    checked_key,
    key_origin,
    key_sent_to,
    read_capped,
    read_timeout,
    stream_within,
    translated,
    with_retries,
)
from assistant.providers.llm.chat_chunks import CUT_REASONS, ReplySeen, cut_words, read_chunk
from assistant.providers.llm.chat_errors import ChatFailures, Ollama, ollama_refused_words
from assistant.providers.llm.model_list import model_names
from assistant.providers.llm.presets import PRESETS
from assistant.providers.llm.sse import SseEvent, SseParser

logger = logging.getLogger(__name__)

MAX_REPLY_CHARS = 64 * 1024  # far beyond any spoken reply; a runaway model is stopped here
# All the bytes of one streamed reply: room for MAX_REPLY_CHARS in one-token events (JSON around
# each), not for a server that streams keep-alives or empty events without end.
MAX_STREAM_BYTES = 16 * 1024 * 1024
# How long one reply may take in all, in read timeouts (30 s each by default: 5 minutes).
DEADLINE_READ_TIMEOUTS = 10
_MAX_ERROR_BODY = ERROR_BODY_BYTES  # bytes of an error or non-streamed answer read at most
_DRAIN_SECONDS = 0.5  # after [DONE], how long the end of the body may take (keeps it reusable)
# Sending a reply's request again, while none of it was shown: 3 tries, 0.25 s then 0.5 s apart.
CHAT_BACKOFF = Backoff(tries=3, first_delay=0.25, max_delay=1.0, longest_wait=2.0)
_OLLAMA_PORT = 11434


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
        lan_http_hosts: Iterable[str] = (),  # home-network addresses plain http may go to
    ) -> None:
        key = key or key_origin("llm_api_key")
        self._client = client
        self._base_url = check_endpoint(base_url, "chat endpoint", lan_http_hosts=lan_http_hosts)
        self._url = f"{self._base_url}/chat/completions"
        self._model = model
        checked = checked_key(api_key, key)
        protect(checked)
        self._api_key = key_sent_to(self._base_url, checked)  # none over plain http to the LAN
        self._deadline_seconds = deadline_seconds or DEADLINE_READ_TIMEOUTS * read_timeout(client)
        self._temperature = temperature
        self._max_reply_chars = max_reply_chars
        parts = urlsplit(self._base_url)
        self._host = parts.netloc
        hostname = parts.hostname or ""
        # A server of one's own (here or at home) lists its models; some cloud services do not.
        self._is_own_server = is_loopback_host(hostname) or is_private_address(hostname)
        ollama = Ollama.NONE
        if parts.port == _OLLAMA_PORT and self._is_own_server:
            ollama = Ollama.HERE if is_loopback_host(hostname) else Ollama.AT_HOME
        self._service = Service(
            "chat service",
            self._url,
            "the chat endpoint in Settings",
            key,
            self._api_key is not None,
            key_withheld=checked is not None and self._api_key is None,
            slow_hint="Try again, or choose a faster model in Settings.",
            deadline_words="over one reply",
            refused_words=ollama_refused_words(ollama, self._host),
        )
        self._failures = ChatFailures(self._service, model, ollama, self._api_key)

    def __repr__(self) -> str:
        return f"OpenAiChat({self._url!r}, model={self._model!r})"

    def stream(self, messages: Sequence[Message]) -> AsyncGenerator[str, None]:
        """The reply as text deltas. Stopping early closes the response at once and leaves the
        shared pool usable: cancel the task, or iterate inside `contextlib.aclosing(...)` when
        breaking out (a generator merely dropped is closed only when collected).

        A request that failed before any text came (a dropped kept-alive connection, a refused
        connection, a 5xx, a 429 asking for a short wait) is sent again, with capped back-off.
        A reply that the service cut short (its length limit, a content filter) ends, after its
        last text, in `ReplyCutOff`."""
        return with_retries(partial(self._attempt, messages), "Chat", CHAT_BACKOFF)

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
            if not self._is_own_server:
                return  # some cloud services list no models; that they answered is what counts
            raise ServiceError(
                f"{self._host} has no OpenAI-compatible service at {urlsplit(url).path} "
                f"({response.status_code}). Check the chat endpoint in Settings; it usually "
                "ends in /v1."
            )
        if not response.is_success:
            error = self._failures.for_status(response, body)
            raise error.error if isinstance(error, Transient) else error
        if self._failures.ollama is not Ollama.NONE:
            self._check_model_is_pulled(body)

    def _check_model_is_pulled(self, listing: bytes) -> None:
        names = model_names(listing)
        if names is None:
            return  # not the usual list: no reason to doubt the model
        # Ollama lists "llama3.2:latest" for the model asked for as "llama3.2".
        if self._model not in names and f"{self._model}:latest" not in names:
            raise ServiceError(self._failures.missing_model())

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
                    raise self._failures.in_stream(event.data)
                content = read_chunk(self._parse_chunk(event.data))
                reply.note(content)
                if content.text:
                    self._check_reply_length(reply.written)
                    yield content.text
        if not reply.written:
            raise self._failures.without_text(reply)
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
            raise self._failures.in_stream(data, retryable=True)
        if chunk.get("usage"):
            logger.debug("chat usage: %s", chunk["usage"])
        return chunk

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
            raise self._failures.without_text(reply)
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
        raise self._failures.for_status(response, body)


def _is_done(event: SseEvent) -> bool:
    return event.data.strip() == "[DONE]"


def _content_type(response: httpx.Response) -> str:
    content_type: str = response.headers.get("content-type", "")
    return content_type.split(";")[0].strip().lower()


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
