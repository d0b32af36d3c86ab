"""Speech to text by a remote OpenAI-compatible service (`POST {base_url}/audio/transcriptions`),
through the app-wide HTTP client."""

from __future__ import annotations

import io
import json
import wave
from collections.abc import AsyncGenerator
from contextlib import aclosing
from functools import partial

import httpx

from assistant.config import RemoteSttSettings
from assistant.core.endpoints import check_endpoint
from assistant.core.errors import AssistantError, ServiceError
from assistant.core.languages import AUTO
from assistant.core.protocols import BYTES_PER_SAMPLE, ProgressListener, Recording, Transcript
from assistant.core.transcripts import MIN_SPEECH_SECONDS, is_silence_hallucination
from assistant.logs import protect
from assistant.providers.http import (
    Backoff,
    Deadline,
    KeyOrigin,
    Service,
    Transient,
    checked_key,
    key_origin,
    openai_status_error,
    parse_openai_error,
    read_capped,
    read_timeout,
    readable,
    stream_within,
    translated,
    with_retries,
)

# A transcript is text people said: even fast speech stays far below 40 characters a second, so a
# server sending more (a runaway model, a hostile server) is refused, never sent to the chat.
_CHARS_PER_SECOND = 40
_MIN_CHARS = 400
# The JSON around the text, and escapes (\uXXXX is 6 bytes a character).
_BODY_BYTES_PER_CHAR = 6
_BODY_OVERHEAD = 64 * 1024
# The whole request, upload included: 2 read timeouts, plus the recording's own length.
_DEADLINE_READ_TIMEOUTS = 2.0
# Sent again while the user waits: 3 tries, 0.25 s then 0.5 s apart, a Retry-After up to 2 s.
_BACKOFF = Backoff(tries=3, first_delay=0.25, max_delay=1.0, longest_wait=2.0)


class RemoteTranscriber:
    """A `Transcriber` that uploads each recording as WAV and reads back `{"text": ...}`."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        settings: RemoteSttSettings,
        api_key: str | None,
        *,
        language: str | None = None,  # None or "auto": the service detects it
        prompt: str = "",  # words to expect (names, jargon), as Whisper's initial prompt
        key: KeyOrigin | None = None,  # which key it is and where it came from, for messages
    ) -> None:
        key = key or key_origin("stt_api_key")
        self._client = client
        self._url = (
            check_endpoint(settings.base_url, "transcription endpoint") + "/audio/transcriptions"
        )
        self._host = httpx.URL(self._url).host
        self._model = settings.model
        self._api_key = checked_key(api_key, key)
        protect(self._api_key)
        self._language = None if language in (None, "", AUTO) else language
        self._prompt = prompt.strip()
        self._service = Service(
            "transcription service",
            self._url,
            "[stt.openai] base_url in the configuration",
            key,
            self._api_key is not None,
            deadline_words="over one recording",
        )

    async def load(self, progress: ProgressListener | None = None) -> None:
        """Nothing to load: the model lives on the server."""

    async def transcribe(self, recording: Recording) -> Transcript:
        if recording.duration < MIN_SPEECH_SECONDS:
            return Transcript("")
        attempts = with_retries(partial(self._attempt, recording), "Transcription", _BACKOFF)
        async with aclosing(attempts) as transcripts:
            async for transcript in transcripts:
                return transcript
        raise AssertionError("an attempt yields one transcript or raises")  # pragma: no cover

    async def _attempt(self, recording: Recording) -> AsyncGenerator[Transcript, None]:
        max_chars = max(_MIN_CHARS, int(_CHARS_PER_SECOND * recording.duration))
        deadline = Deadline(
            _DEADLINE_READ_TIMEOUTS * read_timeout(self._client) + recording.duration
        )
        with translated(self._service) as call:
            async with stream_within(
                self._client,
                "POST",
                self._url,
                deadline,
                headers=self._headers(),
                data=self._fields(),
                files={"file": ("speech.wav", as_wav(recording), "audio/wav")},
            ) as response:
                call.answering = True
                limit = _BODY_OVERHEAD + _BODY_BYTES_PER_CHAR * max_chars
                body, too_long = await read_capped(response, limit, deadline)
        if response.status_code >= 300:
            raise self._status_error(response, body)
        if too_long:
            raise self._too_long(recording)
        yield self._transcript(body, recording, max_chars)

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

    def _status_error(self, response: httpx.Response, body: bytes) -> AssistantError | Transient:
        error = parse_openai_error(body, self._api_key)
        return openai_status_error(response, error, self._service)

    def _too_long(self, recording: Recording) -> ServiceError:
        return ServiceError(
            f"The transcription service at {self._host} sent a transcript far longer than "
            f"{recording.duration:.0f} s of speech can be, so it was not used. Check "
            "[stt.openai] base_url and model in the configuration."
        )

    def _transcript(self, body: bytes, recording: Recording, max_chars: int) -> Transcript:
        try:
            payload = json.loads(body)
            text = payload["text"]
            if not isinstance(text, str):  # {"text": null} is no transcript, not "None"
                raise TypeError(type(text).__name__)
            text = " ".join(readable(text).split())
        except (ValueError, KeyError, TypeError):
            raise ServiceError(
                f"The transcription service at {self._host} answered with something other than "
                "a transcript. Check [stt.openai] base_url in the configuration."
            ) from None
        if len(text) > max_chars:
            raise self._too_long(recording)
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


__all__ = ["RemoteTranscriber", "as_wav"]
