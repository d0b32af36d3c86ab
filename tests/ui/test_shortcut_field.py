"""Recording the talk shortcut in Settings by pressing the keys."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import Qt

from assistant.core.shortcut import Chord
from assistant.ui.shortcut_field import PROMPT, ShortcutField

pytestmark = pytest.mark.gui

Key = Qt.Key
Mod = Qt.KeyboardModifier


def field(qtbot: Any) -> tuple[ShortcutField, dict[str, list[Any]]]:
    editor = ShortcutField(Chord.parse("ctrl+alt+space"))
    qtbot.addWidget(editor)
    editor.show()
    editor.activateWindow()
    qtbot.waitUntil(editor.isActiveWindow)
    heard: dict[str, list[Any]] = {"chord": [], "recording": [], "refused": []}
    editor.chord_changed.connect(heard["chord"].append)
    editor.recording_changed.connect(heard["recording"].append)
    editor.refused.connect(heard["refused"].append)
    return editor, heard


def test_it_shows_the_chord_and_records_the_keys_pressed(qtbot: Any) -> None:
    editor, heard = field(qtbot)
    assert editor.text() == "Ctrl+Alt+Space"
    qtbot.mouseClick(editor, Qt.MouseButton.LeftButton)
    assert editor.recording and editor.text() == PROMPT
    qtbot.keyPress(editor, Key.Key_Control, Mod.ControlModifier)
    qtbot.keyPress(editor, Key.Key_Shift, Mod.ControlModifier | Mod.ShiftModifier)
    assert editor.text() == "Ctrl+Shift+…"
    qtbot.keyPress(editor, Key.Key_F9, Mod.ControlModifier | Mod.ShiftModifier)
    assert not editor.recording
    assert editor.text() == "Ctrl+Shift+F9"
    assert str(editor.chord) == "ctrl+shift+f9"
    assert heard == {"chord": ["ctrl+shift+f9"], "recording": [True, False], "refused": []}


def test_tab_and_letters_are_recorded_not_acted_on(qtbot: Any) -> None:
    editor, heard = field(qtbot)
    editor.start_recording()
    qtbot.keyPress(editor, Key.Key_Tab, Mod.AltModifier)
    assert heard["chord"] == ["alt+tab"] and editor.hasFocus()
    editor.start_recording()
    qtbot.keyPress(editor, Key.Key_K, Mod.MetaModifier | Mod.AltModifier)
    assert heard["chord"][-1] == "alt+super+k"


def test_a_key_that_would_fire_while_typing_is_refused(qtbot: Any) -> None:
    editor, heard = field(qtbot)
    editor.start_recording()
    qtbot.keyPress(editor, Key.Key_A)
    assert editor.recording and heard["chord"] == []
    assert "single key" in heard["refused"][0]
    qtbot.keyPress(editor, Key.Key_Space, Mod.ControlModifier)
    assert heard["chord"] == ["ctrl+space"]


def test_escape_or_leaving_keeps_the_old_chord(qtbot: Any) -> None:
    editor, heard = field(qtbot)
    editor.start_recording()
    qtbot.keyPress(editor, Key.Key_Escape)
    assert not editor.recording and editor.text() == "Ctrl+Alt+Space"
    editor.start_recording()
    editor.clearFocus()
    assert not editor.recording and editor.text() == "Ctrl+Alt+Space"
    assert heard["chord"] == [] and heard["recording"] == [True, False, True, False]


def test_ctrl_escape_is_a_chord_not_a_cancel(qtbot: Any) -> None:
    editor, heard = field(qtbot)
    editor.start_recording()
    qtbot.keyPress(editor, Key.Key_Escape, Mod.ControlModifier)
    assert heard["chord"] == ["ctrl+esc"]
