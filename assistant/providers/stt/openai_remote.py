"""Speech to text by a remote OpenAI-compatible service (`POST {base_url}/audio/transcriptions`),
through the app-wide HTTP client."""

from __future__ import annotations

import io
import math
import wave
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx
from h2.exceptions import H2Error

from assistant.config import RemoteSttSettings
from assistant.core.endpoints import check_endpoint
from assistant.core.errors import (
    AuthError,
    RateLimitError,
    ServiceError,
    UnreachableError,
)
from assistant.core.protocols import BYTES_PER_SAMPLE, ProgressListener, Recording, Transcript
from assistant.core.transcripts import MIN_SPEECH_SECONDS, is_silence_hallucination

_KEY_REJECTED = "The transcription service rejected the API key. Check Settings > API keys."
_MAX_DETAIL = 200  # characters of the service's own error text worth showing


class RemoteTranscriber:
    """A `Transcriber` that uploads each recording as WAV and reads back `{"text": ...}`."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        settings: RemoteSttSettings,
        api_key: str | None,
        *,
        language: str | None = None,  # None: the service detects it
        prompt: str = "",  # words to expect (names, jargon), as Whisper's initial prompt
    ) -> None:
        self._client = client
        self._url = (
            check_endpoint(settings.base_url, "transcription endpoint") + "/audio/transcriptions"
        )
        self._host = httpx.URL(self._url).host
        self._model = settings.model
        self._api_key = api_key or None
        self._language = language or None
        self._prompt = prompt.strip()

    async def load(self, progress: ProgressListener | None = None) -> None:
        """Nothing to load: the model lives on the server."""

    async def transcribe(self, recording: Recording) -> Transcript:
        if recording.duration < MIN_SPEECH_SECONDS:
            return Transcript("")
        try:
            response = await self._client.post(
                self._url,
                headers=self._headers(),
                data=self._fields(),
                files={"file": ("speech.wav", as_wav(recording), "audio/wav")},
            )
        except httpx.TimeoutException:
            raise self._unreachable("did not answer in time") from None
        except httpx.ConnectError:
            raise self._unreachable("could not be connected to") from None
        except (httpx.TransportError, H2Error) as exc:  # httpx does not wrap every H2Error
            raise ServiceError(
                f"The connection to the transcription service at {self._host} broke "
                f"({type(exc).__name__}). Try again.",
                retryable=True,
            ) from None
        self._raise_for_status(response)
        return self._transcript(response)

    def _headers(self) -> dict[str, str]:
        # Local servers copying the API often need no key; send none rather than an empty one.
        return {"Authorization": f"Bearer {self._api_key}"} if self._api_key else {}

    def _fields(self) -> dict[str, str]:
        fields = {"model": self._model, "response_format": "json"}
        if self._language:
            fields["language"] = self._language
        if self._prompt:
            fields["prompt"] = self._prompt
        return fields

    def _unreachable(self, what_happened: str) -> UnreachableError:
        return UnreachableError(
            f"The transcription service at {self._host} {what_happened}. Check your network "
            "connection and [stt.openai] base_url."
        )

    def _raise_for_status(self, response: httpx.Response) -> None:
        status = response.status_code
        if status < 400:
            return
        if status in (401, 403):
            raise AuthError(_KEY_REJECTED)  # fixed text: vendors echo part of the key back
        if status == 429:
            raise RateLimitError(
                "The transcription service is busy or your quota is used up (HTTP 429). "
                "Wait a moment and try again.",
                retry_after=retry_after_seconds(response.headers.get("retry-after")),
            )
        if status >= 500:
            raise ServiceError(
                f"The transcription service at {self._host} had a problem (HTTP {status}). "
                "Try again in a moment.",
                retryable=True,
            )
        raise ServiceError(
            f"The transcription service refused the recording (HTTP {status}: "
            f"{self._detail(response)}). Check [stt.openai] base_url and model."
        )

    def _detail(self, response: httpx.Response) -> str:
        try:
            detail = str(response.json()["error"]["message"])
        except (ValueError, KeyError, TypeError):
            detail = response.text
        if self._api_key:
            detail = detail.replace(self._api_key, "***")
        return " ".join(detail.split())[:_MAX_DETAIL] or "no details"

    def _transcript(self, response: httpx.Response) -> Transcript:
        try:
            payload = response.json()
            text = " ".join(str(payload["text"]).split())
        except (ValueError, KeyError, TypeError):
            raise ServiceError(
                f"The transcription service at {self._host} answered with something other than "
                "a transcript. Check [stt.openai] base_url."
            ) from None
        if is_silence_hallucination(text):
            return Transcript("")
        language = payload.get("language") if isinstance(payload.get("language"), str) else None
        return Transcript(text, language or self._language)


def as_wav(recording: Recording) -> bytes:
    """The recording as a WAV file: 16-bit mono PCM at its own sample rate."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(BYTES_PER_SAMPLE)
        wav.setframerate(recording.sample_rate)
        wav.writeframes(recording.pcm[: len(recording.pcm) // 2 * 2])
    return buffer.getvalue()


def retry_after_seconds(value: str | None) -> float | None:
    """`Retry-After` as seconds from now; it may be a number of seconds or an HTTP date."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return max(0.0, seconds) if math.isfinite(seconds) else None
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


__all__ = ["RemoteTranscriber", "as_wav", "retry_after_seconds"]
