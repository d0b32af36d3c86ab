"""The streaming chat client against real HTTPS servers on 127.0.0.1 speaking OpenAI's wire format:
streaming, every error a user can meet, cancellation, and the conversation's round trip."""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections.abc import AsyncIterator, Callable
from contextlib import aclosing
from typing import Any

import httpx
import pytest

from assistant.config import NetworkSettings
from assistant.core.conversation import Conversation
from assistant.core.errors import (
    AuthError,
    ConfigError,
    EndpointError,
    RateLimitError,
    ServiceError,
    UnreachableError,
)
from assistant.core.protocols import ChatModel, Message
from assistant.providers.http import make_http_client
from assistant.providers.llm.openai_chat import MAX_REPLY_CHARS, PRESETS, OpenAiChat
from tests.support.chat_server import ChatServer, openai_error
from tests.support.loopback import LoopbackServer, Response, TlsFiles

Loopback = Callable[..., LoopbackServer]
HELLO = [Message("system", "Be brief."), Message("user", "Say hello.")]
KEY = "sk-test-0123456789abcdef"


@pytest.fixture
async def client(tls: TlsFiles) -> AsyncIterator[httpx.AsyncClient]:
    client, _ = make_http_client(NetworkSettings(ca_file=str(tls.ca_file)))
    yield client
    await client.aclose()


def chat_for(
    client: httpx.AsyncClient, server: LoopbackServer, key: str | None = KEY, **kwargs: Any
) -> OpenAiChat:
    return OpenAiChat(client, f"{server.url}/v1", "test-model", key, **kwargs)


async def reply_of(chat: ChatModel, messages: list[Message] = HELLO) -> str:
    return "".join([delta async for delta in chat.stream(messages)])


async def first_delta_then_close(chat: ChatModel) -> str:
    async with aclosing(chat.stream(HELLO)) as deltas:
        async for delta in deltas:
            return delta
    raise AssertionError("the stream ended without a delta")


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# Streaming.


async def test_the_reply_arrives_in_pieces_and_whole(
    loopback: Loopback, client: httpx.AsyncClient
) -> None:
    reply = "Hello! Nice to meet you. How can I help today?"
    chat_server = ChatServer(reply, token_chars=5)
    server = loopback(chat_server.handler)
    deltas = [delta async for delta in chat_for(client, server).stream(HELLO)]
    assert "".join(deltas) == reply
    assert len(deltas) == len(range(0, len(reply), 5))
    body = chat_server.bodies[0]
    assert body["model"] == "test-model"
    assert body["stream"] is True
    assert "stream_options" not in body
    assert chat_server.received[0] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Say hello."},
    ]
    assert server.requests[0].path == "/v1/chat/completions"
    assert server.requests[0].headers["authorization"] == f"Bearer {KEY}"


async def test_no_authorization_header_without_a_key(
    loopback: Loopback, client: httpx.AsyncClient
) -> None:
    server = loopback(ChatServer("Hi.").handler)
    assert await reply_of(chat_for(client, server, key=None)) == "Hi."
    assert "authorization" not in server.requests[0].headers


async def test_temperature_is_sent_only_when_set(
    loopback: Loopback, client: httpx.AsyncClient
) -> None:
    chat_server = ChatServer("Hi.")
    server = loopback(chat_server.handler)
    await reply_of(chat_for(client, server))
    await reply_of(chat_for(client, server, temperature=0.3))
    assert "temperature" not in chat_server.bodies[0]
    assert chat_server.bodies[1]["temperature"] == 0.3


async def test_the_first_delta_arrives_while_the_server_is_still_writing(
    loopback: Loopback, client: httpx.AsyncClient
) -> None:
    # The server holds the rest of the reply until the client has shown it got the first word:
    # a client that waited for the whole body would never get there.
    chat_server = ChatServer("One two three four.", token_chars=4, pause_after=1)
    server = loopback(chat_server.handler)
    async with aclosing(chat_for(client, server).stream(HELLO)) as deltas:
        first = await asyncio.wait_for(anext(deltas), 10)
        assert first == "One "
        assert chat_server.streams_finished == 0
        chat_server.resume()
        rest = [delta async for delta in deltas]
    assert first + "".join(rest) == "One two three four."


