"""Hostile and broken servers that an adversarial run found weak spots with (issue 13), each
reproduced against a real HTTPS server on 127.0.0.1 and answered by the one network layer
(`assistant/providers/http`): every case ends within a bound, with words that say what happened
and what to do, and never with a traceback, a secret, or silence.
"""

from __future__ import annotations

import json
import resource
import time
import wave
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import h2.exceptions
import httpx
import numpy as np
import pytest

from assistant.audio.files import read_audio
from assistant.config import (
    NetworkSettings,
    OpenAiTtsSettings,
    RemoteSttSettings,
    VolcanoTtsSettings,
    VolcanoV3TtsSettings,
)
from assistant.core.errors import (
    AuthError,
    ConfigError,
    RateLimitError,
    ReplyCutOff,
    ServiceError,
    UnreachableError,
)
from assistant.core.protocols import Message, Recording
from assistant.providers.http import (
    KeyOrigin,
    Service,
    key_origin,
    make_http_client,
    network_error,
    retry_after,
    scrub,
    status_error,
)
from assistant.providers.llm.openai_chat import OpenAiChat
from assistant.providers.stt.openai_remote import RemoteTranscriber
from assistant.providers.tts.openai_speech import OpenAiSpeech
from assistant.providers.tts.volcano_v1 import VolcanoTts
from assistant.providers.tts.volcano_v3 import VolcanoV3Tts
from tests.reliability.conftest import StartFaultServer
from tests.support.encoded import mp3_bytes, wav_bytes
from tests.support.faults import Fault, endless, huge, sse_event
from tests.support.loopback import Request, Response, TlsFiles

HELLO = [Message("user", "Say hello.")]
CLIP = Path(__file__).parents[1] / "data" / "speech" / "ds_2830-3980-0043.wav"
SSE = {"content-type": "text/event-stream"}
KEY = "sk-test-0123456789abcdef"


@pytest.fixture
async def client(tls: TlsFiles) -> AsyncIterator[httpx.AsyncClient]:
    client, _ = make_http_client(NetworkSettings(ca_file=str(tls.ca_file), read_timeout=1.0))
    yield client
    await client.aclose()


def speech() -> Recording:
    with wave.open(str(CLIP), "rb") as wav:
        return Recording(wav.readframes(wav.getnframes()), wav.getframerate())


def answering(response: Response) -> Any:
    async def handler(request: Request) -> Response:
        return response

    return handler


def chunk(delta: dict[str, Any], finish_reason: str | None = None) -> bytes:
    choice = {"index": 0, "delta": delta, "finish_reason": finish_reason}
    return sse_event(json.dumps({"object": "chat.completion.chunk", "choices": [choice]}))


def sse(*events: bytes, done: bool = True) -> Response:
    return Response(200, SSE, b"".join(events) + (sse_event("[DONE]") if done else b""))


async def reply_of(chat: OpenAiChat) -> str:
    return "".join([delta async for delta in chat.stream(HELLO)])


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# 1. Remote transcription: a body cap, a whole-request deadline, a transcript that fits the speech.


async def test_a_huge_transcription_reply_is_refused_without_filling_memory(
    faulty: StartFaultServer, client: httpx.AsyncClient
) -> None:
    before = peak_rss_mb()
    server = faulty(answering(Response(200, {"content-type": "application/json"})))
    body = huge(1_500_000_000, b'{"text": "' + b"a" * 65_536)
    server.inject(Fault.replace(Response(200, {"content-type": "application/json"}, body)))
    started = time.monotonic()
    with pytest.raises(ServiceError, match=r"far longer than \d+ s of speech can be"):
        await RemoteTranscriber(client, RemoteSttSettings(f"{server.url}/v1"), KEY).transcribe(
            speech()
        )
    assert time.monotonic() - started < 5
    assert peak_rss_mb() - before < 50  # a 1.5 GB reply once grew the process to 3.6 GB


async def test_a_transcription_reply_that_drips_is_stopped_at_its_deadline(
    faulty: StartFaultServer, client: httpx.AsyncClient
) -> None:
    server = faulty(answering(Response.json({"text": "hello"})))
    slow = endless(b" ", every=0.3)  # under the 1 s read timeout: only a deadline stops it
    server.inject(Fault.replace(Response(200, {"content-type": "application/json"}, slow)))
    recording = speech()
    started = time.monotonic()
    with pytest.raises(UnreachableError, match=r"took more than \d+ s over one recording"):
        await RemoteTranscriber(client, RemoteSttSettings(f"{server.url}/v1"), KEY).transcribe(
            recording
        )
    # The deadline: 2 read timeouts and the recording's length (a byte every 5 s ran for ever).
    assert time.monotonic() - started < 2 * 1.0 + recording.duration + 1.5


