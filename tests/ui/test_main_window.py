"""The main window over a real turn controller (in-memory microphone, model and voice): what the
user sees in every state, and that every path ends back at Ready."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from PySide6.QtCore import QEvent, QSettings, Qt
from PySide6.QtGui import QGuiApplication, QKeyEvent
from PySide6.QtWidgets import QApplication

from assistant.core.errors import DeviceError, ModelError, ModelMissing, ServiceError
from assistant.core.events import ReplyDelta, StateChanged, TurnFinished, TurnState, UserSaid
from assistant.core.protocols import LoadProgress, ProgressListener
from assistant.core.timeline import TurnTimeline
from assistant.core.turn import NO_BRAIN, NOTHING_HEARD, TOO_SHORT, TurnController, TurnOptions
from assistant.ui.main_window import MainWindow, Mode
from assistant.ui.status_line import Activity
from assistant.ui.talk_button import TAP_SECONDS
from tests.support.memory import MemoryChat, MemoryInput, MemorySynthesizer, MemoryTranscriber
from tests.ui.harness import SlowLoadingTranscriber, close_controllers, make_controller, until

pytestmark = pytest.mark.gui


@pytest.fixture(autouse=True)
async def _closing() -> AsyncIterator[None]:
    """Every controller a test made is shut down after it, even when the test failed."""
    yield
    await close_controllers()


REPLY = MemoryChat().reply
SENTENCES = ["It is sunny today.", "The high is twenty degrees.", "Enjoy your walk!"]
HEARD = MemoryTranscriber().text


class Seen:
    """What the window showed right after each state change (status text and activity)."""

    def __init__(self, window: MainWindow) -> None:
        self.window = window
        self.states: list[tuple[TurnState, str, Activity]] = []
        window.bridge.state_changed.connect(self._state)  # after the window's own slot

    def _state(self, state: TurnState, detail: str) -> None:
        self.states.append((state, self.window.status.text(), self.window.status.activity))

    def order(self) -> list[TurnState]:
        return [state for state, _, _ in self.states]

    def text_of(self, state: TurnState) -> str:
        return next(text for seen, text, _ in self.states if seen is state)


def shown_window(qtbot: Any, controller: TurnController, **options: Any) -> MainWindow:
    window = MainWindow(controller, **options)
    qtbot.addWidget(window)
    window.show()
    return window


async def ready_window(qtbot: Any, controller: TurnController, **options: Any) -> MainWindow:
    window = shown_window(qtbot, controller, **options)
    controller.start()
    await controller.wait_ready()
    return window


def is_back_at_ready(window: MainWindow) -> bool:
    return (
        window.controller.state is TurnState.READY
        and window.status.text().startswith("Ready")
        and not window.stop_button.isEnabled()
        and not window.talk.talking
    )


async def talk(qtbot: Any, window: MainWindow, pause: float = 0.0) -> None:
    """Hold Talk with the mouse, then let go."""
    import asyncio

    qtbot.mousePress(window.talk, Qt.MouseButton.LeftButton)
    await until(lambda: window.controller.state is TurnState.LISTENING, what="listening")
    await asyncio.sleep(pause)
    qtbot.mouseRelease(window.talk, Qt.MouseButton.LeftButton)


# ---- getting ready ---------------------------------------------------------------------------


async def test_the_window_says_it_is_getting_ready_until_the_speech_model_is_loaded(
    qtbot: Any,
) -> None:
    transcriber = SlowLoadingTranscriber()
    controller = make_controller(transcriber=transcriber)
    window = shown_window(qtbot, controller)
    assert window.status.text().startswith("Getting ready")
    controller.start()
    assert window.status.text() == "Getting ready: Loading the speech model…"
    assert window.status.busy.isVisibleTo(window) and window.status.activity is Activity.BUSY
    transcriber.loaded.set()
    await until(lambda: is_back_at_ready(window), what="Ready")
    assert window.status.text() == "Ready. Hold Talk (or Space) and speak, or type a message."
    assert not window.status.busy.isVisibleTo(window)
    await controller.aclose()


async def test_a_speech_model_that_cannot_load_is_an_error_that_says_what_to_do(
    qtbot: Any,
) -> None:
    message = "The speech model 'huge' was not found. Choose another one in Settings."
    transcriber = SlowLoadingTranscriber(error=ModelError(message))
    controller = make_controller(transcriber=transcriber)
    window = MainWindow(controller)
    qtbot.addWidget(window)
    controller.start()
    transcriber.loaded.set()
    await controller.wait_ready()
    assert window.status.text() == message
    assert window.status.activity is Activity.ERROR
    await controller.aclose()


# ---- a whole turn ----------------------------------------------------------------------------


async def test_a_full_turn_from_a_click_shows_every_state_and_ends_ready(qtbot: Any) -> None:
    controller = make_controller(chat=MemoryChat(delay=0.01))
    window = await ready_window(qtbot, controller)
    seen = Seen(window)
    levels: list[float] = []
    window.bridge.level.connect(lambda level: levels.append(window.status.meter.fill))

    qtbot.mousePress(window.talk, Qt.MouseButton.LeftButton)
    await until(lambda: controller.state is TurnState.LISTENING)
    assert window.talk.text() == "Listening… let go to send"
    assert window.status.meter.isVisibleTo(window)
    assert window.stop_button.isEnabled()
    await until(lambda: levels, what="a level")
    assert levels[0] > 0.5  # the microphone's 0.5 RMS shows as a well-filled meter
    qtbot.mouseRelease(window.talk, Qt.MouseButton.LeftButton)
    await controller.wait()

    assert seen.order() == [
        TurnState.LISTENING,
        TurnState.TRANSCRIBING,
        TurnState.THINKING,
        TurnState.SPEAKING,
        TurnState.READY,
    ]
    assert seen.text_of(TurnState.LISTENING) == "Listening… let go of Talk when you are done."
    assert seen.text_of(TurnState.TRANSCRIBING) == "Transcribing what you said…"
    assert seen.text_of(TurnState.THINKING) == "Thinking…"
    assert seen.text_of(TurnState.SPEAKING).startswith("Speaking… press Talk to interrupt")
    assert [activity for _, _, activity in seen.states] == [
        Activity.LISTENING,
        Activity.BUSY,
        Activity.BUSY,
        Activity.SPEAKING,
        Activity.IDLE,
    ]
    assert is_back_at_ready(window)
    assert window.talk.text() == "Hold to talk"
    shown = window.conversation.toPlainText()
    assert HEARD in shown and REPLY in shown
    assert shown.index(HEARD) < shown.index(REPLY)
    assert "interrupted" not in shown
    assert window.conversation.spoken_text() == ""  # nothing highlighted once it is over
    labels = [row.label for row in window.latency.rows]
    assert labels == [
        "Transcription",
        "Model's first word",
        "Sentence 1",
        "Sentence 2",
        "Sentence 3",
    ]
    assert window.latency.summary().startswith("First audio ")
    await controller.aclose()


async def test_the_reply_appears_as_it_streams_and_the_spoken_sentence_is_highlighted(
    qtbot: Any,
) -> None:
    controller = make_controller(chat=MemoryChat(delay=0.02), time_scale=2.0)
    window = await ready_window(qtbot, controller)
    shown_while_streaming: list[str] = []
    highlighted: list[str] = []
    window.bridge.reply_delta.connect(
        lambda delta: shown_while_streaming.append(window.conversation.toPlainText())
    )
    window.bridge.sentence_started.connect(
        lambda index, text: highlighted.append(window.conversation.spoken_text())
    )
    await talk(qtbot, window)
    await controller.wait()

    partial = [text.split("Assistant\n", 1)[1] for text in shown_while_streaming]
    assert len(partial) == len(REPLY) // 5 + 1  # one step per 5-character piece
    assert all(REPLY.startswith(text.rstrip("\n")) for text in partial)
    assert partial[0].rstrip("\n") == REPLY[:5]
    assert highlighted == SENTENCES
    assert window.conversation.spoken_text() == ""
    await controller.aclose()


async def test_a_typed_message_is_answered_and_spoken(qtbot: Any) -> None:
    chat = MemoryChat()
    controller = make_controller(chat=chat)
    window = await ready_window(qtbot, controller)
    seen = Seen(window)
    qtbot.keyClicks(window.message, "Will it rain?")
    qtbot.keyClick(window.message, Qt.Key.Key_Return)
    assert window.message.text() == ""
    await controller.wait()
    assert chat.received[0][-1].content == "Will it rain?"
    assert TurnState.SPEAKING in seen.order()
    assert "Will it rain?" in window.conversation.toPlainText()
    assert REPLY in window.conversation.toPlainText()
    assert is_back_at_ready(window)
    await controller.aclose()


# ---- interrupting ----------------------------------------------------------------------------


async def test_pressing_talk_while_the_assistant_speaks_interrupts_it(qtbot: Any) -> None:
    # Each sentence 'plays' for one second, so the reply is still being spoken when Talk goes down.
    controller = make_controller(time_scale=20.0)
    window = await ready_window(qtbot, controller)
    await talk(qtbot, window)
    await until(lambda: controller.state is TurnState.SPEAKING, what="speaking")
    stream = controller.speaker.output.streams[0]  # type: ignore[attr-defined]

    qtbot.mousePress(window.talk, Qt.MouseButton.LeftButton)
    await until(lambda: controller.state is TurnState.LISTENING, what="listening again")
    await until(lambda: stream.aborted, seconds=1, what="silence")
    assert window.status.text().startswith("Listening")
    assert "Assistant · interrupted" in window.conversation.toPlainText()
    assert window.conversation.spoken_text() == ""

    controller.chat.reply = "Here is the new answer."  # type: ignore[union-attr]
    controller.speaker.output.time_scale = 0.2  # type: ignore[attr-defined]
    qtbot.mouseRelease(window.talk, Qt.MouseButton.LeftButton)
    await until(lambda: is_back_at_ready(window), what="Ready after the second turn")
    shown = window.conversation.toPlainText()
    assert shown.count("interrupted") == 1  # the second reply ran to its end
    assert shown.rstrip().endswith("Here is the new answer.")
    await controller.aclose()


async def test_a_turn_cut_off_is_told_apart_from_the_next_by_its_number(qtbot: Any) -> None:
    """Stop just as a reply ends: its own (not interrupted) end comes after. That must not make
    the window swallow a later turn's end, e.g. one the user cut off by voice."""
    controller = make_controller()
    window = await ready_window(qtbot, controller)
    deliver = window.bridge.deliver

    def finished(turn: int, interrupted: bool) -> TurnFinished:
        return TurnFinished(TurnTimeline(turn=turn), "", "", interrupted)

    deliver(UserSaid("First?", turn=1))
    deliver(ReplyDelta("One.", turn=1))
    controller.state = TurnState.SPEAKING  # as the window sees it when Stop is clicked
    deliver(StateChanged(TurnState.SPEAKING))
    qtbot.mouseClick(window.stop_button, Qt.MouseButton.LeftButton)
    deliver(finished(1, interrupted=False))  # it had just ended: its end was on its way
    controller.state = TurnState.READY
    deliver(StateChanged(TurnState.READY))
    for turn, reply in ((2, "Two."), (3, "Three, and so")):
        deliver(UserSaid(f"Question {turn}?", turn=turn))
        deliver(ReplyDelta(reply, turn=turn))
        deliver(finished(turn, interrupted=turn == 3))  # the third cut off by voice
    await until(lambda: "Three, and so" in window.conversation.toPlainText())
    shown = " ".join(window.conversation.toPlainText().split())
    assert "Assistant · interrupted One." in shown
    assert "Assistant Two." in shown
    assert "Assistant · interrupted Three, and so" in shown
    await controller.aclose()


