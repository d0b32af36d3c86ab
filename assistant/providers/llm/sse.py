"""An incremental parser for server-sent events (the `text/event-stream` format of streamed chat).

Feed it the bytes as they arrive, in chunks of any size, and it returns the complete events.
It follows the WHATWG parsing rules, with caps on line and event size so a hostile or broken
server cannot make the assistant buffer without end.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from assistant.core.errors import ServiceError

MAX_LINE_BYTES = 1024 * 1024
MAX_EVENT_CHARS = 1024 * 1024

_LINE_END = re.compile(rb"\r\n|\r|\n")
_BOM = "\ufeff"


@dataclass(frozen=True, slots=True)
class SseEvent:
    """One dispatched event: its `data` lines joined by "\\n", its type and the last event id."""

    data: str
    event: str = "message"
    id: str = ""


class SseParser:
    """Turns a byte stream into `SseEvent`s; the same events whatever the chunking."""

    def __init__(
        self,
        *,
        max_line_bytes: int = MAX_LINE_BYTES,
        max_event_chars: int = MAX_EVENT_CHARS,
        service: str = "The chat service",
    ) -> None:
        self._max_line_bytes = max_line_bytes
        self._max_event_chars = max_event_chars
        self._service = service
        self._pending = bytearray()  # the start of a line whose end has not arrived yet
        self._after_cr = False  # the last line ended in CR: a LF opening the next chunk is its pair
        self._at_start = True  # a byte order mark is only skipped before the first line
        self._data: list[str] = []
        self._data_chars = 0
        self._event_type = ""
        self._last_id = ""
        self.retry_ms: int | None = None  # the server's reconnection hint, if it sent one

    def feed(self, chunk: bytes) -> list[SseEvent]:
        """Parse more bytes; return the events they complete. Raises ServiceError past the caps."""
        if not chunk:
            return []
        if self._after_cr and chunk[:1] == b"\n":
            chunk = chunk[1:]
        self._after_cr = False
        buffer = self._pending
        scan_from = len(buffer)  # what was pending holds no line end: scan only the new bytes
        buffer += chunk
        events: list[SseEvent] = []
        line_start = 0
        while (match := _LINE_END.search(buffer, scan_from)) is not None:
            self._check_line_length(match.start() - line_start)
            line = bytes(buffer[line_start : match.start()])
            if match.group() == b"\r" and match.end() == len(buffer):
                self._after_cr = True  # a CRLF may be split across two chunks
            event = self._take_line(line.decode("utf-8", errors="replace"))
            if event is not None:
                events.append(event)
            line_start = scan_from = match.end()
        del buffer[:line_start]
        self._check_line_length(len(buffer))
        return events

    def finish(self) -> list[SseEvent]:
        """The stream ended: dispatch an event left unterminated by a last line without a blank
        line after it (some servers end that way; strict parsers would drop it)."""
        events: list[SseEvent] = []
        if self._pending:
            line = bytes(self._pending).decode("utf-8", errors="replace")
            self._pending.clear()
            self._take_line(line)
        event = self._dispatch()
        if event is not None:
            events.append(event)
        return events

    def _check_line_length(self, length: int) -> None:
        if length > self._max_line_bytes:
            raise ServiceError(
                f"{self._service} sent a line longer than {self._max_line_bytes:,} bytes in its "
                "reply stream, so the reply was stopped. Try again, or choose another endpoint "
                "in Settings."
            )

    def _take_line(self, line: str) -> SseEvent | None:
        if self._at_start:
            self._at_start = False
            line = line.removeprefix(_BOM)
        if not line:
            return self._dispatch()
        if line.startswith(":"):
            return None  # a comment: servers send them as keep-alives
        name, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        self._take_field(name, value)
        return None

    def _take_field(self, name: str, value: str) -> None:
        if name == "data":
            self._data_chars += len(value) + 1
            if self._data_chars > self._max_event_chars:
                raise ServiceError(
                    f"{self._service} sent an event larger than {self._max_event_chars:,} "
                    "characters, so the reply was stopped. Try again, or choose another endpoint "
                    "in Settings."
                )
            self._data.append(value)
        elif name == "event":
            self._event_type = value
        elif name == "id":
            if "\0" not in value:
                self._last_id = value
        elif name == "retry" and value.isascii() and value.isdigit():
            self.retry_ms = int(value)

    def _dispatch(self) -> SseEvent | None:
        data, event_type = self._data, self._event_type
        self._data, self._data_chars, self._event_type = [], 0, ""
        if not data:
            return None
        return SseEvent("\n".join(data), event_type or "message", self._last_id)


__all__ = ["MAX_EVENT_CHARS", "MAX_LINE_BYTES", "SseEvent", "SseParser"]
