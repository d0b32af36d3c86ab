"""Fake speech services for the `loopback` HTTPS servers, speaking each vendor's wire format: OpenAI
`/audio/speech` (raw PCM), Volcano TTS v1 (one JSON reply) and v3 (a stream of JSON lines).

    speech = VolcanoV1Server(token="t0k")
    server = loopback(speech.handler)          # or LoopbackServer(speech.handler, tls)
    speech.fail_next(Fault.vendor(3005))       # the next request is refused as "server busy"

Each records the requests it answered, makes a recognisable tone per text (`speech.audio(text)`
is what a client should hear), can wait `ttfb` seconds before its first byte and stream the rest
`realtime_factor` times faster than real time in ~50 ms pieces, and can inject faults. Used by
the provider tests, the end-to-end tests and the benchmarks.
"""

from __future__ import annotations

import asyncio
import base64
import json
import math
import threading
import uuid
import zlib
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from tests.support.loopback import Request, Response

CHUNK_SECONDS = 0.05
HOLD_LIMIT_SECONDS = 10.0  # a held body never waits longer than this for its release


def tone(text: str, sample_rate: int) -> bytes:
    """int16 PCM of a sine whose pitch comes from the text (220-880 Hz), 60 ms per character
    (at least 0.2 s): a test can tell which sentence's audio it got, and a person can hear it."""
    frequency = 220 + zlib.crc32(text.encode()) % 661
    samples = int(max(0.2, 0.06 * len(text)) * sample_rate)
    t = np.arange(samples) / sample_rate
    return (np.sin(2 * np.pi * frequency * t) * 8000).astype("<i2").tobytes()


@dataclass(frozen=True)
class Fault:
    """What goes wrong with one request."""

    status: int = 200  # the HTTP status of the reply
    code: int | None = None  # the vendor's error code in the reply (Volcano)
    retry_after: str | None = None  # a Retry-After header
    bad_audio: bool = False  # audio that is not valid base64 (Volcano)
    truncated: bool = False  # the body stops half-way, short of its Content-Length
    unfinished: bool = False  # v3: the stream ends cleanly but without its final line

    @classmethod
    def http(cls, status: int, retry_after: str | None = None) -> Fault:
        return cls(status=status, retry_after=retry_after)

    @classmethod
    def vendor(cls, code: int) -> Fault:
        return cls(code=code)


BAD_AUDIO = Fault(bad_audio=True)
TRUNCATED = Fault(truncated=True)
UNFINISHED = Fault(unfinished=True)