@pytest.mark.parametrize("how", ["button", "escape"])
async def test_stop_silences_the_assistant_at_once_and_returns_to_ready(
    qtbot: Any, how: str
) -> None:
    controller = make_controller(time_scale=20.0)
    window = await ready_window(qtbot, controller)
    await talk(qtbot, window)
    await until(lambda: controller.state is TurnState.SPEAKING, what="speaking")
    stream = controller.speaker.output.streams[0]  # type: ignore[attr-defined]
    if how == "button":
        qtbot.mouseClick(window.stop_button, Qt.MouseButton.LeftButton)
    else:
        qtbot.keyClick(window.conversation, Qt.Key.Key_Escape)
    assert is_back_at_ready(window)
    await until(lambda: stream.aborted, seconds=1, what="silence")
    await controller.wait()
    assert "Assistant · interrupted" in window.conversation.toPlainText()
    assert is_back_at_ready(window)
    await controller.aclose()


async def test_stop_while_listening_discards_the_recording(qtbot: Any) -> None:
    controller = make_controller()
    window = await ready_window(qtbot, controller)
    qtbot.mousePress(window.talk, Qt.MouseButton.LeftButton)
    await until(lambda: controller.microphone.recording)  # type: ignore[attr-defined]
    qtbot.keyClick(window.conversation, Qt.Key.Key_Escape)
    assert is_back_at_ready(window)
    qtbot.mouseRelease(window.talk, Qt.MouseButton.LeftButton)  # the hand lets go later
    await controller.wait()
    assert is_back_at_ready(window)
    assert window.conversation.toPlainText().strip() == ""
    await controller.aclose()


