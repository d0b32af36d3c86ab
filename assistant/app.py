"""The composition root: the only module that names concrete classes. It builds THE app-wide HTTP
client, the adapters and the turn controller, then hands them to the GUI or the command line.

Why one file (over 450 lines): only this module may name concrete classes, so all the wiring is
here until it is split by run mode (the services, the GUI session, the Settings checks: issue 15,
item 4); splitting it sooner would mean several modules importing every adapter."""

from __future__ import annotations

import asyncio
import copy
import dataclasses
import logging
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import httpx

from assistant import logs
from assistant.config import Secrets, Settings, load_secrets, load_settings, validate_settings
from assistant.core.conversation import Conversation
from assistant.core.errors import AssistantError, ConfigError, DeviceError
from assistant.core.hands_free import HandsFree, Listener, ListeningMode
from assistant.core.history import HistoryStore
from assistant.core.protocols import (
    AudioInput,
    AudioOutput,
    ChatModel,
    ProgressListener,
    Synthesizer,
    Transcriber,
)
from assistant.core.reply_speaker import ReplySpeaker, pieces_of
from assistant.core.splitter import SentenceSplitter
from assistant.core.timeline import TurnTimeline
from assistant.core.turn import TurnController, TurnOptions
from assistant.providers.http import ConnectionStats, KeyOrigin, key_origin, make_http_client

if TYPE_CHECKING:
    from assistant.core.shortcut import GlobalShortcut
    from assistant.ui.main_window import MainWindow
    from assistant.ui.settings_actions import AudioDevice, ModelSize, SettingsActions
    from assistant.ui.settings_dialog import SettingsDialog
    from assistant.ui.tray import Tray

log = logging.getLogger(__name__)


@dataclass
class Services:
    """Everything one running assistant is made of. Close with `await services.aclose()`."""

    settings: Settings
    client: httpx.AsyncClient
    connections: ConnectionStats
    transcriber: Transcriber
    synthesizer: Synthesizer
    output: AudioOutput
    controller: TurnController
    history: HistoryStore | None = None
    handed_over: bool = False  # the transcriber went on to newer services, which close it
    hands_free: HandsFree | None = None  # how a turn begins; set by build_services

    def __post_init__(self) -> None:
        if self.hands_free is None:
            self.hands_free = HandsFree(self.controller, self._no_listener)

    @staticmethod
    def _no_listener() -> Listener:
        raise DeviceError("Hands-free listening is not available here.")

    def hand_over_transcriber(self) -> Transcriber:
        """The loaded transcriber, for the services built next; `aclose` then leaves it open."""
        self.handed_over = True
        return self.transcriber

    async def aclose(self) -> None:
        if self.hands_free is not None:
            await self.hands_free.aclose()
        await self.controller.aclose()
        close = None if self.handed_over else getattr(self.transcriber, "close", None)
        if close is not None:
            close()
        await self.client.aclose()
        if self.history is not None:
            self.history.close()


def make_transcriber(
    settings: Settings, secrets: Secrets, client: httpx.AsyncClient
) -> Transcriber:
    if settings.stt.provider == "openai":
        from assistant.providers.stt.openai_remote import RemoteTranscriber

        key, name = transcription_key(settings, secrets)
        return RemoteTranscriber(
            client,
            settings.stt.openai,
            key,
            language=settings.stt.language,
            prompt=settings.stt.initial_prompt,
            key=key_origin_of(secrets, name),
        )
    from assistant.providers.stt.whisper_local import WhisperTranscriber

    return WhisperTranscriber(settings.stt, client=client)


def transcription_key(settings: Settings, secrets: Secrets) -> tuple[str | None, str]:
    """The key for the remote transcription service and its name in `Secrets`: its own, or the
    OpenAI key when the service is the same server the OpenAI voice uses (never the OpenAI key
    to another host)."""
    from assistant.core.endpoints import same_origin

    if not secrets.stt_api_key and same_origin(
        settings.stt.openai.base_url, settings.tts.openai.base_url
    ):
        return secrets.openai_api_key, "openai_api_key"
    return secrets.stt_api_key, "stt_api_key"


def key_origin_of(secrets: Secrets, name: str) -> KeyOrigin:
    """Which key `name` is and where this one came from, for the messages that name it."""
    return key_origin(name, from_environment=secrets.from_environment(name))


