"""Speech from Volcano Engine's v3 unidirectional streaming TTS: one request per piece of text,
answered with a chunked stream of JSON lines whose audio is handed on as each line arrives.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import uuid
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing
from typing import Any

import httpx

from assistant.config import VolcanoV3TtsSettings
from assistant.core.errors import (
    AssistantError,
    AuthError,
    ConfigError,
    ServiceError,
    UnreachableError,
)
from assistant.core.protocols import AudioChunk
from assistant.logs import protect
from assistant.providers.http import (
    Deadline,
    KeyOrigin,
    Transient,
    body_within,
    checked_header_value,
    key_origin,
    read_capped,
    retry_after,
    scrub,
    status_error,
    stream_within,
    translated,
)
from assistant.providers.tts._common import (
    WholeSamples,
    audio_seconds_allowed,
    checked_volcano_endpoint,
    origin_of,
    request_deadline,
    synthesize_piece,
    voice_service,
    warm_connection,
)
from assistant.providers.tts.audio_body import SpeechBody

log = logging.getLogger(__name__)

SERVICE = "Volcano TTS service"
USER_ID = "voice-assistant"  # any stable string that does not identify the person
AUDIO = 0
FINISHED = 20_000_000
TEXT_TOO_LONG = 40_402_003
REFUSED = 45_000_000
SERVER_ERROR = 55_000_000
# One line carries one piece of base64 audio; a line longer than this is not a sane reply.
MAX_LINE_BYTES = 1024 * 1024
_ERROR_BODY_LIMIT = 64 * 1024  # of an error body read at most: enough for any message


class VolcanoV3Tts:
    """A `Synthesizer` for Volcano's `POST /api/v3/tts/unidirectional` with `format: pcm`."""

    # The v1 limit: the reply speaker's splitter cuts pieces to it, so that the service never
    # refuses one as too long (40402003).
    max_text_bytes = 1024

    def __init__(
        self,
        client: httpx.AsyncClient,
        settings: VolcanoV3TtsSettings,
        token: str | None,
        *,
        key: KeyOrigin | None = None,  # where the token came from, for messages
    ) -> None:
        key = key or key_origin("volcano_token")
        self._url, self._token = checked_volcano_endpoint(
            settings.endpoint, settings.appid, token, key
        )
        self._service = voice_service(SERVICE, self._url, key, has_key=True)
        checked_header_value(settings.resource_id, "The Volcano TTS resource ID")
        if not settings.speaker:
            raise ConfigError("No Volcano TTS speaker is chosen. Choose one in Settings > Voice.")
        if settings.sample_rate <= 0:
            raise ConfigError("The Volcano TTS sample rate must be positive, e.g. 24000.")
        self.sample_rate = settings.sample_rate
        self._client = client
        self._settings = settings
        protect(self._token)
        self._host = httpx.URL(self._url).host
        self._origin = origin_of(self._url)

    async def warm_up(self) -> None:
        await warm_connection(self._client, self._origin)

    def synthesize(self, text: str) -> AsyncGenerator[AudioChunk, None]:
        return synthesize_piece(text, self.max_text_bytes, self._attempt, "Volcano TTS")

    async def _attempt(self, text: str) -> AsyncGenerator[AudioChunk, None]:
        request_id = str(uuid.uuid4())
        headers = {
            "X-Api-App-Id": self._settings.appid,
            "X-Api-Access-Key": self._token,
            "X-Api-Resource-Id": self._settings.resource_id,
            "X-Api-Request-Id": request_id,
        }
        seconds = audio_seconds_allowed(text)
        deadline = request_deadline(self._client, text)
        with translated(self._service) as call:
            async with stream_within(
                self._client, "POST", self._url, deadline, json=self._body(text), headers=headers
            ) as response:
                call.answering = True
                log.info(
                    "Volcano TTS request %s: HTTP %d, X-Tt-Logid %s",
                    request_id,
                    response.status_code,
                    response.headers.get("x-tt-logid", "-"),
                )
                if response.status_code != 200:
                    raise await self._status_error(response, deadline)
                async with aclosing(self._audio_of(response, seconds, deadline)) as pieces:
                    async for pcm in pieces:
                        yield AudioChunk(pcm, self.sample_rate)

    def _body(self, text: str) -> dict[str, Any]:
        return {
            "user": {"uid": USER_ID},
            "req_params": {
                "text": text,
                "speaker": self._settings.speaker,
                "audio_params": {"format": "pcm", "sample_rate": self.sample_rate},
            },
        }

    async def _audio_of(
        self, response: httpx.Response, seconds: float, deadline: Deadline
    ) -> AsyncGenerator[bytes, None]:
        """The PCM of each line as it arrives, until the line that says the sentence is done."""
        samples = WholeSamples(self.sample_rate, SERVICE, seconds)
        # Asked for PCM; what comes is told from its first bytes (WAV, MP3, nothing at all).
        speech = SpeechBody(self.sample_rate, SERVICE, self._host, secret=self._token)
        # Base64 of that much audio, with ample room for the JSON around each piece.
        limit = int(seconds * self.sample_rate) * 2 * 2 + MAX_LINE_BYTES
        finished = False
        async with (
            aclosing(body_within(response, deadline)) as pieces,
            aclosing(_lines(pieces, limit)) as lines,
        ):
            # Read on to the end of the body even after the last line: a response closed early
            # would cost the kept-alive HTTP/1.1 connection.
            async for line in lines:
                event = _json_object(line)
                code = _code_of(event)
                if finished:
                    continue
                if code == FINISHED:
                    finished = True
                elif code == AUDIO:
                    if pcm := samples.feed(speech.feed(_decode(event.get("data")))):
                        yield pcm
                else:
                    raise self._code_error(code, scrub(event.get("message"), self._token))
        if not finished:
            raise Transient(
                UnreachableError(
                    f"The {SERVICE} stopped sending before the sentence was complete. Try again."
                )
            )
        if pcm := samples.feed(speech.finish()):  # and a sentence without any audio is told
            yield pcm

    async def _status_error(
        self, response: httpx.Response, deadline: Deadline
    ) -> AssistantError | Transient:
        body, _ = await read_capped(response, _ERROR_BODY_LIMIT, deadline)
        event = _json_object(body)
        code = _code_of(event)
        if code is not None and code not in (AUDIO, FINISHED):
            return self._code_error(code, scrub(event.get("message"), self._token))
        return status_error(
            response.status_code,
            self._service,
            scrub(body.decode("utf-8", "replace"), self._token),
            retry_after=retry_after(response.headers.get("retry-after")),
        )

    def _code_error(self, code: int | None, detail: str) -> AssistantError | Transient:
        said = f"code {code}: {detail}" if detail else f"code {code}"
        if code == TEXT_TOO_LONG:
            return ServiceError(f"The sentence was too long for the {SERVICE} ({said}).")
        if code == REFUSED:
            return AuthError(
                f"The {SERVICE} refused the request ({said}): the access token, app ID, resource "
                "ID or speaker is not allowed, or the quota is used up. Check Settings > Voice "
                "and the Volcano console."
            )
        if code == SERVER_ERROR:
            return Transient(
                ServiceError(
                    f"The {SERVICE} had an internal error ({said}). Try again in a moment.",
                    retryable=True,
                )
            )
        if code is None:
            return ServiceError(
                f"The {SERVICE} sent a line that could not be understood. Check the endpoint in "
                "Settings > Voice."
            )
        return ServiceError(f"The {SERVICE} failed ({said}). Try again, or check Settings > Voice.")