async def test_a_new_message_while_text_is_read_aloud_keeps_each_bubble_right(
    qtbot: Any,
) -> None:
    controller = make_controller(time_scale=20.0)
    window = await ready_window(qtbot, controller)
    window.set_mode(Mode.READ_ALOUD)
    window.read_aloud_box.text.setPlainText("First text. It is long enough.")
    qtbot.mouseClick(window.read_aloud_box.read_button, Qt.MouseButton.LeftButton)
    await until(lambda: window.conversation.spoken_text() == "First text.", what="reading")
    window.read_aloud_box.text.setPlainText("Second text. Also read.")
    qtbot.mouseClick(window.read_aloud_box.read_button, Qt.MouseButton.LeftButton)
    await until(lambda: window.conversation.spoken_text() == "Second text.", what="the next")
    await until(lambda: window.conversation.spoken_text() == "Also read.", what="its end")
    qtbot.mouseClick(window.stop_button, Qt.MouseButton.LeftButton)
    await controller.wait()
    shown = window.conversation.toPlainText()
    assert shown.count("Read aloud · interrupted") == 2
    await controller.aclose()


# ---- every other way a turn can end ----------------------------------------------------------


async def test_a_very_short_press_ends_ready_with_a_hint(qtbot: Any) -> None:
    controller = make_controller(microphone=MemoryInput(pcm=b"\x01\x00" * 800))  # 50 ms
    window = await ready_window(qtbot, controller)
    await talk(qtbot, window)
    await controller.wait()
    assert is_back_at_ready(window)
    assert window.status.text() == f"Ready. {TOO_SHORT}"
    assert TOO_SHORT in window.conversation.toPlainText()


