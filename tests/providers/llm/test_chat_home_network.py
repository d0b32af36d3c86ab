"""A model server on the home network over plain http: reached only when its address is allowed,
and never sent a key, by the chat, by the model list, or by anything through the app's client.

Network tests here talk only to 127.0.0.1 and ::1, so a home server is never actually served:
the rules are tested with private addresses without sending, and the client's last line of
defence (its request hook) is shown to stop a key before any connection is made.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from assistant.config import NetworkSettings
from assistant.core.errors import EndpointError
from assistant.providers.http import make_http_client
from assistant.providers.llm.openai_chat import OpenAiChat

KEY = "sk-cloud-0123456789abcdef"  # a key set for a cloud service, before the address changed


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    client, _ = make_http_client(NetworkSettings())
    yield client
    await client.aclose()


def test_the_chat_takes_an_allowed_address_and_refuses_others(client: httpx.AsyncClient) -> None:
    allowed = ["192.168.1.20"]
    OpenAiChat(client, "http://192.168.1.20:11434/v1", "m", KEY, lan_http_hosts=allowed)
    for url in ("http://192.168.1.21:11434/v1", "http://gpubox.local:11434/v1"):
        with pytest.raises(EndpointError, match="plain http to another machine") as caught:
            OpenAiChat(client, url, "m", KEY, lan_http_hosts=allowed)
        assert KEY not in caught.value.message


@pytest.mark.parametrize("header", ["Authorization", "api-key", "X-Api-Key", "X-Api-Access-Key"])
async def test_the_client_refuses_to_send_any_key_over_plain_http_to_another_computer(
    client: httpx.AsyncClient, header: str
) -> None:
    # The second line of defence: whatever a provider does, the app's client sends no key over
    # plain http beyond this computer (stopped in the request hook, before any connection).
    with pytest.raises(EndpointError, match="A key was about to be sent over plain http") as caught:
        await client.get("http://192.168.1.20:9/v1/models", headers={header: f"Bearer {KEY}"})
    assert KEY not in caught.value.message


async def test_the_client_refuses_plain_http_to_the_internet_whatever_the_headers(
    client: httpx.AsyncClient,
) -> None:
    with pytest.raises(EndpointError, match="plain http to another machine"):
        await client.get("http://8.8.8.8:9/v1/models")