async def test_deltas_are_handed_on_as_the_server_sends_them(
    loopback: Loopback, client: httpx.AsyncClient
) -> None:
    chat_server = ChatServer("abcdefgh" * 3, token_chars=8, delay_each=0.4)
    server = loopback(chat_server.handler)
    arrivals: list[float] = []
    async for _ in chat_for(client, server).stream(HELLO):
        arrivals.append(time.monotonic())
    sent = chat_server.sent_times
    assert len(arrivals) == len(sent) == 3
    # The first delta was in hand before the server even wrote the second, 0.4 s later.
    assert arrivals[0] < sent[1]
    assert all(arrival - send < 0.3 for arrival, send in zip(arrivals, sent, strict=True))


@pytest.mark.parametrize("http2", [True, False], ids=["http2", "http1.1"])
async def test_keepalives_crlf_and_split_characters_change_nothing(
    loopback: Loopback, client: httpx.AsyncClient, http2: bool
) -> None:
    reply = "Grüße aus Köln — 你好，世界! 👋🏽"
    chat_server = ChatServer(
        reply, token_chars=3, keepalives=True, line_end="\r\n", chunk_bytes=1, usage_choices=None
    )
    server = loopback(chat_server.handler, http2=http2)
    assert await reply_of(chat_for(client, server)) == reply


async def test_a_server_that_ignores_stream_true_still_gives_the_reply(
    loopback: Loopback, client: httpx.AsyncClient
) -> None:
    chat_server = ChatServer("All at once.")
    server = loopback(lambda request: _unstreamed(chat_server, request))
    assert await reply_of(chat_for(client, server)) == "All at once."


async def _unstreamed(chat_server: ChatServer, request: Any) -> Response:
    request.body = request.body.replace(b'"stream": true', b'"stream": false')
    return await chat_server.handler(request)


@pytest.mark.parametrize("http2", [True, False], ids=["http2", "http1.1"])
async def test_one_connection_serves_turn_after_turn(
    loopback: Loopback, client: httpx.AsyncClient, http2: bool
) -> None:
    server = loopback(ChatServer("Again and again.").handler, http2=http2)
    chat = chat_for(client, server)
    for _ in range(3):
        assert await reply_of(chat) == "Again and again."
    assert server.connections == 1


async def test_a_runaway_reply_is_cut_off(loopback: Loopback, client: httpx.AsyncClient) -> None:
    server = loopback(ChatServer("x" * (MAX_REPLY_CHARS + 10), token_chars=4096).handler)
    received = 0
    with pytest.raises(ServiceError, match="cut off"):
        async for delta in chat_for(client, server).stream(HELLO):
            received += len(delta)
    assert received <= MAX_REPLY_CHARS


# Errors a user can meet.


@pytest.mark.parametrize("status", [401, 403])
async def test_a_rejected_key_says_where_to_fix_it(
    loopback: Loopback, client: httpx.AsyncClient, status: int
) -> None:
    failure = openai_error(status, f"Incorrect API key provided: {KEY}", code="invalid_api_key")
    server = loopback(ChatServer("never", fail_with=failure).handler)
    with pytest.raises(AuthError) as caught:
        await reply_of(chat_for(client, server))
    assert str(caught.value).startswith(
        f"The chat service at 127.0.0.1:{server.port} rejected the chat API key ({status}). "
        "Check the key in Settings > API keys."
    )
    assert KEY not in str(caught.value)


async def test_a_missing_model_is_named_with_the_host(
    loopback: Loopback, client: httpx.AsyncClient
) -> None:
    failure = openai_error(404, "The model `test-model` does not exist", code="model_not_found")
    server = loopback(ChatServer("never", fail_with=failure).handler)
    with pytest.raises(ServiceError) as caught:
        await reply_of(chat_for(client, server))
    assert str(caught.value) == (
        f"The model 'test-model' is not available on 127.0.0.1:{server.port}. "
        "Pick another model in Settings."
    )


async def test_ollama_style_missing_model_is_recognised(
    loopback: Loopback, client: httpx.AsyncClient
) -> None:
    failure = openai_error(404, 'model "test-model" not found, try pulling it first', code=None)
    server = loopback(ChatServer("never", fail_with=failure).handler)
    with pytest.raises(ServiceError, match="The model 'test-model' is not available"):
        await reply_of(chat_for(client, server))


