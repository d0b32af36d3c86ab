"""A stand-in for an OpenAI-compatible chat server, served by the `loopback` fixture.

It streams its reply in the real wire format (a role chunk, content deltas, a finish chunk, a
usage chunk with empty `choices`, `data: [DONE]`), records the messages of every request, and
misbehaves on request: HTTP errors with JSON bodies, an error object mid-stream, keep-alive
comments, CRLF line ends, UTF-8 characters cut across network chunks, delays and a pause.

    chat = ChatServer("Hello there.", delay_each=0.05)
    server = loopback(chat.handler)
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from tests.support.loopback import Request, Response

Reply = str | Callable[[list[dict[str, Any]]], str]


def openai_error(
    status: int,
    message: str,
    *,
    error_type: str = "invalid_request_error",
    code: str | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """An HTTP error in OpenAI's shape: `{"error": {"message", "type", "code"}}`."""
    body = {"error": {"message": message, "type": error_type, "code": code}}
    return Response.json(body, status=status, headers=headers)


@dataclass
class ChatServer:
    """Serves `reply` (or `reply(messages)`) as a streamed chat completion; see the fields."""

    reply: Reply
    token_chars: int = 4  # characters per content delta
    delay_first: float = 0.0  # seconds before the first byte of the stream
    delay_each: float = 0.0  # seconds before each content delta after the first
    # Faults and quirks:
    fail_with: Response | None = None  # answer every request with this (an HTTP error)
    error_after: int | None = None  # after this many deltas, send an `error` object and stop
    keepalives: bool = False  # a ": keep-alive" comment before every event
    line_end: str = "\n"  # "\r\n" for servers that end lines in CRLF
    chunk_bytes: int | None = None  # cut every event into network pieces this small
    usage_choices: list[Any] | None = field(default_factory=list)  # None: like some servers
    pause_after: int | None = None  # hold the stream after this many deltas until `resume()`
    model: str = "test-model"
    # What happened:
    received: list[list[dict[str, Any]]] = field(default_factory=list)  # messages, per request
    bodies: list[dict[str, Any]] = field(default_factory=list)  # whole request bodies
    sent_times: list[float] = field(default_factory=list)  # time.monotonic() of each delta sent
    streams_finished: int = 0  # streams written to the end (the client may have left before)

    def __post_init__(self) -> None:
        self._resume = threading.Event()

    def resume(self) -> None:
        """Let streams held by `pause_after` go on, and later ones pass (thread-safe)."""
        self._resume.set()

    async def handler(self, request: Request) -> Response:
        body = request.json()
        self.bodies.append(body)
        messages = list(body.get("messages", []))
        self.received.append(messages)
        if self.fail_with is not None:
            return self.fail_with
        text = self.reply(messages) if callable(self.reply) else self.reply
        if not body.get("stream"):
            return Response.json(self._completion(text))
        headers = {"content-type": "text/event-stream", "cache-control": "no-cache"}
        return Response(200, headers, self._stream(text))

    def _chunk(self, choices: list[Any] | None, **extra: Any) -> dict[str, Any]:
        return {
            "id": "chatcmpl-loopback",
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": self.model,
            "choices": choices,
            **extra,
        }

    def _delta(self, delta: dict[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
        return self._chunk([{"index": 0, "delta": delta, "finish_reason": finish_reason}])

    def _completion(self, text: str) -> dict[str, Any]:
        message = {"role": "assistant", "content": text}
        return {
            "id": "chatcmpl-loopback",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": self.model,
            "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
        }

    def _event(self, payload: dict[str, Any] | str) -> bytes:
        data = payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False)
        prefix = f": keep-alive{self.line_end}" if self.keepalives else ""
        return f"{prefix}data: {data}{self.line_end}{self.line_end}".encode()

    def _pieces(self, event: bytes) -> list[bytes]:
        size = self.chunk_bytes or len(event)
        return [event[i : i + size] for i in range(0, len(event), size)]

    async def _stream(self, text: str) -> AsyncIterator[bytes]:
        async for event in self._events(text):
            for piece in self._pieces(event):
                yield piece
        self.streams_finished += 1

    async def _events(self, text: str) -> AsyncIterator[bytes]:
        await asyncio.sleep(self.delay_first)
        yield self._event(self._delta({"role": "assistant", "content": ""}))
        tokens = [text[i : i + self.token_chars] for i in range(0, len(text), self.token_chars)]
        for index, token in enumerate(tokens):
            if index == self.error_after:
                error = {"message": "The model crashed mid-reply.", "type": "server_error"}
                yield self._event({"error": error})
                return
            if index == self.pause_after:
                await asyncio.to_thread(self._resume.wait, 30)
            elif index:
                await asyncio.sleep(self.delay_each)
            self.sent_times.append(time.monotonic())
            yield self._event(self._delta({"content": token}))
        yield self._event(self._delta({}, "stop"))
        words = len(text.split())
        usage = {"prompt_tokens": 10, "completion_tokens": words, "total_tokens": 10 + words}
        yield self._event(self._chunk(self.usage_choices, usage=usage))
        yield self._event("[DONE]")


__all__ = ["ChatServer", "Reply", "openai_error"]