async def test_silence_ends_ready_with_a_hint(qtbot: Any) -> None:
    controller = make_controller(transcriber=MemoryTranscriber(text=""))
    window = await ready_window(qtbot, controller)
    await talk(qtbot, window)
    await controller.wait()
    assert is_back_at_ready(window)
    assert window.status.text() == f"Ready. {NOTHING_HEARD}"


async def test_without_a_language_model_the_window_says_what_to_do(qtbot: Any) -> None:
    controller = make_controller(chat=None)
    window = await ready_window(qtbot, controller)
    await talk(qtbot, window)
    await controller.wait()
    assert is_back_at_ready(window)
    assert window.status.text() == f"Ready. {NO_BRAIN}"
    assert HEARD in window.conversation.toPlainText()


async def test_the_recording_limit_ends_listening_even_while_talk_is_held(qtbot: Any) -> None:
    options = TurnOptions(max_recording_seconds=0.3)
    controller = make_controller(options=options)
    window = await ready_window(qtbot, controller)
    seen = Seen(window)
    qtbot.mousePress(window.talk, Qt.MouseButton.LeftButton)
    await until(lambda: TurnState.TRANSCRIBING in seen.order(), what="the limit")
    assert not window.talk.talking and window.talk.text() == "Hold to talk"
    await until(lambda: is_back_at_ready(window), what="Ready")
    qtbot.mouseRelease(window.talk, Qt.MouseButton.LeftButton)
    assert "longest allowed" in window.conversation.toPlainText()
    assert REPLY in window.conversation.toPlainText()
    assert is_back_at_ready(window)


@pytest.mark.parametrize("failure", ["microphone", "model", "voice"])
async def test_an_error_says_what_to_do_and_the_next_press_starts_over(
    qtbot: Any, failure: str
) -> None:
    microphone, chat, synthesizer = MemoryInput(), MemoryChat(), MemorySynthesizer()
    problem = {
        "microphone": DeviceError("No microphone was found. Connect one, then try again."),
        "model": ServiceError("The chat service failed (500). Try again in a moment."),
        "voice": ServiceError("The voice service failed. Try again in a moment."),
    }[failure]
    if failure == "microphone":
        microphone.error = problem
    elif failure == "model":
        chat.error_after, chat.error = 3, problem
    else:
        synthesizer.fail = {SENTENCES[1]: problem}
    controller = make_controller(microphone=microphone, chat=chat, synthesizer=synthesizer)
    window = await ready_window(qtbot, controller)
    seen = Seen(window)
    qtbot.mousePress(window.talk, Qt.MouseButton.LeftButton)
    await until(lambda: controller.state in (TurnState.LISTENING, TurnState.ERROR))
    qtbot.mouseRelease(window.talk, Qt.MouseButton.LeftButton)
    await controller.wait()

    assert controller.state is TurnState.ERROR
    assert window.status.text() == problem.message
    assert window.status.activity is Activity.ERROR
    assert not window.stop_button.isEnabled() and not window.talk.talking
    if failure != "microphone":
        assert "Assistant · interrupted" in window.conversation.toPlainText()
    assert seen.order()[-1] is TurnState.ERROR

    microphone.error, chat.error_after, synthesizer.fail = None, None, {}
    await talk(qtbot, window)
    await controller.wait()
    assert is_back_at_ready(window)
    assert window.conversation.toPlainText().rstrip().endswith(REPLY)


