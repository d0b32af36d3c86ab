"""Real HTTPS servers on 127.0.0.1 for tests and benchmarks.

A `LoopbackServer` runs hypercorn (HTTP/1.1 and HTTP/2 over TLS with ALPN) in a thread with its
own event loop, so the client under test shares nothing with it but the socket. Handlers are
plain async functions `Request -> Response`; a response body may be an async iterator, which is
how streaming (SSE, chunked audio) and faults (stalls, resets) are modelled.

The server counts the TCP connections it accepted: the proof that the app-wide client reuses
them. `TlsFiles` makes a throwaway CA with trustme; the client is handed the CA file, never
`verify=False`.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

import trustme
from hypercorn.asyncio import serve
from hypercorn.config import Config


@dataclass(frozen=True)
class TlsFiles:
    ca_file: Path  # hand this to the client (network.ca_file, or SSL_CERT_FILE)
    cert_file: Path
    key_file: Path

    @classmethod
    def create(cls, folder: Path) -> TlsFiles:
        ca = trustme.CA()
        cert = ca.issue_cert("127.0.0.1", "localhost", "::1")
        files = cls(folder / "ca.pem", folder / "server.pem", folder / "server.key")
        ca.cert_pem.write_to_path(str(files.ca_file))
        cert.cert_chain_pems[0].write_to_path(str(files.cert_file))
        for extra in cert.cert_chain_pems[1:]:
            extra.write_to_path(str(files.cert_file), append=True)
        cert.private_key_pem.write_to_path(str(files.key_file))
        return files


@dataclass
class Request:
    method: str
    path: str  # without the query string
    query: str
    headers: dict[str, str]  # names lower-cased
    body: bytes
    client: tuple[str, int]
    http_version: str

    def json(self) -> Any:
        return json.loads(self.body)


Body = bytes | AsyncIterator[bytes]


@dataclass
class Response:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: Body = b""

    @classmethod
    def json(
        cls, payload: Any, status: int = 200, headers: dict[str, str] | None = None
    ) -> Response:
        return cls(
            status,
            {"content-type": "application/json", **(headers or {})},
            json.dumps(payload).encode(),
        )


Handler = Callable[[Request], Awaitable[Response]]


class ThreadedServer:
    """An HTTPS server on 127.0.0.1 with an event loop of its own in a daemon thread; `with`
    starts it and stops it. A subclass writes `_serve`: it sets `_started` once it serves and
    returns soon after `_stop` is set."""

    def __init__(self, name: str) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(128)  # connections queue up until the server accepts: no start-up race
        self.port: int = self._sock.getsockname()[1]
        self.url = f"https://127.0.0.1:{self.port}"
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._started = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"{name}:{self.port}", daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        if not self._started.wait(10):
            raise RuntimeError(f"{self._thread.name} did not start within 10 s")
        return self

    def __exit__(self, *exc: object) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        loop.set_exception_handler(_quiet_about_cancelled_connections)
        self._loop = loop
        try:
            loop.run_until_complete(self._serve())
        finally:
            loop.close()

    async def _serve(self) -> None:
        raise NotImplementedError


def _quiet_about_cancelled_connections(
    loop: asyncio.AbstractEventLoop, context: dict[str, Any]
) -> None:
    """Stopping a server cancels the connections still open (a client stuck waiting, say);
    asyncio reports each as an error, which it is not."""
    if isinstance(context.get("exception"), asyncio.CancelledError):
        return
    loop.default_exception_handler(context)


class LoopbackServer(ThreadedServer):
    """An HTTPS server on 127.0.0.1 serving one handler; a context manager starts and stops it."""

    def __init__(self, handler: Handler, tls: TlsFiles, *, http2: bool = True) -> None:
        super().__init__("loopback")
        self.handler = handler
        self.requests: list[Request] = []
        self._clients: set[tuple[str, int]] = set()
        self._lock = threading.Lock()
        config = Config()
        config.bind = [f"fd://{self._sock.detach()}"]  # hypercorn owns and closes it
        config.certfile = str(tls.cert_file)
        config.keyfile = str(tls.key_file)
        config.alpn_protocols = ["h2", "http/1.1"] if http2 else ["http/1.1"]
        config.keep_alive_timeout = 120
        config.graceful_timeout = 0.5
        config.accesslog = None
        config.errorlog = None
        self._config = config

    @property
    def connections(self) -> int:
        """TCP connections accepted so far (distinct client address and port)."""
        with self._lock:
            return len(self._clients)

    async def _serve(self) -> None:
        self._stop = asyncio.Event()
        self._started.set()
        await serve(self._asgi, self._config, shutdown_trigger=self._stop.wait)  # type: ignore[arg-type]

    async def _asgi(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        client = tuple(scope.get("client") or ("?", 0))
        with self._lock:
            self._clients.add(client)  # type: ignore[arg-type]
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        request = Request(
            method=scope["method"],
            path=scope["path"],
            query=scope.get("query_string", b"").decode(),
            headers={k.decode().lower(): v.decode() for k, v in scope["headers"]},
            body=body,
            client=client,  # type: ignore[arg-type]
            http_version=scope.get("http_version", "1.1"),
        )
        self.requests.append(request)
        response = await self.handler(request)
        headers = [(k.lower().encode(), v.encode()) for k, v in response.headers.items()]
        await send({"type": "http.response.start", "status": response.status, "headers": headers})
        if isinstance(response.body, bytes):
            await send({"type": "http.response.body", "body": response.body})
            return
        async for piece in response.body:
            await send({"type": "http.response.body", "body": piece, "more_body": True})
        await send({"type": "http.response.body", "body": b""})
