"""The tray icon: the assistant's state at a glance, and Talk, the conversation mode, Show window
and Quit within reach while the window is closed. Where the desktop has a tray, closing the window
only hides it; Quit ends the assistant."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Protocol

from PySide6.QtCore import QCoreApplication, QObject, QPointF, QRectF, QSettings, QSignalBlocker, Qt
from PySide6.QtGui import QAction, QActionGroup, QColor, QIcon, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QApplication, QMenu, QSystemTrayIcon

from assistant.core.errors import AssistantError
from assistant.core.events import TurnState
from assistant.core.hands_free import ListeningMode
from assistant.ui.listening_mode_box import LABELS
from assistant.ui.main_window import MainWindow, Mode
from assistant.ui.translation import QT_TRANSLATE_NOOP

APP_NAME = QT_TRANSLATE_NOOP("Tray", "Voice Assistant")
TOLD_KEY = "told_about_tray"  # in the window's memory: the first close was explained once
STILL_RUNNING = QT_TRANSLATE_NOOP(
    "Tray",
    "The assistant is still running here, in the tray. Click the icon to open the window "
    "again, or choose Quit in its menu to end it.",
)
_ICON_SIZES = (16, 22, 24, 32, 48, 64)  # what trays ask for, at 1x and 2x scale

# What the tray says for each state, and the colour of the dot on the icon (None: no dot).
_LOOKS: dict[TurnState, tuple[str, str | None]] = {
    TurnState.LOADING: (QT_TRANSLATE_NOOP("Tray", "Getting ready"), "#ffb300"),
    TurnState.READY: (QT_TRANSLATE_NOOP("Tray", "Ready"), None),
    TurnState.LISTENING: (QT_TRANSLATE_NOOP("Tray", "Listening"), "#43a047"),
    TurnState.TRANSCRIBING: (QT_TRANSLATE_NOOP("Tray", "Thinking"), "#ffb300"),
    TurnState.THINKING: (QT_TRANSLATE_NOOP("Tray", "Thinking"), "#ffb300"),
    TurnState.SPEAKING: (QT_TRANSLATE_NOOP("Tray", "Speaking"), "#8e24aa"),
    TurnState.ERROR: (QT_TRANSLATE_NOOP("Tray", "Problem"), "#d32f2f"),
}


class StartAtLogin(Protocol):
    """The system's way to start the app when the user logs in (app.py gives it, where any)."""

    def enabled(self) -> bool: ...

    def set_enabled(self, on: bool) -> None:
        """Raises AssistantError saying what went wrong."""


def app_icon(folder: Path) -> QIcon:
    """The app's icon from its rendered PNG sizes (resources/icons)."""
    icon = QIcon()
    for file in sorted(folder.glob("voice-assistant-*.png")):
        icon.addFile(str(file))
    return icon


def state_icon(base: QIcon, state: TurnState) -> QIcon:
    """`base` with a coloured dot in its lower right corner saying the state (a "!" on a
    problem), drawn at run time so that no extra image files are needed."""
    colour = _LOOKS[state][1]
    if colour is None:
        return base
    icon = QIcon()
    for size in _ICON_SIZES:
        pixmap = base.pixmap(size, size)
        if pixmap.isNull():
            pixmap = QPixmap(size, size)
            pixmap.fill(Qt.GlobalColor.transparent)
        _draw_dot(pixmap, QColor(colour), problem=state is TurnState.ERROR)
        icon.addPixmap(pixmap)
    return icon


def _draw_dot(pixmap: QPixmap, colour: QColor, *, problem: bool) -> None:
    size = pixmap.width() / pixmap.devicePixelRatio()
    diameter = size * (0.6 if problem else 0.5)
    ring = max(1.0, size / 16)  # white, so the dot stands out on the icon and on any panel
    dot = QRectF(size - diameter, size - diameter, diameter, diameter).adjusted(
        ring / 2, ring / 2, -ring / 2, -ring / 2
    )
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(QPen(QColor("white"), ring))
    painter.setBrush(colour)
    painter.drawEllipse(dot)
    if problem:  # the "!": a bar and a point, white
        centre = dot.center().x()
        stroke = max(1.5, diameter / 7)
        pen = QPen(QColor("white"), stroke)
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        painter.setPen(pen)
        top = dot.top() + dot.height() * 0.25
        painter.drawLine(QPointF(centre, top), QPointF(centre, dot.top() + dot.height() * 0.55))
        painter.drawPoint(QPointF(centre, dot.top() + dot.height() * 0.75))
    painter.end()