# ---- the keyboard ----------------------------------------------------------------------------


@pytest.mark.parametrize("focus", ["conversation", "stop_button", "mode_switch"])
async def test_holding_space_talks_wherever_the_focus_is(qtbot: Any, focus: str) -> None:
    controller = make_controller()
    window = await ready_window(qtbot, controller)
    target = getattr(window, focus)
    target.setFocus()
    qtbot.keyPress(target, Qt.Key.Key_Space)
    await until(lambda: controller.state is TurnState.LISTENING, what="listening")
    repeated = QKeyEvent(
        QEvent.Type.KeyPress, Qt.Key.Key_Space, Qt.KeyboardModifier.NoModifier, " ", True
    )
    QApplication.sendEvent(target, repeated)  # what holding a key down sends
    assert controller.microphone.starts == 1  # type: ignore[attr-defined]
    qtbot.keyRelease(target, Qt.Key.Key_Space)
    await controller.wait()
    assert is_back_at_ready(window)
    assert REPLY in window.conversation.toPlainText()


async def test_space_in_the_message_box_types_a_space(qtbot: Any) -> None:
    controller = make_controller()
    window = await ready_window(qtbot, controller)
    window.message.setFocus()
    qtbot.keyClicks(window.message, "a b")
    assert window.message.text() == "a b"
    assert controller.state is TurnState.READY
    await controller.aclose()


async def test_enter_clicks_a_focused_button(qtbot: Any) -> None:
    controller = make_controller()
    window = await ready_window(qtbot, controller)
    await talk(qtbot, window)
    await controller.wait()
    window.new_button.setFocus()
    qtbot.keyClick(window.new_button, Qt.Key.Key_Return)
    await until(lambda: window.conversation.toPlainText().strip() == "", what="a click")
    assert controller.conversation.turns == ()


async def test_in_toggle_mode_one_click_starts_and_the_next_sends(qtbot: Any) -> None:
    controller = make_controller()
    window = await ready_window(qtbot, controller, talk_mode="toggle")
    assert window.talk.text() == "Click to talk"
    qtbot.mouseClick(window.talk, Qt.MouseButton.LeftButton)
    await until(lambda: controller.state is TurnState.LISTENING)
    assert window.status.text() == "Listening… click Talk again when you are done."
    assert window.talk.text() == "Click to send"
    await asyncio.sleep(TAP_SECONDS)  # a click right after the first is a double click
    qtbot.mouseClick(window.talk, Qt.MouseButton.LeftButton)
    await controller.wait()
    assert is_back_at_ready(window)
    assert window.status.text().startswith("Ready. Click Talk (or press Space)")


# ---- the modes -------------------------------------------------------------------------------


async def test_dictation_writes_down_what_was_said_and_copies_it(qtbot: Any) -> None:
    chat = MemoryChat()
    controller = make_controller(chat=chat)
    window = await ready_window(qtbot, controller)
    window.mode_switch.setCurrentIndex(1)
    assert window.mode is Mode.DICTATION and controller.dictation
    assert not window.message_row.isVisibleTo(window)
    assert window.status.text().startswith("Ready to take dictation.")
    QGuiApplication.clipboard().setText("something else")
    await talk(qtbot, window)
    await controller.wait()
    assert QGuiApplication.clipboard().text() == HEARD
    assert f"Dictated · copied to the clipboard\n{HEARD}" in window.conversation.toPlainText()
    assert chat.received == []  # nothing went to the model
    assert is_back_at_ready(window)
    window.mode_switch.setCurrentIndex(0)
    assert not controller.dictation