def make_synthesizer(
    settings: Settings, secrets: Secrets, client: httpx.AsyncClient
) -> Synthesizer:
    tts = settings.tts
    if tts.provider == "openai":
        from assistant.providers.tts.openai_speech import OpenAiSpeech

        return OpenAiSpeech(
            client,
            tts.openai,
            secrets.openai_api_key,
            key=key_origin_of(secrets, "openai_api_key"),
        )
    if tts.provider == "volcano":
        from assistant.providers.tts.volcano_v1 import VolcanoTts

        return VolcanoTts(
            client, tts.volcano, secrets.volcano_token, key=key_origin_of(secrets, "volcano_token")
        )
    if tts.provider == "volcano_v3":
        from assistant.providers.tts.volcano_v3 import VolcanoV3Tts

        return VolcanoV3Tts(
            client,
            tts.volcano_v3,
            secrets.volcano_token,
            key=key_origin_of(secrets, "volcano_token"),
        )
    from assistant.providers.tts.piper_local import PiperTts

    return PiperTts(tts.piper)


def make_chat(settings: Settings, secrets: Secrets, client: httpx.AsyncClient) -> ChatModel | None:
    if not settings.llm.base_url:
        return None  # no brain configured: dictation and read-aloud still work
    from assistant.providers.llm.openai_chat import OpenAiChat

    return OpenAiChat(
        client,
        settings.llm.base_url,
        settings.llm.model,
        secrets.llm_api_key,
        temperature=settings.llm.temperature,
        key=key_origin_of(secrets, "llm_api_key"),
    )


def build_services(
    settings: Settings,
    secrets: Secrets,
    *,
    microphone: AudioInput | None = None,
    history_path: Path | None = None,
    transcriber: Transcriber | None = None,
) -> Services:
    """Wire one assistant. `microphone` replaces the sound card's input (`turn --wav FILE`);
    the conversation history goes to `history_path` (default: the per-user data folder);
    `transcriber` is one already loaded for these [stt] settings (see `hand_over_transcriber`)."""
    from assistant.audio.microphone import Microphone
    from assistant.audio.speaker import Speaker
    from assistant.providers.history_sqlite import SqliteHistory, default_history_path

    logs.protect(*(getattr(secrets, f.name) for f in dataclasses.fields(secrets)))
    client, connections = make_http_client(settings.network)
    transcriber = transcriber or make_transcriber(settings, secrets, client)
    synthesizer = make_synthesizer(settings, secrets, client)
    chat = make_chat(settings, secrets, client)
    output = Speaker(settings.audio.output_device)
    history: HistoryStore | None
    try:
        history = SqliteHistory(history_path or default_history_path())
    except AssistantError as error:  # the assistant still works, it just cannot remember
        log.warning("%s", error.message)
        history = None
    controller = TurnController(
        microphone=microphone or Microphone(settings.audio.input_device),
        transcriber=transcriber,
        chat=chat,
        speaker=ReplySpeaker(synthesizer, output, lookahead=settings.tts.lookahead),
        conversation=Conversation(settings.llm.system_prompt, settings.llm.history_chars),
        connections=connections,
        options=TurnOptions(max_recording_seconds=settings.audio.max_recording_seconds),
        history=history,
    )
    hands_free = HandsFree(controller, lambda: make_listener(settings, output), cue_output=output)
    return Services(
        settings,
        client,
        connections,
        transcriber,
        synthesizer,
        output,
        controller,
        history,
        hands_free=hands_free,
    )


def make_listener(settings: Settings, output: AudioOutput) -> Listener:
    """The always-open microphone of hands-free and wake-word modes, with its models."""
    from assistant.audio.listener import HandsFreeListener, ListeningParts
    from assistant.audio.speaker import Speaker
    from assistant.providers.vad_silero import SileroVoiceDetector

    conversation = settings.conversation
    canceller = turn_end = None
    if conversation.echo_cancellation:
        from assistant.providers.aec_webrtc import WebRtcEchoCanceller

        canceller = WebRtcEchoCanceller
    from assistant.providers.turn_end_smart import SmartTurnDetector, bundled_model_path

    if bundled_model_path().is_file():
        turn_end = SmartTurnDetector
    else:  # without it a pause that adapts to the utterance ends the turn
        log.warning("The end-of-turn model is missing; hands-free uses pauses alone.")
    from assistant.core.wake_gate import VoiceGatedWakeWord
    from assistant.providers.wake_word import OpenWakeWordDetector

    def wake_word() -> VoiceGatedWakeWord:  # fed only while waiting for the wake word
        # Its model hears only the moments around speech: a silent room costs the VAD alone.
        return VoiceGatedWakeWord(
            OpenWakeWordDetector(conversation.wake_word), SileroVoiceDetector()
        )

    parts = ListeningParts(SileroVoiceDetector, canceller, turn_end, wake_word)
    speaker = output if isinstance(output, Speaker) else None
    return HandsFreeListener(settings.audio.input_device, parts, speaker)


