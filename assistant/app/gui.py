"""The desktop app: one loop for Qt and asyncio, the window and the services behind it, and
what the window asks of the app (Settings, History, the talk shortcut, the conversation mode)."""

from __future__ import annotations

import asyncio
import copy
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import httpx

from assistant.app.checks import (
    audio_devices,
    chat_models,
    check_brain_settings,
    check_chat,
    download_speech_model,
    listen_to_microphone,
    model_sizes,
    play_test_tone,
    speak_sample,
)
from assistant.app.services import Services, build_services
from assistant.config import Secrets, Settings, load_secrets, load_settings, validate_settings
from assistant.core.errors import AssistantError, ConfigError
from assistant.core.hands_free import ListeningMode
from assistant.core.history import HistoryStore
from assistant.core.languages import preferred_languages
from assistant.core.protocols import Preloaded

if TYPE_CHECKING:
    from assistant.core.shortcut import GlobalShortcut
    from assistant.ui.main_window import MainWindow
    from assistant.ui.settings_actions import SettingsActions
    from assistant.ui.settings_dialog import SettingsDialog
    from assistant.ui.tray import Tray

log = logging.getLogger(__name__)


def run_gui(path: Path) -> int:
    """One loop for Qt and asyncio (qasync): the window shows first, the model loads behind it.
    The settings come from `path`; if they cannot be used, a window says why and offers the
    defaults (exit code 2 if the user quits there). Settings saved in the dialog are written to
    `path` and applied at once."""
    from PySide6.QtWidgets import QApplication

    from assistant.config.places import resources_dir
    from assistant.ui.event_loop import AppEventLoop
    from assistant.ui.startup_problem import settings_to_start_with
    from assistant.ui.translation import install_translation
    from assistant.ui.tray import app_icon

    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(sys.argv)
    app.setApplicationName("Voice Assistant")
    app.setDesktopFileName("voice-assistant")
    app.setWindowIcon(app_icon(resources_dir() / "icons"))
    install_translation(app, window_language(path), resources_dir() / "translations")
    choice = settings_to_start_with(path, lambda: load_settings(path))
    if choice is None:
        return 2
    secrets = load_secrets()  # never fails: without a keyring, keys come from the environment

    async def run() -> None:
        session = open_session(choice.settings, secrets, path, config_problem=choice.problem)
        await session.run()

    # asyncio.Runner, not asyncio.run: run() takes a loop_factory only from Python 3.12 on.
    with asyncio.Runner(loop_factory=lambda: AppEventLoop(app)) as runner:
        runner.run(run())
    return 0


def window_language(path: Path) -> str:
    """The [ui] language setting, read before any window is built (the window that says the
    settings cannot be used is translated too): "auto" when the file cannot be used."""
    try:
        return load_settings(path).ui.language
    except AssistantError:
        return "auto"


def open_session(
    settings: Settings, secrets: Secrets, path: Path, *, config_problem: str | None = None
) -> GuiSession:
    """The services and the window, built and shown (on the running loop); `run()` it next.
    Settings that cannot be built on (a `[network] ca_file` deleted since it was saved, say)
    give way to the defaults, and the window says why."""
    from assistant import autostart
    from assistant.config.places import resources_dir
    from assistant.providers.stt.whisper_local import bundled_model_available
    from assistant.ui.main_window import MainWindow
    from assistant.ui.tray import Tray, app_icon
    from assistant.ui.window_memory import window_memory

    try:
        services = build_services(settings, secrets)
    except AssistantError as error:
        log.error("The settings cannot be used: %s", error.message)
        settings, config_problem = Settings(), error.message
        services = build_services(settings, secrets)
    memory = window_memory()
    window = MainWindow(services.controller, talk_mode=settings.audio.talk_mode, memory=memory)
    window.set_spoken_languages(preferred_languages(settings.stt.languages))
    session = GuiSession(settings, secrets, path, services, window, config_problem=config_problem)
    login = autostart.XdgAutostart() if autostart.supported() else None
    session.tray = Tray(
        window, app_icon(resources_dir() / "icons"), memory=memory, start_at_login=login
    )
    window.model_banner.builtin_available = bundled_model_available()  # a file check
    window.show()
    return session


