"""A TCP proxy on 127.0.0.1 that delays every byte by a fixed time in each direction, so that a
loopback server costs what a nearby cloud region does (25 ms each way: a 50 ms round trip).

    with LoopbackServer(handler, tls) as server, DelayProxy(server.port, delay=0.025) as proxy:
        url = f"https://127.0.0.1:{proxy.port}"  # TLS passes through untouched
        ...
        proxy.connections  # TCP connections the client opened

Bytes leave in the order they came, each `delay` seconds after it arrived; reading goes on
meanwhile, so the delay adds latency without limiting throughput. The kernel completes the TCP
handshake at once on loopback, so the client's first bytes are held one more round trip: what it
would have waited for the handshake over a real path. It runs in a thread with its
own event loop, like the loopback servers, and shares nothing with the client but sockets.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading

_READ_SIZE = 1 << 16


class DelayProxy:
    """Forwards 127.0.0.1:`port` to 127.0.0.1:`target_port`, `delay` seconds late each way."""

    def __init__(self, target_port: int, *, delay: float = 0.025) -> None:
        self.target_port = target_port
        self.delay = delay
        self.port = 0
        self._accepted = 0
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._links: set[asyncio.Task[None]] = set()
        self._started = threading.Event()
        self._failure: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="delay-proxy", daemon=True)

    @property
    def connections(self) -> int:
        """TCP connections accepted so far."""
        with self._lock:
            return self._accepted

    def __enter__(self) -> DelayProxy:
        self._thread.start()
        if not self._started.wait(10):
            raise RuntimeError("the delay proxy did not start within 10 s")
        if self._failure is not None:
            raise RuntimeError(f"the delay proxy did not start: {self._failure!r}")
        return self

    def __exit__(self, *exc: object) -> None:
        if self._loop is not None and self._stop is not None:
            with contextlib.suppress(RuntimeError):  # its loop already ended
                self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)

    # -- the proxy's own thread ---------------------------------------------------------------

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._serve())
        except BaseException as error:  # reported to __enter__ if it never started
            self._failure = error
            self._started.set()
        finally:
            loop.close()

    async def _serve(self) -> None:
        self._stop = asyncio.Event()
        server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = server.sockets[0].getsockname()[1]
        self._started.set()
        try:
            await self._stop.wait()
        finally:
            server.close()
            for link in list(self._links):
                link.cancel()
            await asyncio.gather(*self._links, return_exceptions=True)
            await server.wait_closed()

    async def _accept(
        self, client_in: asyncio.StreamReader, client_out: asyncio.StreamWriter
    ) -> None:
        with self._lock:
            self._accepted += 1
        task = asyncio.current_task()
        assert task is not None
        self._links.add(task)
        try:
            await self._link(client_in, client_out)
        except asyncio.CancelledError:
            # The proxy is stopping. Returning normally, since asyncio's stream server reports
            # a handler that ends cancelled as an unhandled error.
            return
        finally:
            self._links.discard(task)

    async def _link(
        self, client_in: asyncio.StreamReader, client_out: asyncio.StreamWriter
    ) -> None:
        accepted = asyncio.get_running_loop().time()
        _no_delay(client_out)
        try:
            server_in, server_out = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            client_out.close()
            return
        _no_delay(server_out)
        directions = [
            asyncio.create_task(
                self._carry(client_in, server_out, not_before=accepted + 2 * self.delay)
            ),
            asyncio.create_task(self._carry(server_in, client_out)),
        ]
        try:
            # Each direction ends on its own (a half-close); a reset on either ends both.
            pending = set(directions)
            while pending:
                done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                if any(not task.cancelled() and task.exception() for task in done):
                    break
        finally:
            for task in directions:
                task.cancel()
            await asyncio.gather(*directions, return_exceptions=True)
            for writer in (client_out, server_out):
                writer.close()
            for writer in (client_out, server_out):
                with contextlib.suppress(OSError):
                    await writer.wait_closed()

    async def _carry(
        self, source: asyncio.StreamReader, sink: asyncio.StreamWriter, not_before: float = 0.0
    ) -> None:
        """Read from `source` and write each piece `delay` seconds after it arrived (or after
        `not_before`, whichever is later), in order."""
        loop = asyncio.get_running_loop()
        pending: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

        async def deliver() -> None:
            while True:
                due, data = await pending.get()
                wait = due - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                if not data:  # the sender finished: pass the end on
                    if sink.can_write_eof():
                        with contextlib.suppress(OSError):
                            sink.write_eof()
                    return
                sink.write(data)
                await sink.drain()

        delivering = asyncio.create_task(deliver())
        try:
            while True:
                try:
                    data = await source.read(_READ_SIZE)
                except OSError:
                    data = b""
                pending.put_nowait((max(loop.time(), not_before) + self.delay, data))
                if not data:
                    break
            await delivering
        finally:
            delivering.cancel()
            await asyncio.gather(delivering, return_exceptions=True)


def _no_delay(writer: asyncio.StreamWriter) -> None:
    """Send small pieces (a TLS record, an HTTP/2 frame) at once, as a real client does."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


__all__ = ["DelayProxy"]