def run_gui(path: Path) -> int:
    """One loop for Qt and asyncio (qasync): the window shows first, the model loads behind it.
    The settings come from `path`; if they cannot be used, a window says why and offers the
    defaults (exit code 2 if the user quits there). Settings saved in the dialog are written to
    `path` and applied at once."""
    from PySide6.QtWidgets import QApplication

    from assistant.selftest import resources_dir
    from assistant.ui.event_loop import AppEventLoop
    from assistant.ui.startup_problem import settings_to_start_with
    from assistant.ui.tray import app_icon

    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(sys.argv)
    app.setApplicationName("Voice Assistant")
    app.setDesktopFileName("voice-assistant")
    app.setWindowIcon(app_icon(resources_dir() / "icons"))
    choice = settings_to_start_with(path, lambda: load_settings(path))
    if choice is None:
        return 2
    secrets = load_secrets()  # never fails: without a keyring, keys come from the environment
    session = GuiSession(choice.settings, secrets, path, config_problem=choice.problem)
    # asyncio.Runner, not asyncio.run: run() takes a loop_factory only from Python 3.12 on.
    with asyncio.Runner(loop_factory=lambda: AppEventLoop(app)) as runner:
        runner.run(session.run())
    return 0


class GuiSession:
    """The window and the services behind it. Saving Settings rebuilds the services and hands
    the window the new controller; the conversation carries over."""

    def __init__(
        self, settings: Settings, secrets: Secrets, path: Path, *, config_problem: str | None = None
    ) -> None:
        """`config_problem`: why the file at `path` could not be used; the session then runs on
        `settings` (the defaults) and never saves over that file."""
        self.settings = settings
        self.secrets = secrets
        self.path = path
        self.config_problem = config_problem
        self.services: Services | None = None
        self.window: MainWindow | None = None
        self.tray: Tray | None = None
        self.shortcut: GlobalShortcut | None = None
        self.shortcut_problem = ""  # why the talk shortcut does not work here, for Settings
        self._dialog: SettingsDialog | None = None

    async def run(self) -> None:
        from assistant import autostart
        from assistant.providers.stt.whisper_local import bundled_model_available
        from assistant.selftest import resources_dir
        from assistant.ui.main_window import MainWindow
        from assistant.ui.startup_problem import on_defaults
        from assistant.ui.tray import Tray, app_icon
        from assistant.ui.window_memory import window_memory

        closed = asyncio.Event()
        try:
            self.services = build_services(self.settings, self.secrets)
        except AssistantError as error:  # e.g. [network] ca_file deleted since it was saved
            log.error("The settings cannot be used: %s", error.message)
            self.settings, self.config_problem = Settings(), error.message
            self.services = build_services(self.settings, self.secrets)
        memory = window_memory()
        self.window = window = MainWindow(
            self.services.controller,
            talk_mode=self.settings.audio.talk_mode,
            check_brain=self.check_brain,
            memory=memory,
        )
        login = autostart.XdgAutostart() if autostart.supported() else None
        icon = app_icon(resources_dir() / "icons")
        self.tray = Tray(window, icon, memory=memory, start_at_login=login)
        window.closed.connect(closed.set)
        window.settings_requested.connect(self.open_settings)
        window.history_requested.connect(self.open_history)
        window.model_chosen.connect(self._model_chosen)
        window.listening_mode_chosen.connect(
            lambda mode: window.tasks.start(self.choose_listening_mode(mode))
        )
        window.model_banner.builtin_available = bundled_model_available()  # a file check
        window.show()
        self._bind_shortcut()
        window.open_conversation()  # the last conversation, where it was left
        if self.config_problem is not None:
            window.report(on_defaults(self.config_problem))
        self.services.controller.start()
        window.check_brain_now()
        await self._listen_as_set()
        try:
            await closed.wait()
        finally:
            if self.shortcut is not None:
                self.shortcut.stop()
            await self.services.aclose()

    def _bind_shortcut(self) -> None:
        """Talk from any application, through the window's Talk button (so hold or toggle, the
        Getting ready state and the tray stay in step), as the settings say."""
        from assistant.core.shortcut import Chord, ShortcutUnavailable
        from assistant.providers.shortcut_pynput import PynputShortcut

        assert self.window is not None
        talk, window = self.window.talk, self.window
        window.set_shortcut_label("")
        self.shortcut_problem = ""
        if not self.settings.audio.talk_shortcut:
            if self.shortcut is not None:
                self.shortcut.stop()
            return
        chord = Chord.parse(self.settings.audio.talk_shortcut)  # checked when loaded
        if self.shortcut is None:
            self.shortcut = PynputShortcut(asyncio.get_running_loop())
        try:
            self.shortcut.start(chord, talk.key_down, talk.key_up)  # again: rebinds
        except ShortcutUnavailable as error:
            self.shortcut_problem = error.message
            log.info("No global talk shortcut: %s", error.message)
        else:
            window.set_shortcut_label(chord.label)

    def save(self, settings: Settings) -> None:
        """Write `settings` to the file, unless the session runs on the defaults beside a file
        that could not be used: that file is never overwritten (the change lasts until Quit)."""
        from assistant.config import save_settings

        if self.config_problem is None:
            save_settings(settings, self.path)
        elif self.window is not None:
            self.window.report(f"Not saved: {self.path} is left as it is until you fix it.")

    async def check_brain(self) -> None:
        assert self.services is not None
        await check_chat(self.services.controller.chat)

    def open_settings(self) -> None:
        from assistant.ui.settings_dialog import SettingsDialog

        if self._dialog is not None and self._dialog.isVisible():
            self._dialog.raise_()
            self._dialog.activateWindow()
            return
        self._dialog = SettingsDialog(
            self.settings, self.secrets, self.settings_actions(), parent=self.window
        )
        self._dialog.saved.connect(self._saved)
        self._dialog.open()

    def _saved(self, settings: Settings) -> None:
        assert self.window is not None
        self.window.tasks.start(self.apply(settings))

    async def apply(self, settings: Settings) -> None:
        """Use `settings` (already validated and saved) without restarting the app."""
        assert self.services is not None and self.window is not None
        old = self.services
        secrets = await asyncio.to_thread(load_secrets)  # the keyring may take a moment
        # The same speech model, already loaded, goes on: loading it again takes seconds.
        same_model = settings.stt == self.settings.stt and getattr(old.transcriber, "loaded", False)
        try:
            self.services = build_services(
                settings, secrets, transcriber=old.transcriber if same_model else None
            )
        except AssistantError as error:  # e.g. a key with characters keys never have
            self.window.report(error.message)
            return
        if same_model:
            old.hand_over_transcriber()
        self.settings, self.secrets = settings, secrets
        # The same conversation goes on, read back from the history; the bubbles stay.
        ongoing = old.controller.history.conversation_id
        new = self.services.controller
        if ongoing is None or not new.resume_conversation(ongoing):
            # Nothing stored to read back (no history, or it failed): carry the turns over.
            for turn in old.controller.conversation.turns:
                if turn.role == "user":
                    new.conversation.add_user(turn.text)
                else:
                    new.conversation.add_assistant(turn.text, turn.interrupted)
        self.window.use_controller(self.services.controller)
        self.window.set_talk_mode(settings.audio.talk_mode)
        self._bind_shortcut()
        self.services.controller.start()
        self.window.check_brain_now()
        await old.aclose()  # first: the old listener lets go of the microphone
        await self._listen_as_set()

    async def choose_listening_mode(self, mode: ListeningMode) -> None:
        """The window's choice of how a turn begins: used at once, and kept in the settings."""
        from assistant.config import save_settings
        from assistant.core.events import Event, Notice

        assert self.services is not None and self.services.hands_free is not None
        problems: list[str] = []  # why the microphone could not open, for the log file too

        def note(event: Event) -> None:
            if isinstance(event, Notice) and event.is_error:
                problems.append(event.message)

        events = self.services.controller.events
        events.connect(note)
        try:
            await self.services.hands_free.switch(mode)
        finally:
            events.disconnect(note)
        chosen = self.services.hands_free.mode  # push-to-talk, if the microphone failed
        if chosen is not mode:
            log.warning("The %s mode could not start: %s", mode.value, " ".join(problems))
        if self.window is not None:
            self.window.listening_mode.show_mode(chosen)
        if chosen.value != self.settings.conversation.mode:
            self.settings.conversation.mode = chosen.value
            try:
                if self.config_problem is None:  # else the file is left as it is
                    await asyncio.to_thread(save_settings, self.settings, self.path)
            except AssistantError as error:
                if self.window is not None:
                    self.window.report(error.message)

    async def _listen_as_set(self) -> None:
        """Open the microphone if the settings say hands-free or wake word."""
        assert self.window is not None
        self.window.wake_phrase = self.settings.conversation.wake_word.replace("_", " ").title()
        await self.choose_listening_mode(ListeningMode(self.settings.conversation.mode))

    def open_history(self) -> None:
        """The History dialog (one per window, read afresh each time it opens)."""
        from assistant.ui.history_dialog import HistoryActions, HistoryDialog

        assert self.window is not None
        window = self.window

        def store() -> HistoryStore:
            assert self.services is not None
            if self.services.history is None:
                raise AssistantError(
                    "The conversation history could not be opened when the assistant started, "
                    "so there is nothing to show. The log file says why; check that the disk "
                    "has free space and the data folder is yours, then restart the assistant."
                )
            return self.services.history

        def shown() -> int | None:
            return window.controller.history.conversation_id

        def delete(conversation_id: int) -> None:
            store().delete_conversation(conversation_id)
            if conversation_id == shown():
                window.new_conversation()

        def delete_all() -> None:
            was_stored = shown() is not None
            store().delete_all()
            if was_stored:
                window.new_conversation()

        dialog = window.findChild(HistoryDialog)
        if dialog is None:
            actions = HistoryActions(
                conversations=lambda: store().conversations(),
                messages=lambda conversation_id: store().messages(conversation_id),
                open_conversation=window.open_conversation,
                delete_conversation=delete,
                delete_all=delete_all,
                shown_conversation=shown,
            )
            dialog = HistoryDialog(actions, parent=window)
        dialog.refresh()
        dialog.open()
        dialog.raise_()
        dialog.activateWindow()

    def _model_chosen(self, model: str) -> None:
        assert self.window is not None
        self.window.tasks.start(self.use_speech_model(model))

    async def use_speech_model(self, model: str) -> None:
        """The model banner's choice (a folder, or the built-in model): saved as the [stt] model
        and used at once, as if it had been chosen in Settings."""
        assert self.window is not None
        window = self.window
        edited = copy.deepcopy(self.settings)
        edited.stt.model = model
        try:
            validated = validate_settings(edited)
            self.settings_actions().save_settings(validated)
            await self.apply(validated)
        except ConfigError as error:
            window.report(error.message)
        finally:
            window.model_choice_done()

    def settings_actions(self) -> SettingsActions:
        from assistant.config import delete_secret, store_secret
        from assistant.providers.llm.openai_chat import PRESETS
        from assistant.ui.settings_actions import SettingsActions

        def client() -> httpx.AsyncClient:
            assert self.services is not None
            return self.services.client

        async def voice(settings: Settings, secrets: Secrets) -> None:
            assert self.services is not None
            same = settings.tts == self.settings.tts and secrets == self.secrets
            synthesizer = self.services.synthesizer if same else None  # Piper stays loaded
            await speak_sample(client(), settings, secrets, synthesizer)

        return SettingsActions(
            save_settings=self.save,
            store_secret=store_secret,
            delete_secret=delete_secret,
            test_brain=lambda settings, secrets: check_brain_settings(client(), settings, secrets),
            test_voice=voice,
            test_microphone=listen_to_microphone,
            test_speaker=play_test_tone,
            list_devices=audio_devices,
            brain_presets=dict(PRESETS),
            model_sizes=model_sizes,
            download_model=lambda name, progress: download_speech_model(
                client(), self.settings, name, progress
            ),
            pause_shortcut=self._pause_shortcut,
            shortcut_problem=self.shortcut_problem,
        )

    def _pause_shortcut(self, paused: bool) -> None:
        if paused and self.shortcut is not None:
            self.shortcut.stop()
        elif not paused:
            self._bind_shortcut()


