"""Space works like the Talk button wherever the focus is in the window, except where Space types
text; Enter clicks a focused button instead (Space no longer can)."""

from __future__ import annotations

from typing import cast

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QLineEdit,
    QPlainTextEdit,
    QTextEdit,
    QWidget,
)

from assistant.ui.talk_button import TalkButton

_KEYS = (QEvent.Type.KeyPress, QEvent.Type.KeyRelease)
_ENTER = (Qt.Key.Key_Return, Qt.Key.Key_Enter)


def types_text(widget: QWidget) -> bool:
    """Whether Space typed into `widget` would insert a space."""
    if isinstance(widget, QLineEdit | QPlainTextEdit | QTextEdit):
        return not widget.isReadOnly()
    if isinstance(widget, QAbstractSpinBox):
        return True
    return isinstance(widget, QComboBox) and widget.isEditable()


class SpaceToTalk(QObject):
    def __init__(self, window: QWidget, talk: TalkButton) -> None:
        super().__init__(window)  # deleted with the window, which removes the filter
        self.window = window
        self.talk = talk
        self.enabled = True
        self._held = False  # Space went down here, so its release belongs to us too
        app = QApplication.instance()
        assert app is not None
        app.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind == QEvent.Type.WindowDeactivate and watched is self.window:
            self._let_go()  # the key's release would go to another window
            return False
        if kind not in _KEYS or not isinstance(watched, QWidget):
            return False
        if watched.window() is not self.window:
            return False
        key_event = cast(QKeyEvent, event)
        if key_event.key() == Qt.Key.Key_Space and key_event.modifiers() in (
            Qt.KeyboardModifier.NoModifier,
            Qt.KeyboardModifier.KeypadModifier,
        ):
            return self._space(watched, key_event)
        if key_event.key() in _ENTER and isinstance(watched, QAbstractButton):
            if kind == QEvent.Type.KeyPress and not key_event.isAutoRepeat():
                watched.animateClick()
            return True
        return False

    def _space(self, watched: QWidget, event: QKeyEvent) -> bool:
        pressed = event.type() == QEvent.Type.KeyPress
        if not self._held and (
            not self.enabled or types_text(watched) or not self.talk.isVisible()
        ):
            return False
        if event.isAutoRepeat():
            return True  # holding Space repeats the key: still one press
        if pressed and not self._held:
            self._held = True
            self.talk.key_down()
        elif not pressed and self._held:
            self._held = False
            self.talk.key_up()
        return True

    def _let_go(self) -> None:
        if self._held:
            self._held = False
            self.talk.key_up()
        elif self.talk.mode == "hold":
            self.talk.end()  # the mouse held Talk when the window lost focus
