"""The main window: the conversation, a line that says what is happening, the Talk and Stop
buttons, a message box, the last turn's timings, and the three modes (conversation, dictation,
read aloud). It only renders the controller's events and forwards the user's intents.

Why one file (over 450 lines): the window turns the controller's events into what every part of
it shows (state line, bubbles, buttons, banners); its parts are already widgets of their own, and
what is left is that one mapping, which is to shrink with issue 14's redesign."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence

from PySide6.QtCore import QByteArray, QSettings, Qt, Signal
from PySide6.QtGui import QCloseEvent, QGuiApplication, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLineEdit,
    QMainWindow,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from assistant.core.errors import AssistantError, ModelMissing
from assistant.core.events import TurnFinished, TurnState
from assistant.core.hands_free import ListeningMode
from assistant.core.turn import TurnController
from assistant.ui.brain_banner import BrainBanner
from assistant.ui.bridge import EventBridge
from assistant.ui.conversation_view import ConversationView
from assistant.ui.latency_view import LatencyView
from assistant.ui.listening_mode_box import ListeningModeBox
from assistant.ui.mode_switch import Mode, ModeSwitch
from assistant.ui.model_banner import ModelBanner
from assistant.ui.read_aloud_box import ReadAloudBox
from assistant.ui.shortcuts_sheet import (
    Binding,
    ShortcutsSheet,
    mnemonic_bindings,
    shortcut_bindings,
    shown_keys,
)
from assistant.ui.space_to_talk import SpaceToTalk
from assistant.ui.status_line import Activity, StatusLine
from assistant.ui.talk_button import TalkButton, TalkMode
from assistant.ui.tasks import BackgroundTasks

log = logging.getLogger(__name__)

BrainCheck = Callable[[], Awaitable[None]]  # raises AssistantError saying what is wrong

# A reply is being written or spoken: cancelling it now still reports its (interrupted) end.
_REPLYING = (TurnState.THINKING, TurnState.SPEAKING)
_STOPPABLE = (TurnState.LISTENING, TurnState.TRANSCRIBING, *_REPLYING)


class MainWindow(QMainWindow):
    closed = Signal()
    settings_requested = Signal()
    history_requested = Signal()
    model_chosen = Signal(str)  # another speech model to use: a folder, or "bundled"
    listening_mode_chosen = Signal(object)  # ListeningMode: how a turn begins

    def __init__(
        self,
        controller: TurnController,
        talk_mode: TalkMode = "hold",
        *,
        check_brain: BrainCheck | None = None,
        memory: QSettings | None = None,
    ) -> None:
        """`check_brain` tells whether a language model is reachable (the banner shows what it
        raised); `memory` keeps the window's size, position and mode between runs."""
        super().__init__()
        self.controller = controller
        self.mode = Mode.CONVERSATION
        self.tasks = BackgroundTasks()
        self._check_brain = check_brain
        self._memory = memory
        # Asked when the window is closed: True while the assistant goes on without it (in the
        # tray), so the window only hides. The tray sets it; without one, closing quits.
        self.hide_on_close: Callable[[], bool] = lambda: False
        self._hint = ""  # a notice to show beside "Ready" (e.g. "I didn't catch that")
        self._detail = ""  # of the current state (the error's message), to show it again
        self._brain_check: asyncio.Task[None] | None = None
        # The turn whose words are shown last, and turns shown as cut off already (by Talk,
        # Stop, a typed message...): their own TurnFinished comes a moment later, and must not
        # end the next reply's bubble.
        self._turn_shown = 0
        self._cut_off: set[int] = set()
        # What getting the speech model ready is doing now, and how far (0..1) it is, if known.
        self._loading: tuple[str, float | None] = ("", None)
        self.shortcuts_sheet: ShortcutsSheet | None = None  # the last one opened (F1)
        self.setWindowTitle(self.tr("Voice Assistant"))
        self.bridge = EventBridge(self)
        self._build(talk_mode)
        self._connect()
        self.space = SpaceToTalk(self, self.talk)
        self.use_controller(controller)
        self._restore()
        self.talk.setFocus()

    # ---- building ------------------------------------------------------------------------

    def _build(self, talk_mode: TalkMode) -> None:
        self.banner = BrainBanner()
        self.model_banner = ModelBanner()
        self.mode_switch = ModeSwitch()
        # Every mode's tab whole, always: its minimum width is then all of them side by side.
        self.mode_switch.setUsesScrollButtons(False)
        self.mode_switch.setElideMode(Qt.TextElideMode.ElideNone)
        self.timings_button = QToolButton()
        self.timings_button.setText(self.tr("Timings"))
        self.timings_button.setCheckable(True)
        self.timings_button.setChecked(True)
        self.timings_button.setAccessibleName(self.tr("Show the timings of the last turn"))
        self.new_button = QPushButton(self.tr("&New conversation"))
        self.new_button.setToolTip(self.tr("Forget this conversation and start afresh (Ctrl+N)"))
        self.settings_button = QPushButton(self.tr("Se&ttings…"))
        self.settings_button.setToolTip(
            self.tr("Devices, speech, the language model, the voice, keys")
        )
        self.history_button = QPushButton(self.tr("&History…"))
        self.history_button.setAccessibleName(self.tr("History"))
        self.history_button.setToolTip(
            self.tr("Earlier conversations: open, export or delete them (Ctrl+H)")
        )
        self.help_button = QToolButton()
        self.help_button.setText("?")
        self.help_button.setAccessibleName(self.tr("Keyboard shortcuts"))
        self.help_button.setToolTip(self.tr("Keyboard shortcuts (F1)"))
        self.conversation = ConversationView()
        self.latency = LatencyView()
        self.status = StatusLine()
        self.talk = TalkButton(talk_mode)
        self.listening_mode = ListeningModeBox()
        self.wake_phrase = "Hey Jarvis"  # said by the state line in wake-word mode
        self.shortcut_label = ""  # the global talk shortcut ("Ctrl+Alt+Space"), if one works
        self.stop_button = QPushButton(self.tr("&Stop"))
        self.stop_button.setAccessibleName(self.tr("Stop"))
        self.stop_button.setToolTip(self.tr("Stop listening or speaking at once (Esc)"))
        self.message = QLineEdit()
        self.message.setPlaceholderText(self.tr("Or type a message and press Enter"))
        self.message.setAccessibleName(self.tr("Message"))
        self.message.setClearButtonEnabled(True)
        self.send_button = QPushButton(self.tr("Send"))
        self.send_button.setAccessibleName(self.tr("Send the message"))
        self.read_aloud_box = ReadAloudBox()

        top = QHBoxLayout()
        top.addWidget(self.mode_switch)
        top.addStretch(1)
        for widget in (
            self.timings_button,
            self.new_button,
            self.history_button,
            self.settings_button,
            self.help_button,
        ):
            top.addWidget(widget)
        self.message_row = QWidget()
        message_layout = QHBoxLayout(self.message_row)
        message_layout.setContentsMargins(0, 0, 0, 0)
        message_layout.addWidget(self.message, 1)
        message_layout.addWidget(self.send_button)
        buttons = QHBoxLayout()
        buttons.addWidget(self.listening_mode)
        buttons.addWidget(self.talk, 1)
        buttons.addStretch(0)  # takes the room when Talk is hidden (Read aloud)
        buttons.addWidget(self.stop_button)
        layout = QVBoxLayout()
        layout.addWidget(self.banner)
        layout.addWidget(self.model_banner)
        layout.addLayout(top)
        layout.addWidget(self.conversation, 1)
        layout.addWidget(self.latency)
        layout.addWidget(self.status)
        layout.addLayout(buttons)
        layout.addWidget(self.message_row)
        layout.addWidget(self.read_aloud_box)
        central = QWidget()
        central.setLayout(layout)
        self.setCentralWidget(central)
        self.read_aloud_box.hide()
        order = [
            self.talk,
            self.stop_button,
            self.message,
            self.send_button,
            self.listening_mode,
            self.read_aloud_box.text,
            self.read_aloud_box.read_button,
            self.conversation,
            self.mode_switch,
            self.timings_button,
            self.new_button,
            self.history_button,
            self.settings_button,
            self.help_button,
            self.banner.retry_button,
            self.banner.settings_button,
            *self.model_banner.buttons(),
        ]
        for first, second in zip(order, order[1:], strict=False):
            QWidget.setTabOrder(first, second)

    def _connect(self) -> None:
        self.talk.talk_started.connect(self._press)
        self.talk.talk_ended.connect(self._release)
        self.stop_button.clicked.connect(self._stop)
        self.message.returnPressed.connect(self._send_typed)
        self.send_button.clicked.connect(self._send_typed)
        self.read_aloud_box.read_requested.connect(self._read_aloud)
        self.new_button.clicked.connect(self.new_conversation)
        self.history_button.clicked.connect(self.history_requested)
        self.settings_button.clicked.connect(self.settings_requested)
        self.help_button.clicked.connect(self.show_shortcuts)
        self.timings_button.toggled.connect(self.latency.setVisible)
        self.mode_switch.mode_changed.connect(self.set_mode)
        self.listening_mode.mode_chosen.connect(self.listening_mode_chosen)
        self.banner.settings_requested.connect(self.settings_requested)
        self.banner.retry_requested.connect(self.check_brain_now)
        self.model_banner.retry_requested.connect(self._load_again)
        self.model_banner.model_chosen.connect(self.model_chosen)
        self.bridge.loading_progress.connect(self._loading_progress)
        self.bridge.state_changed.connect(self._show_state)
        self.bridge.level.connect(self.status.set_level)
        self.bridge.turn_shown.connect(self._show_turn)
        self.bridge.user_said.connect(self._user_said)
        self.bridge.user_speaking.connect(self._user_speaking)
        self.bridge.reply_delta.connect(self.conversation.add_reply_text)
        self.bridge.sentence_started.connect(
            lambda index, text: self.conversation.highlight_sentence(text)
        )
        self.bridge.notice.connect(self._notice)
        self.bridge.turn_finished.connect(self._turn_finished)
        self._bind_keys()

    def _bind_keys(self) -> None:
        """The window's shortcuts, each with what it does: the shortcuts sheet (F1) lists them
        from here, so a key added here is listed there too."""
        tab = self.mode_switch.tabText
        shortcuts: list[tuple[QKeySequence | str, str, Callable[[], object]]] = [
            ("Escape", self.tr("Stop listening or speaking at once"), self._stop),
            ("Ctrl+N", self.tr("New conversation"), self.new_conversation),
            (
                "Ctrl+L",
                self.tr("Choose how a turn begins (push-to-talk, hands-free…)"),
                (self.listening_mode.showPopup),
            ),
            ("Ctrl+H", self.tr("History of conversations"), self.history_requested.emit),
            ("Ctrl+,", self.tr("Settings"), self.settings_requested.emit),
            *(
                (
                    f"Ctrl+{n + 1}",
                    self.tr("Go to {}").format(tab(n)),
                    lambda m=mode: self.set_mode(m),
                )
                for n, mode in enumerate(Mode)
            ),
            ("F1", self.tr("This list of keyboard shortcuts"), self.show_shortcuts),
        ]
        for keys, does, action in shortcuts:
            shortcut = QShortcut(QKeySequence(keys), self, action)
            shortcut.setWhatsThis(does)
        for shortcut in self.read_aloud_box.findChildren(QShortcut):  # Ctrl+Enter in its text
            shortcut.setWhatsThis(self.tr("Read the text aloud (in Read aloud)"))

    # ---- help --------------------------------------------------------------------------

    def show_shortcuts(self) -> ShortcutsSheet:
        """The keyboard shortcuts sheet, gathered now from the window's real bindings (the talk
        mode, the global shortcut and the page shown change what is listed)."""
        if self.shortcuts_sheet is not None:
            self.shortcuts_sheet.close()
        sheet = ShortcutsSheet(
            [
                (self.tr("Talking"), self._talk_keys()),
                (self.tr("Shortcuts"), shortcut_bindings(self)),
                (self.tr("Buttons"), mnemonic_bindings(self)),
            ],
            self,
        )
        sheet.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        sheet.destroyed.connect(lambda: setattr(self, "shortcuts_sheet", None))
        self.shortcuts_sheet = sheet
        sheet.open()
        return sheet

    def _talk_keys(self) -> list[Binding]:
        """Keys that are not QShortcuts: Space (SpaceToTalk), Enter in the message box and the
        global shortcut (bound outside Qt, named by the app)."""
        space = shown_keys(QKeySequence(Qt.Key.Key_Space))
        keys = [
            Binding(
                space,
                self.tr("Hold to talk; let go when you are done")
                if self.talk.mode == "hold"
                else self.tr("Press to talk; press again when you are done"),
            ),
            Binding(
                shown_keys(QKeySequence(Qt.Key.Key_Return)),
                self.tr("Send the typed message (in the message box)"),
            ),
        ]
        if self.shortcut_label:
            keys.append(Binding(self.shortcut_label, self.tr("Talk from any application")))
        else:
            keys.append(
                Binding(
                    "—",
                    self.tr("Talk from any application: choose a shortcut in Settings > Audio"),
                )
            )
        return keys

    # ---- what the app tells the window ---------------------------------------------------

    def use_controller(self, controller: TurnController) -> None:
        """Show `controller` from now on (Settings were applied and the services rebuilt)."""
        self.controller = controller
        self.bridge.attach(controller)
        controller.dictation = self.mode is Mode.DICTATION
        self._turn_shown, self._cut_off = 0, set()
        self._loading = ("", None)  # how far its own speech model has come is not known yet
        self.conversation.end_reply()
        self._show_state(controller.state, "")

    def report(self, message: str) -> None:
        """A problem outside any turn (new settings could not be applied): say it as an error."""
        self.conversation.add_notice(message, is_error=True)
        self.status.show_status(message, Activity.ERROR)

    def set_talk_mode(self, talk_mode: TalkMode) -> None:
        self.talk.set_mode(talk_mode)
        self._show_state(self.controller.state, self._detail)

    def set_shortcut_label(self, label: str) -> None:
        """The global talk shortcut ("Ctrl+Alt+Space"), named in the ready text; "" for none."""
        self.shortcut_label = label
        self._show_state(self.controller.state, self._detail)

    def set_spoken_languages(self, languages: Sequence[str]) -> None:
        """The languages the user speaks (ISO codes, `core.languages.preferred_languages`): with
        more than one, every bubble of theirs names the language it was heard in."""
        self.conversation.set_spoken_languages(languages)

    def set_mode(self, mode: Mode) -> None:
        self.mode = mode
        if self.mode_switch.mode is not mode:
            self.mode_switch.set_mode(mode)  # comes back here once, with nothing left to do
            return
        self.controller.dictation = mode is Mode.DICTATION
        reading = mode is Mode.READ_ALOUD
        self.talk.setVisible(not reading)
        self.stop_button.setMinimumHeight(0 if reading else self.talk.minimumHeight())
        self.message_row.setVisible(mode is Mode.CONVERSATION)
        self.read_aloud_box.setVisible(reading)
        (self.read_aloud_box.text if reading else self.talk).setFocus()
        self._show_state(self.controller.state, self._detail)

    def set_brain_check(self, check_brain: BrainCheck) -> None:
        """How to tell whether a language model is reachable (see `__init__`)."""
        self._check_brain = check_brain

    def check_brain_now(self) -> asyncio.Task[None] | None:
        """Find out (again) whether a language model is reachable; the banner says if not.
        A check still running is for settings that may have changed: it gives way."""
        if self._check_brain is None:
            return None
        if self._brain_check is not None:
            self._brain_check.cancel()
        self.banner.set_checking(True)  # now: Try again cannot be clicked twice
        self._brain_check = self.tasks.start(self._run_brain_check(self._check_brain))
        return self._brain_check

    async def _run_brain_check(self, check: BrainCheck) -> None:
        self.banner.set_checking(True)
        try:
            await check()
        except AssistantError as error:
            self.banner.show_problem(error.message)
        except Exception as error:
            log.exception("the language model check failed unexpectedly")
            self.banner.show_problem(
                f"Checking the language model failed unexpectedly ({type(error).__name__})."
            )
        else:
            self.banner.hide()
        finally:
            if asyncio.current_task() is self._brain_check:  # not one that gave way
                self._brain_check = None
                self.banner.set_checking(False)

    # ---- the user's intents --------------------------------------------------------------

    def _press(self) -> None:
        self._interrupt_reply()
        self.controller.press()

    def _release(self) -> None:
        self.controller.release()

    def _stop(self) -> None:
        self.talk.reset()
        self._interrupt_reply()
        self.controller.stop()

    def _send_typed(self) -> None:
        text = self.message.text().strip()
        if text:
            self.message.clear()
            self._interrupt_reply()
            self.controller.send_text(text)

    def _read_aloud(self, text: str) -> None:
        self._interrupt_reply()
        self.conversation.begin_reading(text)
        self.controller.read_aloud(text)

    def new_conversation(self) -> None:
        """Forget the conversation shown and start afresh (New conversation; or the one shown
        was deleted from the history)."""
        self._interrupt_reply()
        self.controller.new_conversation()
        self.conversation.clear()
        self.latency.clear()

    def open_conversation(self, conversation_id: int | None = None) -> None:
        """Show a stored conversation (None: the latest) and go on with it: the model is sent
        its messages again with the next one."""
        self._stop()  # whatever was going on belongs to the conversation being left
        self.conversation.clear()
        self.latency.clear()
        self.conversation.show_messages(self.controller.resume_conversation(conversation_id))

    def _interrupt_reply(self) -> None:
        """Something new starts while a reply is still going: it is cut off now, and its own
        end (reported a moment later) must not end the next reply's bubble."""
        if self.controller.state in _REPLYING:
            self._cut_off.add(self._turn_shown)
            self.conversation.end_reply(interrupted=True)

    # ---- what the controller tells the window --------------------------------------------

    def _show_state(self, state: TurnState, detail: str) -> None:
        self._detail = detail
        if state is not TurnState.LISTENING:
            self.talk.reset()
        if state is not TurnState.READY:
            self._hint = ""
        if state in (TurnState.READY, TurnState.ERROR):
            self.conversation.end_reply()  # nothing is being said any more
        self.stop_button.setEnabled(state in _STOPPABLE)
        self._follow_the_speech_model()
        fraction = self._loading[1] if state is TurnState.LOADING else None
        self.status.show_status(*self._describe(state, detail), fraction)

    # ---- the speech model getting ready --------------------------------------------------

    def _follow_the_speech_model(self) -> None:
        """Talk waits while the speech model gets ready. A typed message is answered meanwhile,
        so the state alone does not tell: the controller does."""
        getting_ready = self.controller.getting_ready
        if getting_ready == self.talk.getting_ready:
            return  # Talk remembers whether it waited: the rest is for a load starting or ending
        self.talk.set_getting_ready(getting_ready)
        if getting_ready:
            self._loading = ("", None)  # a new load: how far it has come is not known yet
            self.model_banner.set_trying(True)
        else:
            self._loading_ended()

    def _loading_ended(self) -> None:
        """The model banner says whether the model is missing; Talk takes back the focus."""
        error = self.controller.load_error
        if isinstance(error, ModelMissing):
            self.model_banner.show_missing(error.model, error.message)
        else:
            self.model_banner.hide()
        if self.message.hasFocus() and not self.message.text():
            self.talk.setFocus()  # it went there only because Talk could not take it

    def _loading_progress(self, text: str, fraction: float | None) -> None:
        self._loading = (text, fraction)
        if self.controller.state is TurnState.LOADING:  # else it is shown when the turn ends
            self._show_state(TurnState.LOADING, self._detail)

    def _load_again(self) -> None:
        """The model banner's Try again: fetch and load the speech model once more."""
        self.controller.start()

    def model_choice_done(self) -> None:
        """The model chosen in the banner was applied, or could not be: its buttons work again,
        unless the chosen model is still getting ready (then its end says what next)."""
        self.model_banner.set_trying(self.controller.getting_ready)

    def _describe(self, state: TurnState, detail: str) -> tuple[str, Activity]:
        holding = self.talk.mode == "hold"
        match state:
            case TurnState.LOADING:
                doing = self._loading[0] or detail
                said = self.tr("Getting ready: {}").format(doing) if doing else None
                return (said or self.tr("Getting ready…")), Activity.BUSY
            case TurnState.READY:
                if self._hint:
                    return self.tr("Ready. {}").format(self._hint), Activity.IDLE
                return self._ready_text(), Activity.IDLE
            case TurnState.LISTENING:
                if self.listening_mode.mode is not ListeningMode.PUSH_TO_TALK and not (
                    self.talk.talking
                ):
                    return self.tr("Listening… I answer when you pause."), Activity.LISTENING
                if holding:
                    return self.tr("Listening… let go of Talk when you are done."), (
                        Activity.LISTENING
                    )
                return self.tr("Listening… click Talk again when you are done."), (
                    Activity.LISTENING
                )
            case TurnState.TRANSCRIBING:
                return self.tr("Transcribing what you said…"), Activity.BUSY
            case TurnState.THINKING:
                return (detail or self.tr("Thinking…")), Activity.BUSY
            case TurnState.SPEAKING:
                if self.mode is Mode.READ_ALOUD:
                    return self.tr("Reading aloud… press Stop (Esc) to end."), Activity.SPEAKING
                if detail:  # the model is slow to write the rest
                    return self.tr("Speaking… {}").format(detail), Activity.SPEAKING
                return self.tr("Speaking… press Talk to interrupt, or Stop (Esc)."), (
                    Activity.SPEAKING
                )
            case _:
                return (detail or self.tr("Something went wrong. Try again.")), Activity.ERROR

    def _ready_text(self) -> str:
        keys = (
            self.tr("Space, or {} anywhere").format(self.shortcut_label)
            if self.shortcut_label
            else self.tr("Space")
        )
        how = (
            self.tr("Hold Talk (or {})").format(keys)
            if self.talk.mode == "hold"
            else self.tr("Click Talk (or press {})").format(keys)
        )
        if self.mode is Mode.READ_ALOUD:
            return self.tr("Ready. Type or paste text, then press Read aloud.")
        if self.listening_mode.mode is ListeningMode.HANDS_FREE:
            return self.tr("Hands-free: listening. Just speak; I answer when you pause.")
        if self.listening_mode.mode is ListeningMode.WAKE_WORD:
            return self.tr("Wake word: waiting for “{}”, then speak.").format(self.wake_phrase)
        if self.mode is Mode.DICTATION:
            return self.tr("Ready to take dictation. {} and speak.").format(how)
        return self.tr("Ready. {} and speak, or type a message.").format(how)

    def _user_speaking(self, committed: str, tentative: str) -> None:
        dictation = self.mode is Mode.DICTATION
        self.conversation.show_partial(committed, tentative, dictation=dictation)

    def _user_said(self, text: str, restated: bool, language: str) -> None:
        if self.mode is Mode.DICTATION:
            QGuiApplication.clipboard().setText(text)
            self.conversation.add_dictation(text, language)
        elif restated:
            self.conversation.restate_user(text, language)
        else:
            self.conversation.add_user(text, language)

    def _notice(self, message: str, is_error: bool) -> None:
        missing = self.controller.load_error
        if isinstance(missing, ModelMissing) and message == missing.message:
            return  # the model banner says it, with buttons to fix it: not in the conversation too
        self.conversation.add_notice(message, is_error)
        if not is_error:
            self._hint = message

    def _show_turn(self, turn: int) -> None:
        self._turn_shown = turn

    def _turn_finished(self, event: TurnFinished) -> None:
        self.latency.show_timeline(event.timeline)
        if event.timeline.turn in self._cut_off:
            self._cut_off.discard(event.timeline.turn)  # shown as cut off when it was
            return
        self.conversation.end_reply(interrupted=event.interrupted)

    # ---- remembering the window ----------------------------------------------------------

    def _restore(self) -> None:
        self.resize(680, 760)  # the mode tabs and the top row's buttons side by side
        if self._memory is None:
            return
        geometry = self._memory.value("geometry")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        timings = self._memory.value("timings_visible", True, type=bool)
        self.timings_button.setChecked(bool(timings))
        saved_mode = self._memory.value("mode", Mode.CONVERSATION.value)
        self.set_mode(next((m for m in Mode if m.value == saved_mode), Mode.CONVERSATION))

    def _remember(self) -> None:
        if self._memory is None:
            return
        self._memory.setValue("geometry", self.saveGeometry())
        self._memory.setValue("timings_visible", self.timings_button.isChecked())
        self._memory.setValue("mode", self.mode.value)
        self._memory.sync()

    def closeEvent(self, event: QCloseEvent) -> None:
        self._remember()
        if self.hide_on_close():
            event.ignore()
            self.hide()
            return
        self.tasks.cancel()
        self.bridge.detach()  # what the controller still says (while it shuts down) goes nowhere
        self.closed.emit()
        super().closeEvent(event)


__all__ = ["BrainCheck", "MainWindow", "Mode"]
