"""What app.py gives the window: the language model check (against real HTTPS servers on
loopback), the audio and voice tests (on the virtual sound card), and saving Settings, which
rebuilds the services without a restart."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PySide6.QtCore import Qt

from assistant.app import (
    GuiSession,
    build_services,
    check_brain_settings,
    check_chat,
    listen_to_microphone,
    play_test_tone,
    speak_sample,
)
from assistant.config import NetworkSettings, Secrets, Settings, load_settings
from assistant.core.errors import AuthError, ConfigError, ServiceError, UnreachableError
from assistant.core.turn import NO_BRAIN
from assistant.providers.http import make_http_client
from assistant.ui.main_window import MainWindow
from tests.support.chat_server import openai_error
from tests.support.loopback import Request, Response
from tests.support.pulse import RECORD_RATE, VirtualSoundCard

pytestmark = pytest.mark.gui

KEY = "sk-wiring-test-key"


class ModelList:
    """Answers GET /v1/models like an OpenAI-compatible server, requiring `key` if given."""

    def __init__(self, key: str | None = None, models: tuple[str, ...] = ("test-model",)) -> None:
        self.key = key
        self.models = models
        self.requests: list[Request] = []

    async def handler(self, request: Request) -> Response:
        self.requests.append(request)
        if request.path != "/v1/models":
            return Response(404, {}, b"not found")
        if self.key and request.headers.get("authorization") != f"Bearer {self.key}":
            return openai_error(401, "Incorrect API key provided.", code="invalid_api_key")
        return Response.json({"object": "list", "data": [{"id": m} for m in self.models]})


def settings_for(url: str, ca_file: Path) -> Settings:
    settings = Settings()
    settings.llm.base_url = f"{url}/v1"
    settings.llm.model = "test-model"
    settings.network.ca_file = str(ca_file)
    return settings


@pytest.fixture
def no_keyring(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Keys come from the environment, so the OS keyring is never asked."""
    for variable in ("ASSISTANT_LLM_API_KEY", "ASSISTANT_OPENAI_API_KEY"):
        monkeypatch.setenv(variable, KEY)
    monkeypatch.setenv("ASSISTANT_VOLCANO_TOKEN", "volcano-token")
    yield


# ---- the language model check ----------------------------------------------------------------


async def test_a_reachable_service_passes_and_gets_the_key(loopback: Any, tls: Any) -> None:
    models = ModelList(key=KEY)
    server = loopback(models.handler)
    client, _ = make_http_client(NetworkSettings(ca_file=str(tls.ca_file)))
    try:
        await check_brain_settings(
            client, settings_for(server.url, tls.ca_file), Secrets(llm_api_key=KEY)
        )
        with pytest.raises(AuthError) as rejected:
            await check_brain_settings(client, settings_for(server.url, tls.ca_file), Secrets())
    finally:
        await client.aclose()
    assert [r.method for r in models.requests] == ["GET", "GET"]
    assert "rejected the API key" in rejected.value.message
    assert KEY not in rejected.value.message


async def test_an_address_without_the_api_is_reported(loopback: Any, tls: Any) -> None:
    server = loopback(ModelList().handler)
    settings = settings_for(server.url, tls.ca_file)
    settings.llm.base_url = server.url  # without /v1
    client, _ = make_http_client(settings.network)
    try:
        with pytest.raises(ServiceError) as missing:
            await check_brain_settings(client, settings, Secrets())
    finally:
        await client.aclose()
    assert "it usually ends in /v1" in missing.value.message


async def test_a_service_that_is_not_running_is_unreachable(tls: Any) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = settings_for(f"https://127.0.0.1:{port}", tls.ca_file)
    client, _ = make_http_client(settings.network)
    try:
        with pytest.raises(UnreachableError) as unreachable:
            await check_brain_settings(client, settings, Secrets())
    finally:
        await client.aclose()
    assert f"127.0.0.1:{port}" in unreachable.value.message


async def test_no_language_model_at_all_says_what_to_do() -> None:
    with pytest.raises(ConfigError) as none:
        await check_chat(None)
    assert none.value.message == NO_BRAIN