async def test_a_transcript_longer_than_anyone_speaks_never_reaches_the_chat(
    faulty: StartFaultServer, client: httpx.AsyncClient
) -> None:
    server = faulty(answering(Response.json({"text": "word " * 1_000_000})))  # 5 MB
    with pytest.raises(ServiceError, match=r"far longer than \d+ s of speech can be"):
        await RemoteTranscriber(client, RemoteSttSettings(f"{server.url}/v1"), KEY).transcribe(
            speech()
        )


async def test_a_transcription_server_failing_once_is_asked_again(
    faulty: StartFaultServer, client: httpx.AsyncClient
) -> None:
    server = faulty(answering(Response.json({"text": "hello there"})))
    server.inject(Fault.replace(Response(502), "5xx"))
    transcriber = RemoteTranscriber(client, RemoteSttSettings(f"{server.url}/v1"), KEY)
    assert (await transcriber.transcribe(speech())).text == "hello there"


# 2. Keys with a character that no key has are refused when the voice is made, in words.


@pytest.mark.parametrize("odd", ["\u200b", "é", " "])
def test_every_voice_and_transcriber_refuses_a_key_no_key_could_be(
    client: httpx.AsyncClient, odd: str
) -> None:
    key = f"sk-abc{odd}def"
    makers = [
        lambda: OpenAiSpeech(client, OpenAiTtsSettings(), key),
        lambda: VolcanoTts(client, VolcanoTtsSettings(appid="1"), key),
        lambda: VolcanoV3Tts(client, VolcanoV3TtsSettings(appid="1", speaker="s"), key),
        lambda: RemoteTranscriber(client, RemoteSttSettings(), key),
        lambda: OpenAiChat(client, "https://api.openai.com/v1", "m", key),
    ]
    for make in makers:
        with pytest.raises(ConfigError, match="Paste the key again in Settings > API keys") as bad:
            make()
        assert "abc" not in str(bad.value)


def test_a_bad_key_from_the_environment_is_blamed_on_the_environment(
    client: httpx.AsyncClient,
) -> None:
    origin = key_origin("openai_api_key", from_environment=True)
    with pytest.raises(ConfigError) as bad:
        OpenAiSpeech(client, OpenAiTtsSettings(), "sk-é", key=origin)
    assert str(bad.value) == (
        "The OpenAI API key from the environment variable ASSISTANT_OPENAI_API_KEY contains a "
        "character that keys never have (LATIN SMALL LETTER E WITH ACUTE). Set "
        "ASSISTANT_OPENAI_API_KEY again without it."
    )


# 5. Chat replies that carry no text, or are cut, are told; text in other shapes is read.


async def test_a_reply_of_tool_calls_only_is_told(
    faulty: StartFaultServer, client: httpx.AsyncClient
) -> None:
    call = {"tool_calls": [{"index": 0, "id": "c1", "function": {"name": "f", "arguments": ""}}]}
    server = faulty(answering(sse(chunk(call), chunk({}, "tool_calls"))))
    with pytest.raises(ServiceError, match="asked to use a tool instead of answering in words"):
        await reply_of(OpenAiChat(client, f"{server.url}/v1", "m", None))


async def test_content_given_as_a_list_of_parts_is_read(
    faulty: StartFaultServer, client: httpx.AsyncClient
) -> None:
    parts = {"content": [{"type": "text", "text": "Hello "}, {"type": "text", "text": "there."}]}
    server = faulty(answering(sse(chunk(parts), chunk({}, "stop"))))
    assert await reply_of(OpenAiChat(client, f"{server.url}/v1", "m", None)) == "Hello there."


async def test_reasoning_is_skipped_and_the_answer_spoken(
    faulty: StartFaultServer, client: httpx.AsyncClient
) -> None:
    thinking = chunk({"reasoning_content": "The user wants a greeting. "})
    server = faulty(answering(sse(thinking, chunk({"content": "Hello."}), chunk({}, "stop"))))
    assert await reply_of(OpenAiChat(client, f"{server.url}/v1", "m", None)) == "Hello."


async def test_a_reply_of_reasoning_only_is_told(
    faulty: StartFaultServer, client: httpx.AsyncClient
) -> None:
    server = faulty(answering(sse(chunk({"reasoning": "Hmm. "}), chunk({}, "stop"))))
    with pytest.raises(ServiceError, match="only thought about the question and sent no answer"):
        await reply_of(OpenAiChat(client, f"{server.url}/v1", "m", None))


async def test_an_error_event_says_the_vendors_words(
    faulty: StartFaultServer, client: httpx.AsyncClient
) -> None:
    error = b'event: error\ndata: {"error": {"message": "The model is overloaded"}}\n\n'
    server = faulty(answering(sse(error, done=False)))
    with pytest.raises(ServiceError, match="in the middle of the reply: The model is overloaded"):
        await reply_of(OpenAiChat(client, f"{server.url}/v1", "m", None))