async def test_a_wrong_path_points_at_the_endpoint_setting(
    loopback: Loopback, client: httpx.AsyncClient
) -> None:
    failure = Response(404, {"content-type": "text/plain"}, b"404 page not found")
    server = loopback(ChatServer("never", fail_with=failure).handler)
    with pytest.raises(ServiceError, match=r"no chat service at /v1/chat/completions \(404\)"):
        await reply_of(chat_for(client, server))


@pytest.mark.parametrize(
    ("retry_after", "expected"), [("7", 7.0), ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0), (None, None)]
)
async def test_rate_limiting_carries_the_wait(
    loopback: Loopback,
    client: httpx.AsyncClient,
    retry_after: str | None,
    expected: float | None,
) -> None:
    headers = {"retry-after": retry_after} if retry_after else None
    failure = openai_error(429, "Rate limit reached", error_type="rate_limit", headers=headers)
    server = loopback(ChatServer("never", fail_with=failure).handler)
    with pytest.raises(RateLimitError, match="Rate limit reached") as caught:
        await reply_of(chat_for(client, server))
    assert caught.value.retry_after == expected
    assert caught.value.retryable


@pytest.mark.parametrize("status", [500, 502, 503])
async def test_a_server_failure_is_a_retryable_service_error(
    loopback: Loopback, client: httpx.AsyncClient, status: int
) -> None:
    failure = openai_error(status, "The engine is overloaded", error_type="server_error")
    server = loopback(ChatServer("never", fail_with=failure).handler)
    with pytest.raises(
        ServiceError, match=rf"had an internal error \({status}\)\. The server said"
    ) as caught:
        await reply_of(chat_for(client, server))
    assert type(caught.value) is ServiceError
    assert caught.value.retryable


async def test_a_bad_request_shows_the_servers_reason(
    loopback: Loopback, client: httpx.AsyncClient
) -> None:
    failure = openai_error(400, "This model's maximum context length is 8192 tokens.")
    server = loopback(ChatServer("never", fail_with=failure).handler)
    with pytest.raises(ServiceError, match="maximum context length is 8192 tokens"):
        await reply_of(chat_for(client, server))


async def test_an_error_in_the_middle_of_the_stream(
    loopback: Loopback, client: httpx.AsyncClient
) -> None:
    server = loopback(ChatServer("Hello there, friend.", token_chars=6, error_after=2).handler)
    received: list[str] = []
    with pytest.raises(ServiceError, match="The model crashed mid-reply"):
        async for delta in chat_for(client, server).stream(HELLO):
            received.append(delta)
    assert received == ["Hello ", "there,"]


async def test_a_non_chat_answer_is_refused(loopback: Loopback, client: httpx.AsyncClient) -> None:
    page = Response(200, {"content-type": "text/html"}, b"<html>Welcome to nginx!</html>")
    server = loopback(ChatServer("never", fail_with=page).handler)
    with pytest.raises(ServiceError, match="instead of a stream of events"):
        await reply_of(chat_for(client, server))


async def test_a_closed_port_is_unreachable(client: httpx.AsyncClient) -> None:
    chat = OpenAiChat(client, f"http://127.0.0.1:{closed_port()}/v1", "m", None)
    with pytest.raises(UnreachableError, match="Could not connect to the chat service") as caught:
        await reply_of(chat)
    assert "Ollama" not in str(caught.value)


async def test_ollama_not_running_gets_a_hint(client: httpx.AsyncClient) -> None:
    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", 11434)) == 0:
            pytest.skip("something listens on port 11434 here")
    chat = OpenAiChat(client, PRESETS["ollama"][0], PRESETS["ollama"][1], None)
    with pytest.raises(UnreachableError) as caught:
        await reply_of(chat)
    assert "Is Ollama running? Start it (ollama serve) or choose another endpoint in Settings." in (
        str(caught.value)
    )


async def test_a_silent_server_times_out(loopback: Loopback, tls: TlsFiles) -> None:
    server = loopback(ChatServer("Too late.", delay_first=1.5).handler)
    client, _ = make_http_client(NetworkSettings(ca_file=str(tls.ca_file), read_timeout=0.3))
    try:
        started = time.monotonic()
        with pytest.raises(UnreachableError, match="stopped answering"):
            await reply_of(chat_for(client, server))
        assert time.monotonic() - started < 1.2
    finally:
        await client.aclose()


