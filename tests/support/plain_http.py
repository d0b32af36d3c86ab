"""A plain-http (no TLS) server on loopback, for what only plain http shows: a local model server
(Ollama, LM Studio) on 127.0.0.1.

    with PlainHttpServer("127.0.0.1", lambda request: (200, {...}, b"...")) as server:
        server.url, server.requests
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self


@dataclass(frozen=True)
class PlainRequest:
    method: str
    path: str
    headers: dict[str, str]  # names lower-cased
    body: bytes


PlainReply = tuple[int, dict[str, str], bytes]
PlainHandler = Callable[[PlainRequest], PlainReply]


class PlainHttpServer:
    """Serves `handler` over HTTP/1.1 on `host` (any free port); records every request."""

    def __init__(self, host: str, handler: PlainHandler) -> None:
        self.requests: list[PlainRequest] = []
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        server_class = type("Server", (ThreadingHTTPServer,), {"address_family": family})
        self._server = server_class((host, 0), self._request_handler(handler))
        self._server.daemon_threads = True
        port = self._server.server_address[1]
        self.url = (
            f"http://[{host}]:{port}" if family == socket.AF_INET6 else f"http://{host}:{port}"
        )
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    def _request_handler(self, handler: PlainHandler) -> type[BaseHTTPRequestHandler]:
        requests = self.requests

        class Handle(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _answer(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                request = PlainRequest(
                    self.command,
                    self.path,
                    {name.lower(): value for name, value in self.headers.items()},
                    self.rfile.read(length),
                )
                requests.append(request)
                status, headers, body = handler(request)
                self.send_response(status)
                for name, value in {**headers, "content-length": str(len(body))}.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_HEAD = _answer

            def log_message(self, format: str, *args: object) -> None:
                return  # quiet: the tests assert on `requests`

        return Handle