# What the settings dialog's Test buttons and the window's banner do; each raises an
# AssistantError that says what is wrong.

VOICE_SAMPLE = "Hello! This is how I will sound when I answer you."
MICROPHONE_TEST_SECONDS = 3.0


async def check_chat(chat: ChatModel | None) -> None:
    """Whether a language model answers (the window shows a banner if not)."""
    from assistant.core.turn import NO_BRAIN
    from assistant.providers.llm.openai_chat import OpenAiChat

    if chat is None:
        raise ConfigError(NO_BRAIN)
    if isinstance(chat, OpenAiChat):
        await chat.check()


async def check_brain_settings(
    client: httpx.AsyncClient, settings: Settings, secrets: Secrets
) -> None:
    await check_chat(make_chat(settings, secrets, client))


async def speak_sample(
    client: httpx.AsyncClient,
    settings: Settings,
    secrets: Secrets,
    synthesizer: Synthesizer | None = None,
) -> None:
    """Speak VOICE_SAMPLE with the voice `settings` name, through the chosen speaker."""
    from assistant.audio.speaker import Speaker

    synthesizer = synthesizer or make_synthesizer(settings, secrets, client)
    splitter = SentenceSplitter(max_bytes=synthesizer.max_text_bytes)
    pieces = [*splitter.feed(VOICE_SAMPLE), *splitter.flush()]
    speaker = ReplySpeaker(synthesizer, Speaker(settings.audio.output_device))
    await speaker.speak(pieces_of(pieces), TurnTimeline())