class GuiSession:
    """The window and the services behind it. Saving Settings rebuilds the services and hands
    the window the new controller; the conversation carries over."""

    def __init__(
        self,
        settings: Settings,
        secrets: Secrets,
        path: Path,
        services: Services,
        window: MainWindow,
        *,
        config_problem: str | None = None,
    ) -> None:
        """`config_problem`: why the file at `path` could not be used; the session then runs on
        `settings` (the defaults) and never saves over that file."""
        self.settings = settings
        self.secrets = secrets
        self.path = path
        self.services = services
        self.window = window
        self.config_problem = config_problem
        self.tray: Tray | None = None
        self.shortcut: GlobalShortcut | None = None
        self.shortcut_problem = ""  # why the talk shortcut does not work here, for Settings
        self._dialog: SettingsDialog | None = None
        window.set_brain_check(self.check_brain)
        window.settings_requested.connect(self.open_settings)
        window.history_requested.connect(self.open_history)
        window.model_chosen.connect(self._model_chosen)
        window.listening_mode_chosen.connect(
            lambda mode: window.tasks.start(self.choose_listening_mode(mode))
        )

    async def run(self) -> None:
        """Until the window is closed (or Quit in the tray): the last conversation shown, the
        speech model loading, the microphone open if the settings say hands-free."""
        from assistant.ui.startup_problem import on_defaults

        closed = asyncio.Event()
        self.window.closed.connect(closed.set)
        self._bind_shortcut()
        self.window.open_conversation()  # the last conversation, where it was left
        if self.config_problem is not None:
            self.window.report(on_defaults(self.config_problem))
        self.services.controller.start()
        self.window.check_brain_now()
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
        else:
            self.window.report(f"Not saved: {self.path} is left as it is until you fix it.")

    async def check_brain(self) -> None:
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
        self.window.tasks.start(self.apply(settings))

    async def apply(self, settings: Settings) -> None:
        """Use `settings` (already validated and saved) without restarting the app."""
        old = self.services
        secrets = await asyncio.to_thread(load_secrets)  # the keyring may take a moment
        # The same speech model, already loaded, goes on: loading it again takes seconds.
        transcriber = old.transcriber
        same_model = settings.stt == self.settings.stt and (
            isinstance(transcriber, Preloaded) and transcriber.loaded
        )
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
        self.services.controller.go_on_from(old.controller)  # the bubbles stay
        self.window.use_controller(self.services.controller)
        self.window.set_spoken_languages(preferred_languages(settings.stt.languages))
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
        self.window.listening_mode.show_mode(chosen)
        if chosen.value != self.settings.conversation.mode:
            self.settings.conversation.mode = chosen.value
            try:
                if self.config_problem is None:  # else the file is left as it is
                    await asyncio.to_thread(save_settings, self.settings, self.path)
            except AssistantError as error:
                self.window.report(error.message)

    async def _listen_as_set(self) -> None:
        """Open the microphone if the settings say hands-free or wake word."""
        self.window.wake_phrase = self.settings.conversation.wake_word.replace("_", " ").title()
        await self.choose_listening_mode(ListeningMode(self.settings.conversation.mode))

    def open_history(self) -> None:
        """The History dialog (one per window, read afresh each time it opens)."""
        from assistant.ui.history_dialog import HistoryActions, HistoryDialog

        window = self.window

        def store() -> HistoryStore:
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
        self.window.tasks.start(self.use_speech_model(model))

    async def use_speech_model(self, model: str) -> None:
        """The model banner's choice (a folder, or the built-in model): saved as the [stt] model
        and used at once, as if it had been chosen in Settings."""
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
        from assistant.app.voices import VoiceActions
        from assistant.config import delete_secret, store_secret
        from assistant.providers.llm.openai_chat import PRESETS
        from assistant.ui.settings_actions import SettingsActions

        def client() -> httpx.AsyncClient:
            return self.services.client

        voices = VoiceActions(client, lambda: self.settings, lambda: self.secrets)

        async def voice(settings: Settings, secrets: Secrets) -> None:
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
            list_models=lambda settings, secrets: chat_models(client(), settings, secrets),
            brain_presets=dict(PRESETS),
            model_sizes=model_sizes,
            download_model=lambda name, progress: download_speech_model(
                client(), self.settings, name, progress
            ),
            installed_voices=voices.installed,
            voice_catalogue=voices.catalogue,
            download_voice=voices.download,
            sample_voice=voices.sample,
            pause_shortcut=self._pause_shortcut,
            shortcut_problem=self.shortcut_problem,
        )

    def _pause_shortcut(self, paused: bool) -> None:
        if paused and self.shortcut is not None:
            self.shortcut.stop()
        elif not paused:
            self._bind_shortcut()