async def _lines(pieces: AsyncIterator[bytes], limit: int) -> AsyncGenerator[bytes, None]:
    """Non-blank lines of a byte stream, refusing a line longer than MAX_LINE_BYTES or a stream
    longer than `limit` bytes."""
    buffer = bytearray()
    total = 0
    async for piece in pieces:
        total += len(piece)
        if total > limit:
            raise ServiceError(
                f"The {SERVICE} sent far more data than one sentence's audio, so it was stopped. "
                "Try again, or check the endpoint in Settings > Voice."
            )
        searched = len(buffer)
        buffer += piece
        while (end := buffer.find(b"\n", searched)) >= 0:
            line = bytes(buffer[:end]).strip()
            del buffer[: end + 1]
            searched = 0
            if line:
                yield line
        if len(buffer) > MAX_LINE_BYTES:
            raise ServiceError(
                f"The {SERVICE} sent a line longer than {MAX_LINE_BYTES // 1024} KiB, which is "
                "not audio it should send. Try again, or check the endpoint in Settings > Voice."
            )
    if buffer.strip():
        yield bytes(buffer).strip()


def _decode(data: object) -> bytes:
    if not data:
        return b""  # lines without audio (e.g. progress) are fine
    try:
        return base64.b64decode(str(data), validate=True)
    except (binascii.Error, ValueError):
        raise ServiceError(
            f"The {SERVICE} sent audio that could not be decoded. Try again; if it keeps "
            "happening, choose another voice service in Settings > Voice."
        ) from None


def _code_of(event: dict[str, Any]) -> int | None:
    try:
        return int(event["code"])
    except (KeyError, TypeError, ValueError):
        return None


def _json_object(line: bytes) -> dict[str, Any]:
    try:
        event = json.loads(line)
    except ValueError:
        return {}
    return event if isinstance(event, dict) else {}
