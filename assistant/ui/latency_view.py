"""A small waterfall of the last turn's timings: transcription, the model's first word, and each
sentence being voiced and played, measured from the moment the turn was handed over (Talk let
go, the pause after hands-free speech, the message sent, Read aloud pressed); and any audio the
microphone lost. A heading names the turn shown, in the words of the way it began."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from PySide6.QtCore import QCoreApplication, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPaintEvent
from PySide6.QtWidgets import QSizePolicy, QWidget

from assistant.core.timeline import TurnKind, TurnTimeline
from assistant.core.turn import lost_blocks_text
from assistant.ui.colours import Role, muted_text
from assistant.ui.translation import QT_TRANSLATE_NOOP

MAX_SENTENCE_ROWS = 6
MIN_WIDTH_CHARS = 40  # the panel's narrowest, in average characters
EMPTY_TEXT = QT_TRANSLATE_NOOP(
    "LatencyView",
    "After your next turn, this shows how long each step took: transcription, the model's "
    "first word, and the voice.",
)
_CONTEXT = "LatencyView"
# Which turn the panel shows, by the way it began.
_TITLES = {
    TurnKind.PUSH_TO_TALK: QT_TRANSLATE_NOOP(_CONTEXT, "Your last question (push to talk)"),
    TurnKind.HANDS_FREE: QT_TRANSLATE_NOOP(_CONTEXT, "Your last question (hands-free)"),
    TurnKind.TYPED: QT_TRANSLATE_NOOP(_CONTEXT, "Your last typed message"),
    TurnKind.READ_ALOUD: QT_TRANSLATE_NOOP(_CONTEXT, "The text read aloud"),
}
# A voice turn that got no reply: a dictation, or nothing was heard.
_SAID_TITLE = QT_TRANSLATE_NOOP(_CONTEXT, "What you last said")
# The moment every time is measured from, as the user lived it.
_SINCE = {
    TurnKind.PUSH_TO_TALK: QT_TRANSLATE_NOOP(_CONTEXT, "after you let go"),
    TurnKind.HANDS_FREE: QT_TRANSLATE_NOOP(_CONTEXT, "after you stopped speaking"),
    TurnKind.TYPED: QT_TRANSLATE_NOOP(_CONTEXT, "after you sent it"),
    TurnKind.READ_ALOUD: QT_TRANSLATE_NOOP(_CONTEXT, "after you pressed Read aloud"),
}
_SPOKEN = (TurnKind.PUSH_TO_TALK, TurnKind.HANDS_FREE)


def _translated(text: str) -> str:
    return QCoreApplication.translate(_CONTEXT, text)


def title_of(timeline: TurnTimeline) -> str:
    """Which turn the timings are of: the user may have typed, talked or had a text read since
    they last looked, and "transcription" or "after you let go" only fit some of those."""
    unanswered = timeline.first_token is None and not timeline.sentences
    if timeline.kind in _SPOKEN and unanswered:
        return _translated(_SAID_TITLE)
    return _translated(_TITLES[timeline.kind])


class Stage(Enum):
    TRANSCRIBING = QColor("#4e79a7")
    THINKING = QColor("#b07aa1")
    VOICING = QColor("#f28e2b")  # the synthesizer is making the sentence's audio
    PLAYING = QColor("#59a14f")


@dataclass(frozen=True)
class Span:
    start: float  # seconds after the origin (see TurnTimeline.origin)
    end: float
    stage: Stage


@dataclass(frozen=True)
class Row:
    label: str
    spans: tuple[Span, ...]
    note: str = ""


def duration_text(seconds: float) -> str:
    milliseconds = seconds * 1000
    return f"{milliseconds:.0f} ms" if milliseconds < 1000 else f"{seconds:.2f} s"


def rows_of(timeline: TurnTimeline) -> list[Row]:
    origin = timeline.origin
    if origin is None:
        return []

    def at(moment: float | None) -> float | None:
        return None if moment is None else max(0.0, moment - origin)

    rows = []
    heard = at(timeline.transcript_ready)
    if heard is not None and heard > 0:
        rows.append(
            Row("Transcription", (Span(0.0, heard, Stage.TRANSCRIBING),), duration_text(heard))
        )
    first_token = at(timeline.first_token)
    if first_token is not None:
        since = heard or 0.0
        span = Span(since, first_token, Stage.THINKING)
        rows.append(Row("Model's first word", (span,), duration_text(first_token - since)))
    gaps = [0.0, *timeline.gaps()]
    for sentence in timeline.sentences[:MAX_SENTENCE_ROWS]:
        spans = []
        asked, got = at(sentence.request_sent), at(sentence.first_byte)
        if asked is not None and got is not None:
            spans.append(Span(asked, got, Stage.VOICING))
        played, done = at(sentence.first_sample), at(sentence.last_sample)
        if played is not None:
            spans.append(Span(played, done if done is not None else played, Stage.PLAYING))
        if sentence.index == 0 and played is not None:
            note = f"heard at {duration_text(played)}"
        elif sentence.index < len(gaps) and gaps[sentence.index] >= 0.0005:
            note = f"gap {duration_text(gaps[sentence.index])}"
        else:
            note = ""
        rows.append(Row(f"Sentence {sentence.index + 1}", tuple(spans), note))
    hidden = len(timeline.sentences) - MAX_SENTENCE_ROWS
    if hidden > 0:
        rows.append(Row(f"… and {hidden} more", ()))
    return rows


def times(count: int) -> str:
    return "once" if count == 1 else f"{count} times"


def summary_of(timeline: TurnTimeline) -> str:
    origin = timeline.origin
    if origin is None:
        return "This turn ended before anything could be timed."
    parts = []
    first_audio = timeline.first_audio()
    if first_audio is not None:
        since = _translated(_SINCE[timeline.kind])
        parts.append(f"First audio {duration_text(first_audio - origin)} {since}")
    if timeline.transcript_ready is not None and timeline.transcript_ready > origin:
        parts.append(f"transcribed in {duration_text(timeline.transcript_ready - origin)}")
    if timeline.first_token is not None:
        parts.append(f"first word from the model at {duration_text(timeline.first_token - origin)}")
    gaps = timeline.gaps()
    if gaps:
        parts.append(f"longest gap between sentences {duration_text(max(gaps))}")
    if timeline.connections_opened:
        plural = "s" if timeline.connections_opened != 1 else ""
        parts.append(f"{timeline.connections_opened} new connection{plural}")
    if timeline.input_overflows:
        parts.append(lost_blocks_text(timeline.input_overflows))  # words may be missing
    waits = sum(sentence.underruns for sentence in timeline.sentences)
    if waits:
        parts.append(f"the voice stopped {times(waits)} to wait for its audio")
    dropouts = sum(sentence.dropouts for sentence in timeline.sentences)
    if dropouts:
        parts.append(f"the sound dropped out {times(dropouts)}: the computer was too busy")
    if timeline.interrupted:
        parts.append("interrupted")
    if not parts:
        return "Nothing was timed in this turn."
    text = "; ".join(parts)
    return text[0].upper() + text[1:] + "."


class LatencyView(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName(self.tr("Timings of the last turn"))
        policy = QSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        policy.setHeightForWidth(True)
        self.setSizePolicy(policy)
        self._rows: list[Row] = []
        self._title = ""  # which turn is shown; none before the first one
        self._summary = self.tr(EMPTY_TEXT)
        self.setAccessibleDescription(self._summary)

    @property
    def rows(self) -> list[Row]:
        return list(self._rows)

    def summary(self) -> str:
        return self._summary

    def title(self) -> str:
        """Which turn the timings are of ("Your last typed message"); "" before any turn."""
        return self._title

    def show_timeline(self, timeline: TurnTimeline) -> None:
        self._rows = rows_of(timeline)
        self._title = title_of(timeline)
        self._summary = summary_of(timeline)
        described = f"{self._title}: {self._summary}"
        self.setAccessibleDescription(described)
        self.setToolTip(described)
        self.updateGeometry()
        self.update()

    def clear(self) -> None:
        self._rows = []
        self._title = ""
        self._summary = self.tr(EMPTY_TEXT)
        self.setAccessibleDescription(self._summary)
        self.setToolTip("")
        self.updateGeometry()
        self.update()

    # ---- geometry ------------------------------------------------------------------------

    def _row_height(self) -> int:
        return round(self.fontMetrics().height() * 1.3)

    def _small(self) -> QFontMetrics:
        return QFontMetrics(self._small_font())

    def _small_font(self) -> QFont:
        font = self.font()
        font.setPointSizeF(max(6.0, font.pointSizeF() * 0.85))
        return font

    def _title_font(self) -> QFont:
        font = self.font()
        font.setBold(True)
        return font

    def _title_height(self) -> int:
        return QFontMetrics(self._title_font()).height() + 2 if self._title else 0

    def _summary_height(self, width: int) -> int:
        flags = int(Qt.TextFlag.TextWordWrap)
        return (
            self.fontMetrics()
            .boundingRect(0, 0, max(1, width), 10_000, flags, self._summary)
            .height()
        )

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        height = self._title_height() + self._summary_height(width) + 4
        if self._rows:
            height += (len(self._rows) + 1) * self._row_height() + self._small().height()
        return height

    def sizeHint(self) -> QSize:
        width = self.fontMetrics().averageCharWidth() * 60
        return QSize(width, self.heightForWidth(width))

    def minimumSizeHint(self) -> QSize:
        """Narrow enough for a small window, and tall enough for all it shows at that width: the
        main window's minimum size is made of its parts' minimums, without heightForWidth, so
        this is what keeps the rows from being cut at the window's smallest size."""
        width = self.fontMetrics().averageCharWidth() * MIN_WIDTH_CHARS
        return QSize(width, self.heightForWidth(width))

    # ---- painting ------------------------------------------------------------------------

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        palette = self.palette()
        width = self.width()
        painter.setPen(palette.color(Role.WindowText))
        heading = self._title_height()
        if heading:
            self._paint_title(painter, width, heading)
        top = heading + self._summary_height(width)
        painter.drawText(
            QRectF(0, heading, width, top - heading), int(Qt.TextFlag.TextWordWrap), self._summary
        )
        if self._rows:
            self._paint_rows(painter, top + 4)
        painter.end()

    def _paint_title(self, painter: QPainter, width: int, height: int) -> None:
        """The turn shown, in bold on one line (elided: it must not push the rows down)."""
        font = self._title_font()
        title = QFontMetrics(font).elidedText(self._title, Qt.TextElideMode.ElideRight, width)
        painter.setFont(font)
        painter.drawText(QRectF(0, 0, width, height), int(Qt.AlignmentFlag.AlignLeft), title)
        painter.setFont(self.font())

    def _paint_rows(self, painter: QPainter, top: float) -> None:
        palette = self.palette()
        metrics = self.fontMetrics()
        small = self._small()
        row_height = self._row_height()
        label_width = max(metrics.horizontalAdvance(row.label) for row in self._rows) + 10
        note_width = max(small.horizontalAdvance(row.note) for row in self._rows) + 10
        left, right = label_width, max(label_width + 20, self.width() - note_width)
        end = max((span.end for row in self._rows for span in row.spans), default=0.0)
        scale = (right - left) / max(end, 0.001)
        muted = muted_text(palette)
        bar_height = max(4.0, row_height * 0.45)
        for number, row in enumerate(self._rows):
            y = top + number * row_height
            painter.setFont(self.font())
            painter.setPen(palette.color(Role.WindowText))
            painter.drawText(
                QRectF(0, y, label_width, row_height),
                int(Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft),
                row.label,
            )
            for span in row.spans:
                x = left + span.start * scale
                bar = QRectF(
                    x,
                    y + (row_height - bar_height) / 2,
                    max(2.0, (span.end - span.start) * scale),
                    bar_height,
                )
                painter.setPen(Qt.PenStyle.NoPen)
                painter.setBrush(span.stage.value)
                painter.drawRoundedRect(bar, 2, 2)
            painter.setFont(self._small_font())
            painter.setPen(muted)
            painter.drawText(
                QRectF(right + 6, y, note_width, row_height),
                int(Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft),
                row.note,
            )
        self._paint_legend(painter, top + len(self._rows) * row_height, left, end)

    def _paint_legend(self, painter: QPainter, y: float, left: float, end: float) -> None:
        small = self._small()
        painter.setFont(self._small_font())
        x = left
        for stage, name in (
            (Stage.TRANSCRIBING, "transcription"),
            (Stage.THINKING, "model"),
            (Stage.VOICING, "voice being made"),
            (Stage.PLAYING, "playing"),
        ):
            swatch = small.height() * 0.6
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(stage.value)
            painter.drawRect(QRectF(x, y + (self._row_height() - swatch) / 2, swatch, swatch))
            x += swatch + 4
            painter.setPen(muted_text(self.palette()))
            box = QRectF(x, y, small.horizontalAdvance(name) + 2, self._row_height())
            painter.drawText(box, int(Qt.AlignmentFlag.AlignVCenter), name)
            x += box.width() + 12
        painter.drawText(
            QRectF(left, y, self.width() - left, self._row_height()),
            int(Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight),
            f"0 – {duration_text(end)}",
        )