# ---- saving Settings while the app runs ------------------------------------------------------


async def test_saved_settings_apply_at_once_and_the_conversation_carries_over(
    qtbot: Any, loopback: Any, tls: Any, tmp_path: Path, no_keyring: None
) -> None:
    models = ModelList(models=("test-model", "other-model"))
    server = loopback(models.handler)
    settings = settings_for(server.url, tls.ca_file)
    path = tmp_path / "config.toml"
    session = GuiSession(settings, Secrets(), path)
    session.services = old = build_services(settings, Secrets())
    session.window = window = MainWindow(old.controller, check_brain=session.check_brain)
    qtbot.addWidget(window)
    window.settings_requested.connect(session.open_settings)
    old.controller.conversation.add_user("What did I ask before?")
    old.controller.conversation.add_assistant("Something about the weather.")
    try:
        qtbot.mouseClick(window.settings_button, Qt.MouseButton.LeftButton)
        dialog = session._dialog
        assert dialog is not None and dialog.isVisible()
        dialog.brain.model.setText("other-model")
        dialog.audio.talk_mode.setCurrentIndex(dialog.audio.talk_mode.findData("toggle"))
        dialog.save()
        await window.tasks.wait()

        new = session.services
        assert new is not old and window.controller is new.controller
        assert old.client.is_closed and not new.client.is_closed
        assert load_settings(path).llm.model == "other-model"
        assert session.settings.llm.model == "other-model"
        assert [t.text for t in new.controller.conversation.turns] == [
            "What did I ask before?",
            "Something about the weather.",
        ]
        assert window.talk.mode == "toggle"
        assert not window.banner.isVisibleTo(window)  # the new settings were checked: fine
        assert models.requests[-1].headers["authorization"] == f"Bearer {KEY}"
        await new.controller.wait_ready()
    finally:
        window.close()
        await session.services.aclose()
        await old.aclose()


# ---- the audio tests, on the virtual sound card ----------------------------------------------


@pytest.mark.audio
@pytest.mark.timeout(60)
async def test_the_speaker_test_plays_a_tone(virtual_sound_card: VirtualSoundCard) -> None:
    recorder = virtual_sound_card.start_recording()
    await play_test_tone(None)
    await asyncio.sleep(0.2)
    heard = recorder.stop().astype(np.float64)
    loud = np.abs(heard) > 2000
    assert loud.sum() / RECORD_RATE > 0.4  # most of the 0.6 s beep arrived
    spectrum = np.abs(np.fft.rfft(heard))
    assert abs(np.argmax(spectrum) * RECORD_RATE / len(heard) - 440) < 5


@pytest.mark.audio
@pytest.mark.timeout(60)
async def test_the_microphone_test_reports_what_the_microphone_hears(
    virtual_sound_card: VirtualSoundCard,
) -> None:
    levels: list[float] = []
    t = np.arange(RECORD_RATE * 4) / RECORD_RATE
    tone = (8000 * np.sin(2 * np.pi * 300 * t)).astype(np.int16)
    playing = virtual_sound_card.play_pcm(tone, RECORD_RATE)
    try:
        await listen_to_microphone(None, levels.append)
    finally:
        playing.stop()
    assert len(levels) > 30  # about 20 a second for 3 s
    assert max(levels) > 0.1  # 8000 / 32768 / sqrt(2) ≈ 0.17


@pytest.mark.audio
@pytest.mark.slow
@pytest.mark.timeout(120)
async def test_the_voice_test_speaks_with_the_offline_voice(
    virtual_sound_card: VirtualSoundCard,
) -> None:
    settings = Settings()  # the bundled Piper voice
    client, _ = make_http_client(settings.network)
    recorder = virtual_sound_card.start_recording()
    try:
        await speak_sample(client, settings, Secrets())
    finally:
        await client.aclose()
    await asyncio.sleep(0.2)
    heard = recorder.stop()
    speech = np.abs(heard.astype(np.int32)) > 500
    assert speech.sum() / RECORD_RATE > 0.8  # "Hello! This is how I will sound…" is ~2.5 s
