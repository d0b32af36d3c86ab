"""The app-wide HTTP client over HTTP/2: responses cut off early (barge-in) must not wear out the
shared connection."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

from assistant.config import NetworkSettings
from assistant.providers.http import make_http_client
from tests.support.loopback import LoopbackServer, Request, Response

Loopback = Callable[..., LoopbackServer]

PIECE = 64 * 1024
LONG_BODY_PIECES = 64  # 4 MiB: a long answer nobody listens to the end of


class Answers:
    """`/long` sends 4 MiB as fast as the client lets it; `/short` a few bytes."""

    def __init__(self) -> None:
        self.sent = 0  # bytes of long bodies the server got out

    async def handler(self, request: Request) -> Response:
        if request.path == "/short":
            return Response(200, {"content-type": "text/plain"}, b"still here")
        return Response(200, {"content-type": "audio/pcm"}, self._long())

    async def _long(self) -> AsyncIterator[bytes]:
        for _ in range(LONG_BODY_PIECES):
            yield bytes(PIECE)
            self.sent += PIECE


async def test_responses_cut_off_early_leave_the_shared_connection_usable(
    loopback: Loopback, tls: Any
) -> None:
    answers = Answers()
    server = loopback(answers.handler)
    client, stats = make_http_client(NetworkSettings(ca_file=str(tls.ca_file), read_timeout=3.0))
    try:
        # Ten barge-ins: each reads the start of a long answer and drops the rest. Unread, the
        # rest would be 40 MiB: more than the connection's 16 MiB flow-control window.
        for _ in range(10):
            async with client.stream("GET", f"{server.url}/long") as response:
                assert response.http_version == "HTTP/2"
                async for _chunk in response.aiter_bytes():
                    break
        started = asyncio.get_running_loop().time()
        response = await client.get(f"{server.url}/short")
        waited = asyncio.get_running_loop().time() - started
    finally:
        await client.aclose()

    assert response.text == "still here"
    assert waited < 2.0  # answered at once, not after a stalled read timed out
    assert stats.opened == 1  # all on the one connection
