"""Volcano TTS v1 against a real HTTPS server speaking its wire format and checking what the
service checks (token, app ID, text length, reused request IDs)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from assistant.config import NetworkSettings, VolcanoTtsSettings
from assistant.core.errors import (
    AuthError,
    ConfigError,
    EndpointError,
    RateLimitError,
    ServiceError,
)
from assistant.core.protocols import AudioChunk
from assistant.core.reply_speaker import ReplySpeaker
from assistant.providers.http import ConnectionStats, make_http_client
from assistant.providers.tts.volcano_v1 import VolcanoTts
from tests.support.memory import MemoryOutput
from tests.support.tts_servers import (
    BAD_AUDIO,
    TRUNCATED,
    Fault,
    VolcanoV1Server,
)

TOKEN = "volc-token"
SENTENCES = ["你好，今天天气很好。", "The weather is fine today.", "Anything else?"]


@pytest.fixture
async def http(tls: Any) -> AsyncIterator[tuple[httpx.AsyncClient, ConnectionStats]]:
    client, stats = make_http_client(NetworkSettings(ca_file=str(tls.ca_file)))
    yield client, stats
    await client.aclose()


def volcano(client: httpx.AsyncClient, url: str, token: str = TOKEN, **settings: Any) -> VolcanoTts:
    options = {"appid": "app-1", "voice_type": "BV002_streaming", "speed_ratio": 1.2, **settings}
    return VolcanoTts(client, VolcanoTtsSettings(endpoint=f"{url}/api/v1/tts", **options), token)


async def heard(tts: VolcanoTts, text: str) -> list[AudioChunk]:
    return [chunk async for chunk in tts.synthesize(text)]


def pcm_of(chunks: list[AudioChunk]) -> bytes:
    return b"".join(chunk.pcm for chunk in chunks)


async def test_each_sentence_sounds_as_the_server_made_it(loopback: Any, http: Any) -> None:
    fake = VolcanoV1Server()
    tts = volcano(http[0], loopback(fake.handler).url)

    for text in SENTENCES:
        chunks = await heard(tts, text)
        assert pcm_of(chunks) == fake.audio(text, 24_000)
        assert {c.sample_rate for c in chunks} == {24_000} == {tts.sample_rate}


async def test_the_request_is_what_volcano_expects(loopback: Any, http: Any) -> None:
    fake = VolcanoV1Server()
    tts = volcano(http[0], loopback(fake.handler).url, sample_rate=16_000)

    await heard(tts, SENTENCES[0])
    await heard(tts, SENTENCES[1])

    first, second = fake.requests
    assert first.path == "/api/v1/tts"
    assert first.headers["authorization"] == "Bearer;volc-token"
    body = first.json()
    request_id = body["request"].pop("reqid")
    assert uuid.UUID(request_id).version == 4
    assert body == {
        "app": {"appid": "app-1", "token": TOKEN, "cluster": "volcano_tts"},
        "user": {"uid": body["user"]["uid"]},
        "audio": {
            "voice_type": "BV002_streaming",
            "encoding": "pcm",
            "rate": 16_000,
            "speed_ratio": 1.2,
        },
        "request": {"text": SENTENCES[0], "operation": "query"},
    }
    assert second.json()["user"] == body["user"]  # a stable user ID...
    assert second.json()["request"]["reqid"] != request_id  # ...and a fresh request ID


@pytest.mark.parametrize("http2", [True, False])
async def test_a_whole_reply_uses_one_connection(loopback: Any, http: Any, http2: bool) -> None:
    client, stats = http
    fake = VolcanoV1Server()
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
    fake = VolcanoV1Server()
    server = loopback(fake.handler)
    tts = volcano(client, server.url)

    await tts.warm_up()
    assert stats.opened == 1 and fake.requests == []

    await heard(tts, SENTENCES[0])
    assert stats.opened == 1 and server.connections == 1


async def test_a_long_sentence_is_cut_by_the_speaker_to_what_one_request_takes(
    loopback: Any, http: Any
) -> None:
    fake = VolcanoV1Server()
    tts = volcano(http[0], loopback(fake.handler).url)
    text = "，".join(f"第{n}句话这是一个很长的回答的一部分" for n in range(60)) + "。"
    assert len(text.encode()) > 3 * 1024
    pieces = ReplySpeaker(tts, MemoryOutput()).pieces(text)

    chunks = [chunk for piece in pieces for chunk in await heard(tts, piece.spoken)]

    texts = [r.json()["request"]["text"] for r in fake.requests]
    assert texts == [piece.spoken for piece in pieces] and len(texts) >= 4
    assert all(len(t.encode()) <= tts.max_text_bytes for t in texts)
    assert all(t.endswith(("，", "。")) for t in texts)  # cut after whole clauses
    assert "".join(texts) == text  # nothing lost, nothing added
    assert len({r.json()["request"]["reqid"] for r in fake.requests}) == len(texts)
    assert pcm_of(chunks) == b"".join(fake.audio(t, 24_000) for t in texts)


@pytest.mark.parametrize("busy", [3003, 3005])
async def test_a_busy_service_is_asked_again(loopback: Any, http: Any, busy: int) -> None:
    fake = VolcanoV1Server()
    fake.fail_next(Fault.vendor(busy))
    tts = volcano(http[0], loopback(fake.handler).url)

    chunks = await heard(tts, "Hello again.")

    assert pcm_of(chunks) == fake.audio("Hello again.", 24_000)
    assert len(fake.requests) == 2
    assert (
        fake.requests[0].json()["request"]["reqid"] != fake.requests[1].json()["request"]["reqid"]
    )


async def test_a_service_that_stays_busy_is_reported(loopback: Any, http: Any) -> None:
    fake = VolcanoV1Server()
    fake.fail_next(*[Fault.vendor(3005)] * 3)
    tts = volcano(http[0], loopback(fake.handler).url)

    with pytest.raises(RateLimitError, match="3005"):
        await heard(tts, "Hello.")
    assert len(fake.requests) == 3


async def test_a_rejected_token_is_not_retried_nor_shown(loopback: Any, http: Any) -> None:
    fake = VolcanoV1Server(token="the-right-token")
    tts = volcano(http[0], loopback(fake.handler).url, token="wrong-secret-token")

    with pytest.raises(AuthError) as caught:
        await heard(tts, "Hello.")

    message = str(caught.value)
    assert "code 3001" in message and "Settings > Voice" in message
    assert "wrong-secret-token" not in message
    assert len(fake.requests) == 1


@pytest.mark.parametrize(
    ("code", "words"),
    [
        (3050, "BV002_streaming"),
        (3010, "too long"),
        (3031, "Try again"),
        (3099, "code 3099"),
    ],
)
async def test_each_refusal_says_what_went_wrong(
    loopback: Any, http: Any, code: int, words: str
) -> None:
    fake = VolcanoV1Server()
    fake.fail_next(Fault.vendor(code))
    tts = volcano(http[0], loopback(fake.handler).url)

    with pytest.raises(ServiceError, match=words) as caught:
        await heard(tts, "Hello.")

    assert f"code {code}" in str(caught.value)
    assert len(fake.requests) == 1


async def test_punctuation_alone_is_silently_skipped(loopback: Any, http: Any) -> None:
    fake = VolcanoV1Server()
    tts = volcano(http[0], loopback(fake.handler).url)

    assert await heard(tts, "……") == []
    assert await heard(tts, "   ") == []
    assert len(fake.requests) == 1  # blank text is not even sent


async def test_audio_that_is_not_base64_is_reported(loopback: Any, http: Any) -> None:
    fake = VolcanoV1Server()
    fake.fail_next(BAD_AUDIO)
    tts = volcano(http[0], loopback(fake.handler).url)

    with pytest.raises(ServiceError, match="could not be decoded"):
        await heard(tts, "Hello.")


@pytest.mark.parametrize("http2", [True, False])
async def test_a_reply_cut_short_is_asked_for_again(loopback: Any, http: Any, http2: bool) -> None:
    fake = VolcanoV1Server()
    fake.fail_next(TRUNCATED)
    tts = volcano(http[0], loopback(fake.handler, http2=http2).url)

    chunks = await heard(tts, "Hello once more.")

    assert pcm_of(chunks) == fake.audio("Hello once more.", 24_000)
    assert len(fake.requests) == 2


async def test_a_gateway_error_page_is_retried_then_reported(loopback: Any, http: Any) -> None:
    fake = VolcanoV1Server()
    fake.fail_next(*[Fault.http(502)] * 3)
    tts = volcano(http[0], loopback(fake.handler).url)

    with pytest.raises(ServiceError, match=r"internal error \(502\)") as caught:
        await heard(tts, "Hello.")

    assert "<html>" not in str(caught.value)
    assert len(fake.requests) == 3


async def test_the_call_id_is_logged_for_support(
    loopback: Any, http: Any, caplog: pytest.LogCaptureFixture
) -> None:
    fake = VolcanoV1Server()
    tts = volcano(http[0], loopback(fake.handler).url)

    with caplog.at_level(logging.INFO, logger="assistant.providers.tts.volcano_v1"):
        await heard(tts, "Hello.")

    assert any("X-Tt-Logid" in r.getMessage() for r in caplog.records)
    assert all(TOKEN not in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize(
    ("settings", "token", "words"),
    [
        ({"appid": ""}, TOKEN, "app ID"),
        ({}, "", "token"),
        ({"sample_rate": 44_100}, TOKEN, "sample rate"),
    ],
)
def test_missing_or_impossible_settings_are_named(
    settings: dict[str, Any], token: str, words: str
) -> None:
    with pytest.raises(ConfigError, match=words):
        volcano(httpx.AsyncClient(), "https://openspeech.bytedance.com", token, **settings)


def test_a_cloud_endpoint_over_plain_http_is_refused() -> None:
    with pytest.raises(EndpointError):
        volcano(httpx.AsyncClient(), "http://openspeech.bytedance.com")