async def test_read_aloud_speaks_the_text_and_highlights_each_sentence(qtbot: Any) -> None:
    chat = MemoryChat()
    controller = make_controller(chat=chat, time_scale=2.0)
    window = await ready_window(qtbot, controller)
    window.set_mode(Mode.READ_ALOUD)
    assert not window.talk.isVisibleTo(window)
    assert window.read_aloud_box.isVisibleTo(window)
    assert window.status.text() == "Ready. Type or paste text, then press Read aloud."
    highlighted: list[str] = []
    window.bridge.sentence_started.connect(
        lambda index, text: highlighted.append(window.conversation.spoken_text())
    )
    box = window.read_aloud_box.text
    box.setFocus()
    qtbot.keyClicks(box, "Hello there. Read me.")  # the space is typed, not a press of Talk
    qtbot.keyClick(box, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    await until(lambda: controller.state is TurnState.SPEAKING, what="reading")
    assert window.status.text() == "Reading aloud… press Stop (Esc) to end."
    await controller.wait()
    assert highlighted == ["Hello there.", "Read me."]
    assert "Read aloud\nHello there. Read me." in window.conversation.toPlainText()
    assert chat.received == [] and controller.conversation.turns == ()
    assert is_back_at_ready(window)


async def test_new_conversation_forgets_everything_said(qtbot: Any) -> None:
    controller = make_controller()
    window = await ready_window(qtbot, controller)
    await talk(qtbot, window)
    await controller.wait()
    assert window.latency.rows
    qtbot.mouseClick(window.new_button, Qt.MouseButton.LeftButton)
    assert window.conversation.toPlainText().strip() == ""
    assert controller.conversation.turns == ()
    assert window.latency.rows == []
    assert is_back_at_ready(window)


# ---- the banner, the window's memory, a new controller ---------------------------------------


async def test_a_banner_says_what_to_do_when_no_language_model_answers(qtbot: Any) -> None:
    from assistant.core.errors import UnreachableError

    problem = "Could not connect to Ollama at 127.0.0.1:11434. Is Ollama running?"
    answers: list[Exception | None] = [UnreachableError(problem), RuntimeError("a bug"), None]

    async def check() -> None:
        answer = answers.pop(0)
        if answer is not None:
            raise answer

    controller = make_controller()
    window = await ready_window(qtbot, controller, check_brain=check)
    await window.check_brain_now()  # type: ignore[misc]
    assert window.banner.isVisibleTo(window)
    assert problem in window.banner.message.text()
    assert "Dictation and Read aloud work without one" in window.banner.message.text()
    with qtbot.waitSignal(window.settings_requested, timeout=1000):
        qtbot.mouseClick(window.banner.settings_button, Qt.MouseButton.LeftButton)

    qtbot.mouseClick(window.banner.retry_button, Qt.MouseButton.LeftButton)
    await window.tasks.wait()
    assert "unexpectedly (RuntimeError)" in window.banner.message.text()
    assert window.banner.retry_button.isEnabled()  # restored although the check crashed
    qtbot.mouseClick(window.banner.retry_button, Qt.MouseButton.LeftButton)
    await window.tasks.wait()
    assert not window.banner.isVisibleTo(window)
    await controller.aclose()


async def test_the_window_remembers_its_size_position_mode_and_timings(
    qtbot: Any, window_memory: QSettings
) -> None:
    controller = make_controller()
    first = await ready_window(qtbot, controller, memory=window_memory)
    first.setGeometry(41, 33, 731, 467)  # within the 800 x 600 offscreen screen
    placed = first.geometry()
    first.set_mode(Mode.DICTATION)
    first.timings_button.setChecked(False)
    first.close()

    again = MainWindow(controller, memory=window_memory)
    qtbot.addWidget(again)
    again.show()
    assert (again.width(), again.height()) == (731, 467)
    assert again.geometry() == placed
    assert again.mode is Mode.DICTATION and controller.dictation
    assert not again.latency.isVisibleTo(again)
    await controller.aclose()


async def test_a_rebuilt_controller_takes_over_the_window(qtbot: Any) -> None:
    old = make_controller()
    window = await ready_window(qtbot, old)
    new = make_controller(chat=MemoryChat(reply="From the new one."))
    window.use_controller(new)
    new.start()
    await new.wait_ready()
    old.send_text("Ignored?")
    await old.wait()
    assert "Ignored?" not in window.conversation.toPlainText()  # the old one is not shown
    await talk(qtbot, window)
    await new.wait()
    assert "From the new one." in window.conversation.toPlainText()
    assert is_back_at_ready(window)
    await old.aclose()
    await new.aclose()


# ---- getting the speech model ready: progress, Talk waiting, the model banner -----------------


class DownloadingTranscriber(MemoryTranscriber):
    """Loads like a model being downloaded: each LoadProgress put in `steps` is reported, until
    None is put; then the next of `failures` is raised (if any are left)."""

    def __init__(self, *failures: Exception) -> None:
        super().__init__()
        self.steps: asyncio.Queue[LoadProgress | None] = asyncio.Queue()
        self.failures = list(failures)

    async def load(self, progress: ProgressListener | None = None) -> None:
        self.loads += 1
        while (step := await self.steps.get()) is not None:
            if progress is not None:
                progress(step)
        if self.failures:
            raise self.failures.pop(0)


DOWNLOADING = "Downloading the speech model base.en: {} of 142 MB"
MISSING = ModelMissing(
    "The speech model 'base.en' is not on this computer and could not be downloaded (the model "
    "hub could not be reached; are you offline?).",
    model="base.en",
)


async def test_getting_ready_shows_how_far_the_download_has_come(qtbot: Any) -> None:
    transcriber = DownloadingTranscriber()
    controller = make_controller(transcriber=transcriber)
    window = shown_window(qtbot, controller)
    controller.start()
    assert window.status.text() == "Getting ready: Loading the speech model…"
    assert window.status.percent() is None  # the bar moves: how far is not known yet
    assert not window.talk.isEnabled() and window.talk.text() == "Getting ready…"
    assert "type a message" in window.talk.toolTip()

    transcriber.steps.put_nowait(LoadProgress(DOWNLOADING.format(12), 12 / 142))
    expected = "Getting ready: Downloading the speech model base.en: 12 of 142 MB"
    await until(lambda: window.status.text() == expected, what="the download's progress")
    assert window.status.percent() == 8 and window.status.busy.text() == "8%"
    assert window.status.busy.isVisibleTo(window)
    transcriber.steps.put_nowait(LoadProgress(DOWNLOADING.format(71), 0.5))
    await until(lambda: window.status.percent() == 50, what="half-way")
    window.set_mode(Mode.DICTATION)  # showing another mode keeps what getting ready said
    assert window.status.percent() == 50 and "71 of 142 MB" in window.status.text()

    window.conversation.setFocus()
    qtbot.keyPress(window.conversation, Qt.Key.Key_Space)  # Space, like Talk, waits
    qtbot.keyRelease(window.conversation, Qt.Key.Key_Space)
    transcriber.steps.put_nowait(LoadProgress("Loading the speech model…"))
    await until(lambda: window.status.percent() is None, what="the bar to move again")
    assert controller.state is TurnState.LOADING
    assert controller.microphone.starts == 0  # type: ignore[attr-defined]

    transcriber.steps.put_nowait(None)
    await controller.wait_ready()
    assert window.talk.isEnabled() and window.talk.text() == "Hold to talk"
    assert window.talk.toolTip() == ""
    assert window.status.text() == "Ready to take dictation. Hold Talk (or Space) and speak."
    assert not window.status.busy.isVisibleTo(window)


async def test_a_message_typed_while_getting_ready_is_answered_and_talk_still_waits(
    qtbot: Any,
) -> None:
    transcriber = SlowLoadingTranscriber()
    controller = make_controller(transcriber=transcriber)
    window = shown_window(qtbot, controller)
    controller.start()
    qtbot.keyClicks(window.message, "Hello there")
    qtbot.keyClick(window.message, Qt.Key.Key_Return)
    await controller.wait()
    assert window.conversation.toPlainText().rstrip().endswith(REPLY)  # answered meanwhile
    assert controller.state is TurnState.LOADING  # the turn is over, the model still loading
    assert window.status.text() == "Getting ready: Loading the speech model…"
    assert not window.talk.isEnabled() and window.talk.text() == "Getting ready…"

    transcriber.loaded.set()
    await until(lambda: is_back_at_ready(window), what="Ready")
    assert window.talk.isEnabled() and window.talk.text() == "Hold to talk"
    assert window.status.text() == "Ready. Hold Talk (or Space) and speak, or type a message."


async def test_talk_can_be_pressed_after_the_model_failed_to_load(qtbot: Any) -> None:
    problem = ModelError("The speech model could not be loaded (out of memory). Try a smaller one.")
    transcriber = SlowLoadingTranscriber(error=problem)
    controller = make_controller(transcriber=transcriber)
    window = MainWindow(controller)
    qtbot.addWidget(window)
    controller.start()
    transcriber.loaded.set()
    await until(lambda: window.talk.isEnabled(), what="Talk to be enabled")
    assert window.talk.text() == "Hold to talk"
    assert window.status.text() == problem.message
    assert not window.model_banner.isVisibleTo(window)  # not missing: Try again would not help


async def test_a_missing_model_shows_the_banner_and_try_again_fetches_it(qtbot: Any) -> None:
    transcriber = DownloadingTranscriber(MISSING)
    controller = make_controller(transcriber=transcriber)
    window = shown_window(qtbot, controller)
    controller.start()
    transcriber.steps.put_nowait(None)
    await until(lambda: window.model_banner.isVisibleTo(window), what="the model banner")
    banner = window.model_banner
    assert "The speech model base.en is not on this computer" in banner.message.text()
    assert banner.accessibleDescription() == MISSING.message
    assert window.status.text() == MISSING.message and window.talk.isEnabled()
    assert MISSING.message not in window.conversation.toPlainText()  # said once, by the banner

    qtbot.mouseClick(banner.retry_button, Qt.MouseButton.LeftButton)
    assert controller.state is TurnState.LOADING
    await until(lambda: transcriber.loads == 2, what="a second load")
    assert banner.retry_button.text() == "Trying…" and not banner.retry_button.isEnabled()
    transcriber.steps.put_nowait(LoadProgress(DOWNLOADING.format(142), 1.0))
    await until(lambda: window.status.percent() == 100, what="the download")
    transcriber.steps.put_nowait(None)  # downloaded and loaded this time
    await until(lambda: is_back_at_ready(window), what="Ready")
    assert not banner.isVisibleTo(window)
    assert window.talk.isEnabled()


async def test_the_model_banner_passes_the_chosen_model_on(qtbot: Any) -> None:
    transcriber = DownloadingTranscriber(MISSING)
    controller = make_controller(transcriber=transcriber)
    window = shown_window(qtbot, controller)
    window.model_banner.builtin_available = True
    controller.start()
    transcriber.steps.put_nowait(None)
    await until(lambda: window.model_banner.isVisibleTo(window), what="the model banner")
    with qtbot.waitSignal(window.model_chosen, timeout=1000) as chosen:
        qtbot.mouseClick(window.model_banner.builtin_button, Qt.MouseButton.LeftButton)
    assert chosen.args == ["bundled"]


async def test_what_getting_ready_said_is_shown_again_after_a_typed_reply(qtbot: Any) -> None:
    transcriber = DownloadingTranscriber()
    controller = make_controller(transcriber=transcriber)
    window = shown_window(qtbot, controller)
    controller.start()
    transcriber.steps.put_nowait(LoadProgress(DOWNLOADING.format(71), 0.5))
    await until(lambda: window.status.percent() == 50, what="half-way")
    controller.send_text("Hello there")
    await until(lambda: controller.state is TurnState.SPEAKING, what="the reply")
    assert window.status.text().startswith("Speaking") and window.status.percent() is None
    assert not window.talk.isEnabled()

    await controller.wait()
    expected = "Getting ready: Downloading the speech model base.en: 71 of 142 MB"
    assert window.status.text() == expected and window.status.percent() == 50
    assert not window.talk.isEnabled() and window.talk.text() == "Getting ready…"


@pytest.mark.parametrize("failure", [None, MISSING], ids=["loaded", "missing"])
async def test_the_model_getting_ready_during_a_typed_reply_shows_when_the_reply_ends(
    qtbot: Any, failure: Exception | None
) -> None:
    transcriber = DownloadingTranscriber(*([failure] if failure else []))
    controller = make_controller(transcriber=transcriber, time_scale=1.0)
    window = shown_window(qtbot, controller)
    controller.start()
    controller.send_text("Hello there")
    await until(lambda: controller.state is TurnState.SPEAKING, what="the reply")
    transcriber.steps.put_nowait(None)
    await controller.wait_ready()
    assert controller.state is TurnState.SPEAKING  # the reply goes on, and so does the window
    assert window.status.text().startswith("Speaking")
    assert window.talk.isEnabled()  # at once: Talk can interrupt this very reply
    assert window.model_banner.isVisibleTo(window) is (failure is MISSING)

    await controller.wait()
    assert is_back_at_ready(window) and window.talk.isEnabled()
    assert window.model_banner.isVisibleTo(window) is (failure is MISSING)
    assert MISSING.message not in window.conversation.toPlainText()  # the banner says it


@pytest.mark.parametrize("typed", ["", "Half a thou"], ids=["nothing typed", "typing"])
async def test_talk_takes_back_the_focus_once_the_model_is_ready(qtbot: Any, typed: str) -> None:
    transcriber = SlowLoadingTranscriber()
    controller = make_controller(transcriber=transcriber)
    window = shown_window(qtbot, controller)
    window.activateWindow()
    await until(window.isActiveWindow, what="the window to be active")
    controller.start()
    assert window.message.hasFocus()  # Talk, waiting, could not keep it
    qtbot.keyClicks(window.message, typed)

    transcriber.loaded.set()
    await controller.wait_ready()
    assert window.talk.hasFocus() == (typed == "")  # not taken from someone typing
    assert window.message.text() == typed


async def test_the_history_button_and_ctrl_h_ask_for_the_history(qtbot: Any) -> None:
    controller = make_controller()
    window = await ready_window(qtbot, controller)
    assert window.history_button.accessibleName() == "History"
    with qtbot.waitSignal(window.history_requested, timeout=1000):
        qtbot.mouseClick(window.history_button, Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(window.history_requested, timeout=1000):
        qtbot.keyClick(window, Qt.Key.Key_H, Qt.KeyboardModifier.ControlModifier)
    window.open_conversation()  # without a history there is nothing to show, and no harm
    assert window.conversation.toPlainText().strip() == ""
    assert is_back_at_ready(window)
