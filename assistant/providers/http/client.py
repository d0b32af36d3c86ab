"""The one app-wide `httpx.AsyncClient`: pooled keep-alive connections, HTTP/2, strict TLS, and a
count of the TCP connections it opens (the turn timeline reports it).

`app.py` makes it once and hands it to every provider; providers never make their own.
"""

from __future__ import annotations

import contextlib
import os
import ssl
from collections.abc import AsyncIterator
from typing import Any, cast

import certifi
import h2.connection
import h2.errors
import h2.exceptions
import httpx

from assistant import __version__
from assistant.config import NetworkSettings
from assistant.core.endpoints import carries_keys, check_endpoint, lan_host_of
from assistant.core.errors import ConfigError, EndpointError


class ConnectionStats:
    """Counts new TCP connections, from httpcore's trace events (a `ConnectionCounter`)."""

    def __init__(self) -> None:
        self.opened = 0

    async def trace(self, event: str, info: dict[str, Any]) -> None:
        if event == "connection.connect_tcp.complete":
            self.opened += 1


class _AppTransport(httpx.AsyncBaseTransport):
    """Adds the trace hook to every request, so each new connection is counted, and cancels an
    HTTP/2 response that is closed before its end (see `_CancelOnEarlyClose`)."""

    def __init__(self, inner: httpx.AsyncBaseTransport, stats: ConnectionStats) -> None:
        self._inner = inner
        self._stats = stats

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        request.extensions = {**request.extensions, "trace": self._stats.trace}
        response = await self._inner.handle_async_request(request)
        if response.extensions.get("http_version") == b"HTTP/2":
            stream = cast(httpx.AsyncByteStream, response.stream)
            response.stream = _CancelOnEarlyClose(stream)
        return response

    async def aclose(self) -> None:
        await self._inner.aclose()


class _CancelOnEarlyClose(httpx.AsyncByteStream):
    """An HTTP/2 response body that tells the server to stop when it is closed unread.

    httpcore (1.0.x, encode/httpcore#943) forgets such a stream without a word: the server goes
    on sending it, and the data it sends is never acknowledged, which uses up the connection's
    flow-control window. Every barge-in (a cut-off reply or sentence) leaked some of it; a few
    megabytes later every request on the shared connection stalled until its timeout. Resetting
    the stream (RST_STREAM, CANCEL) stops the server, and h2 acknowledges what was in flight.
    """

    def __init__(self, inner: httpx.AsyncByteStream) -> None:
        self._inner = inner
        self._ended = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._inner:
            yield chunk
        self._ended = True

    async def aclose(self) -> None:
        if not self._ended:
            _reset_http2_stream(self._inner)
        await self._inner.aclose()


def _reset_http2_stream(stream: httpx.AsyncByteStream) -> None:
    """Queue a RST_STREAM for `stream` on its connection; it goes out with the connection's next
    write (httpcore writes after every read). Reaches into httpcore's internals, so a future
    httpcore without them is left alone (tests/providers/test_http.py notices)."""
    pool_stream = getattr(stream, "_httpcore_stream", None)  # httpx's AsyncResponseStream
    h2_stream = getattr(pool_stream, "_stream", None)  # httpcore's PoolByteStream
    connection = getattr(h2_stream, "_connection", None)  # an AsyncHTTP2Connection
    stream_id = getattr(h2_stream, "_stream_id", None)
    state = getattr(connection, "_h2_state", None)
    if not isinstance(state, h2.connection.H2Connection) or not isinstance(stream_id, int):
        return
    with contextlib.suppress(h2.exceptions.H2Error):  # it ended meanwhile: nothing to cancel
        state.reset_stream(stream_id, h2.errors.ErrorCodes.CANCEL)


def ssl_context(ca_file: str | None) -> ssl.SSLContext:
    """Verification always on: the public CAs, plus SSL_CERT_FILE and the configured `ca_file`."""
    context = ssl.create_default_context(cafile=certifi.where())
    for extra in (os.environ.get("SSL_CERT_FILE"), ca_file):
        if not extra:
            continue
        try:
            context.load_verify_locations(cafile=extra)
        except (OSError, ssl.SSLError) as exc:
            raise ConfigError(
                f"The CA file '{extra}' could not be read as PEM certificates ({exc}). "
                "Fix [network] ca_file in the configuration, or unset SSL_CERT_FILE."
            ) from None
    return context


# Headers that carry a key or token, as OpenAI-compatible servers, Azure and Volcano name them.
KEY_HEADERS = frozenset({"authorization", "api-key", "x-api-key", "x-api-access-key"})


async def _refuse_forbidden_endpoints(request: httpx.Request) -> None:
    """A second line of defence: providers check their endpoint when configured (a home-network
    address against the user's list, which the Settings dialog may have just changed: so here any
    private address passes), and none of them puts a key on a request that may not carry one."""
    url = str(request.url.copy_with(query=None, fragment=None))
    lan = lan_host_of(url)
    check_endpoint(url, "request URL", lan_http_hosts=[lan] if lan else [])
    if not carries_keys(url) and KEY_HEADERS.intersection(request.headers.keys()):
        raise EndpointError(
            f"A key was about to be sent over plain http to {request.url.host}, so the request "
            "was stopped. This is a bug: please report it."
        )


def make_http_client(network: NetworkSettings) -> tuple[httpx.AsyncClient, ConnectionStats]:
    """The app-wide client and its connection counter. Close it with `await client.aclose()`."""
    stats = ConnectionStats()
    transport = httpx.AsyncHTTPTransport(
        verify=ssl_context(network.ca_file),
        http2=True,
        limits=httpx.Limits(
            max_connections=network.max_connections,
            max_keepalive_connections=network.max_connections,
            keepalive_expiry=network.keepalive_seconds,
        ),
        trust_env=True,
    )
    client = httpx.AsyncClient(
        transport=_AppTransport(transport, stats),
        timeout=httpx.Timeout(
            connect=network.connect_timeout,
            read=network.read_timeout,
            write=network.connect_timeout,
            pool=network.connect_timeout,
        ),
        follow_redirects=False,
        headers={"User-Agent": f"voice-assistant/{__version__}"},
        event_hooks={"request": [_refuse_forbidden_endpoints]},
    )
    return client, stats


def read_timeout(client: httpx.AsyncClient, default: float = 30.0) -> float:
    """The client's per-read timeout: the unit the providers' deadlines are counted in."""
    return client.timeout.read or default