async def listen_to_microphone(device: str | None, on_level: Callable[[float], None]) -> None:
    from assistant.audio.microphone import Microphone

    microphone = Microphone(device)
    await microphone.start(on_level)
    try:
        await asyncio.sleep(MICROPHONE_TEST_SECONDS)
    finally:
        await microphone.stop()


async def play_test_tone(device: str | None) -> None:
    """Play a soft 440 Hz beep of 0.6 s (faded in and out, so it does not click)."""
    import numpy as np

    from assistant.audio.speaker import Speaker

    rate = 24_000
    t = np.arange(int(rate * 0.6)) / rate
    fade = np.minimum(1.0, np.minimum(t, t[-1] - t) / 0.02)
    tone = (0.3 * 32767 * np.sin(2 * np.pi * 440 * t) * fade).astype("<i2").tobytes()
    stream = await Speaker(device).open(rate, lambda event: None)
    try:
        await stream.write(tone, 0)
        stream.end_tag(0)
        await stream.drain()
    finally:
        await stream.close()


async def model_sizes() -> list[ModelSize]:
    """The Whisper sizes the settings offer, and which of them are downloaded already."""
    from assistant.providers.stt.model_download import (
        default_models_dir,
        is_downloaded,
        size_names,
    )
    from assistant.ui.settings_actions import ModelSize

    def find() -> list[ModelSize]:  # imports faster-whisper and looks at the disk: not on the loop
        folder = default_models_dir()
        return [ModelSize(name, is_downloaded(name, folder)) for name in size_names()]

    return await asyncio.to_thread(find)


