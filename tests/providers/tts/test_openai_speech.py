"""OpenAI-compatible speech against a real HTTPS server speaking the API's wire format."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from assistant.config import NetworkSettings, OpenAiTtsSettings
from assistant.core.errors import (
    AuthError,
    EndpointError,
    RateLimitError,
    ServiceError,
    UnreachableError,
)
from assistant.core.protocols import AudioChunk
from assistant.core.reply_speaker import ReplySpeaker
from assistant.providers.http import ConnectionStats, make_http_client
from assistant.providers.tts.openai_speech import OpenAiSpeech
from tests.support.memory import MemoryOutput
from tests.support.tts_servers import (
    TRUNCATED,
    Fault,
    OpenAiSpeechServer,
)

KEY = "sk-test-key"
SENTENCES = ["Hello there.", "The weather is fine today.", "Anything else?"]


@pytest.fixture
async def http(tls: Any) -> AsyncIterator[tuple[httpx.AsyncClient, ConnectionStats]]:
    client, stats = make_http_client(NetworkSettings(ca_file=str(tls.ca_file)))
    yield client, stats
    await client.aclose()


def speech(client: httpx.AsyncClient, url: str, key: str | None = KEY) -> OpenAiSpeech:
    return OpenAiSpeech(client, OpenAiTtsSettings(base_url=f"{url}/v1", speed=1.25), key)


async def heard(tts: OpenAiSpeech, text: str) -> list[AudioChunk]:
    return [chunk async for chunk in tts.synthesize(text)]


async def test_each_sentence_sounds_as_the_server_made_it(loopback: Any, http: Any) -> None:
    fake = OpenAiSpeechServer(api_key=KEY)
    server = loopback(fake.handler)
    tts = speech(http[0], server.url)

    for text in SENTENCES:
        chunks = await heard(tts, text)
        assert b"".join(c.pcm for c in chunks) == fake.audio(text)
        assert {c.sample_rate for c in chunks} == {24_000} == {tts.sample_rate}

    request = fake.requests[0]
    assert request.path == "/v1/audio/speech"
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert request.json() == {
        "model": "tts-1",
        "input": SENTENCES[0],
        "voice": "alloy",
        "response_format": "pcm",
        "speed": 1.25,
    }


async def test_chunks_keep_whole_samples_when_the_network_splits_one(
    loopback: Any, http: Any
) -> None:
    fake = OpenAiSpeechServer(chunk_bytes=1001)
    tts = speech(http[0], loopback(fake.handler).url)

    chunks = await heard(tts, "An odd number of bytes per piece.")

    assert all(len(c.pcm) % 2 == 0 for c in chunks)
    assert b"".join(c.pcm for c in chunks) == fake.audio("An odd number of bytes per piece.")


@pytest.mark.parametrize("http2", [True, False])
async def test_first_audio_arrives_while_the_server_is_still_sending(
    loopback: Any, http: Any, http2: bool
) -> None:
    fake = OpenAiSpeechServer()
    fake.hold = threading.Event()
    tts = speech(http[0], loopback(fake.handler, http2=http2).url)
    text = "A long sentence that the server sends in many pieces."
    chunks = tts.synthesize(text)
    try:
        # The server holds back everything after its first piece until released.
        first = await asyncio.wait_for(anext(chunks), 5)
        fake.hold.set()
        rest = [chunk async for chunk in chunks]
    finally:
        fake.hold.set()
        await chunks.aclose()

    assert 0 < len(first.pcm) < len(fake.audio(text))
    assert first.pcm + b"".join(c.pcm for c in rest) == fake.audio(text)


@pytest.mark.parametrize("http2", [True, False])
async def test_a_whole_reply_uses_one_connection(loopback: Any, http: Any, http2: bool) -> None:
    client, stats = http
    fake = OpenAiSpeechServer()
    server = loopback(fake.handler, http2=http2)
    tts = speech(client, server.url)

    for text in SENTENCES * 2:
        await heard(tts, text)

    assert len(fake.requests) == 6
    assert server.connections == 1
    assert stats.opened == 1
    assert fake.requests[0].http_version == ("2" if http2 else "1.1")


async def test_warm_up_pays_the_handshake_before_the_first_sentence(
    loopback: Any, http: Any
) -> None:
    client, stats = http
    fake = OpenAiSpeechServer()
    server = loopback(fake.handler)
    tts = speech(client, server.url)

    await tts.warm_up()
    assert stats.opened == 1
    assert fake.requests == []  # nothing was synthesized

    await heard(tts, SENTENCES[0])
    assert stats.opened == 1
    assert server.connections == 1


async def test_warm_up_never_raises_when_the_server_is_away(http: Any) -> None:
    await speech(http[0], f"https://127.0.0.1:{closed_port()}").warm_up()


async def test_a_rejected_key_says_so_without_echoing_it(loopback: Any, http: Any) -> None:
    fake = OpenAiSpeechServer(api_key="sk-the-right-one")
    tts = speech(http[0], loopback(fake.handler).url, key="sk-wrong-secret-1234")

    with pytest.raises(AuthError) as caught:
        await heard(tts, "Hello.")

    assert "API key" in str(caught.value) and "Settings > API keys" in str(caught.value)
    assert "sk-wrong-secret-1234" not in str(caught.value)
    assert len(fake.requests) == 1  # never retried


async def test_a_wrong_base_url_points_at_the_setting(loopback: Any, http: Any) -> None:
    fake = OpenAiSpeechServer()
    url = loopback(fake.handler).url
    tts = OpenAiSpeech(http[0], OpenAiTtsSettings(base_url=f"{url}/api"), KEY)

    with pytest.raises(ServiceError, match="404") as caught:
        await heard(tts, "Hello.")

    assert "base URL" in str(caught.value)


async def test_a_busy_server_is_retried_until_it_answers(loopback: Any, http: Any) -> None:
    fake = OpenAiSpeechServer()
    fake.fail_next(Fault.http(503), Fault.http(429, retry_after="0.1"))
    tts = speech(http[0], loopback(fake.handler).url)

    chunks = await heard(tts, "Third time lucky.")

    assert b"".join(c.pcm for c in chunks) == fake.audio("Third time lucky.")
    assert len(fake.requests) == 3


async def test_a_server_that_stays_down_gives_up_after_three_tries(
    loopback: Any, http: Any
) -> None:
    fake = OpenAiSpeechServer()
    fake.fail_next(*[Fault.http(500)] * 5)
    tts = speech(http[0], loopback(fake.handler).url)

    with pytest.raises(ServiceError, match="internal error") as caught:
        await heard(tts, "Hello.")

    assert caught.value.retryable
    assert len(fake.requests) == 3


async def test_a_long_retry_after_is_reported_not_waited_for(loopback: Any, http: Any) -> None:
    fake = OpenAiSpeechServer()
    fake.fail_next(Fault.http(429, retry_after="30"))
    tts = speech(http[0], loopback(fake.handler).url)

    with pytest.raises(RateLimitError) as caught:
        await heard(tts, "Hello.")

    assert caught.value.retry_after == 30
    assert len(fake.requests) == 1


async def test_a_stream_that_breaks_after_audio_was_heard_is_not_repeated(
    loopback: Any, http: Any
) -> None:
    fake = OpenAiSpeechServer()
    fake.fail_next(TRUNCATED)
    tts = speech(http[0], loopback(fake.handler).url)
    got: list[AudioChunk] = []

    with pytest.raises(UnreachableError, match="broke off"):
        async for chunk in tts.synthesize("A sentence cut short in the middle."):
            got.append(chunk)

    assert got  # the first half was heard...
    assert len(fake.requests) == 1  # ...so it was not asked for again


async def test_an_unreachable_server_is_reported_after_retries(http: Any) -> None:
    tts = speech(http[0], f"https://127.0.0.1:{closed_port()}")

    with pytest.raises(UnreachableError, match="Could not connect"):
        await heard(tts, "Hello.")


async def test_a_silent_server_times_out(loopback: Any, tls: Any) -> None:
    fake = OpenAiSpeechServer(ttfb=3)
    url = loopback(fake.handler).url
    client, _ = make_http_client(NetworkSettings(ca_file=str(tls.ca_file), read_timeout=0.3))
    try:
        with pytest.raises(UnreachableError, match="did not start answering in time"):
            await heard(speech(client, url), "Hello.")
    finally:
        await client.aclose()
    assert len(fake.requests) == 1  # a timeout is not worth another full wait


async def test_a_long_text_is_split_once_by_the_speaker_and_each_piece_is_one_request(
    loopback: Any, http: Any
) -> None:
    fake = OpenAiSpeechServer()
    tts = speech(http[0], loopback(fake.handler).url)
    text = " ".join(f"Sentence number {n} of a very long answer." for n in range(150))
    pieces = ReplySpeaker(tts, MemoryOutput()).pieces(text)

    chunks = [chunk for piece in pieces for chunk in await heard(tts, piece.spoken)]

    inputs = [r.json()["input"] for r in fake.requests]
    assert inputs == [piece.spoken for piece in pieces]
    assert all(len(i.encode()) <= tts.max_text_bytes for i in inputs)
    assert " ".join(inputs) == text
    assert b"".join(c.pcm for c in chunks) == b"".join(fake.audio(i) for i in inputs)


def test_a_cloud_endpoint_over_plain_http_is_refused() -> None:
    client = httpx.AsyncClient()
    settings = OpenAiTtsSettings(base_url="http://api.example.com/v1")
    with pytest.raises(EndpointError):
        OpenAiSpeech(client, settings, KEY)


def closed_port() -> int:
    """A local port nobody listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_a_slow_server_keeps_its_pace(loopback: Any, http: Any) -> None:
    # Benchmarks rely on the fake's latency: first byte after `ttfb`, then faster than real time.
    fake = OpenAiSpeechServer(ttfb=0.3, realtime_factor=4.0)
    tts = speech(http[0], loopback(fake.handler).url)
    text = "Thirty characters of speech.."  # 1.74 s of audio: 0.43 s to stream at 4x
    start = time.monotonic()
    arrivals = [time.monotonic() - start async for _ in tts.synthesize(text)]

    assert arrivals[0] >= 0.3
    assert arrivals[-1] >= 0.3 + 0.8 * fake.seconds_to_make(fake.audio(text), 24_000)