class Tray(QObject):
    """Follows `window`'s states and forwards the menu's choices to it, shown or not. Where no
    tray is `available` (as offscreen, or on a desktop without one) it stays hidden and closing
    the window quits, as without it."""

    def __init__(
        self,
        window: MainWindow,
        icon: QIcon,
        *,
        memory: QSettings | None = None,
        available: bool | None = None,
        start_at_login: StartAtLogin | None = None,
    ) -> None:
        super().__init__(window)
        self.window = window
        self.available = QSystemTrayIcon.isSystemTrayAvailable() if available is None else available
        self.state = TurnState.LOADING
        self._base = icon
        self._memory = memory
        self._start_at_login = start_at_login
        self._quitting = False
        self._icons: dict[TurnState, QIcon] = {}
        self.icon = QSystemTrayIcon(self)
        self.icon.activated.connect(self._activated)
        self._build_menu()
        window.bridge.state_changed.connect(self.show_state)
        window.hide_on_close = self.keeps_running
        self.show_state(window.controller.state, "")
        if self.available:
            # The window hides into the tray: its last dialog closing must not quit Qt.
            QApplication.setQuitOnLastWindowClosed(False)
            self.icon.show()

    def _build_menu(self) -> None:
        self.menu = QMenu()
        self.status_action = self.menu.addAction(self.tr(APP_NAME))
        self.status_action.setEnabled(False)  # says the state; nothing to click
        self.menu.addSeparator()
        self.talk_action = self.menu.addAction(self.tr("Talk"), self.talk)
        modes = self.menu.addMenu(self.tr("Conversation mode"))
        self.mode_actions: dict[ListeningMode, QAction] = {}
        group = QActionGroup(self.menu)
        for mode, label in LABELS.items():
            action = modes.addAction(
                QCoreApplication.translate("ListeningModeBox", label),
                partial(self.choose_mode, mode),
            )
            action.setCheckable(True)
            group.addAction(action)
            self.mode_actions[mode] = action
        self.menu.addSeparator()
        self.login_action = self.menu.addAction(self.tr("Start at login"))
        self.login_action.setCheckable(True)
        self.login_action.setVisible(self._start_at_login is not None)
        self.login_action.toggled.connect(self._start_at_login_toggled)
        self.menu.addAction(self.tr("Show window"), self.show_window)
        self.menu.addAction(self.tr("Quit"), self.quit)
        self.menu.aboutToShow.connect(self.refresh)
        self.icon.setContextMenu(self.menu)

    # ---- what the window tells the tray --------------------------------------------------

    def show_state(self, state: TurnState, detail: str) -> None:
        self.state = state
        if state not in self._icons:
            self._icons[state] = state_icon(self._base, state)
        self.icon.setIcon(self._icons[state])
        said = self.state_text
        name = self.tr(APP_NAME)
        self.status_action.setText(f"{name}: {said}")
        self.icon.setToolTip(f"{name}: {said}" + (f"\n{detail}" if detail else ""))
        self.refresh()

    @property
    def state_text(self) -> str:
        return self.tr(_LOOKS[self.state][0])

    def refresh(self) -> None:
        """The menu as the window is now: Talk's label and whether it works, the mode chosen."""
        talk = self.window.talk
        self.talk_action.setText(
            self.tr("Send (stop listening)") if talk.talking else self.tr("Talk")
        )
        self.talk_action.setEnabled(
            not talk.getting_ready and self.window.mode is not Mode.READ_ALOUD
        )
        self.mode_actions[self.window.listening_mode.mode].setChecked(True)
        if self._start_at_login is not None:
            with QSignalBlocker(self.login_action):
                self.login_action.setChecked(self._start_at_login.enabled())

    def keeps_running(self) -> bool:
        """Asked when the window is closed: True when the assistant goes on in the tray (the
        window only hides). The first time, a tray message says so."""
        if not self.available or self._quitting:
            return False
        if self._memory is None or not self._memory.value(TOLD_KEY, False, type=bool):
            self.icon.showMessage(self.tr(APP_NAME), self.tr(STILL_RUNNING), self._base, 10_000)
            if self._memory is not None:
                self._memory.setValue(TOLD_KEY, True)
                self._memory.sync()
        return True

    # ---- the menu's choices --------------------------------------------------------------

    def talk(self) -> None:
        """Start listening, or send what was said: the Talk button's click in toggle mode (a
        menu cannot be held)."""
        talk = self.window.talk
        if talk.talking:
            talk.end()
        else:
            talk.begin()
        self.refresh()

    def choose_mode(self, mode: ListeningMode) -> None:
        """As if chosen in the window's box: the session switches (and says if it cannot)."""
        self.window.listening_mode.setCurrentIndex(list(LABELS).index(mode))
        self.refresh()

    def show_window(self) -> None:
        self.window.showNormal()
        self.window.raise_()
        self.window.activateWindow()

    def quit(self) -> None:
        """End the assistant: the window closes for good, and with it the services."""
        self._quitting = True
        self.icon.hide()
        self.window.close()

    def _start_at_login_toggled(self, on: bool) -> None:
        assert self._start_at_login is not None
        try:
            self._start_at_login.set_enabled(on)
        except AssistantError as error:
            self.window.report(error.message)
        self.refresh()  # shows what the system now does, whether it worked or not

    def _activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason is QSystemTrayIcon.ActivationReason.Trigger:  # a plain click
            self.show_window()


__all__ = ["STILL_RUNNING", "TOLD_KEY", "StartAtLogin", "Tray", "app_icon", "state_icon"]
