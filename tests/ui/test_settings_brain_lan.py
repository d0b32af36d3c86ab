"""Settings > Language model: a model server on the home network is allowed once, with its risk
said in one sentence; the model field lists what the service offers (from a real server through
the app's own client and check), and a name can still be typed."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from PySide6.QtCore import Qt

from assistant.app.checks import chat_models
from assistant.config import NetworkSettings, Secrets, Settings
from assistant.providers.http import make_http_client
from assistant.providers.llm.presets import PRESETS
from assistant.ui.settings_brain_page import BrainPage, lan_risk
from tests.support.chat_server import openai_error
from tests.support.loopback import Request, Response, TlsFiles
from tests.ui.harness import until

LISTING = {"object": "list", "data": [{"id": "qwen2.5:7b"}, {"id": "llama3.2:latest"}]}
KEY = "sk-test-0123456789abcdef"


@pytest.fixture
async def client(tls: TlsFiles) -> AsyncIterator[httpx.AsyncClient]:
    client, _ = make_http_client(NetworkSettings(ca_file=str(tls.ca_file)))
    yield client
    await client.aclose()


def page_for(qtbot: Any, settings: Settings, client: httpx.AsyncClient | None = None) -> BrainPage:
    """The page as the dialog makes it, asking the app's real check for the models of the
    settings as the page shows them."""
    page: BrainPage

    async def models() -> list[str]:
        assert client is not None
        shown = copy.deepcopy(settings)
        page.store(shown)
        return await chat_models(client, shown, Secrets(llm_api_key=KEY))

    page = BrainPage(PRESETS, models if client is not None else None)
    qtbot.addWidget(page)
    page.load(settings)
    return page


def stored(page: BrainPage) -> Settings:
    settings = Settings()
    page.store(settings)
    return settings


async def test_a_server_on_the_home_network_is_allowed_once_naming_the_risk(qtbot: Any) -> None:
    settings = Settings()
    settings.llm.base_url = "http://192.168.1.20:11434/v1"
    page = page_for(qtbot, settings)
    page.show()
    assert page.lan_notice.isVisibleTo(page)
    assert page.lan_words.text() == lan_risk("192.168.1.20")
    assert page.lan_words.text() == (
        "The server at 192.168.1.20 is on your network and uses plain http: traffic on your "
        "home network is not encrypted (anyone on it could read the conversation), and no API "
        "key, cloud or other, is ever sent there."
    )
    assert page.allow_lan.text().replace("&", "") == "Allow this computer"
    assert stored(page).network.lan_http_hosts == []

    qtbot.mouseClick(page.allow_lan, Qt.MouseButton.LeftButton)
    assert not page.lan_notice.isVisibleTo(page)
    allowed = stored(page)
    assert allowed.network.lan_http_hosts == ["192.168.1.20"]

    again = page_for(qtbot, allowed)  # the next time the settings open: not asked again
    again.show()
    assert not again.lan_notice.isVisibleTo(again)
    again.url.setText("http://192.168.1.21:11434/v1")  # another computer is asked about
    assert again.lan_notice.isVisibleTo(again)
    assert "192.168.1.21" in again.lan_words.text()


@pytest.mark.parametrize(
    "url",
    [
        "https://192.168.1.20/v1",
        "http://127.0.0.1:11434/v1",
        "http://8.8.8.8/v1",  # refused outright, never offered to allow
        "http://gpubox.local:11434/v1",
    ],
)
async def test_nothing_is_asked_for_other_addresses(qtbot: Any, url: str) -> None:
    settings = Settings()
    settings.llm.base_url = url
    page = page_for(qtbot, settings)
    page.show()
    assert not page.lan_notice.isVisibleTo(page)


async def test_the_model_field_lists_the_services_models_and_keeps_a_typed_name(
    qtbot: Any, loopback: Any, client: httpx.AsyncClient
) -> None:
    async def service(request: Request) -> Response:
        return Response.json(LISTING)

    server = loopback(service)
    settings = Settings()
    settings.llm.base_url = f"{server.url}/v1"
    page = page_for(qtbot, settings, client)
    page.show()  # a person looks at the page: the list is asked for
    await until(lambda: page.model.count() == 2, what="the list of models")
    assert page.model.names() == ["llama3.2:latest", "qwen2.5:7b"]
    assert page.models_result.text() == (
        "✓ 2 models on this service; pick one, or type another name."
    )
    assert page.model.text() == "llama3.2"  # what the settings held stays shown
    assert server.requests[0].headers["authorization"] == f"Bearer {KEY}"

    page.model.setCurrentIndex(1)
    assert stored(page).llm.model == "qwen2.5:7b"
    page.model.setText("my-own-model")
    assert stored(page).llm.model == "my-own-model"  # free text is still possible

    page.model.showPopup()  # opening it again asks nothing new for the same address
    page.model.hidePopup()
    assert len(server.requests) == 1


async def test_a_failed_listing_is_said_in_words_and_asked_again_when_opened(
    qtbot: Any, loopback: Any, client: httpx.AsyncClient
) -> None:
    answers = [openai_error(401, f"Incorrect API key provided: {KEY}"), Response.json(LISTING)]

    async def service(request: Request) -> Response:
        return answers.pop(0)

    server = loopback(service)
    settings = Settings()
    settings.llm.base_url = f"{server.url}/v1"
    page = page_for(qtbot, settings, client)
    page.show()
    await until(lambda: page.models_result.failed, what="the failure")
    assert page.models_result.text() == (
        f"The chat service at 127.0.0.1:{server.port} rejected the chat API key (401). Check "
        "the key in Settings > API keys."
    )
    page.model.showPopup()  # the person opens the list: asked again
    page.model.hidePopup()
    await until(lambda: page.model.count() == 2, what="the list after asking again")
    assert not page.models_result.failed


async def test_an_address_that_cannot_be_used_asks_nothing(
    qtbot: Any, client: httpx.AsyncClient
) -> None:
    settings = Settings()
    settings.llm.base_url = "http://192.168.1.20:11434/v1"  # not allowed yet
    page = page_for(qtbot, settings, client)
    page.show()
    page.fill_models()
    assert page.models_result.text() == ""  # its problem is said at the address when checked
