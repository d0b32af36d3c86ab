"""A small live microphone level bar, on a decibel scale so that speech fills most of it."""

from __future__ import annotations

import math

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent
from PySide6.QtWidgets import QSizePolicy, QWidget

from assistant.ui.colours import Role, mix

FLOOR_DB = -60.0  # quieter than this shows as an empty bar (room noise)
LOUD = 0.85  # above this share of the bar the sound is close to clipping


def fill_of(level: float) -> float:
    """The share of the bar (0..1) for a linear RMS level (0..1)."""
    if level <= 0:
        return 0.0
    decibels = 20 * math.log10(min(1.0, level))
    return max(0.0, min(1.0, 1 - decibels / FLOOR_DB))


class LevelMeter(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName(self.tr("Microphone level"))
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self._fill = 0.0

    @property
    def fill(self) -> float:
        return self._fill

    def set_level(self, level: float) -> None:
        self._fill = fill_of(level)
        self.setAccessibleDescription(
            self.tr("{percent} percent").format(percent=round(self._fill * 100))
        )
        self.update()

    def sizeHint(self) -> QSize:
        height = max(6, self.fontMetrics().height() // 2)
        return QSize(self.fontMetrics().averageCharWidth() * 16, height)

    def minimumSizeHint(self) -> QSize:
        return QSize(self.fontMetrics().averageCharWidth() * 6, self.sizeHint().height())

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        palette = self.palette()
        bounds = QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5)
        radius = bounds.height() / 2
        painter.setPen(palette.color(Role.Mid))
        painter.setBrush(mix(palette.color(Role.Base), palette.color(Role.Text), 0.08))
        painter.drawRoundedRect(bounds, radius, radius)
        if self._fill > 0:
            bar = QRectF(bounds)
            bar.setWidth(max(bounds.height(), bounds.width() * self._fill))
            colour = QColor("#e53935") if self._fill > LOUD else QColor("#43a047")
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(colour)
            painter.drawRoundedRect(bar, radius, radius)
        painter.end()
