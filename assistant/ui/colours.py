"""Colours derived from the system palette, so the app follows light and dark themes alike."""

from __future__ import annotations

from PySide6.QtGui import QColor, QPalette

Role = QPalette.ColorRole


def mix(first: QColor, second: QColor, amount: float) -> QColor:
    """`first` moved `amount` (0..1) of the way towards `second`."""
    keep = 1.0 - amount
    return QColor.fromRgbF(
        first.redF() * keep + second.redF() * amount,
        first.greenF() * keep + second.greenF() * amount,
        first.blueF() * keep + second.blueF() * amount,
    )


def is_dark(palette: QPalette) -> bool:
    return palette.color(Role.Base).lightnessF() < 0.5


def error_colour(palette: QPalette) -> QColor:
    # A red that reads on the window background, in light and in dark themes.
    return QColor("#ff8a80") if is_dark(palette) else QColor("#b00020")


def muted_text(palette: QPalette) -> QColor:
    return mix(palette.color(Role.Text), palette.color(Role.Base), 0.45)


def user_bubble(palette: QPalette) -> QColor:
    return mix(palette.color(Role.Base), palette.color(Role.Highlight), 0.22)


def assistant_bubble(palette: QPalette) -> QColor:
    return mix(palette.color(Role.Base), palette.color(Role.Text), 0.07)


def reading_bubble(palette: QPalette) -> QColor:
    return mix(palette.color(Role.Base), QColor("#2e7d32"), 0.16)


def spoken_sentence(palette: QPalette) -> QColor:
    """The background of the sentence being spoken: strong enough to follow, text still legible."""
    return mix(palette.color(Role.Base), QColor("#f9a825"), 0.45 if is_dark(palette) else 0.55)