def test_endpoints_are_checked_when_configured(client: httpx.AsyncClient) -> None:
    with pytest.raises(EndpointError, match="plain http to another machine"):
        OpenAiChat(client, "http://chat.example.com/v1", "m", KEY)
    with pytest.raises(ConfigError, match="Paste the key again") as caught:
        OpenAiChat(client, "https://chat.example.com/v1", "m", "sk-abc\ndef")
    assert "sk-abc" not in str(caught.value)
    assert KEY not in repr(OpenAiChat(client, "https://chat.example.com/v1", "m", KEY))


def test_every_preset_passes_the_endpoint_policy(client: httpx.AsyncClient) -> None:
    for base_url, model in PRESETS.values():
        OpenAiChat(client, base_url, model, None)


# Stopping early.


@pytest.mark.parametrize("http2", [True, False], ids=["http2", "http1.1"])
async def test_closing_the_stream_mid_reply_stops_it_and_the_client_goes_on(
    loopback: Loopback, client: httpx.AsyncClient, http2: bool
) -> None:
    # The server holds the rest of the reply: a client that read on before closing would hang.
    held = ChatServer("word " * 40, token_chars=5, pause_after=1)
    server = loopback(held.handler, http2=http2)
    chat = chat_for(client, server)
    async with aclosing(chat.stream(HELLO)) as deltas:
        assert await asyncio.wait_for(anext(deltas), 10) == "word "
        started = time.monotonic()
    assert time.monotonic() - started < 0.5
    held.resume()
    held.reply = "Next turn."
    assert await reply_of(chat) == "Next turn."
    # HTTP/2 resets only the stream; HTTP/1.1 must drop the half-read connection.
    assert server.connections == (1 if http2 else 2)


async def test_cancelling_the_task_mid_reply_stops_it_and_the_client_goes_on(
    loopback: Loopback, client: httpx.AsyncClient
) -> None:
    held = ChatServer("word " * 40, token_chars=5, pause_after=1)
    server = loopback(held.handler)
    chat = chat_for(client, server)
    first = asyncio.Event()

    async def listen() -> None:
        async for _ in chat.stream(HELLO):
            first.set()

    task = asyncio.create_task(listen())
    await asyncio.wait_for(first.wait(), 10)
    started = time.monotonic()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert time.monotonic() - started < 0.5
    held.resume()
    held.reply = "Still here."
    assert await reply_of(chat) == "Still here."
    assert server.connections == 1


# The conversation, end to end.


async def test_the_server_receives_the_system_prompt_and_the_history(
    loopback: Loopback, client: httpx.AsyncClient
) -> None:
    chat_server = ChatServer(lambda messages: f"You said: {messages[-1]['content']}")
    server = loopback(chat_server.handler)
    chat = chat_for(client, server)
    conversation = Conversation("You are terse.", budget_chars=10_000)
    for question in ("What time is it?", "And the date?"):
        conversation.add_user(question)
        conversation.add_assistant(await reply_of(chat, conversation.messages()))
    assert chat_server.received[1] == [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": "What time is it?"},
        {"role": "assistant", "content": "You said: What time is it?"},
        {"role": "user", "content": "And the date?"},
    ]
    assert conversation.turns[-1].text == "You said: And the date?"


async def test_an_interrupted_reply_is_sent_back_marked(
    loopback: Loopback, client: httpx.AsyncClient
) -> None:
    chat_server = ChatServer("The weather today is sunny with a light breeze.", token_chars=12)
    server = loopback(chat_server.handler)
    chat = chat_for(client, server)
    conversation = Conversation("You are terse.", budget_chars=10_000)
    conversation.add_user("How is the weather?")
    heard = await first_delta_then_close(chat)
    conversation.add_assistant(heard, interrupted=True)
    conversation.add_user("Never mind.")
    await reply_of(chat, conversation.messages())
    assert chat_server.received[1][2] == {
        "role": "assistant",
        "content": "The weather …[interrupted]",
    }


async def test_the_key_never_reaches_the_log(
    loopback: Loopback, client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    server = loopback(ChatServer("Hi.").handler)
    with caplog.at_level(logging.DEBUG):
        assert await reply_of(chat_for(client, server)) == "Hi."
    # Every library's debug log on the app's side (the server's thread logs what it received).
    ours = [r for r in caplog.records if not r.threadName.startswith("loopback:")]
    assert any(r.name.startswith("hpack") for r in ours)
    assert all(KEY not in r.getMessage() for r in ours)
