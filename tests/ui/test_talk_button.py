"""The Talk button: hold to talk, or click to start and click again (a setting)."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import Qt

from assistant.ui.talk_button import SETTLE_SECONDS, TAP_SECONDS, TalkButton

pytestmark = pytest.mark.gui

SPOKE_MS = round(TAP_SECONDS * 1000) + 100  # held long enough to say a word
SETTLED_MS = round(SETTLE_SECONDS * 1000) + 100  # long enough after a tap for a flood to be over


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
    qtbot.wait(SPOKE_MS)  # something was said (a double click is one click: see below)
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


# ---- a flood of taps -------------------------------------------------------------------------


def tap(qtbot: Any, button: TalkButton, times: int = 1) -> None:
    """Quick clicks, as an impatient hand or a bouncing key gives them (~6 a second)."""
    for _ in range(times):
        qtbot.mousePress(button, Qt.MouseButton.LeftButton)
        qtbot.wait(40)
        qtbot.mouseRelease(button, Qt.MouseButton.LeftButton)
        qtbot.wait(120)


def test_a_flood_of_taps_starts_one_turn_not_one_per_tap(qtbot: Any) -> None:
    button, said = watched(qtbot, "hold")
    tap(qtbot, button, times=8)
    assert said == ["start", "end"]  # the first tap counts: one tap is how a reply is cut off
    qtbot.wait(SETTLED_MS)
    tap(qtbot, button)  # the flood is over: a tap counts again
    assert said == ["start", "end"] * 2


def test_a_real_press_right_after_a_tap_still_talks_a_moment_late(qtbot: Any) -> None:
    button, said = watched(qtbot, "hold")
    tap(qtbot, button)
    button.key_down()  # Space, held to speak this time
    assert said == ["start", "end"] and button.holding_back and not button.talking
    qtbot.waitUntil(lambda: button.talking, timeout=SPOKE_MS + 500)
    button.key_up()
    assert said == ["start", "end", "start", "end"] and not button.holding_back


def test_a_press_held_back_and_let_go_of_in_time_starts_nothing(qtbot: Any) -> None:
    button, said = watched(qtbot, "hold")
    tap(qtbot, button)
    qtbot.mousePress(button, Qt.MouseButton.LeftButton)
    button.end()  # the window lost the focus with the button held: that press is over
    qtbot.wait(SPOKE_MS)
    assert said == ["start", "end"] and not button.talking


def test_in_toggle_mode_a_double_click_is_one_click_and_a_flood_one_turn(qtbot: Any) -> None:
    button, said = watched(qtbot, "toggle")
    qtbot.mouseDClick(button, Qt.MouseButton.LeftButton)
    assert said == ["start"] and button.talking  # still listening: the second click was the first
    qtbot.wait(SPOKE_MS)
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert said == ["start", "end"]

    qtbot.wait(SETTLED_MS)
    said.clear()
    tap(qtbot, button, times=9)
    assert said == ["start", "end"]
