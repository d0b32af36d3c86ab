"""The model field's list: `GET {base_url}/models` on real servers (HTTPS on 127.0.0.1, and plain
http the way a local Ollama answers), through the app's client, with every failure in words."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from assistant.config import NetworkSettings
from assistant.core.errors import AuthError, EndpointError, ServiceError, UnreachableError
from assistant.providers.http import make_http_client
from assistant.providers.llm.model_list import MAX_LISTING_BYTES, list_models, model_names
from tests.support.chat_server import openai_error
from tests.support.loopback import LoopbackServer, Request, Response, TlsFiles
from tests.support.plain_http import PlainHttpServer, PlainRequest

Loopback = Callable[..., LoopbackServer]
KEY = "sk-test-0123456789abcdef"
OPENAI_LISTING = {
    "object": "list",
    "data": [
        {"id": "gpt-4o-mini", "object": "model", "owned_by": "system"},
        {"id": "Whisper-1", "object": "model", "owned_by": "system"},
        {"id": "gpt-4o", "object": "model", "owned_by": "system"},
        {"id": "gpt-4o", "object": "model", "owned_by": "system"},
    ],
}


@pytest.fixture
async def client(tls: TlsFiles) -> AsyncIterator[httpx.AsyncClient]:
    client, _ = make_http_client(NetworkSettings(ca_file=str(tls.ca_file)))
    yield client
    await client.aclose()


def serving(response: Response) -> Callable[[Request], Any]:
    async def handler(request: Request) -> Response:
        return response

    return handler


async def test_the_models_are_listed_sorted_once_each_with_the_key(
    loopback: Loopback, client: httpx.AsyncClient
) -> None:
    server = loopback(serving(Response.json(OPENAI_LISTING)))
    names = await list_models(client, f"{server.url}/v1", KEY)
    assert names == ["gpt-4o", "gpt-4o-mini", "Whisper-1"]
    (request,) = server.requests
    assert (request.method, request.path) == ("GET", "/v1/models")
    assert request.headers["authorization"] == f"Bearer {KEY}"


async def test_a_local_server_over_plain_http_is_listed(client: httpx.AsyncClient) -> None:
    # What Ollama answers at /v1/models on this computer, where plain http (and a key) may go.
    listing = {"object": "list", "data": [{"id": "llama3.2:latest"}, {"id": "qwen2.5:7b"}]}

    def ollama(request: PlainRequest) -> tuple[int, dict[str, str], bytes]:
        return 200, {"content-type": "application/json"}, json.dumps(listing).encode()

    with PlainHttpServer("127.0.0.1", ollama) as server:
        names = await list_models(client, f"{server.url}/v1", KEY)
    assert names == ["llama3.2:latest", "qwen2.5:7b"]
    assert server.requests[0].headers["authorization"] == f"Bearer {KEY}"


@pytest.mark.parametrize("status", [404, 405])
async def test_a_server_without_a_listing_says_to_type_the_name(
    loopback: Loopback, client: httpx.AsyncClient, status: int
) -> None:
    server = loopback(serving(Response(status)))
    with pytest.raises(ServiceError) as caught:
        await list_models(client, f"{server.url}/v1", None)
    assert caught.value.message == (
        f"The chat service at 127.0.0.1:{server.port} does not list its models at /v1/models "
        f"({status}). Type the model's name, or check the address; it usually ends in /v1."
    )


async def test_a_rejected_key_is_named_not_quoted(
    loopback: Loopback, client: httpx.AsyncClient
) -> None:
    server = loopback(serving(openai_error(401, f"Incorrect API key provided: {KEY}")))
    with pytest.raises(AuthError) as caught:
        await list_models(client, f"{server.url}/v1", KEY)
    assert "rejected the chat API key (401)" in caught.value.message
    assert KEY not in caught.value.message


async def test_a_server_error_is_said_once_not_retried(
    loopback: Loopback, client: httpx.AsyncClient
) -> None:
    server = loopback(serving(openai_error(503, "Loading model", error_type="server_error")))
    with pytest.raises(ServiceError) as caught:
        await list_models(client, f"{server.url}/v1", None)
    assert caught.value.message == (
        f"The chat service at 127.0.0.1:{server.port} had an internal error (503). The server "
        "said: Loading model. Try again in a moment."
    )
    assert len(server.requests) == 1  # a person is waiting: asked once


@pytest.mark.parametrize(
    "body",
    [b"<html>Welcome to nginx!</html>", b'{"object": "list"}', b"[1, 2]"],
)
async def test_an_answer_that_is_no_list_is_said_in_words(
    loopback: Loopback, client: httpx.AsyncClient, body: bytes
) -> None:
    server = loopback(serving(Response(200, {"content-type": "text/html"}, body)))
    with pytest.raises(ServiceError, match="with something other than a list of models"):
        await list_models(client, f"{server.url}/v1", None)


async def test_a_listing_too_large_is_not_read_to_its_end(
    loopback: Loopback, client: httpx.AsyncClient
) -> None:
    huge = b'{"data": [' + b'{"id": "m"},' * (MAX_LISTING_BYTES // 10) + b'{"id": "m"}]}'
    server = loopback(serving(Response(200, {"content-type": "application/json"}, huge)))
    with pytest.raises(ServiceError, match="a list of models larger than 4 MB"):
        await list_models(client, f"{server.url}/v1", None)


async def test_a_service_that_is_not_running_is_unreachable(client: httpx.AsyncClient) -> None:
    with PlainHttpServer("127.0.0.1", lambda request: (200, {}, b"")) as server:
        url = server.url  # a port that was just free, and is closed again below
    with pytest.raises(UnreachableError, match="Could not connect to the chat service"):
        await list_models(client, f"{url}/v1", None)


async def test_the_endpoint_policy_holds_for_the_list(client: httpx.AsyncClient) -> None:
    with pytest.raises(EndpointError, match="Allow this computer"):
        await list_models(client, "http://192.168.1.20:11434/v1", KEY)
    with pytest.raises(EndpointError, match="plain http to another machine"):
        await list_models(client, "http://8.8.8.8/v1", KEY, lan_http_hosts=["8.8.8.8"])


def test_names_are_read_from_openai_and_ollama_listings_and_made_fit_to_show() -> None:
    ollama_native = {"models": [{"name": "llama3.2:latest"}, {"name": "phi3"}]}
    assert model_names(json.dumps(ollama_native).encode()) == ["llama3.2:latest", "phi3"]
    odd = {"data": [{"id": "a\x1b[31mb"}, {"id": "  "}, {"id": 7}, "x", {"id": "m" * 201}]}
    assert model_names(json.dumps(odd).encode()) == ["a[31mb"]
    assert model_names(b'{"data": []}') == []
    assert model_names(b"not json") is None
