"""The Talk button: hold to talk, or click to start and click again (a setting)."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import Qt

from assistant.ui.talk_button import TalkButton

pytestmark = pytest.mark.gui


def watched(qtbot: Any, mode: str) -> tuple[TalkButton, list[str]]:
    button = TalkButton(mode)  # type: ignore[arg-type]
    qtbot.addWidget(button)
    said: list[str] = []
    button.talk_started.connect(lambda: said.append("start"))
    button.talk_ended.connect(lambda: said.append("end"))
    return button, said


def test_hold_mode_talks_while_the_button_is_held(qtbot: Any) -> None:
    button, said = watched(qtbot, "hold")
    assert button.text() == "Hold to talk"
    qtbot.mousePress(button, Qt.MouseButton.LeftButton)
    assert said == ["start"] and button.talking
    assert button.text() == "Listening… let go to send"
    qtbot.mouseRelease(button, Qt.MouseButton.LeftButton)
    assert said == ["start", "end"] and not button.talking
    assert button.text() == "Hold to talk"


def test_toggle_mode_starts_on_one_click_and_sends_on_the_next(qtbot: Any) -> None:
    button, said = watched(qtbot, "toggle")
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert said == ["start"] and button.text() == "Click to send"
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert said == ["start", "end"] and button.text() == "Click to talk"


def test_the_keyboard_works_like_the_mouse(qtbot: Any) -> None:
    button, said = watched(qtbot, "hold")
    button.key_down()
    button.key_down()  # a second press while held is not a second start
    button.key_up()
    assert said == ["start", "end"]


def test_reset_shows_idle_without_sending(qtbot: Any) -> None:
    button, said = watched(qtbot, "hold")
    qtbot.mousePress(button, Qt.MouseButton.LeftButton)
    button.reset()  # the turn left Listening by itself (time limit, error)
    assert not button.talking and button.text() == "Hold to talk"
    qtbot.mouseRelease(button, Qt.MouseButton.LeftButton)
    assert said == ["start"]


def test_changing_the_mode_changes_the_words_and_the_description(qtbot: Any) -> None:
    button, _ = watched(qtbot, "hold")
    assert "hold Space" in button.accessibleDescription()
    button.set_mode("toggle")
    assert button.text() == "Click to talk"
    assert "press Space" in button.accessibleDescription()


def test_while_the_speech_model_gets_ready_the_button_waits_and_says_so(qtbot: Any) -> None:
    button, said = watched(qtbot, "hold")
    button.show()
    button.set_getting_ready(True)
    assert not button.isEnabled() and button.text() == "Getting ready…"
    assert "type a message" in button.toolTip()
    assert "type a message" in button.accessibleDescription()
    qtbot.mousePress(button, Qt.MouseButton.LeftButton)
    qtbot.mouseRelease(button, Qt.MouseButton.LeftButton)
    button.key_down()  # Space, which the window hands to the button wherever the focus is
    button.key_up()
    assert said == [] and not button.talking

    button.set_getting_ready(False)
    assert button.isEnabled() and button.text() == "Hold to talk" and button.toolTip() == ""
    assert "hold Space" in button.accessibleDescription()
    qtbot.mousePress(button, Qt.MouseButton.LeftButton)
    qtbot.mouseRelease(button, Qt.MouseButton.LeftButton)
    assert said == ["start", "end"]


def test_getting_ready_again_lets_go_of_a_held_button(qtbot: Any) -> None:
    button, said = watched(qtbot, "toggle")
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    button.set_getting_ready(True)  # e.g. new settings load another model
    assert not button.talking and button.text() == "Getting ready…"
    button.set_getting_ready(False)
    assert button.text() == "Click to talk"