async def test_a_quota_error_sent_as_the_body_of_a_stream_is_told_with_its_words(
    faulty: StartFaultServer, client: httpx.AsyncClient
) -> None:
    quota = {
        "error": {
            "message": "You exceeded your current quota, please check your plan.",
            "type": "insufficient_quota",
            "code": "insufficient_quota",
        }
    }
    server = faulty(answering(Response(200, SSE, json.dumps(quota).encode() + b"\n")))
    with pytest.raises(RateLimitError, match="quota is used up") as caught:
        await reply_of(OpenAiChat(client, f"{server.url}/v1", "m", None))
    assert "You exceeded your current quota" in str(caught.value)


@pytest.mark.parametrize(
    "body",
    [b"", sse_event('{"choices": []}') + sse_event("[DONE]")],
    ids=["empty body", "no choices"],
)
async def test_a_reply_without_any_text_is_told(
    faulty: StartFaultServer, client: httpx.AsyncClient, body: bytes
) -> None:
    server = faulty(answering(Response(200, SSE, body)))
    with pytest.raises(ServiceError, match="ended the reply without any text"):
        await reply_of(OpenAiChat(client, f"{server.url}/v1", "m", None))


async def test_a_body_compressed_in_an_encoding_the_client_cannot_read_is_told(
    faulty: StartFaultServer, client: httpx.AsyncClient
) -> None:
    headers = {**SSE, "content-encoding": "br"}
    server = faulty(answering(Response(200, headers, b"\x8b\x02\x80Hello\x03")))
    with pytest.raises(ServiceError, match="compressed as 'br', which this app cannot read"):
        await reply_of(OpenAiChat(client, f"{server.url}/v1", "m", None))


@pytest.mark.parametrize(
    ("reason", "words"),
    [("length", "reached its length limit"), ("content_filter", "content filter stopped")],
)
async def test_a_reply_cut_by_the_service_is_spoken_then_told(
    faulty: StartFaultServer, client: httpx.AsyncClient, reason: str, words: str
) -> None:
    server = faulty(answering(sse(chunk({"content": "The first part"}), chunk({}, reason))))
    received: list[str] = []
    with pytest.raises(ReplyCutOff, match=words):
        async for delta in OpenAiChat(client, f"{server.url}/v1", "m", None).stream(HELLO):
            received.append(delta)
    assert received == ["The first part"]


# 11. Plain words: no absurd waits, no library reprs, a missing key named as missing.


def test_a_retry_after_date_far_in_the_future_is_not_told_in_seconds() -> None:
    far = format_datetime(datetime.now(UTC) + timedelta(days=26_000), usegmt=True)
    service = Service("chat service", "https://127.0.0.1/v1/chat/completions", "Settings")
    error = status_error(429, service, retry_after=retry_after(far))
    message = str(getattr(error, "error", error))
    assert "more than a day" in message
    assert not any(part.isdigit() and len(part) > 4 for part in message.split())


def test_a_retry_after_that_is_not_a_finite_number_is_ignored() -> None:
    assert retry_after("inf") is None
    assert retry_after("nan") is None
    assert retry_after("-5") == 0.0
    assert retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0


def test_library_reprs_never_reach_a_message() -> None:
    reset = "<StreamReset stream_id:1, error_code:ErrorCodes.INTERNAL_ERROR, remote_reset:True>"
    service = Service("speech service", "https://127.0.0.1/v1/audio/speech", "Settings > Voice")
    for exc in (httpx.RemoteProtocolError(reset), h2.exceptions.ProtocolError(reset)):
        error = network_error(exc, service, answering=True)
        message = str(getattr(error, "error", error))
        assert "<" not in message and "StreamReset" not in message
        assert message.startswith("The connection to the speech service at 127.0.0.1 broke off")
    assert scrub(f"bad key {KEY} \u202egnp.exe", KEY) == "bad key *** gnp.exe"


async def test_a_401_without_a_key_says_the_key_is_missing_and_where_it_goes(
    faulty: StartFaultServer, client: httpx.AsyncClient
) -> None:
    server = faulty(answering(Response.json({"error": {"message": "no key"}}, 401)))
    with pytest.raises(AuthError) as caught:
        await reply_of(OpenAiChat(client, f"{server.url}/v1", "m", None))
    assert str(caught.value) == (
        f"The chat service at 127.0.0.1:{server.port} needs an API key, and no chat API key is "
        "set. Add it in Settings > API keys, or set the environment variable "
        "ASSISTANT_LLM_API_KEY."
    )


