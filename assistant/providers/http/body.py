"""Reading a response within bounds: a whole-request deadline (httpx's timeouts each time one read,
so a server dripping a byte at a time never trips them), a cap on how much of a body is read, and a
refusal of content encodings the client cannot decode (httpx passes those bytes through unchanged).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import AsyncExitStack, aclosing, asynccontextmanager
from typing import Any, cast

import httpx


class DeadlineExceeded(Exception):
    """A request was not done (headers and body) by its deadline; `failures` words the message."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"the request took longer than {seconds:.0f} s")
        self.seconds = seconds


class UndecodableBody(Exception):
    """The body came in a content encoding this client cannot decode (`br` without brotli)."""

    def __init__(self, encoding: str) -> None:
        super().__init__(f"the body is encoded as '{encoding}'")
        self.encoding = encoding


class Deadline:
    """The moment by which a whole request must be done, however its bytes trickle in."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.at = asyncio.get_running_loop().time() + seconds


@asynccontextmanager
async def stream_within(
    client: httpx.AsyncClient, method: str, url: str, deadline: Deadline, **options: Any
) -> AsyncIterator[httpx.Response]:
    """`client.stream(...)` whose headers must arrive by `deadline` (else DeadlineExceeded).
    Read its body with `body_within`; only the waits are timed, never the caller's work."""
    async with AsyncExitStack() as stack:
        scope = asyncio.timeout_at(deadline.at)
        try:
            async with scope:
                response = await stack.enter_async_context(client.stream(method, url, **options))
        except TimeoutError:
            if not scope.expired():
                raise
            raise DeadlineExceeded(deadline.seconds) from None
        check_encoding(response)
        yield response


def check_encoding(response: httpx.Response) -> None:
    """Raise UndecodableBody unless httpx can decode every content encoding of `response`."""
    # What httpx decodes: identity, gzip, deflate; "br" and "zstd" when brotli or zstandard is
    # installed. Anything else it hands on unchanged, as if it were the body.
    supported = httpx._decoders.SUPPORTED_DECODERS
    for encoding in response.headers.get("content-encoding", "").split(","):
        encoding = encoding.strip().lower()
        if encoding and encoding not in supported:
            raise UndecodableBody(encoding)


async def body_within(
    response: httpx.Response, deadline: Deadline | None
) -> AsyncGenerator[bytes, None]:
    """The body as it arrives, raising DeadlineExceeded once `deadline` passes. Close it with
    `aclosing` (httpx's inner generators must not be left to the garbage collector, which may
    finalize them later, on a loop that is no longer running)."""
    body = cast(AsyncGenerator[bytes, None], response.aiter_bytes())
    async with aclosing(body):
        while True:
            scope = asyncio.timeout_at(deadline.at if deadline is not None else None)
            try:
                async with scope:
                    chunk = await anext(body)
            except StopAsyncIteration:
                return
            except TimeoutError:
                if deadline is None or not scope.expired():
                    raise
                raise DeadlineExceeded(deadline.seconds) from None
            yield chunk


async def read_capped(
    response: httpx.Response, limit: int, deadline: Deadline | None = None
) -> tuple[bytes, bool]:
    """Up to `limit` bytes of the body, and whether the body was longer than that (the rest is
    never read: a hostile server cannot fill memory)."""
    body = bytearray()
    async with aclosing(body_within(response, deadline)) as pieces:
        async for piece in pieces:
            body += piece
            if len(body) > limit:
                return bytes(body[:limit]), True
    return bytes(body), False


__all__ = [
    "Deadline",
    "DeadlineExceeded",
    "UndecodableBody",
    "body_within",
    "check_encoding",
    "read_capped",
    "stream_within",
]
