"""The tray icon over a real window and turn controller (in-memory devices and services): it shows
each state, its menu talks, switches the conversation mode, shows the window and quits; closing
the window hides it into the tray where one exists, and quits where none does.

Offscreen there is no system tray, so the tray's availability is given to it: the tray object
does the same either way, only its icon is not shown."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtGui import QColor, QIcon
from PySide6.QtWidgets import QApplication, QSystemTrayIcon

from assistant.autostart import ENTRY_NAME, XdgAutostart
from assistant.config.places import resources_dir
from assistant.core.errors import DeviceError
from assistant.core.events import TurnState
from assistant.core.hands_free import ListeningMode
from assistant.core.turn import TurnController
from assistant.ui.main_window import MainWindow, Mode
from assistant.ui.tray import STILL_RUNNING, TOLD_KEY, Tray, app_icon, state_icon
from tests.support.memory import MemoryChat, MemoryInput
from tests.ui.harness import SlowLoadingTranscriber, close_controllers, make_controller, until

pytestmark = pytest.mark.gui


def icon() -> QIcon:
    """The app's icon (read once the QApplication exists: a QIcon needs it)."""
    return app_icon(resources_dir() / "icons")


@pytest.fixture(autouse=True)
async def _closing() -> AsyncIterator[None]:
    yield
    await close_controllers()


@pytest.fixture(autouse=True)
def _quit_setting_restored() -> Any:
    """A tray turns off quitting on the last window's close; later tests expect it off too."""
    yield
    QApplication.setQuitOnLastWindowClosed(False)


def window_with_tray(
    qtbot: Any,
    controller: TurnController,
    *,
    available: bool,
    memory: QSettings | None = None,
    start_at_login: XdgAutostart | None = None,
) -> tuple[MainWindow, Tray, list[str]]:
    """A shown window with its tray, and a list that records every tray message shown."""
    window = MainWindow(controller, memory=memory)
    qtbot.addWidget(window)
    tray = Tray(window, icon(), memory=memory, available=available, start_at_login=start_at_login)
    messages: list[str] = []
    show_message = tray.icon.showMessage

    def recorded(title: str, message: str, *rest: Any) -> None:  # offscreen nothing is drawn
        messages.append(message)
        show_message(title, message, *rest)

    tray.icon.showMessage = recorded  # type: ignore[method-assign]
    window.show()
    return window, tray, messages


def dot_colour(icon: QIcon, size: int = 32) -> QColor:
    """The colour at the left of the state dot, in the icon's lower right corner."""
    image = icon.pixmap(size, size).toImage()
    return image.pixelColor(int(size * 0.6), int(size * 0.8))


# ---- the state, at a glance ------------------------------------------------------------------


def test_every_state_but_ready_has_its_own_dot_on_the_icon(qapp: QApplication) -> None:
    plain = icon()
    assert state_icon(plain, TurnState.READY).cacheKey() == plain.cacheKey()
    colours = {
        state: dot_colour(state_icon(plain, state)).name()
        for state in (TurnState.LISTENING, TurnState.THINKING, TurnState.SPEAKING, TurnState.ERROR)
    }
    assert colours == {
        TurnState.LISTENING: "#43a047",
        TurnState.THINKING: "#ffb300",
        TurnState.SPEAKING: "#8e24aa",
        TurnState.ERROR: "#d32f2f",
    }
    assert dot_colour(plain).name() not in colours.values()  # the plain icon has no dot there
    for size in (16, 22, 64):  # every size a tray asks for is drawn, none scaled from another
        pixmap = state_icon(plain, TurnState.ERROR).pixmap(size, size)
        assert pixmap.width() == size and not pixmap.isNull()


async def test_talk_in_the_menu_makes_a_whole_turn_and_the_tray_follows_every_state(
    qtbot: Any,
) -> None:
    controller = make_controller(chat=MemoryChat(delay=0.01))
    window, tray, _ = window_with_tray(qtbot, controller, available=False)
    seen: list[str] = []
    window.bridge.state_changed.connect(lambda state, detail: seen.append(tray.state_text))
    controller.start()
    await controller.wait_ready()
    assert tray.icon.toolTip() == "Voice Assistant: Ready"
    assert tray.talk_action.text() == "Talk" and tray.talk_action.isEnabled()

    window.hide()  # the tray works without the window
    seen.clear()
    tray.talk_action.trigger()
    await until(lambda: controller.state is TurnState.LISTENING, what="listening")
    assert tray.status_action.text() == "Voice Assistant: Listening"
    assert tray.talk_action.text() == "Send (stop listening)"
    assert dot_colour(tray.icon.icon()).name() == "#43a047"
    tray.talk_action.trigger()
    await until(lambda: "Speaking" in seen and controller.state is TurnState.READY, what="reply")
    assert seen[0] == "Listening" and seen[-1] == "Ready"
    assert "Thinking" in seen and seen.index("Thinking") < seen.index("Speaking")
    assert tray.talk_action.text() == "Talk"
    assert dot_colour(tray.icon.icon()) == dot_colour(icon())  # the plain icon again


async def test_a_problem_shows_on_the_icon_with_its_message(qtbot: Any) -> None:
    broken = DeviceError("No microphone was found. Plug one in, then try again.")
    controller = make_controller(microphone=MemoryInput(error=broken))
    window, tray, _ = window_with_tray(qtbot, controller, available=False)
    controller.start()
    await controller.wait_ready()
    tray.talk()
    await until(lambda: controller.state is TurnState.ERROR, what="the error")
    assert tray.status_action.text() == "Voice Assistant: Problem"
    assert tray.icon.toolTip() == f"Voice Assistant: Problem\n{broken.message}"
    assert dot_colour(tray.icon.icon()).name() == "#d32f2f"


