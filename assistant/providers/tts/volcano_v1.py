"""Speech from Volcano Engine (ByteDance openspeech) HTTP TTS v1: one JSON request per piece of
text, answered with base64 PCM; long text is sent as several requests, played in order.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import uuid
from collections.abc import AsyncGenerator
from typing import Any

import httpx

from assistant.config import VOLCANO_V1_SAMPLE_RATES, VolcanoTtsSettings
from assistant.core.errors import (
    AssistantError,
    AuthError,
    ConfigError,
    RateLimitError,
    ServiceError,
)
from assistant.core.protocols import AudioChunk
from assistant.logs import protect
from assistant.providers.http import (
    KeyOrigin,
    Transient,
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
# Any stable string: Volcano asks for one, and it should not identify the person.
USER_ID = "voice-assistant"
SUCCESS = 3000
NOTHING_TO_SAY = 3011  # empty or punctuation-only text


class VolcanoTts:
    """A `Synthesizer` for Volcano's `POST /api/v1/tts` with `encoding: pcm`."""

    max_text_bytes = 1024  # the service's limit per request, in UTF-8 bytes

    def __init__(
        self,
        client: httpx.AsyncClient,
        settings: VolcanoTtsSettings,
        token: str | None,
        *,
        key: KeyOrigin | None = None,  # where the token came from, for messages
    ) -> None:
        key = key or key_origin("volcano_token")
        self._url, self._token = checked_volcano_endpoint(
            settings.endpoint, settings.appid, token, key
        )
        self._service = voice_service(SERVICE, self._url, key, has_key=True)
        if settings.sample_rate not in VOLCANO_V1_SAMPLE_RATES:
            *others, last = VOLCANO_V1_SAMPLE_RATES
            raise ConfigError(
                f"The Volcano TTS sample rate {settings.sample_rate} is not offered; choose "
                f"{', '.join(map(str, others))} or {last} in Settings > Voice."
            )
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
        request_id = str(uuid.uuid4())  # a reused one is refused (code 3006), so one per try
        headers = {"Authorization": f"Bearer;{self._token}"}
        seconds = audio_seconds_allowed(text, self._settings.speed_ratio)
        deadline = request_deadline(self._client, text)
        with translated(self._service):
            async with stream_within(
                self._client,
                "POST",
                self._url,
                deadline,
                json=self._body(text, request_id),
                headers=headers,
            ) as response:
                log.info(
                    "Volcano TTS request %s: HTTP %d, X-Tt-Logid %s",
                    request_id,
                    response.status_code,
                    response.headers.get("x-tt-logid", "-"),
                )
                body, too_long = await read_capped(response, self._reply_limit(seconds), deadline)
        if too_long:
            raise ServiceError(
                f"The {SERVICE} sent a reply too large to be one sentence's audio. Try again."
            )
        pcm = self._audio_of(response, body, seconds)
        if pcm:
            yield AudioChunk(pcm, self.sample_rate)

    def _reply_limit(self, seconds: float) -> int:
        """The base64 reply of `seconds` of audio, plus room for the JSON around it."""
        return int(seconds * self.sample_rate) * 2 * 4 // 3 + 64 * 1024

    def _body(self, text: str, request_id: str) -> dict[str, Any]:
        settings = self._settings
        return {
            "app": {"appid": settings.appid, "token": self._token, "cluster": settings.cluster},
            "user": {"uid": USER_ID},
            "audio": {
                "voice_type": settings.voice_type,
                "encoding": "pcm",
                "rate": settings.sample_rate,
                "speed_ratio": settings.speed_ratio,
            },
            "request": {"reqid": request_id, "text": text, "operation": "query"},
        }

    def _audio_of(self, response: httpx.Response, body: bytes, seconds: float) -> bytes:
        """The PCM in a reply, or the error it carries (by its code, else by its HTTP status)."""
        reply = _json_object(body)
        code = _code_of(reply)
        if code is None:
            if response.status_code == 200:
                raise ServiceError(
                    f"The {SERVICE} sent a reply that could not be understood. Check the "
                    "endpoint in Settings > Voice."
                )
            raise status_error(
                response.status_code,
                self._service,
                scrub(body.decode("utf-8", "replace"), self._token),
                retry_after=retry_after(response.headers.get("retry-after")),
            )
        if code == NOTHING_TO_SAY:
            log.info("Volcano TTS found nothing to say in a piece of text; skipped")
            return b""
        if code != SUCCESS:
            raise self._code_error(code, scrub(reply.get("message", ""), self._token))
        try:
            audio = base64.b64decode(reply.get("data") or "", validate=True)
        except (binascii.Error, TypeError, ValueError):
            raise ServiceError(
                f"The {SERVICE} sent audio that could not be decoded. Try again; if it keeps "
                "happening, choose another voice service in Settings > Voice."
            ) from None
        # Asked for PCM; what came is told from its first bytes (WAV, MP3, nothing at all).
        speech = SpeechBody(self.sample_rate, SERVICE, self._host, secret=self._token)
        whole = speech.feed(audio) + speech.finish()
        return WholeSamples(self.sample_rate, SERVICE, seconds).feed(whole)

    def _code_error(self, code: int, detail: str) -> AssistantError | Transient:
        said = f"code {code}: {detail}" if detail else f"code {code}"
        if code == 3001:
            return AuthError(
                f"The Volcano TTS token, app ID or a voice setting was rejected ({said}). Check "
                "the app ID, cluster and voice in Settings > Voice and the token in "
                "Settings > API keys."
            )
        if code in (3003, 3005):
            what = "has too many of your requests at once" if code == 3003 else "is busy"
            return Transient(
                RateLimitError(f"The {SERVICE} {what} ({said}). Try again in a moment.")
            )
        if code == 3006:
            return ServiceError(
                f"The {SERVICE} saw a request ID twice ({said}). Try again; if it keeps "
                "happening, please report it."
            )
        if code == 3010:
            return ServiceError(f"The sentence was too long for the {SERVICE} ({said}).")
        if code == 3050:
            return ServiceError(
                f"The {SERVICE} does not offer the voice '{self._settings.voice_type}' to this "
                f"app ({said}). Choose another voice type in Settings > Voice."
            )
        if code in (3030, 3031, 3032, 3040):
            return ServiceError(
                f"The {SERVICE} failed while making the audio ({said}). Try again in a moment.",
                retryable=True,
            )
        return ServiceError(f"The {SERVICE} failed ({said}). Try again, or check Settings > Voice.")


def _code_of(reply: dict[str, Any]) -> int | None:
    try:
        return int(reply["code"])
    except (KeyError, TypeError, ValueError):
        return None


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        reply = json.loads(body)
    except ValueError:
        return {}
    return reply if isinstance(reply, dict) else {}