class SpeechServer:
    """What the three fakes share: recording, audio, pacing, holding and faults."""

    sample_rate = 24_000

    def __init__(
        self,
        *,
        audio_for: Callable[[str], bytes] | None = None,
        ttfb: float = 0.0,
        realtime_factor: float = math.inf,
    ) -> None:
        self.requests: list[Request] = []
        self.audio_for = audio_for
        self.ttfb = ttfb
        self.realtime_factor = realtime_factor
        # Set to a threading.Event to pause every body after its first piece until it is set.
        self.hold: threading.Event | None = None
        self._faults: deque[Fault] = deque()

    def fail_next(self, *faults: Fault) -> None:
        """The next requests meet these faults, one each, in order; later ones are served."""
        self._faults.extend(faults)

    def audio(self, text: str, sample_rate: int | None = None) -> bytes:
        """The PCM this server sends for `text`."""
        if self.audio_for is not None:
            return self.audio_for(text)
        return tone(text, sample_rate or self.sample_rate)

    async def handler(self, request: Request) -> Response:
        if request.method != "POST":
            # A warm-up: any quick answer will do.
            return Response(404 if request.method == "HEAD" else 405)
        self.requests.append(request)
        fault = self._faults.popleft() if self._faults else Fault()
        return await self.answer(request, fault)

    async def answer(self, request: Request, fault: Fault) -> Response:
        raise NotImplementedError

    def pieces(self, pcm: bytes, sample_rate: int) -> list[bytes]:
        """`pcm` in pieces of about CHUNK_SECONDS of audio."""
        size = max(2, int(sample_rate * CHUNK_SECONDS) * 2)
        return [pcm[i : i + size] for i in range(0, len(pcm), size)] or [b""]

    async def first_byte_wait(self) -> None:
        if self.ttfb > 0:
            await asyncio.sleep(self.ttfb)

    def seconds_to_make(self, pcm: bytes, sample_rate: int) -> float:
        if math.isinf(self.realtime_factor) or self.realtime_factor <= 0:
            return 0.0
        return len(pcm) / 2 / sample_rate / self.realtime_factor

    async def paced(self, parts: list[bytes], seconds_each: float) -> AsyncIterator[bytes]:
        """Send `parts` one by one, `seconds_each` apart, pausing after the first while held."""
        for index, part in enumerate(parts):
            if index > 0 and seconds_each > 0:
                await asyncio.sleep(seconds_each)
            yield part
            if index == 0 and self.hold is not None:
                await asyncio.to_thread(self.hold.wait, HOLD_LIMIT_SECONDS)

    def streamed(
        self, status: int, headers: dict[str, str], parts: list[bytes], seconds_each: float
    ) -> Response:
        return Response(status, headers, self.paced(parts, seconds_each))

    @staticmethod
    def cut_short(
        headers: dict[str, str], parts: list[bytes]
    ) -> tuple[dict[str, str], list[bytes]]:
        """A body that announces all of `parts` but stops half-way (at least one byte short)."""
        body = b"".join(parts)
        sent = body[: max(0, min(len(body) // 2, len(body) - 1))]
        return {**headers, "content-length": str(len(body))}, [sent]


class OpenAiSpeechServer(SpeechServer):
    """`POST /v1/audio/speech` answering raw 24 kHz PCM, with OpenAI's error bodies."""

    sample_rate = 24_000

    def __init__(
        self,
        *,
        api_key: str | None = "sk-test-key",
        chunk_bytes: int | None = None,
        path: str = "/v1/audio/speech",
        **options: Any,
    ) -> None:
        super().__init__(**options)
        self.api_key = api_key
        self.path = path
        self.chunk_bytes = chunk_bytes  # pieces of this many bytes instead of ~50 ms of audio

    async def answer(self, request: Request, fault: Fault) -> Response:
        await self.first_byte_wait()
        if request.path != self.path:
            return _openai_error(404, f"Invalid URL (POST {request.path})", "invalid_request_error")
        if self.api_key is not None and request.headers.get("authorization") != (
            f"Bearer {self.api_key}"
        ):
            given = request.headers.get("authorization", "").removeprefix("Bearer ")
            # Like the real service, the message names the key it was given.
            return _openai_error(
                401,
                f"Incorrect API key provided: {given}.",
                "invalid_request_error",
                "invalid_api_key",
            )
        if fault.status != 200:
            return _openai_error(
                fault.status,
                f"Simulated failure {fault.status}.",
                "server_error",
                headers={"retry-after": fault.retry_after} if fault.retry_after else None,
            )
        body = request.json()
        text = body.get("input", "")
        if len(text) > 4096 or body.get("response_format") != "pcm":
            return _openai_error(
                400, "Unsupported input or response_format.", "invalid_request_error"
            )
        pcm = self.audio(text)
        if self.chunk_bytes:
            parts = [pcm[i : i + self.chunk_bytes] for i in range(0, len(pcm), self.chunk_bytes)]
        else:
            parts = self.pieces(pcm, self.sample_rate)
        headers = {"content-type": "audio/pcm"}
        if fault.truncated:
            headers, parts = self.cut_short(headers, parts)
        return self.streamed(
            200, headers, parts, self.seconds_to_make(pcm, self.sample_rate) / len(parts)
        )


def _openai_error(
    status: int,
    message: str,
    kind: str,
    code: str | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    error = {"message": message, "type": kind, "param": None, "code": code}
    return Response.json({"error": error}, status, headers)


# The HTTP status the fakes pair with a Volcano v1 code. The real pairing is not documented;
# clients must read the code first, which these fakes check by varying the status.
_V1_STATUS = {3001: 400, 3003: 429, 3005: 503, 3006: 400, 3010: 400, 3011: 400, 3050: 400}
_V1_MESSAGES = {
    3001: "authenticate request: load grant: requested grant not found",
    3003: "exceed concurrency quota",
    3005: "server busy",
    3006: "duplicated reqid",
    3010: "text too long",
    3011: "invalid text: empty or only punctuation",
    3030: "processing timeout",
    3031: "processing error",
    3040: "backend link error",
    3050: "voice_type not found",
}


class VolcanoV1Server(SpeechServer):
    """`POST /api/v1/tts` answering one JSON object with base64 PCM, checking what Volcano checks:
    the token (header and body), the app ID, text length, reused request IDs."""

    def __init__(self, *, appid: str = "app-1", token: str = "volc-token", **options: Any) -> None:
        super().__init__(**options)
        self.appid = appid
        self.token = token
        self.max_text_bytes = 1024
        self._request_ids: set[str] = set()

    async def answer(self, request: Request, fault: Fault) -> Response:
        await self.first_byte_wait()
        body = request.json()
        request_id = str(body.get("request", {}).get("reqid", ""))
        code = fault.code or self._refusal(request, body, request_id)
        self._request_ids.add(request_id)
        if fault.status != 200:
            return Response(
                fault.status, {"content-type": "text/html"}, b"<html>Bad gateway</html>"
            )
        if code:
            return self._reply(request_id, code, _V1_STATUS.get(code, 500))
        rate = int(body["audio"]["rate"])
        pcm = self.audio(body["request"]["text"], rate)
        await asyncio.sleep(self.seconds_to_make(pcm, rate))  # v1 answers once all is made
        data = "!!not base64!!" if fault.bad_audio else base64.b64encode(pcm).decode()
        response = self._reply(
            request_id, 3000, 200, data=data, milliseconds=len(pcm) * 500 // rate
        )
        if fault.truncated:
            assert isinstance(response.body, bytes)
            headers, parts = self.cut_short(response.headers, [response.body])
            return Response(200, headers, self.paced(parts, 0))
        return response

    def _refusal(self, request: Request, body: dict[str, Any], request_id: str) -> int:
        app = body.get("app", {})
        if (
            request.headers.get("authorization") != f"Bearer;{self.token}"
            or app.get("token") != self.token
            or app.get("appid") != self.appid
        ):
            return 3001
        if body.get("audio", {}).get("encoding") != "pcm" or body["audio"].get("rate") not in (
            8000,
            16000,
            24000,
        ):
            return 3001  # these fakes only make PCM
        if not request_id or request_id in self._request_ids:
            return 3006
        text = str(body.get("request", {}).get("text", ""))
        if len(text.encode()) > self.max_text_bytes:
            return 3010
        if not any(c.isalnum() for c in text):
            return 3011
        return 0

    def _reply(
        self,
        request_id: str,
        code: int,
        status: int,
        data: str | None = None,
        milliseconds: int = 0,
    ) -> Response:
        reply: dict[str, Any] = {
            "reqid": request_id,
            "code": code,
            "message": "Success" if code == 3000 else _V1_MESSAGES.get(code, "error"),
            "sequence": -1,
        }
        if data is not None:
            reply["data"] = data
            reply["addition"] = {"duration": str(milliseconds)}
        return Response.json(reply, status, {"x-tt-logid": _log_id()})


class VolcanoV3Server(SpeechServer):
    """`POST /api/v3/tts/unidirectional` answering a chunked stream of JSON lines, one per ~50 ms
    of base64 PCM, ending with code 20000000."""

    def __init__(self, *, appid: str = "app-1", token: str = "volc-token", **options: Any) -> None:
        super().__init__(**options)
        self.appid = appid
        self.token = token
        self.max_text_bytes = 1024

    async def answer(self, request: Request, fault: Fault) -> Response:
        await self.first_byte_wait()
        headers = {"content-type": "application/json", "x-tt-logid": _log_id()}
        if (
            request.headers.get("x-api-access-key") != self.token
            or request.headers.get("x-api-app-id") != self.appid
            or not request.headers.get("x-api-resource-id")
        ):
            return Response.json(
                {"code": 45000000, "message": "requested resource not granted"}, 403, headers
            )
        if fault.status != 200:
            body = {"code": fault.code or 55000000, "message": f"simulated {fault.status}"}
            return Response.json(body, fault.status, headers)
        params = request.json()["req_params"]
        text = str(params.get("text", ""))
        if len(text.encode()) > self.max_text_bytes:
            return Response.json({"code": 40402003, "message": "text too long"}, 400, headers)
        if fault.code:
            lines = [_line({"code": fault.code, "message": "simulated failure", "data": None})]
            return self.streamed(200, headers, lines, 0)
        rate = int(params["audio_params"]["sample_rate"])
        pcm = self.audio(text, rate)
        pieces = self.pieces(pcm, rate)
        lines = [_line({"code": 0, "message": "", "data": self._data(p, fault)}) for p in pieces]
        if not fault.unfinished:
            lines.append(_line({"code": 20000000, "message": "ok", "data": None}))
        if fault.truncated:
            headers, lines = self.cut_short(headers, lines)
        return self.streamed(200, headers, lines, self.seconds_to_make(pcm, rate) / len(pieces))

    @staticmethod
    def _data(pcm: bytes, fault: Fault) -> str:
        return "%%not base64%%" if fault.bad_audio else base64.b64encode(pcm).decode()


def _line(event: dict[str, Any]) -> bytes:
    return json.dumps(event).encode() + b"\n"


def _log_id() -> str:
    return uuid.uuid4().hex[:24]
