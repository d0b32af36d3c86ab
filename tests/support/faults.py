"""A fault-injecting HTTPS server on 127.0.0.1 for the chat and speech protocols.

It serves any `loopback` handler (ChatServer, OpenAiSpeechServer, VolcanoV1Server, ...) over
HTTP/1.1, written byte by byte with asyncio rather than by an HTTP library, so that it can break
the protocol the way real networks and servers do: stop half-way, reset the TCP connection, stall
before or during the body, drip bytes slowly, or answer with anything at all.

    server = FaultServer(chat.handler, tls)            # a context manager, like LoopbackServer
    server.inject(Fault.reset(after=300))              # the next POST meets this fault
    server.inject(Fault.replace(Response(502)))        # then this one; later ones are served

Warm-up requests (HEAD, GET) never meet a fault. The server counts the connections it accepted,
how many are open now and the most that were open at once, and the faults it injected.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import struct
import threading
from collections import Counter, deque
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from tests.support.loopback import Handler, Request, Response, ThreadedServer, TlsFiles

MAX_HEAD_BYTES = 64 * 1024
RESET_PAUSE = 0.2
_REASONS = {
    200: "OK", 301: "Moved Permanently", 302: "Found", 307: "Temporary Redirect",
    308: "Permanent Redirect", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden",
    404: "Not Found", 429: "Too Many Requests", 500: "Internal Server Error",
    502: "Bad Gateway", 503: "Service Unavailable",
}  # fmt: skip


@dataclass(frozen=True)
class Fault:
    """What goes wrong with one request. Make one with the class methods."""

    kind: str
    response: Response | None = None  # replace: what is sent instead of the handler's answer
    after: int = 0  # reset, stall_during: body bytes sent first
    seconds: float = 0.0  # stall_before, stall_during: how long nothing comes
    piece: int = 1  # drip: bytes per piece
    every: float = 0.0  # drip: seconds between pieces

    @classmethod
    def replace(cls, response: Response, kind: str = "replace") -> Fault:
        """Answer with `response` (any status, headers and body, endless if it likes)."""
        return cls(kind, response=response)

    @classmethod
    def truncate(cls) -> Fault:
        """Announce the whole body with Content-Length, send half of it, close."""
        return cls("truncate")

    @classmethod
    def reset(cls, after: int = 0) -> Fault:
        """Send the headers and `after` bytes of the body, then reset the TCP connection."""
        return cls("reset", after=after)

    @classmethod
    def stall_before(cls, seconds: float) -> Fault:
        """Read the request, then send nothing for `seconds`, then close."""
        return cls("stall_before", seconds=seconds)

    @classmethod
    def stall_during(cls, seconds: float, after: int = 200) -> Fault:
        """Send the headers and `after` bytes of the body, then nothing for `seconds`, then
        close."""
        return cls("stall_during", after=after, seconds=seconds)

    @classmethod
    def drip(cls, piece: int = 1, every: float = 0.05) -> Fault:
        """Send the whole answer, `piece` bytes every `every` seconds."""
        return cls("drip", piece=piece, every=every)


@dataclass
class _Connection:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    open: bool = True


class FaultServer(ThreadedServer):
    """An HTTPS (HTTP/1.1) server on 127.0.0.1 serving `handler`, with faults on request."""

    def __init__(self, handler: Handler, tls: TlsFiles) -> None:
        super().__init__("faults")
        self.handler = handler
        self.tls = tls
        self.requests: list[Request] = []  # the POSTs, as received
        self.injected: Counter[str] = Counter()  # fault kind -> times injected
        self._faults: deque[Fault] = deque()
        self._lock = threading.Lock()
        self._accepted = 0
        self._open = 0
        self._most_open = 0

    # -- what tests use ---------------------------------------------------------------------

    def inject(self, *faults: Fault) -> None:
        """The next POSTs meet these faults, one each, in order (thread-safe)."""
        with self._lock:
            self._faults.extend(faults)

    @property
    def connections(self) -> int:
        """TCP connections accepted so far."""
        with self._lock:
            return self._accepted

    @property
    def open_connections(self) -> int:
        with self._lock:
            return self._open

    @property
    def most_open(self) -> int:
        """The most connections that were open at the same time."""
        with self._lock:
            return self._most_open

    # -- the server ---------------------------------------------------------------------------

    async def _serve(self) -> None:
        self._stop = asyncio.Event()
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(str(self.tls.cert_file), str(self.tls.key_file))
        context.set_alpn_protocols(["http/1.1"])
        connections: set[asyncio.Task[None]] = set()

        async def accepted(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            task = asyncio.current_task()
            assert task is not None
            connections.add(task)
            try:
                await self._connection(_Connection(reader, writer))
            finally:
                connections.discard(task)

        server = await asyncio.start_server(accepted, sock=self._sock, ssl=context)
        self._started.set()
        try:
            await self._stop.wait()
        finally:
            server.close()
            for task in list(connections):
                task.cancel()
            await asyncio.gather(*connections, return_exceptions=True)
            await server.wait_closed()

    async def _connection(self, connection: _Connection) -> None:
        with self._lock:
            self._accepted += 1
            self._open += 1
            self._most_open = max(self._most_open, self._open)
        try:
            while connection.open:
                request = await self._read_request(connection)
                if request is None:
                    break
                fault = self._next_fault(request)
                await self._answer(connection, request, fault)
        except (ConnectionError, ssl.SSLError, asyncio.IncompleteReadError, OSError):
            pass  # the client went away: that is its right
        finally:
            with self._lock:
                self._open -= 1
            _close(connection.writer)

    def _next_fault(self, request: Request) -> Fault | None:
        if request.method != "POST":
            return None
        with self._lock:
            self.requests.append(request)
            fault = self._faults.popleft() if self._faults else None
            if fault is not None:
                self.injected[fault.kind] += 1
        return fault

    async def _read_request(self, connection: _Connection) -> Request | None:
        try:
            head = await connection.reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError:
            return None  # the client closed a kept-alive connection
        except asyncio.LimitOverrunError:
            return None
        if len(head) > MAX_HEAD_BYTES:
            return None
        lines = head.decode("latin-1").split("\r\n")
        method, target, version = lines[0].split(" ", 2)
        headers: dict[str, str] = {}
        for line in lines[1:]:
            if line:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0") or 0)
        body = await connection.reader.readexactly(length) if length else b""
        path, _, query = target.partition("?")
        peer = connection.writer.get_extra_info("peername") or ("?", 0)
        return Request(method, path, query, headers, body, tuple(peer[:2]), version[5:])  # type: ignore[arg-type]

    # -- answers, whole or broken ---------------------------------------------------------------

    async def _answer(self, connection: _Connection, request: Request, fault: Fault | None) -> None:
        kind = fault.kind if fault is not None else ""
        if kind == "stall_before":
            assert fault is not None
            await _silence(connection, fault.seconds)
            connection.open = False
            return
        if fault is not None and fault.response is not None:
            response = fault.response
        else:
            response = await self.handler(request)
        headers = {name.lower(): value for name, value in response.headers.items()}
        body = response.body
        if kind == "truncate":  # announce the whole body, send half of it
            whole = body if isinstance(body, bytes) else b"".join([p async for p in body])
            headers.pop("transfer-encoding", None)
            headers["content-length"] = str(len(whole))
            body = whole[: max(0, min(len(whole) // 2, len(whole) - 1))]
            connection.open = False
        chunked = not isinstance(body, bytes) and "content-length" not in headers
        if isinstance(body, bytes) and "content-length" not in headers:
            headers["content-length"] = str(len(body))
        if chunked:
            headers["transfer-encoding"] = "chunked"
        sender = _Sender(connection, fault)
        await sender.send(_head(response.status, headers))
        if request.method == "HEAD":
            return
        async for piece in _pieces(body):
            if not piece:
                continue
            data = f"{len(piece):x}\r\n".encode() + piece + b"\r\n" if chunked else piece
            if not await sender.send_body(data):
                connection.open = False
                return
        if chunked:
            await sender.send(b"0\r\n\r\n")


async def _silence(connection: _Connection, seconds: float) -> None:
    """Send nothing for `seconds`, or until the client hangs up."""
    try:
        async with asyncio.timeout(seconds):
            while await connection.reader.read(1024):
                pass
    except TimeoutError:
        pass


class _Sender:
    """Writes an answer, applying a fault that strikes part-way through its body."""

    def __init__(self, connection: _Connection, fault: Fault | None) -> None:
        self.connection = connection
        self.writer = connection.writer
        self.fault = fault
        self.body_sent = 0

    async def send(self, data: bytes) -> None:
        if self.fault is not None and self.fault.kind == "drip":
            for start in range(0, len(data), self.fault.piece):
                self.writer.write(data[start : start + self.fault.piece])
                await self.writer.drain()
                await asyncio.sleep(self.fault.every)
            return
        self.writer.write(data)
        await self.writer.drain()

    async def send_body(self, data: bytes) -> bool:
        """Send `data`; False once the fault has cut the answer off."""
        fault = self.fault
        if fault is not None and fault.kind in ("reset", "stall_during"):
            room = fault.after - self.body_sent
            if room < len(data):
                await self.send(data[: max(room, 0)])
                if fault.kind == "reset":
                    # A moment first, so the client has read what was sent: on Linux a reset
                    # discards whatever the client had not read yet, which would make the
                    # fault strike at a random point instead of after `after` bytes.
                    await asyncio.sleep(RESET_PAUSE)
                    _reset(self.writer)
                else:
                    await _silence(self.connection, fault.seconds)
                return False
        await self.send(data)
        self.body_sent += len(data)
        return True


def _head(status: int, headers: dict[str, str]) -> bytes:
    lines = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Status')}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


async def _pieces(body: bytes | AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    if isinstance(body, bytes):
        yield body
        return
    async for piece in body:
        yield piece


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close with a TCP RST (SO_LINGER 0) instead of an orderly shutdown."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


def _close(writer: asyncio.StreamWriter) -> None:
    if not writer.transport.is_closing():
        writer.transport.abort()


# Bodies for the faults that need one.


async def endless(piece: bytes, every: float = 0.0) -> AsyncIterator[bytes]:
    """`piece` again and again, for ever (until the client hangs up)."""
    while True:
        yield piece
        await asyncio.sleep(every)


async def huge(total: int, piece: bytes) -> AsyncIterator[bytes]:
    """`piece` repeated until `total` bytes were sent."""
    sent = 0
    while sent < total:
        yield piece
        sent += len(piece)
        await asyncio.sleep(0)


def sse_event(payload: str) -> bytes:
    return f"data: {payload}\n\n".encode()


def chat_delta(text: str) -> bytes:
    import json

    chunk: dict[str, Any] = {
        "id": "chatcmpl-faults",
        "object": "chat.completion.chunk",
        "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": None}],
    }
    return sse_event(json.dumps(chunk))


__all__ = ["Fault", "FaultServer", "chat_delta", "endless", "huge", "sse_event"]
