"""A broken or hostile server cannot exhaust memory or hang a request: caps on audio per sentence
(every network voice), on SSE lines, stream bytes and reply length (chat), and a whole-request
deadline that a slow drip of bytes cannot escape."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from assistant.config import (
    NetworkSettings,
    OpenAiTtsSettings,
    VolcanoTtsSettings,
    VolcanoV3TtsSettings,
)
from assistant.core.errors import ServiceError, UnreachableError
from assistant.core.protocols import Message
from assistant.providers.http import make_http_client
from assistant.providers.llm.openai_chat import MAX_REPLY_CHARS, OpenAiChat
from assistant.providers.tts._common import audio_seconds_allowed
from assistant.providers.tts.openai_speech import OpenAiSpeech
from assistant.providers.tts.volcano_v1 import VolcanoTts
from assistant.providers.tts.volcano_v3 import VolcanoV3Tts
from tests.reliability.conftest import StartFaultServer
from tests.support.chat_server import ChatServer
from tests.support.faults import Fault, chat_delta, endless, huge
from tests.support.loopback import Response, TlsFiles
from tests.support.tts_servers import OpenAiSpeechServer, VolcanoV1Server, VolcanoV3Server

HELLO = [Message("user", "Say hello.")]
TEXT = "Hello there."
RATE = 24_000


@pytest.fixture
async def client(tls: TlsFiles) -> AsyncIterator[httpx.AsyncClient]:
    client, _ = make_http_client(NetworkSettings(ca_file=str(tls.ca_file), read_timeout=1.0))
    yield client
    await client.aclose()


async def spoken(tts: Any, text: str = TEXT) -> bytes:
    return b"".join([chunk.pcm async for chunk in tts.synthesize(text)])


# Audio per sentence.


async def test_openai_speech_stops_a_sentence_whose_audio_never_ends(
    faulty: StartFaultServer, client: httpx.AsyncClient
) -> None:
    server = faulty(OpenAiSpeechServer(api_key=None).handler)
    server.inject(
        Fault.replace(Response(200, {"content-type": "audio/pcm"}, endless(b"\1\0" * 4800)))
    )
    tts = OpenAiSpeech(client, OpenAiTtsSettings(base_url=f"{server.url}/v1"), None)
    heard = bytearray()
    with pytest.raises(ServiceError, match=r"sent more than 16 seconds of audio for one sentence"):
        async for chunk in tts.synthesize(TEXT):
            heard += chunk.pcm
    allowed = audio_seconds_allowed(TEXT) * RATE * 2
    assert len(heard) <= allowed  # nothing beyond the cap reached the speaker


async def test_the_audio_cap_grows_with_the_text_and_the_speed() -> None:
    assert audio_seconds_allowed("Hi.") == pytest.approx(11.5)
    assert audio_seconds_allowed("x" * 200) == pytest.approx(110)
    assert audio_seconds_allowed("x" * 200, speed=2.0) == pytest.approx(55)
    assert audio_seconds_allowed("x" * 4000, speed=0.25) == 600  # never beyond ten minutes


async def test_volcano_v1_refuses_a_reply_too_big_for_its_sentence(
    faulty: StartFaultServer, client: httpx.AsyncClient
) -> None:
    server = faulty(VolcanoV1Server(token="t0k").handler)
    opening = b'{"code": 3000, "message": "Success", "data": "'
    body = endless(base64.b64encode(b"\1\0" * 30_000))

    async def reply() -> AsyncIterator[bytes]:
        yield opening
        async for part in body:
            yield part

    server.inject(Fault.replace(Response(200, {"content-type": "application/json"}, reply())))
    settings = VolcanoTtsSettings(endpoint=f"{server.url}/api/v1/tts", appid="app-1")
    tts = VolcanoTts(client, settings, "t0k")
    with pytest.raises(ServiceError, match="too large to be one sentence's audio"):
        await spoken(tts)


async def test_volcano_v3_stops_a_stream_whose_audio_never_ends(
    faulty: StartFaultServer, client: httpx.AsyncClient
) -> None:
    line = json.dumps({"code": 0, "data": base64.b64encode(b"\1\0" * 2400).decode()}) + "\n"
    server = faulty(VolcanoV3Server(token="t0k").handler)
    server.inject(
        Fault.replace(Response(200, {"content-type": "application/json"}, endless(line.encode())))
    )
    settings = VolcanoV3TtsSettings(
        endpoint=f"{server.url}/api/v3/tts/unidirectional", appid="app-1", speaker="s"
    )
    tts = VolcanoV3Tts(client, settings, "t0k")
    with pytest.raises(ServiceError, match="seconds of audio for one sentence"):
        await spoken(tts)


# The whole-request deadline.


@pytest.mark.parametrize("kind", ["openai", "volcano_v1", "volcano_v3"])
async def test_a_slow_drip_of_audio_is_stopped_at_the_deadline(
    faulty: StartFaultServer, client: httpx.AsyncClient, kind: str
) -> None:
    # Every byte arrives well within the read timeout (1 s), so only a deadline ends this.
    if kind == "openai":
        fake: Any = OpenAiSpeechServer(api_key=None)
        server = faulty(fake.handler)
        tts: Any = OpenAiSpeech(client, OpenAiTtsSettings(base_url=f"{server.url}/v1"), None)
    elif kind == "volcano_v1":
        fake = VolcanoV1Server(token="t0k")
        server = faulty(fake.handler)
        v1 = VolcanoTtsSettings(endpoint=f"{server.url}/api/v1/tts", appid="app-1")
        tts = VolcanoTts(client, v1, "t0k")
    else:
        fake = VolcanoV3Server(token="t0k")
        server = faulty(fake.handler)
        v3 = VolcanoV3TtsSettings(
            endpoint=f"{server.url}/api/v3/tts/unidirectional", appid="app-1", speaker="s"
        )
        tts = VolcanoV3Tts(client, v3, "t0k")
    server.inject(Fault.drip(piece=64, every=0.05))
    deadline = 2 * 1.0 + 0.25 * len(TEXT)  # two read timeouts, and a quarter second a character
    started = time.monotonic()
    with pytest.raises(UnreachableError, match=r"took more than 5 s to send one sentence's audio"):
        await spoken(tts)
    assert deadline * 0.94 < time.monotonic() - started < deadline + 1.5


async def test_a_slow_drip_of_chat_is_stopped_at_the_deadline(
    faulty: StartFaultServer, client: httpx.AsyncClient
) -> None:
    server = faulty(ChatServer("Hello there, how are you today?").handler)
    server.inject(Fault.drip(piece=4, every=0.05))
    chat = OpenAiChat(client, f"{server.url}/v1", "m", None, deadline_seconds=2.0)
    received: list[str] = []
    started = time.monotonic()
    with pytest.raises(UnreachableError, match="took more than 2 s over one reply"):
        async for delta in chat.stream(HELLO):
            received.append(delta)
    assert 1.85 < time.monotonic() - started < 3.5


async def test_the_chat_deadline_is_ten_read_timeouts_by_default(
    faulty: StartFaultServer, client: httpx.AsyncClient
) -> None:
    server = faulty(ChatServer("Hi.").handler)
    server.inject(Fault.drip(piece=1, every=0.1))
    chat = OpenAiChat(client, f"{server.url}/v1", "m", None)
    started = time.monotonic()
    with pytest.raises(UnreachableError, match="took more than 10 s"):
        async for _ in chat.stream(HELLO):
            pass
    assert 9.4 < time.monotonic() - started < 12  # Qt's coarse timers may fire 5 % early


# Chat: lines, streams and replies.


async def test_an_sse_line_without_end_is_refused_at_the_line_cap(
    faulty: StartFaultServer, client: httpx.AsyncClient
) -> None:
    server = faulty(ChatServer("Hi.").handler)
    server.inject(
        Fault.replace(
            Response(200, {"content-type": "text/event-stream"}, endless(b"data: " + b"x" * 8192))
        )
    )
    chat = OpenAiChat(client, f"{server.url}/v1", "m", None)
    with pytest.raises(ServiceError, match="sent a line longer than 1,048,576 bytes"):
        async for _ in chat.stream(HELLO):
            pass


async def test_an_endless_reply_is_cut_off_at_the_reply_cap(
    faulty: StartFaultServer, client: httpx.AsyncClient
) -> None:
    server = faulty(ChatServer("Hi.").handler)
    server.inject(
        Fault.replace(
            Response(200, {"content-type": "text/event-stream"}, endless(chat_delta("la ")))
        )
    )
    chat = OpenAiChat(client, f"{server.url}/v1", "m", None)
    received = 0
    with pytest.raises(ServiceError, match="ran past 65,536 characters"):
        async for delta in chat.stream(HELLO):
            received += len(delta)
    assert received <= MAX_REPLY_CHARS


async def test_an_endless_stream_of_keepalives_is_stopped_at_the_stream_cap(
    faulty: StartFaultServer, client: httpx.AsyncClient
) -> None:
    server = faulty(ChatServer("Hi.").handler)
    server.inject(
        Fault.replace(
            Response(200, {"content-type": "text/event-stream"}, endless(b": ping\n" * 4096))
        )
    )
    chat = OpenAiChat(client, f"{server.url}/v1", "m", None)
    with pytest.raises(ServiceError, match="sent more than 16 MB for one reply"):
        async for _ in chat.stream(HELLO):
            pass


async def test_a_huge_error_body_is_read_only_as_far_as_needed(
    faulty: StartFaultServer, client: httpx.AsyncClient
) -> None:
    server = faulty(ChatServer("Hi.").handler)
    for _ in range(3):  # every try
        body = huge(512 * 1024 * 1024, b"<html>" + b"x" * 65536)
        server.inject(Fault.replace(Response(500, {"content-type": "text/html"}, body)))
    chat = OpenAiChat(client, f"{server.url}/v1", "m", None)
    started = time.monotonic()
    with pytest.raises(ServiceError, match=r"had an internal error \(500\)"):
        async for _ in chat.stream(HELLO):
            pass
    assert time.monotonic() - started < 3  # not half a gigabyte later


async def test_the_brain_check_reads_a_bounded_answer(
    faulty: StartFaultServer, client: httpx.AsyncClient
) -> None:
    server = faulty(ChatServer("Hi.").handler)

    async def models(request: Any) -> Response:
        return Response(
            200, {"content-type": "application/json"}, huge(512 * 1024**2, b" " * 65536)
        )

    server.handler = models
    chat = OpenAiChat(client, f"{server.url}/v1", "m", None)
    started = time.monotonic()
    await chat.check()  # a cloud service that answered: fine, and without reading it all
    assert time.monotonic() - started < 3
