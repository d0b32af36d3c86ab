"""Speech from an OpenAI-compatible `/audio/speech` endpoint (OpenAI, or a local server that copies
the API), streamed as raw 24 kHz PCM and handed on while the server is still making it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncGenerator
from contextlib import aclosing

import httpx

from assistant.config import OpenAiTtsSettings
from assistant.core.endpoints import check_endpoint
from assistant.core.errors import AssistantError, AuthError, RateLimitError, ServiceError
from assistant.core.protocols import AudioChunk
from assistant.logs import protect
from assistant.providers.http import Deadline, DeadlineExceeded, stream_within
from assistant.providers.tts._common import (
    ERROR_BODY_LIMIT,
    TRANSPORT_ERRORS,
    Transient,
    WholeSamples,
    audio_seconds_allowed,
    body_of,
    deadline_error,
    read_limited,
    request_deadline,
    retry_after_seconds,
    status_error,
    synthesize_in_pieces,
    transport_error,
    vendor_message,
    warm_connection,
)

log = logging.getLogger(__name__)

SAMPLE_RATE = 24_000  # what `response_format: pcm` always gives
SERVICE = "speech service"


class OpenAiSpeech:
    """A `Synthesizer` for `POST {base_url}/audio/speech` with `response_format: pcm`."""

    sample_rate = SAMPLE_RATE
    # The API takes 4096 characters; 4000 bytes stays under that for any text.
    max_text_bytes = 4000

    def __init__(
        self, client: httpx.AsyncClient, settings: OpenAiTtsSettings, api_key: str | None
    ) -> None:
        base_url = check_endpoint(settings.base_url, "speech endpoint")
        self._client = client
        self._settings = settings
        self._api_key = api_key or None  # local servers often need none
        protect(self._api_key)
        self._url = f"{base_url}/audio/speech"
        self._host = httpx.URL(base_url).host
        # HEAD without the key: the server answers at once (401, 404 or 405 are all fine) without
        # synthesizing anything or spending quota, and the TLS connection stays in the pool.
        self._warm_up_url = f"{base_url}/models"

    async def warm_up(self) -> None:
        await warm_connection(self._client, self._warm_up_url)

    def synthesize(self, text: str) -> AsyncGenerator[AudioChunk, None]:
        return synthesize_in_pieces(
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
        try:
            async with stream_within(
                self._client, "POST", self._url, deadline, json=body, headers=headers
            ) as reply:
                if reply.status_code != 200:
                    raise await self._status_error(reply, deadline)
                if not _is_audio(reply.headers.get("content-type", "")):
                    raise ServiceError(
                        f"The {SERVICE} at {self._host} answered with text instead of audio. "
                        "Check that the base URL in Settings > Voice points at a speech API."
                    )
                async with aclosing(body_of(reply, deadline)) as pieces:
                    async for data in pieces:
                        pcm = samples.feed(data)
                        if pcm:
                            yield AudioChunk(pcm, SAMPLE_RATE)
        except TRANSPORT_ERRORS as exc:
            raise transport_error(exc, SERVICE, self._url) from exc
        except DeadlineExceeded as exc:
            raise deadline_error(exc, SERVICE, self._url) from None

    async def _status_error(
        self, reply: httpx.Response, deadline: Deadline
    ) -> AssistantError | Transient:
        body, _ = await read_limited(reply, ERROR_BODY_LIMIT, deadline)
        message, code = _openai_error(body)
        detail = vendor_message(message, self._api_key)
        status = reply.status_code
        if status == 401:
            # The body would echo part of the key: say only what to do.
            return AuthError(
                f"The {SERVICE} at {self._host} rejected the API key (401). "
                "Check the key in Settings > API keys."
            )
        if status == 404:
            return ServiceError(
                f"The {SERVICE} at {self._host} has no such endpoint or model "
                f"'{self._settings.model}' (404{': ' + detail if detail else ''}). Check the base "
                "URL (it usually ends in /v1) and the model in Settings > Voice."
            )
        if status == 429 and code == "insufficient_quota":
            return RateLimitError(
                f"The {SERVICE} at {self._host} says the account's quota is used up "
                f"(429: {detail}). Check the plan and billing with the provider."
            )
        return status_error(
            status,
            f"{SERVICE} at {self._host}",
            detail,
            "Check the key in Settings > API keys.",
            retry_after_seconds(reply),
        )


def _is_audio(content_type: str) -> bool:
    """Servers label raw PCM variously (audio/pcm, audio/L16, application/octet-stream, none);
    JSON, HTML or other text is an answer meant for someone else (an error page, a proxy)."""
    kind = content_type.split(";")[0].strip().lower()
    textual = kind.startswith("text/") or kind.endswith(("/json", "+json", "/xml", "+xml"))
    return not textual


def _openai_error(body: bytes) -> tuple[str, str]:
    """The message and code of an `{"error": {...}}` body; the raw text if it is not one."""
    try:
        payload = json.loads(body)
    except ValueError:
        return body.decode("utf-8", "replace"), ""
    error = payload.get("error") if isinstance(payload, dict) else None
    if isinstance(error, dict):
        return str(error.get("message") or ""), str(error.get("code") or "")
    if isinstance(error, str):  # some compatible servers send a bare string
        return error, ""
    return body.decode("utf-8", "replace"), ""