async def test_a_rejected_key_from_the_environment_names_the_variable(
    faulty: StartFaultServer, client: httpx.AsyncClient
) -> None:
    server = faulty(answering(Response.json({"error": {"message": f"bad key {KEY}"}}, 401)))
    origin = KeyOrigin("chat API key", "ASSISTANT_LLM_API_KEY", from_environment=True)
    with pytest.raises(AuthError) as caught:
        await reply_of(OpenAiChat(client, f"{server.url}/v1", "m", KEY, key=origin))
    assert str(caught.value) == (
        f"The chat service at 127.0.0.1:{server.port} rejected the chat API key (401). Check the "
        "key in the environment variable ASSISTANT_LLM_API_KEY."
    )


# 3. A voice's body is what its first bytes say, whatever its content type: decoded, or refused.


async def spoken(tts: OpenAiSpeech, text: str = "Hello there.") -> bytes:
    return b"".join([chunk.pcm async for chunk in tts.synthesize(text)])


def octet_stream(body: bytes) -> Any:
    return answering(Response(200, {"content-type": "application/octet-stream"}, body))


def clip_at(rate: int) -> bytes:
    return read_audio(CLIP, rate)


async def test_a_voice_sending_wav_is_played_without_its_header(
    faulty: StartFaultServer, client: httpx.AsyncClient
) -> None:
    pcm = clip_at(24_000)
    server = faulty(octet_stream(wav_bytes(pcm, 24_000)))
    played = await spoken(OpenAiSpeech(client, OpenAiTtsSettings(f"{server.url}/v1"), None))
    assert played == pcm  # the 44-byte header once played as a loud click


async def test_a_voice_sending_mp3_is_decoded_not_played_as_noise(
    faulty: StartFaultServer, client: httpx.AsyncClient
) -> None:
    pcm = clip_at(24_000)
    server = faulty(octet_stream(mp3_bytes(pcm, 24_000)))
    played = await spoken(OpenAiSpeech(client, OpenAiTtsSettings(f"{server.url}/v1"), None))
    samples = np.frombuffer(played, dtype=np.int16).astype(np.float64) / 32768
    original = np.frombuffer(pcm, dtype=np.int16).astype(np.float64) / 32768
    # Decoded speech is about as loud as the speech encoded (MP3 bytes as PCM peaked at 0 dBFS).
    assert abs(len(samples) - len(original)) < 24_000 * 0.1
    assert np.sqrt(np.mean(samples**2)) < 1.5 * np.sqrt(np.mean(original**2))


async def test_a_json_error_sent_as_audio_is_told_with_the_servers_words(
    faulty: StartFaultServer, client: httpx.AsyncClient
) -> None:
    error = json.dumps({"error": {"message": f"Invalid voice for key {KEY}"}}).encode()
    server = faulty(octet_stream(error))
    with pytest.raises(ServiceError) as caught:
        await spoken(OpenAiSpeech(client, OpenAiTtsSettings(f"{server.url}/v1"), KEY))
    assert "Invalid voice for key ***" in str(caught.value)


async def test_an_empty_voice_reply_is_told_not_played_as_silence(
    faulty: StartFaultServer, client: httpx.AsyncClient
) -> None:
    server = faulty(octet_stream(b""))
    with pytest.raises(ServiceError, match="sent no audio for this sentence"):
        await spoken(OpenAiSpeech(client, OpenAiTtsSettings(f"{server.url}/v1"), None))


# The same rule for cases the adversarial run did not list.


@pytest.mark.parametrize("text", [None, 123, ["a"]])
async def test_a_transcript_that_is_not_text_is_refused_not_said_as_none(
    faulty: StartFaultServer, client: httpx.AsyncClient, text: object
) -> None:
    server = faulty(answering(Response.json({"text": text})))
    with pytest.raises(ServiceError, match="something other than a transcript"):
        await RemoteTranscriber(client, RemoteSttSettings(f"{server.url}/v1"), KEY).transcribe(
            speech()
        )


async def test_control_characters_from_a_model_never_reach_the_screen(
    faulty: StartFaultServer, client: httpx.AsyncClient
) -> None:
    hostile = "Hello\x1b]0;owned\x07 there\x00.\r\nBye\x9b2J."
    server = faulty(answering(sse(chunk({"content": hostile}), chunk({}, "stop"))))
    reply = await reply_of(OpenAiChat(client, f"{server.url}/v1", "m", None))
    assert reply == "Hello]0;owned there.\nBye2J."


@pytest.mark.parametrize(
    ("field", "words"),
    [("appid", "The Volcano TTS app ID"), ("resource_id", "The Volcano TTS resource ID")],
)
def test_a_volcano_setting_sent_in_a_header_is_checked_when_the_voice_is_made(
    client: httpx.AsyncClient, field: str, words: str
) -> None:
    settings = VolcanoV3TtsSettings(appid="1234", speaker="s")
    setattr(settings, field, "12\u200b34")
    with pytest.raises(ConfigError, match=f"{words} contains an invisible character"):
        VolcanoV3Tts(client, settings, "token")
