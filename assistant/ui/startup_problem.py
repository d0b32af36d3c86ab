"""What opens instead of the window when the settings file cannot be used (not TOML, a bad value,
unreadable): the precise reason, and the way on: open the file to fix it, try it again, or start
with the defaults for now, which never writes over the file."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QCoreApplication, Qt, QUrl
from PySide6.QtGui import QDesktopServices, QFont
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from assistant.config import Settings
from assistant.core.errors import ConfigError
from assistant.ui.translation import QT_TRANSLATE_NOOP

log = logging.getLogger(__name__)

HEADING = QT_TRANSLATE_NOOP("StartupProblem", "The settings file cannot be used")
ON_DEFAULTS = QT_TRANSLATE_NOOP(
    "StartupProblem",
    "“Start with defaults for now” leaves the file as it is: nothing is ever saved over it. "
    "Changes you make in Settings meanwhile last until you quit.",
)


def on_defaults(problem: str) -> str:
    """What the window says while it runs on the defaults beside a file that cannot be used."""
    return QCoreApplication.translate(
        "StartupProblem",
        "The assistant runs with its default settings for now, because the settings file "
        "cannot be used: {problem}\nThe file is left as it is: changes made in Settings are "
        "not saved over it, and last until you quit. Fix the file, then restart the assistant.",
    ).format(problem=problem)


@dataclass(frozen=True)
class StartChoice:
    """The settings to start with, and the problem of the file if they are the defaults."""

    settings: Settings
    problem: str | None = None  # None: the file itself was read


class StartupProblem(QDialog):
    """Accepted with `choice` set (the file read again, or the defaults); rejected: the user
    chose not to start."""

    def __init__(
        self,
        path: Path,
        message: str,
        load: Callable[[], Settings],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.path = path
        self.choice: StartChoice | None = None
        self._load = load
        self.setWindowTitle(self.tr("Voice Assistant: a problem with the settings"))
        self.setMinimumWidth(self.fontMetrics().averageCharWidth() * 80)

        symbol = QLabel()
        size = self.style().pixelMetric(QStyle.PixelMetric.PM_MessageBoxIconSize)
        warning = self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning)
        symbol.setPixmap(warning.pixmap(size, size))
        symbol.setAlignment(Qt.AlignmentFlag.AlignTop)
        heading = QLabel(self.tr(HEADING))
        font = QFont(heading.font())
        font.setPointSizeF(font.pointSizeF() * 1.25)
        font.setBold(True)
        heading.setFont(font)
        self.message = _text(message)
        self.message.setAccessibleName(self.tr("What is wrong"))
        self.note = _text(self.tr(ON_DEFAULTS))
        self.feedback = _text("")  # what came of "Open the file", when it did not work
        self.feedback.hide()

        self.open_button = QPushButton(self.tr("&Open the file"))
        self.open_button.setToolTip(
            self.tr("Open {file} in the application that edits such files").format(file=path)
        )
        self.retry_button = QPushButton(self.tr("&Try again"))
        self.retry_button.setToolTip(self.tr("Read the file again, once you have fixed it"))
        self.defaults_button = QPushButton(self.tr("Start with &defaults for now"))
        self.quit_button = QPushButton(self.tr("&Quit"))
        buttons = QDialogButtonBox()
        buttons.addButton(self.open_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.retry_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.defaults_button, QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.addButton(self.quit_button, QDialogButtonBox.ButtonRole.RejectRole)
        self.defaults_button.setDefault(True)
        self.open_button.setVisible(path.is_file())  # a missing file has nothing to open

        text = QVBoxLayout()
        text.addWidget(heading)
        text.addWidget(self.message)
        text.addWidget(self.feedback)
        text.addSpacing(heading.fontMetrics().height() // 2)
        text.addWidget(self.note)
        top = QHBoxLayout()
        top.addWidget(symbol)
        top.addLayout(text, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addStretch(1)
        layout.addWidget(buttons)

        self.open_button.clicked.connect(self.open_file)
        self.retry_button.clicked.connect(self.try_again)
        self.defaults_button.clicked.connect(self.start_with_defaults)
        self.quit_button.clicked.connect(self.reject)

    def open_file(self) -> None:
        if not QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.path))):
            self._say(
                self.tr(
                    "No application could open {file}. Open it with a text editor, fix it, "
                    "then press Try again."
                ).format(file=self.path)
            )

    def try_again(self) -> None:
        try:
            settings = self._load()
        except ConfigError as error:
            log.error("The settings file still cannot be used: %s", error.message)
            self.message.setText(error.message)
            self._say(self.tr("The file still has a problem (the message above says which)."))
            return
        self.choice = StartChoice(settings)
        self.accept()

    def start_with_defaults(self) -> None:
        log.warning("Starting with the default settings; %s is left as it is.", self.path)
        self.choice = StartChoice(Settings(), self.message.text())
        self.accept()

    def _say(self, text: str) -> None:
        self.feedback.setText(text)
        self.feedback.show()
        self.adjustSize()  # taller, so that no line of the new text is cut off


def _text(text: str) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


def settings_to_start_with(path: Path, load: Callable[[], Settings]) -> StartChoice | None:
    """The settings from `load()`; if they cannot be used, the problem is logged and shown, and
    the user's choice returned (None: they chose not to start)."""
    try:
        return StartChoice(load())
    except ConfigError as error:
        log.error("The settings file cannot be used: %s", error.message)
        dialog = StartupProblem(path, error.message, load)
    dialog.exec()
    return dialog.choice


__all__ = [
    "HEADING",
    "ON_DEFAULTS",
    "StartChoice",
    "StartupProblem",
    "on_defaults",
    "settings_to_start_with",
]
