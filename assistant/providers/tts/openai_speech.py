"""Speech from an OpenAI-compatible `/audio/speech` endpoint (OpenAI, or a local server that copies
the API), streamed as raw 24 kHz PCM and handed on while the server is still making it.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator
from contextlib import aclosing

import httpx

from assistant.config import OpenAiTtsSettings
from assistant.core.endpoints import check_endpoint
from assistant.core.errors import AssistantError, ServiceError
from assistant.core.protocols import AudioChunk
from assistant.logs import protect
from assistant.providers.http import (
    ERROR_BODY_BYTES,
    Deadline,
    KeyOrigin,
    Transient,
    body_within,
    checked_key,
    key_origin,
    openai_status_error,
    read_openai_error,
    stream_within,
    translated,
)
from assistant.providers.tts._common import (
    WholeSamples,
    audio_seconds_allowed,
    request_deadline,
    synthesize_piece,
    voice_service,
    warm_connection,
)
from assistant.providers.tts.audio_body import SpeechBody

log = logging.getLogger(__name__)

SAMPLE_RATE = 24_000  # what `response_format: pcm` always gives
SERVICE = "speech service"
ERROR_BODY_LIMIT = ERROR_BODY_BYTES  # of an error body read at most: enough for any message


class OpenAiSpeech:
    """A `Synthesizer` for `POST {base_url}/audio/speech` with `response_format: pcm`."""

    sample_rate = SAMPLE_RATE
    # The API takes 4096 characters; 4000 bytes stays under that for any text.
    max_text_bytes = 4000

    def __init__(
        self,
        client: httpx.AsyncClient,
        settings: OpenAiTtsSettings,
        api_key: str | None,
        *,
        key: KeyOrigin | None = None,  # which key it is and where it came from, for messages
    ) -> None:
        base_url = check_endpoint(settings.base_url, "speech endpoint")
        key = key or key_origin("openai_api_key")
        self._client = client
        self._settings = settings
        self._api_key = checked_key(api_key, key)  # local servers often need none
        protect(self._api_key)
        self._url = f"{base_url}/audio/speech"
        self._host = httpx.URL(base_url).host
        self._service = voice_service(SERVICE, self._url, key, self._api_key is not None)
        # HEAD without the key: the server answers at once (401, 404 or 405 are all fine) without
        # synthesizing anything or spending quota, and the TLS connection stays in the pool.
        self._warm_up_url = f"{base_url}/models"

    async def warm_up(self) -> None:
        await warm_connection(self._client, self._warm_up_url)

    def synthesize(self, text: str) -> AsyncGenerator[AudioChunk, None]:
        return synthesize_piece(
            text, self.max_text_bytes, self._attempt, f"Speech from {self._host}"
        )

    async def _attempt(self, text: str) -> AsyncGenerator[AudioChunk, None]:
        body = {
            "model": self._settings.model,
            "input": text,
            "voice": self._settings.voice,
            "response_format": "pcm",
            "speed": self._settings.speed,
        }
        headers = {"Authorization": f"Bearer {self._api_key}"} if self._api_key else {}
        seconds = audio_seconds_allowed(text, self._settings.speed)
        samples = WholeSamples(SAMPLE_RATE, SERVICE, seconds)
        deadline = request_deadline(self._client, text)
        with translated(self._service) as call:
            async with stream_within(
                self._client, "POST", self._url, deadline, json=body, headers=headers
            ) as reply:
                call.answering = True
                if reply.status_code != 200:
                    raise await self._status_error(reply, deadline)
                if not _is_audio(reply.headers.get("content-type", "")):
                    raise ServiceError(
                        f"The {SERVICE} at {self._host} answered with text instead of audio. "
                        "Check that the base URL in Settings > Voice points at a speech API."
                    )
                # What the body really is (PCM as asked, or WAV, MP3, an error document, nothing)
                # is told from its first bytes, whatever its content type says.
                speech = SpeechBody(SAMPLE_RATE, SERVICE, self._host, secret=self._api_key)
                async with aclosing(body_within(reply, deadline)) as pieces:
                    async for data in pieces:
                        if pcm := samples.feed(speech.feed(data)):
                            yield AudioChunk(pcm, SAMPLE_RATE)
                if pcm := samples.feed(speech.finish()):
                    yield AudioChunk(pcm, SAMPLE_RATE)

    async def _status_error(
        self, reply: httpx.Response, deadline: Deadline
    ) -> AssistantError | Transient:
        error = await read_openai_error(reply, deadline, self._api_key)
        if reply.status_code == 404:
            return ServiceError(
                f"The {SERVICE} at {self._host} has no such endpoint or model "
                f"'{self._settings.model}' (404).{error.said} Check the base URL (it usually ends "
                "in /v1) and the model in Settings > Voice."
            )
        return openai_status_error(reply, error, self._service)


def _is_audio(content_type: str) -> bool:
    """Servers label raw PCM variously (audio/pcm, audio/L16, application/octet-stream, none);
    JSON, HTML or other text is an answer meant for someone else (an error page, a proxy)."""
    kind = content_type.split(";")[0].strip().lower()
    textual = kind.startswith("text/") or kind.endswith(("/json", "+json", "/xml", "+xml"))
    return not textual
