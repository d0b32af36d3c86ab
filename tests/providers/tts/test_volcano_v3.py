"""Volcano TTS v3 (unidirectional streaming) against a real HTTPS server streaming JSON lines."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from assistant.config import NetworkSettings, VolcanoV3TtsSettings
from assistant.core.errors import AuthError, ConfigError, ServiceError, UnreachableError
from assistant.core.protocols import AudioChunk
from assistant.core.reply_speaker import ReplySpeaker
from assistant.providers.http import ConnectionStats, make_http_client
from assistant.providers.tts import _common
from assistant.providers.tts.volcano_v3 import VolcanoV3Tts
from tests.support.loopback import Request, Response
from tests.support.memory import MemoryOutput
from tests.support.tts_servers import (
    BAD_AUDIO,
    TRUNCATED,
    UNFINISHED,
    Fault,
    VolcanoV3Server,
)

TOKEN = "volc-token"
SENTENCES = ["Hello there.", "The weather is fine today.", "Anything else?"]


@pytest.fixture
async def http(tls: Any) -> AsyncIterator[tuple[httpx.AsyncClient, ConnectionStats]]:
    client, stats = make_http_client(NetworkSettings(ca_file=str(tls.ca_file)))
    yield client, stats
    await client.aclose()


def volcano(
    client: httpx.AsyncClient, url: str, token: str = TOKEN, **settings: Any
) -> VolcanoV3Tts:
    options = {"appid": "app-1", "speaker": "zh_female_shuangkuaisisi_moon_bigtts", **settings}
    endpoint = f"{url}/api/v3/tts/unidirectional"
    return VolcanoV3Tts(client, VolcanoV3TtsSettings(endpoint=endpoint, **options), token)


async def heard(tts: VolcanoV3Tts, text: str) -> list[AudioChunk]:
    return [chunk async for chunk in tts.synthesize(text)]


def pcm_of(chunks: list[AudioChunk]) -> bytes:
    return b"".join(chunk.pcm for chunk in chunks)


async def test_each_sentence_sounds_as_the_server_made_it(loopback: Any, http: Any) -> None:
    fake = VolcanoV3Server()
    tts = volcano(http[0], loopback(fake.handler).url)

    for text in SENTENCES:
        chunks = await heard(tts, text)
        assert pcm_of(chunks) == fake.audio(text, 24_000)
        assert len(chunks) > 1  # one per line, as they came
        assert {c.sample_rate for c in chunks} == {24_000} == {tts.sample_rate}


async def test_the_request_is_what_volcano_expects(loopback: Any, http: Any) -> None:
    fake = VolcanoV3Server()
    tts = volcano(http[0], loopback(fake.handler).url, sample_rate=16_000)

    await heard(tts, SENTENCES[0])
    await heard(tts, SENTENCES[1])

    first, second = fake.requests
    assert first.path == "/api/v3/tts/unidirectional"
    assert first.headers["x-api-app-id"] == "app-1"
    assert first.headers["x-api-access-key"] == TOKEN
    assert first.headers["x-api-resource-id"] == "seed-tts-1.0"
    assert uuid.UUID(first.headers["x-api-request-id"]).version == 4
    assert second.headers["x-api-request-id"] != first.headers["x-api-request-id"]
    body = first.json()
    assert body == {
        "user": {"uid": body["user"]["uid"]},
        "req_params": {
            "text": SENTENCES[0],
            "speaker": "zh_female_shuangkuaisisi_moon_bigtts",
            "audio_params": {"format": "pcm", "sample_rate": 16_000},
        },
    }
    assert second.json()["user"] == body["user"]


@pytest.mark.parametrize("http2", [True, False])
async def test_first_audio_arrives_while_the_server_is_still_sending(
    loopback: Any, http: Any, http2: bool
) -> None:
    fake = VolcanoV3Server()
    fake.hold = threading.Event()
    tts = volcano(http[0], loopback(fake.handler, http2=http2).url)
    text = "A long sentence that the server sends in many lines."
    chunks = tts.synthesize(text)
    try:
        # The server holds back every line after the first until released.
        first = await asyncio.wait_for(anext(chunks), 5)
        fake.hold.set()
        rest = [chunk async for chunk in chunks]
    finally:
        fake.hold.set()
        await chunks.aclose()

    assert 0 < len(first.pcm) < len(fake.audio(text, 24_000))
    assert first.pcm + pcm_of(rest) == fake.audio(text, 24_000)


@pytest.mark.parametrize("http2", [True, False])
async def test_a_whole_reply_uses_one_connection(loopback: Any, http: Any, http2: bool) -> None:
    client, stats = http
    fake = VolcanoV3Server()
    server = loopback(fake.handler, http2=http2)
    tts = volcano(client, server.url)

    for text in SENTENCES * 2:
        await heard(tts, text)

    assert len(fake.requests) == 6
    assert server.connections == 1
    assert stats.opened == 1


async def test_warm_up_pays_the_handshake_before_the_first_sentence(
    loopback: Any, http: Any
) -> None:
    client, stats = http
    fake = VolcanoV3Server()
    server = loopback(fake.handler)
    tts = volcano(client, server.url)

    await tts.warm_up()
    assert stats.opened == 1 and fake.requests == []

    await heard(tts, SENTENCES[0])
    assert stats.opened == 1 and server.connections == 1


async def test_a_long_sentence_is_cut_by_the_speaker_to_what_one_request_takes(
    loopback: Any, http: Any
) -> None:
    fake = VolcanoV3Server()
    tts = volcano(http[0], loopback(fake.handler).url)
    text = ", ".join(f"clause {n} of a rather long answer" for n in range(80)) + "."
    pieces = ReplySpeaker(tts, MemoryOutput()).pieces(text)

    chunks = [chunk for piece in pieces for chunk in await heard(tts, piece.spoken)]

    texts = [r.json()["req_params"]["text"] for r in fake.requests]
    assert texts == [piece.spoken for piece in pieces] and len(texts) >= 3
    assert all(len(t.encode()) <= tts.max_text_bytes for t in texts)
    assert " ".join(texts) == text
    assert pcm_of(chunks) == b"".join(fake.audio(t, 24_000) for t in texts)


async def test_a_rejected_key_is_not_retried_nor_shown(loopback: Any, http: Any) -> None:
    fake = VolcanoV3Server(token="the-right-token")
    tts = volcano(http[0], loopback(fake.handler).url, token="wrong-secret-token")

    with pytest.raises(AuthError, match="45000000") as caught:
        await heard(tts, "Hello.")

    assert "wrong-secret-token" not in str(caught.value)
    assert len(fake.requests) == 1


async def test_a_server_error_is_retried_then_heard(loopback: Any, http: Any) -> None:
    fake = VolcanoV3Server()
    fake.fail_next(Fault.vendor(55000000), Fault.http(503))
    tts = volcano(http[0], loopback(fake.handler).url)

    chunks = await heard(tts, "Third time lucky.")

    assert pcm_of(chunks) == fake.audio("Third time lucky.", 24_000)
    assert len(fake.requests) == 3


async def test_a_server_error_that_stays_is_reported(loopback: Any, http: Any) -> None:
    fake = VolcanoV3Server()
    fake.fail_next(*[Fault.vendor(55000000)] * 3)
    tts = volcano(http[0], loopback(fake.handler).url)

    with pytest.raises(ServiceError, match="55000000") as caught:
        await heard(tts, "Hello.")

    assert caught.value.retryable
    assert len(fake.requests) == 3


async def test_text_the_service_finds_too_long_is_reported(loopback: Any, http: Any) -> None:
    fake = VolcanoV3Server()
    fake.max_text_bytes = 100  # stricter than the client's own limit
    tts = volcano(http[0], loopback(fake.handler).url)

    with pytest.raises(ServiceError, match="too long"):
        await heard(tts, "A sentence well over one hundred bytes long, " * 3)
    assert len(fake.requests) == 1


@pytest.mark.parametrize("fault", [UNFINISHED, TRUNCATED], ids=["unfinished", "truncated"])
@pytest.mark.parametrize("http2", [True, False])
async def test_a_stream_that_stops_after_audio_was_heard_is_not_repeated(
    loopback: Any, http: Any, fault: Fault, http2: bool
) -> None:
    fake = VolcanoV3Server()
    fake.fail_next(fault)
    tts = volcano(http[0], loopback(fake.handler, http2=http2).url)
    got: list[AudioChunk] = []

    with pytest.raises(UnreachableError):
        async for chunk in tts.synthesize("A sentence cut short in the middle."):
            got.append(chunk)

    assert got
    assert len(fake.requests) == 1


async def test_audio_that_is_not_base64_is_reported(loopback: Any, http: Any) -> None:
    fake = VolcanoV3Server()
    fake.fail_next(BAD_AUDIO)
    tts = volcano(http[0], loopback(fake.handler).url)

    with pytest.raises(ServiceError, match="could not be decoded"):
        await heard(tts, "Hello.")


async def test_an_endless_line_is_refused(loopback: Any, http: Any) -> None:
    async def endless_line(request: Request) -> Response:
        async def body() -> AsyncIterator[bytes]:
            for _ in range(64):  # 4 MiB without a line break, unless the client hangs up first
                yield b"A" * 65536

        return Response(200, {"content-type": "application/json"}, body())

    tts = volcano(http[0], loopback(endless_line).url)

    with pytest.raises(ServiceError, match="line longer than"):
        await heard(tts, "Hello.")


async def test_a_sentence_that_never_ends_is_stopped(
    loopback: Any, http: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_common, "MAX_SENTENCE_SECONDS", 1)
    fake = VolcanoV3Server()  # 60 ms of audio per character: 3.5 s here
    tts = volcano(http[0], loopback(fake.handler).url)
    got: list[AudioChunk] = []

    with pytest.raises(ServiceError, match="more than"):
        async for chunk in tts.synthesize("A sentence of some sixty characters, spoken slowly."):
            got.append(chunk)

    assert sum(len(c.pcm) for c in got) <= 24_000 * 2  # one second at most


@pytest.mark.parametrize(
    ("settings", "token", "words"),
    [({"appid": ""}, TOKEN, "app ID"), ({"speaker": ""}, TOKEN, "speaker"), ({}, "", "token")],
)
def test_missing_settings_are_named(settings: dict[str, Any], token: str, words: str) -> None:
    with pytest.raises(ConfigError, match=words):
        volcano(httpx.AsyncClient(), "https://openspeech.bytedance.com", token, **settings)
