"""The banner shown when the speech model is not on this computer: try the download again, choose
a folder that holds the model, or use the built-in one."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from assistant.ui.check_result import CheckResult
from assistant.ui.colours import Role, mix

BUILT_IN = "bundled"  # the [stt] model setting of the built-in tiny.en model
BUILT_IN_DOWNLOAD = "tiny.en"  # the same model, by the size name it is downloaded as
MODEL_FILE = "model.bin"  # what every Whisper model folder (CTranslate2 format) holds


class ModelBanner(QFrame):
    retry_requested = Signal()
    model_chosen = Signal(str)  # a folder holding model.bin, or BUILT_IN

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.builtin_available = False  # whether the built-in model is installed (app.py knows)
        self.model = ""  # the setting that named the missing model
        self.setAccessibleName(self.tr("The speech model is missing"))
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAutoFillBackground(True)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setTextFormat(Qt.TextFormat.PlainText)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        bold = self.message.font()
        bold.setBold(True)
        self.message.setFont(bold)
        self.refusal = CheckResult()  # why a chosen folder will not do
        self.refusal.hide()
        self.retry_button = QPushButton()
        self.folder_button = QPushButton(self.tr("&Choose a folder…"))
        self.folder_button.setAccessibleName(self.tr("Choose a folder that holds the speech model"))
        self.builtin_button = QPushButton(self.tr("Use the &built-in model"))
        self.builtin_button.setAccessibleName(
            self.tr("Use the built-in speech model (English, small)")
        )
        self.builtin_button.setToolTip(
            self.tr("The tiny English model that comes with the assistant")
        )
        self.retry_button.clicked.connect(self._retry)
        self.folder_button.clicked.connect(self._choose_folder)
        self.builtin_button.clicked.connect(lambda: self._choose(BUILT_IN))
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        for button in self.buttons():
            buttons.addWidget(button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.message)
        layout.addWidget(self.refusal)
        layout.addLayout(buttons)
        self._tint()
        self.set_trying(False)
        self.hide()

    def buttons(self) -> list[QPushButton]:
        """In the order Tab reaches them."""
        return [self.retry_button, self.folder_button, self.builtin_button]

    def show_missing(self, model: str, why: str = "") -> None:
        """Say that `model` (the setting) is not here; `why` (the error's own words) is the
        details a screen reader and the tooltip give. A missing built-in model is offered as
        a download of the same model."""
        self.model = model
        if model == BUILT_IN:
            self.message.setText(
                self.tr("The built-in speech model is missing from this installation.")
            )
        else:
            self.message.setText(
                self.tr(
                    "The speech model {} is not on this computer, and it could not be "
                    "downloaded just now."
                ).format(model)
            )
        self.message.setToolTip(why)
        self.setAccessibleDescription(why or self.message.text())
        self.builtin_button.setVisible(self.builtin_available and model != BUILT_IN)
        self.refusal.hide()
        self.set_trying(False)
        self.show()

    def set_trying(self, trying: bool) -> None:
        """While the model is being fetched or loaded again, nothing else can be chosen."""
        for button in self.buttons():
            button.setEnabled(not trying)
        if trying:
            self.retry_button.setText(self.tr("Trying…"))
        elif self.model == BUILT_IN:
            self.retry_button.setText(self.tr("&Download it ({}, 75 MB)").format(BUILT_IN_DOWNLOAD))
            self.retry_button.setAccessibleName(self.tr("Download the built-in speech model"))
        else:
            self.retry_button.setText(self.tr("Try a&gain"))
            self.retry_button.setAccessibleName(self.tr("Try again to download the speech model"))

    def _choose(self, model: str) -> None:
        self.set_trying(True)  # now: a second click starts nothing while the choice is applied
        self.refusal.hide()
        self.model_chosen.emit(model)

    def _retry(self) -> None:
        if self.model == BUILT_IN:
            self._choose(BUILT_IN_DOWNLOAD)  # saved as the [stt] model, so it is downloaded
            return
        self.set_trying(True)  # now: a second click starts nothing
        self.refusal.hide()
        self.retry_requested.emit()

    def _choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(
            self, self.tr("Choose the folder that holds the speech model"), str(Path.home())
        )
        if not folder:
            return  # the user changed their mind
        if not (Path(folder) / MODEL_FILE).is_file():
            self.refusal.show_failure(
                self.tr(
                    "The folder {0} holds no speech model: a Whisper model folder has a file "
                    "called {1} in it. Choose the folder that has it."
                ).format(folder, MODEL_FILE)
            )
            self.refusal.show()
            return
        self._choose(folder)

    def _tint(self) -> None:
        palette = self.palette()
        base = palette.color(Role.Window)
        palette.setColor(Role.Window, mix(base, palette.color(Role.Highlight), 0.15))
        self.setPalette(palette)
