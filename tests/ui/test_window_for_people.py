"""The main window for people (issue 14, item 5): the timings panel names the turn it shows in the
words of the way it began; F1 (or "?") lists every key the window answers to, read from its real
bindings; and at its minimum size every control is whole, in every page, with a banner up too."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QPoint, QRect, Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QAbstractButton, QComboBox, QTabBar, QWidget

from assistant.core.events import TurnState
from assistant.core.protocols import Recording
from assistant.core.timeline import clock
from assistant.ui.main_window import MainWindow, Mode
from assistant.ui.shortcuts_sheet import ShortcutsSheet
from tests.support.memory import MemoryChat
from tests.ui.harness import close_controllers, make_controller, until

pytestmark = pytest.mark.gui


@pytest.fixture(autouse=True)
async def _closing() -> AsyncIterator[None]:
    yield
    await close_controllers()


async def ready_window(qtbot: Any) -> MainWindow:
    controller = make_controller(chat=MemoryChat())
    window = MainWindow(controller)
    qtbot.addWidget(window)
    window.show()
    controller.start()
    await controller.wait_ready()
    return window


# ---- the timings panel -----------------------------------------------------------------------


async def test_the_timings_say_which_turn_they_show_in_its_own_words(qtbot: Any) -> None:
    window = await ready_window(qtbot)
    controller, latency = window.controller, window.latency

    qtbot.mousePress(window.talk, Qt.MouseButton.LeftButton)
    await until(lambda: controller.state is TurnState.LISTENING, what="listening")
    qtbot.mouseRelease(window.talk, Qt.MouseButton.LeftButton)
    await controller.wait()
    assert latency.title() == "Your last question (push to talk)"
    assert "after you let go" in latency.summary()

    window.message.setText("And tomorrow?")
    qtbot.keyClick(window.message, Qt.Key.Key_Return)
    await until(lambda: latency.title() == "Your last typed message", what="the typed turn")
    assert "after you sent it" in latency.summary() and "let go" not in latency.summary()
    assert [row.label for row in latency.rows][0] == "Model's first word"  # no transcription

    onset = clock()  # hands-free: the listener heard the user begin, then pause
    controller.hear_start(onset)
    controller.hear(Recording(b"\x10\x00" * 16_000, 16_000), onset, clock())
    await until(lambda: "hands-free" in latency.title(), what="the hands-free turn")
    assert "after you stopped speaking" in latency.summary()
    assert "let go" not in latency.summary()

    window.set_mode(Mode.READ_ALOUD)
    window.read_aloud_box.text.setPlainText("A short text. Read it.")
    qtbot.mouseClick(window.read_aloud_box.read_button, Qt.MouseButton.LeftButton)
    await until(lambda: latency.title() == "The text read aloud", what="the text read aloud")
    assert "after you pressed Read aloud" in latency.summary()


# ---- the keyboard shortcuts sheet ------------------------------------------------------------


def sheet_text(sheet: ShortcutsSheet) -> str:
    return "\n".join(f"{binding.keys}\t{binding.does}" for binding in sheet.bindings)


def native(keys: QKeySequence | str) -> str:
    return QKeySequence(keys).toString(QKeySequence.SequenceFormat.NativeText)


async def test_f1_lists_every_shortcut_the_window_has(qtbot: Any) -> None:
    window = await ready_window(qtbot)
    qtbot.keyClick(window, Qt.Key.Key_F1)
    sheet = window.shortcuts_sheet
    assert sheet is not None and sheet.isVisible()
    listed = {binding.keys for binding in sheet.bindings}
    for shortcut in window.findChildren(QShortcut):  # the real bindings, whoever made them
        assert any(native(shortcut.key()) in keys for keys in listed), native(shortcut.key())
    for button in (window.new_button, window.history_button, window.settings_button):
        assert native(QKeySequence.mnemonic(button.text())) in listed  # Alt+N, Alt+H, Alt+T
    text = sheet_text(sheet)
    assert "Esc\tStop listening or speaking at once" in text
    assert "Space\tHold to talk; let go when you are done" in text
    assert "Ctrl+3\tGo to Read aloud" in text
    assert "choose a shortcut in Settings > Audio" in text  # no global shortcut yet
    assert all(binding.does for binding in sheet.bindings)  # each says what it does
    sheet.close()


async def test_the_sheet_follows_the_talk_mode_the_global_shortcut_and_new_keys(
    qtbot: Any,
) -> None:
    window = await ready_window(qtbot)
    window.set_talk_mode("toggle")
    window.set_shortcut_label("Ctrl+Alt+Space")
    added = QShortcut(QKeySequence("Ctrl+K"), window)
    added.setWhatsThis("Something new")
    qtbot.mouseClick(window.help_button, Qt.MouseButton.LeftButton)  # the "?" button
    sheet = window.shortcuts_sheet
    assert sheet is not None
    text = sheet_text(sheet)
    assert "Space\tPress to talk; press again when you are done" in text
    assert "Ctrl+Alt+Space\tTalk from any application" in text
    assert "Ctrl+K\tSomething new" in text  # a key bound later is listed without more work
    assert window.help_button.accessibleName() == "Keyboard shortcuts"


async def test_the_sheet_pictures(qtbot: Any, tmp_path: Path) -> None:
    window = await ready_window(qtbot)
    sheet = window.show_shortcuts()
    await asyncio.sleep(0.05)
    folder = os.environ.get("ASSISTANT_SCREENSHOTS", str(tmp_path))
    assert sheet.grab().save(os.path.join(folder, "shortcuts-sheet.png"))


# ---- the smallest window ---------------------------------------------------------------------


def cut_controls(window: MainWindow) -> list[str]:
    """Every visible control that is not whole: outside the window, narrower or lower than its
    size hint (buttons, tabs, lists: their text), lower than its height for its width (wrapped
    text), or a tab of the mode switch out of its bar."""
    problems = []
    area = window.rect()
    for widget in window.findChildren(QWidget):
        if widget.isWindow() or not widget.isVisibleTo(window) or widget.layout() is not None:
            continue  # containers are whole when what is in them is
        name = f"{type(widget).__name__} {widget.accessibleName()!r}"
        box = QRect(widget.mapTo(window, QPoint(0, 0)), widget.size())
        if not area.contains(box):
            problems.append(f"{name} is outside the window: {box} not in {area}")
        if widget.hasHeightForWidth():
            needed = widget.heightForWidth(widget.width())
            if widget.height() < needed or widget.width() < widget.minimumSizeHint().width():
                problems.append(f"{name} is cut: {widget.size()}, needs {needed} high")
            continue
        whole = isinstance(widget, QAbstractButton | QComboBox | QTabBar)
        hint = widget.sizeHint() if whole else widget.minimumSizeHint()
        if hint.isValid() and (widget.width() < hint.width() or widget.height() < hint.height()):
            problems.append(f"{name} is cut: {widget.size()} < {hint}")
    bar = window.mode_switch
    for index in range(bar.count()):
        if not bar.rect().contains(bar.tabRect(index)):
            problems.append(f"the {bar.tabText(index)} tab is cut")
    return problems


async def at_minimum(window: MainWindow) -> list[str]:
    await asyncio.sleep(0.05)  # the minimum follows what the page shows
    window.resize(window.minimumSize())
    await asyncio.sleep(0.05)  # the layout settles
    assert window.size() == window.minimumSize()
    return cut_controls(window)


async def test_at_its_minimum_size_every_control_is_whole(qtbot: Any, tmp_path: Path) -> None:
    window = await ready_window(qtbot)
    window.controller.send_text("What is the weather like?")  # three sentences of timings
    await until(lambda: window.latency.rows, what="the timings")
    minimums = {}
    for mode in Mode:
        window.set_mode(mode)
        assert await at_minimum(window) == [], mode
        minimums[mode] = window.minimumSize()
    window.set_mode(Mode.CONVERSATION)
    window.banner.show_problem(
        "No language model answers at http://localhost:11434. Start Ollama, or choose another "
        "model in Settings."
    )
    assert await at_minimum(window) == [], "with the banner"
    folder = os.environ.get("ASSISTANT_SCREENSHOTS", str(tmp_path))
    assert window.grab().save(os.path.join(folder, "window-at-minimum-size.png"))
    sizes = {mode.name: (size.width(), size.height()) for mode, size in minimums.items()}
    print(f"\nminimum window sizes: {sizes}")
    smallest = window.minimumSize()
    assert smallest.width() <= 760 and smallest.height() <= 600  # it fits a small laptop screen
