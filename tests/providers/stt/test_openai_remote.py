"""The remote OpenAI-compatible transcriber, against a real HTTPS server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import io
import re
import socket
import wave
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from assistant.app import make_transcriber
from assistant.config import NetworkSettings, RemoteSttSettings, Secrets, Settings
from assistant.core.errors import (
    AuthError,
    EndpointError,
    RateLimitError,
    ServiceError,
    UnreachableError,
)
from assistant.core.protocols import Recording
from assistant.providers.http import make_http_client
from assistant.providers.http import retry_after as retry_after_seconds
from assistant.providers.stt.openai_remote import RemoteTranscriber
from tests.support.loopback import LoopbackServer, Request, Response

KEY = "sk-test-0123456789abcdef"
CLIP = Path(__file__).parents[2] / "data" / "speech" / "ds_2830-3980-0043.wav"
Loopback = Callable[..., LoopbackServer]


def speech() -> Recording:
    with wave.open(str(CLIP), "rb") as wav:
        return Recording(wav.readframes(wav.getnframes()), wav.getframerate())


def form_fields(request: Request) -> dict[str, tuple[bytes, bytes]]:
    """The multipart/form-data body as {name: (part headers, value)}."""
    found = re.search(r'boundary="?([^";]+)"?', request.headers["content-type"])
    assert found, request.headers["content-type"]
    fields = {}
    for part in request.body.split(b"--" + found.group(1).encode())[1:-1]:
        head, _, value = part.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        name = re.search(rb'name="([^"]*)"', head)
        assert name, head
        fields[name.group(1).decode()] = (head, value.removesuffix(b"\r\n"))
    return fields


def reply(text: str) -> Callable[[Request], Any]:
    async def handler(request: Request) -> Response:
        return Response.json({"text": text})

    return handler


def failing(status: int, payload: Any = None, headers: dict[str, str] | None = None) -> Any:
    async def handler(request: Request) -> Response:
        return Response.json(payload or {"error": {"message": "nope"}}, status, headers)

    return handler


@pytest.fixture
async def client(tls: Any) -> AsyncIterator[httpx.AsyncClient]:
    client, _ = make_http_client(NetworkSettings(ca_file=str(tls.ca_file)))
    yield client
    await client.aclose()


def remote(
    client: httpx.AsyncClient, base_url: str, key: str | None = KEY, **options: Any
) -> RemoteTranscriber:
    return RemoteTranscriber(
        client, RemoteSttSettings(base_url=base_url, model="whisper-1"), key, **options
    )


async def test_the_recording_goes_up_as_a_wav_form_and_the_text_comes_back(
    loopback: Loopback, client: httpx.AsyncClient
) -> None:
    server = loopback(reply("  Experience proves this. "))
    recording = speech()
    transcriber = remote(client, f"{server.url}/v1/", language="en", prompt="Experience")

    transcript = await transcriber.transcribe(recording)

    assert transcript.text == "Experience proves this."
    assert transcript.language == "en"
    (request,) = server.requests
    assert (request.method, request.path) == ("POST", "/v1/audio/transcriptions")
    assert request.headers["authorization"] == f"Bearer {KEY}"
    fields = form_fields(request)
    assert fields["model"][1] == b"whisper-1"
    assert fields["response_format"][1] == b"json"
    assert fields["language"][1] == b"en"
    assert fields["prompt"][1] == b"Experience"
    head, wav_bytes = fields["file"]
    assert b'filename="speech.wav"' in head
    with wave.open(io.BytesIO(wav_bytes), "rb") as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, 16_000)
        assert wav.readframes(wav.getnframes()) == recording.pcm


async def test_without_a_language_or_a_key_neither_is_sent(
    loopback: Loopback, client: httpx.AsyncClient
) -> None:
    server = loopback(reply("Experience proves this."))
    transcript = await remote(client, server.url, key=None).transcribe(speech())
    assert transcript.text == "Experience proves this."
    (request,) = server.requests
    assert "authorization" not in request.headers
    assert set(form_fields(request)) == {"file", "model", "response_format"}


async def test_turns_reuse_one_connection(loopback: Loopback, client: httpx.AsyncClient) -> None:
    server = loopback(reply("Experience proves this."))
    transcriber = remote(client, server.url)
    for _ in range(3):
        await transcriber.transcribe(speech())
    assert len(server.requests) == 3
    assert server.connections == 1


async def test_loading_and_taps_send_nothing(loopback: Loopback, client: httpx.AsyncClient) -> None:
    server = loopback(reply("should not be asked"))
    transcriber = remote(client, server.url)
    await transcriber.load()
    tap = Recording(speech().pcm[: 16_000 // 5 * 2])
    assert (await transcriber.transcribe(tap)).text == ""
    assert server.requests == []


async def test_what_whisper_invents_on_silence_becomes_an_empty_transcript(
    loopback: Loopback, client: httpx.AsyncClient
) -> None:
    server = loopback(reply("Thank you."))
    assert (await remote(client, server.url).transcribe(speech())).text == ""


@pytest.mark.parametrize("status", [401, 403])
async def test_a_rejected_key_says_where_to_fix_it_without_showing_it(
    loopback: Loopback, client: httpx.AsyncClient, status: int
) -> None:
    echo = {"error": {"message": f"Incorrect API key provided: {KEY}"}}
    server = loopback(failing(status, echo))
    with pytest.raises(AuthError) as error:
        await remote(client, server.url).transcribe(speech())
    assert str(error.value).startswith(
        f"The transcription service at 127.0.0.1:{server.port} rejected the transcription "
        f"service key ({status}). Check the key in Settings > API keys."
    )
    assert KEY not in str(error.value)


async def test_rate_limiting_carries_retry_after(
    loopback: Loopback, client: httpx.AsyncClient
) -> None:
    server = loopback(failing(429, headers={"Retry-After": "7"}))
    with pytest.raises(RateLimitError) as error:
        await remote(client, server.url).transcribe(speech())
    assert error.value.retry_after == 7.0
    assert error.value.retryable


@pytest.mark.parametrize("status", [500, 502, 503])
async def test_a_server_failure_is_a_retryable_service_error(
    loopback: Loopback, client: httpx.AsyncClient, status: int
) -> None:
    server = loopback(failing(status))
    with pytest.raises(ServiceError) as error:
        await remote(client, server.url).transcribe(speech())
    assert type(error.value) is ServiceError
    assert error.value.retryable
    assert f"had an internal error ({status})" in str(error.value)


async def test_a_refused_request_shows_the_service_reason_with_the_key_masked(
    loopback: Loopback, client: httpx.AsyncClient
) -> None:
    reason = {"error": {"message": f"Invalid file format (request by {KEY})."}}
    server = loopback(failing(400, reason))
    with pytest.raises(ServiceError) as error:
        await remote(client, server.url).transcribe(speech())
    assert "Invalid file format" in str(error.value)
    assert KEY not in str(error.value)


async def test_an_answer_that_is_not_a_transcript_is_a_service_error(
    loopback: Loopback, client: httpx.AsyncClient
) -> None:
    async def html(request: Request) -> Response:
        return Response(200, {"content-type": "text/html"}, b"<html>captive portal</html>")

    server = loopback(html)
    with pytest.raises(ServiceError, match="something other than a transcript"):
        await remote(client, server.url).transcribe(speech())


async def test_nobody_listening_is_unreachable_and_names_the_host(
    client: httpx.AsyncClient,
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # free once closed: nothing listens there
    with pytest.raises(UnreachableError) as error:
        await remote(client, f"https://127.0.0.1:{port}/v1").transcribe(speech())
    assert "127.0.0.1" in str(error.value)
    assert KEY not in str(error.value)


async def test_a_service_that_does_not_answer_in_time_is_unreachable(
    loopback: Loopback, tls: Any
) -> None:
    async def stall(request: Request) -> Response:
        await asyncio.sleep(2)
        return Response.json({"text": "too late"})

    server = loopback(stall)
    impatient, _ = make_http_client(NetworkSettings(ca_file=str(tls.ca_file), read_timeout=0.3))
    try:
        with pytest.raises(UnreachableError, match="did not start answering in time"):
            await remote(impatient, server.url).transcribe(speech())
    finally:
        await impatient.aclose()


async def test_plain_http_to_another_machine_is_refused_before_any_request(
    client: httpx.AsyncClient,
) -> None:
    with pytest.raises(EndpointError):
        remote(client, "http://api.example.com/v1")


def test_retry_after_may_be_seconds_or_a_date() -> None:
    assert retry_after_seconds("2.5") == 2.5
    assert retry_after_seconds(None) is None
    assert retry_after_seconds("soon") is None
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    seconds = retry_after_seconds(later)
    assert seconds is not None
    assert 25 <= seconds <= 30


@pytest.mark.parametrize(
    ("speech_url", "secrets", "sent"),
    [
        # The OpenAI voice and transcription on one server: the OpenAI key serves both.
        ("same", Secrets(openai_api_key=KEY), KEY),
        # Transcription elsewhere (a self-hosted server): the OpenAI key must not go there.
        ("https://api.openai.com/v1", Secrets(openai_api_key=KEY), None),
        # ... unless that server has a key of its own.
        (
            "https://api.openai.com/v1",
            Secrets(openai_api_key=KEY, stt_api_key="stt-own"),
            "stt-own",
        ),
    ],
)
async def test_the_openai_key_reaches_only_the_server_it_was_given_for(
    loopback: Loopback,
    client: httpx.AsyncClient,
    speech_url: str,
    secrets: Secrets,
    sent: str | None,
) -> None:
    server = loopback(reply("Experience proves this."))
    settings = Settings()
    settings.stt.provider = "openai"
    settings.stt.openai.base_url = f"{server.url}/v1"
    settings.tts.openai.base_url = (
        settings.stt.openai.base_url if speech_url == "same" else speech_url
    )

    await make_transcriber(settings, secrets, client).transcribe(speech())

    (request,) = server.requests
    assert request.headers.get("authorization") == (f"Bearer {sent}" if sent else None)
