"""The talk shortcut's editor in Settings: click it, press the keys, and they become the chord.
Esc or leaving the field keeps the old one; a chord that would fire while typing is refused, with
the reason."""

from __future__ import annotations

import sys
from typing import cast

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QFocusEvent, QKeyEvent
from PySide6.QtWidgets import QPushButton, QWidget

from assistant.core.errors import ConfigError
from assistant.core.shortcut import MODIFIERS, Chord
from assistant.ui.translation import QT_TRANSLATE_NOOP

PROMPT = QT_TRANSLATE_NOOP("ShortcutField", "Press the keys…")

Key = Qt.Key
Mod = Qt.KeyboardModifier

# On macOS Qt calls Command "Control" and Control "Meta"; a chord's "super" is Command there.
_COMMAND_IS_CONTROL = sys.platform == "darwin"
_MODIFIER_FLAGS = {
    "ctrl": Mod.MetaModifier if _COMMAND_IS_CONTROL else Mod.ControlModifier,
    "alt": Mod.AltModifier,
    "shift": Mod.ShiftModifier,
    "super": Mod.ControlModifier if _COMMAND_IS_CONTROL else Mod.MetaModifier,
}
_MODIFIER_OF_KEY: dict[int, str] = {
    Key.Key_Control: "super" if _COMMAND_IS_CONTROL else "ctrl",
    Key.Key_Meta: "ctrl" if _COMMAND_IS_CONTROL else "super",
    Key.Key_Super_L: "super",
    Key.Key_Super_R: "super",
    Key.Key_Alt: "alt",
    Key.Key_Shift: "shift",
}
_MODIFIER_KEYS = {
    Key.Key_Control,
    Key.Key_Alt,
    Key.Key_AltGr,
    Key.Key_Shift,
    Key.Key_Meta,
    Key.Key_Super_L,
    Key.Key_Super_R,
    Key.Key_CapsLock,
    Key.Key_NumLock,
}
# Qt's keys under the names the global listener reports them by.
_KEY_NAMES: dict[int, str] = {
    Key.Key_Space: "space",
    Key.Key_Escape: "esc",
    Key.Key_Return: "enter",
    Key.Key_Enter: "enter",
    Key.Key_Tab: "tab",
    Key.Key_Backtab: "tab",
    Key.Key_Backspace: "backspace",
    Key.Key_Insert: "insert",
    Key.Key_Delete: "delete",
    Key.Key_Home: "home",
    Key.Key_End: "end",
    Key.Key_PageUp: "page_up",
    Key.Key_PageDown: "page_down",
    Key.Key_Left: "left",
    Key.Key_Right: "right",
    Key.Key_Up: "up",
    Key.Key_Down: "down",
    Key.Key_Pause: "pause",
    Key.Key_Print: "print_screen",
    Key.Key_ScrollLock: "scroll_lock",
    Key.Key_Menu: "menu",
}


def key_name(key: int) -> str | None:
    """A Qt key as a chord names it ("space", "f9", "k", ","), or None for a modifier or a key
    the chord cannot use."""
    if key in _MODIFIER_KEYS:
        return None
    if key in _KEY_NAMES:
        return _KEY_NAMES[key]
    if Key.Key_F1 <= key <= Key.Key_F24:
        return f"f{key - Key.Key_F1 + 1}"
    if 0x21 <= key <= 0x7E:  # Qt numbers printable ASCII keys by their character
        return chr(key).lower()
    return None


def held_modifiers(event: QKeyEvent) -> list[str]:
    """The modifiers held once this key event is through: platforms differ on whether a modifier
    key's own event already counts it, so that key is added or taken away here."""
    modifiers = event.modifiers()
    own = _MODIFIER_OF_KEY.get(event.key())
    if own is not None:
        flag = _MODIFIER_FLAGS[own]
        modifiers = modifiers | flag if event.type() == QEvent.Type.KeyPress else modifiers & ~flag
    return [name for name in MODIFIERS if modifiers & _MODIFIER_FLAGS[name]]


class ShortcutField(QPushButton):
    chord_changed = Signal(str)  # the new chord as the settings file writes it
    recording_changed = Signal(bool)  # pause the global shortcut meanwhile, or it fires
    refused = Signal(str)  # why the keys just pressed cannot be the shortcut

    def __init__(self, chord: Chord, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._chord = chord
        self.recording = False
        self.setAccessibleName(self.tr("Talk shortcut"))
        self.setToolTip(
            self.tr("Click, then press the keys you want. Esc keeps the current shortcut.")
        )
        self.setAutoDefault(False)
        self.clicked.connect(self.start_recording)
        self._show(chord.label)

    @property
    def chord(self) -> Chord:
        return self._chord

    def set_chord(self, chord: Chord) -> None:
        self._chord = chord
        if not self.recording:
            self._show(chord.label)

    def start_recording(self) -> None:
        if self.recording:
            return
        self.recording = True
        self.setFocus(Qt.FocusReason.OtherFocusReason)
        self._show(self.tr(PROMPT))
        self.recording_changed.emit(True)

    def stop_recording(self) -> None:
        """Keep the chord as it is now (Esc, or the focus went elsewhere)."""
        if not self.recording:
            return
        self.recording = False
        self._show(self._chord.label)
        self.recording_changed.emit(False)

    def event(self, event: QEvent) -> bool:
        # While recording, every key is ours: Tab must not move the focus, and the window's own
        # shortcuts must not take the keys first.
        if self.recording and event.type() == QEvent.Type.ShortcutOverride:
            event.accept()
            return True
        if self.recording and event.type() == QEvent.Type.KeyPress:
            self._record(cast(QKeyEvent, event))
            return True
        if self.recording and event.type() == QEvent.Type.KeyRelease:
            self._show_held(cast(QKeyEvent, event))
            return True
        return super().event(event)

    def focusOutEvent(self, event: QFocusEvent) -> None:
        self.stop_recording()
        super().focusOutEvent(event)

    def _record(self, event: QKeyEvent) -> None:
        if event.isAutoRepeat():
            return
        modifiers = held_modifiers(event)
        if event.key() == Key.Key_Escape and not modifiers:
            self.stop_recording()
            return
        name = key_name(event.key())
        if name is None:
            self._show_held(event)
            return
        try:
            chord = Chord.parse("+".join([*modifiers, name]))
        except ConfigError as error:
            self.refused.emit(error.message)
            return
        self._chord = chord
        self.stop_recording()
        self.chord_changed.emit(str(chord))

    def _show_held(self, event: QKeyEvent) -> None:
        held = held_modifiers(event)
        self._show("+".join([name.title() for name in held] + ["…"]) if held else self.tr(PROMPT))

    def _show(self, text: str) -> None:
        self.setText(text)
        self.setAccessibleDescription(
            self.tr("Current shortcut: {shortcut}").format(shortcut=self._chord.label)
        )