async def download_speech_model(
    client: httpx.AsyncClient, settings: Settings, name: str, progress: ProgressListener
) -> None:
    """Settings' Download button: fetch Whisper size `name` into the models folder."""
    from assistant.providers.stt.model_download import default_models_dir, download_model

    await download_model(
        client, name, default_models_dir(), hub_url=settings.stt.hub_url, progress=progress
    )


async def audio_devices() -> list[AudioDevice]:
    from assistant.audio.devices import list_devices
    from assistant.ui.settings_actions import AudioDevice

    found = await asyncio.to_thread(list_devices)
    return [AudioDevice(d.name, d.max_input_channels > 0, d.max_output_channels > 0) for d in found]


class Wiring:
    """The concrete pieces the command line needs, so that it names no adapter itself."""

    @staticmethod
    def build_services(
        settings: Settings, secrets: Secrets, *, microphone: AudioInput | None = None
    ) -> Services:
        return build_services(settings, secrets, microphone=microphone)

    @staticmethod
    def run_gui(path: Path) -> int:
        return run_gui(path)

    @staticmethod
    def file_input(path: str, max_seconds: float) -> AudioInput:
        from assistant.audio.files import FileInput

        return FileInput(path, max_seconds=max_seconds)

    @staticmethod
    def read_audio(path: str, max_seconds: float) -> bytes:
        from assistant.audio.files import read_audio

        return read_audio(path, max_seconds=max_seconds)

    @staticmethod
    def list_devices() -> list[dict[str, object]]:
        from dataclasses import asdict

        from assistant.audio.devices import list_devices

        return [asdict(device) for device in list_devices()]


def main(argv: Sequence[str] | None = None) -> int:
    from assistant.cli import run

    return run(argv, Wiring)