async def test_talk_waits_while_the_speech_model_gets_ready_and_in_read_aloud(
    qtbot: Any,
) -> None:
    transcriber = SlowLoadingTranscriber()
    controller = make_controller(transcriber=transcriber)
    window, tray, _ = window_with_tray(qtbot, controller, available=False)
    controller.start()
    tray.menu.aboutToShow.emit()
    assert tray.state_text == "Getting ready" and not tray.talk_action.isEnabled()
    transcriber.loaded.set()
    await controller.wait_ready()
    assert tray.talk_action.isEnabled()
    window.set_mode(Mode.READ_ALOUD)
    tray.menu.aboutToShow.emit()
    assert not tray.talk_action.isEnabled()


# ---- the conversation mode -------------------------------------------------------------------


async def test_a_mode_chosen_in_the_tray_goes_the_window_s_way_and_the_menu_shows_the_outcome(
    qtbot: Any,
) -> None:
    window, tray, _ = window_with_tray(qtbot, make_controller(), available=False)
    chosen: list[ListeningMode] = []
    window.listening_mode_chosen.connect(chosen.append)
    assert tray.mode_actions[ListeningMode.PUSH_TO_TALK].isChecked()

    tray.mode_actions[ListeningMode.HANDS_FREE].trigger()
    assert chosen == [ListeningMode.HANDS_FREE]  # what the session switches on
    assert window.listening_mode.mode is ListeningMode.HANDS_FREE
    # The microphone could not open: the session puts the window back on push-to-talk.
    window.listening_mode.show_mode(ListeningMode.PUSH_TO_TALK)
    tray.menu.aboutToShow.emit()
    assert tray.mode_actions[ListeningMode.PUSH_TO_TALK].isChecked()
    assert not tray.mode_actions[ListeningMode.HANDS_FREE].isChecked()
    assert [a.text() for a in tray.mode_actions.values()] == [
        "Push-to-talk",
        "Hands-free",
        "Wake word",
    ]


# ---- closing, showing, quitting --------------------------------------------------------------


async def test_closing_hides_into_the_tray_saying_so_the_first_time_only(
    qtbot: Any, window_memory: QSettings
) -> None:
    window, tray, messages = window_with_tray(
        qtbot, make_controller(), available=True, memory=window_memory
    )
    quits: list[bool] = []
    window.closed.connect(lambda: quits.append(True))
    assert not QApplication.quitOnLastWindowClosed()

    window.close()
    assert not window.isVisible() and quits == []
    assert messages == [STILL_RUNNING] and window_memory.value(TOLD_KEY, type=bool)
    tray.icon.activated.emit(QSystemTrayIcon.ActivationReason.Trigger)  # a click on the icon
    assert window.isVisible()
    window.close()
    assert not window.isVisible() and quits == [] and messages == [STILL_RUNNING]

    # The next run remembers that it was said.
    window, tray, messages = window_with_tray(
        qtbot, make_controller(), available=True, memory=window_memory
    )
    window.close()
    assert not window.isVisible() and messages == []


async def test_quit_ends_the_assistant_from_a_hidden_window_too(qtbot: Any) -> None:
    window, tray, _ = window_with_tray(qtbot, make_controller(), available=True)
    quits: list[bool] = []
    window.closed.connect(lambda: quits.append(True))
    window.close()
    assert quits == []
    tray.menu.actions()[-1].trigger()  # Quit
    assert quits == [True]
    assert not tray.icon.isVisible()


async def test_show_window_brings_it_back(qtbot: Any) -> None:
    window, tray, _ = window_with_tray(qtbot, make_controller(), available=True)
    window.close()
    show = next(a for a in tray.menu.actions() if a.text() == "Show window")
    show.trigger()
    assert window.isVisible()


async def test_without_a_tray_closing_the_window_quits_as_before(qtbot: Any) -> None:
    window, tray, messages = window_with_tray(qtbot, make_controller(), available=False)
    quits: list[bool] = []
    window.closed.connect(lambda: quits.append(True))
    window.close()
    assert quits == [True] and messages == []
    assert not tray.icon.isVisible()


# ---- start at login --------------------------------------------------------------------------


async def test_start_at_login_in_the_menu_writes_and_removes_the_autostart_entry(
    qtbot: Any, tmp_path: Path
) -> None:
    login = XdgAutostart(tmp_path / "autostart" / ENTRY_NAME)
    window, tray, _ = window_with_tray(
        qtbot, make_controller(), available=True, start_at_login=login
    )
    assert tray.login_action.isVisible() and not tray.login_action.isChecked()
    tray.login_action.trigger()
    assert login.path.is_file() and login.enabled()
    login.set_enabled(False)  # removed elsewhere (the desktop's own settings)
    tray.menu.aboutToShow.emit()
    assert not tray.login_action.isChecked()


async def test_start_at_login_that_cannot_be_written_is_reported_and_stays_off(
    qtbot: Any, tmp_path: Path
) -> None:
    (tmp_path / "autostart").write_text("a file where the folder should be", encoding="utf-8")
    login = XdgAutostart(tmp_path / "autostart" / ENTRY_NAME)
    window, tray, _ = window_with_tray(
        qtbot, make_controller(), available=True, start_at_login=login
    )
    tray.login_action.trigger()
    assert not tray.login_action.isChecked()
    assert "Start at login could not be turned on" in window.conversation.toPlainText()


def test_without_a_way_to_start_at_login_the_menu_does_not_offer_it(qtbot: Any) -> None:
    window, tray, _ = window_with_tray(qtbot, make_controller(), available=True)
    assert not tray.login_action.isVisible()
