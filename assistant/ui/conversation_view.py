"""The conversation as chat bubbles: what the user said (with the language they spoke, where that
tells something), and the assistant's reply as it streams in, with the sentence being spoken
highlighted. Plain selectable text, so it copies cleanly. A notice repeated right after itself
is counted ("I didn't catch that. (3×)"), not shown again."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

from PySide6.QtCore import QEasingCurve, QEvent, QPropertyAnimation, Qt, QTimer
from PySide6.QtGui import (
    QTextBlockFormat,
    QTextCharFormat,
    QTextCursor,
    QTextTable,
    QTextTableCellFormat,
    QTextTableFormat,
)
from PySide6.QtWidgets import QTextBrowser, QTextEdit, QWidget

from assistant.core.history import StoredMessage
from assistant.core.languages import ENGLISH, language_name
from assistant.ui import colours

Move = QTextCursor.MoveOperation
Anchor = QTextCursor.MoveMode.KeepAnchor
_PARAGRAPH = "\u2029"  # how Qt separates paragraphs in selected text
FOLLOW_SLACK = 24  # pixels from the bottom that still count as "at the end"


class Role(Enum):
    USER = "You"
    ASSISTANT = "Assistant"
    DICTATED = "Dictated · copied to the clipboard"
    READING = "Read aloud"


_REPLIES = (Role.ASSISTANT, Role.READING)
_MINE = (Role.USER, Role.DICTATED)


@dataclass
class _Bubble:
    role: Role
    table: QTextTable
    interrupted: bool = False
    language: str = ""  # what the user spoke, as an ISO code, when shown in the caption

    def body(self) -> QTextCursor:
        """A cursor selecting the bubble's text (everything below its caption)."""
        cell = self.table.cellAt(0, 0)
        cursor = cell.firstCursorPosition()
        cursor.movePosition(Move.NextBlock)
        cursor.setPosition(cell.lastCursorPosition().position(), Anchor)
        return cursor

    def caption(self) -> QTextCursor:
        cursor = self.table.cellAt(0, 0).firstCursorPosition()
        cursor.movePosition(Move.EndOfBlock, Anchor)
        return cursor


@dataclass
class _Notice:
    start: QTextCursor  # at the start of the notice's line
    message: str
    is_error: bool
    count: int = 1  # shown this many times in a row

    def text(self) -> str:
        return self.message if self.count == 1 else f"{self.message} ({self.count}×)"


class ConversationView(QTextBrowser):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Conversation")
        self.setOpenLinks(False)
        self.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse
            | Qt.TextInteractionFlag.TextSelectableByKeyboard
        )
        self.setPlaceholderText(
            self.tr("What you say and what the assistant answers appears here.")
        )
        self._bubbles: list[_Bubble] = []
        self._notices: list[_Notice] = []
        # The languages the user says they speak (the settings, else the system's and English),
        # and those other than English heard from them so far: see `_language_shown`.
        self._spoken_languages: tuple[str, ...] = (ENGLISH,)
        self._heard_other_than_english = False
        self._reply: _Bubble | None = None  # the reply (or text read aloud) still going on
        self._partial: _Bubble | None = None  # what the user is saying, while they say it
        self._spoken_from = 0  # where in the reply the next spoken sentence is looked for
        self._scroll = QPropertyAnimation(self.verticalScrollBar(), b"value", self)
        self._scroll.setDuration(160)
        self._scroll.setEasingCurve(QEasingCurve.Type.OutCubic)

    # ---- what happens in a conversation --------------------------------------------------

    def show_messages(self, messages: Sequence[StoredMessage]) -> None:
        """A stored conversation, after whatever is shown: each message as its bubble (a reply
        that was cut off says so), then the view jumps to the end."""
        self.end_reply()
        for message in messages:
            role = Role.USER if message.role == "user" else Role.ASSISTANT
            bubble = self._add_bubble(role, message.text, follow=False)
            if role is Role.ASSISTANT and message.state != "complete":
                self._mark_interrupted(bubble)
        QTimer.singleShot(0, self, self._jump_to_end)

    def set_spoken_languages(self, languages: Sequence[str]) -> None:
        """The languages the user speaks, as ISO codes (`core.languages.preferred_languages`)."""
        self._spoken_languages = tuple(languages) or (ENGLISH,)

    def show_partial(self, committed: str, tentative: str, *, dictation: bool = False) -> None:
        """What the user is saying, while they say it: the words settled so far plain, those
        still being decided muted (`tentative` starts with the space between them, in languages
        that have one). The transcript takes the bubble over (`add_user`,
        `add_dictation`); nothing at all said (both empty) takes it away."""
        if not committed and not tentative:
            self._drop_partial()
            return
        if self._partial is None:
            self.end_reply()
            role = Role.DICTATED if dictation else Role.USER
            self._partial = self._add_bubble(role, "", follow=True)
        body = self._partial.body()
        body.insertText(committed, QTextCharFormat())
        if tentative:
            unsure = QTextCharFormat()
            unsure.setForeground(colours.muted_text(self.palette()))
            body.insertText(tentative if committed else tentative.lstrip(), unsure)
        self._follow()

    def add_user(self, text: str, language: str = "") -> None:
        """What the user said (in `language`, an ISO code; "" if not known, e.g. typed)."""
        if self._settle_partial(Role.USER, text, language):
            return
        self.end_reply()
        self._add_bubble(Role.USER, text, follow=True, language=language)

    def restate_user(self, text: str, language: str = "") -> None:
        """The user went on with their last question before hearing its answer: it reads `text`
        now, and whatever was shown after it (a reply not heard yet) goes."""
        self._drop_partial()  # what they went on with is in `text` now
        last = next((b for b in reversed(self._bubbles) if b.role is Role.USER), None)
        if last is None:
            self.add_user(text, language)
            return
        self.end_reply()
        after = QTextCursor(self.document())
        after.movePosition(Move.End)
        end = after.position()
        after.setPosition(min(last.table.lastPosition() + 1, end))
        after.setPosition(end, Anchor)
        after.removeSelectedText()
        self._bubbles = self._bubbles[: self._bubbles.index(last) + 1]
        self._notices = [n for n in self._notices if n.start.position() < after.position()]
        body = last.body()
        body.insertText(text, QTextCharFormat())
        if language:  # else it was known already (asked again after a cough): the tag stays
            self._tag_language(last, language)
        self._follow()

    def add_dictation(self, text: str, language: str = "") -> None:
        if self._settle_partial(Role.DICTATED, text, language):
            return
        self.end_reply()
        self._add_bubble(Role.DICTATED, text, follow=True, language=language)

    def begin_reading(self, text: str) -> None:
        """Text about to be read aloud: shown at once, its sentences highlighted as they play."""
        self.end_reply()
        self._reply = self._add_bubble(Role.READING, text, follow=True)

    def add_reply_text(self, delta: str) -> None:
        following = self._at_end()
        if self._reply is None:
            self._reply = self._add_bubble(Role.ASSISTANT, "", follow=following)
        cursor = self._reply.table.cellAt(0, 0).lastCursorPosition()
        cursor.insertText(delta, QTextCharFormat())
        if following:
            self._follow()

    def highlight_sentence(self, text: str) -> None:
        """Mark `text` (a sentence of the current reply, as written) as the one being spoken."""
        if self._reply is None or not text.strip():
            return
        body = self._reply.body()
        written = body.selectedText().replace(_PARAGRAPH, "\n")
        wanted = text.strip()
        start = written.find(wanted, self._spoken_from)
        if start < 0:
            start = written.find(wanted)
        if start < 0:
            return
        self._spoken_from = start + len(wanted)
        first = body.selectionStart() + _utf16_length(written[:start])
        cursor = QTextCursor(self.document())
        cursor.setPosition(first)
        cursor.setPosition(first + _utf16_length(wanted), Anchor)
        selection = QTextEdit.ExtraSelection()
        selection.cursor = cursor
        selection.format = self._spoken_format()
        self.setExtraSelections([selection])

    def spoken_text(self) -> str:
        """The highlighted sentence ('' when none is)."""
        selections = self.extraSelections()
        return selections[0].cursor.selectedText() if selections else ""

    def spoken_position(self) -> int | None:
        """Where in the document the highlighted sentence starts."""
        selections = self.extraSelections()
        return selections[0].cursor.selectionStart() if selections else None

    def end_reply(self, interrupted: bool = False) -> None:
        """The reply is over: no highlight any more; a cut-off reply says so in its caption."""
        reply, self._reply = self._reply, None
        self._spoken_from = 0
        self.setExtraSelections([])
        if reply is None and self._bubbles and self._bubbles[-1].role in _REPLIES:
            reply = self._bubbles[-1]  # ended already (Stop), told only now that it was cut off
        if reply is not None and interrupted:
            self._mark_interrupted(reply)

    def add_notice(self, message: str, is_error: bool) -> None:
        """A hint or an error, on a line of its own; the same one again right after it (nothing
        shown in between) counts up on that line instead: a run of taps is one line, not ten."""
        following = self._at_end()
        last = self._notices[-1] if self._notices else None
        if (
            last is not None
            and (last.message, last.is_error) == (message, is_error)
            and last.start.block() == self.document().lastBlock()
        ):
            last.count += 1
            cursor = QTextCursor(last.start.block())
            cursor.movePosition(Move.EndOfBlock, Anchor)
            cursor.insertText(last.text(), self._notice_format(is_error))
            if following:
                self._follow()
            return
        cursor = self._end_cursor()
        block = QTextBlockFormat()
        block.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        block.setTopMargin(self._gap())
        cursor.insertBlock(block, self._notice_format(is_error))
        cursor.insertText(message)
        self._notices.append(_Notice(QTextCursor(cursor.block()), message, is_error))
        if following:
            self._follow()

    def clear(self) -> None:
        self.end_reply()
        self._partial = None
        self._bubbles.clear()
        self._notices.clear()
        super().clear()

    # ---- building and styling bubbles ----------------------------------------------------

    def _settle_partial(self, role: Role, text: str, language: str) -> bool:
        """The transcript in place of the live bubble, if there is one of `role`."""
        bubble, self._partial = self._partial, None
        if bubble is None:
            return False
        if bubble.role is not role:
            self._partial = bubble
            self._drop_partial()
            return False
        bubble.body().insertText(text, QTextCharFormat())
        if language:
            self._tag_language(bubble, language)
        self._follow()
        return True

    def _drop_partial(self) -> None:
        """Take the live bubble away (nothing was said after all, or it joined the question
        before it); it is always the last thing shown."""
        bubble, self._partial = self._partial, None
        if bubble is None or bubble not in self._bubbles:
            return
        cursor = QTextCursor(self.document())
        cursor.setPosition(max(bubble.table.firstPosition() - 1, 0))
        cursor.movePosition(Move.End, Anchor)
        cursor.removeSelectedText()
        self._bubbles.remove(bubble)

    def _add_bubble(self, role: Role, text: str, *, follow: bool, language: str = "") -> _Bubble:
        cursor = self._end_cursor()
        table = cursor.insertTable(1, 1, self._table_format(role))
        bubble = _Bubble(role, table)
        if language and self._language_shown(language):
            bubble.language = language
        table.cellAt(0, 0).setFormat(self._cell_format(role))
        inside = table.cellAt(0, 0).firstCursorPosition()
        inside.insertText(self._caption_text(bubble), self._caption_format())
        inside.insertBlock(QTextBlockFormat(), QTextCharFormat())
        inside.insertText(text, QTextCharFormat())
        self._bubbles.append(bubble)
        if follow:
            self._follow()
        return bubble

    def _language_shown(self, language: str) -> bool:
        """Whether the bubble of something said in `language` names it. Always when it is not
        English: that is where detection goes wrong (Spanish heard as Greek), and the name says
        so at a glance. English too once the user speaks more than one language (they said so,
        their system does, or they were heard in another): then "English" is a real answer, and
        a German question taken for English shows. An English-only user never sees a tag."""
        if language != ENGLISH:
            self._heard_other_than_english = True
            return True
        return self._heard_other_than_english or len(self._spoken_languages) > 1

    def _caption_text(self, bubble: _Bubble) -> str:
        """The caption: "You", or "You · Deutsch" (the language named for its own speakers)."""
        if not bubble.language:
            return bubble.role.value
        return f"{bubble.role.value} · {language_name(bubble.language)}"

    def _tag_language(self, bubble: _Bubble, language: str) -> None:
        if not self._language_shown(language) or language == bubble.language:
            return
        bubble.language = language
        caption = bubble.caption()
        caption.insertText(self._caption_text(bubble), self._caption_format())

    def _mark_interrupted(self, bubble: _Bubble) -> None:
        if bubble.interrupted:
            return
        bubble.interrupted = True
        cursor = bubble.caption()
        cursor.clearSelection()
        cursor.insertText(" · interrupted", self._caption_format())

    def _end_cursor(self) -> QTextCursor:
        cursor = QTextCursor(self.document())
        cursor.movePosition(Move.End)
        return cursor

    def _gap(self) -> float:
        return self.fontMetrics().height() * 0.6

    def _table_format(self, role: Role) -> QTextTableFormat:
        mine = role in _MINE
        indent = self.fontMetrics().averageCharWidth() * 10
        table = QTextTableFormat()
        table.setBorder(0)
        table.setCellSpacing(0)
        table.setCellPadding(0)
        table.setTopMargin(self._gap())
        table.setAlignment(Qt.AlignmentFlag.AlignRight if mine else Qt.AlignmentFlag.AlignLeft)
        table.setLeftMargin(indent if mine else 0)
        table.setRightMargin(0 if mine else indent)
        return table

    def _cell_format(self, role: Role) -> QTextTableCellFormat:
        palette = self.palette()
        background = {
            Role.USER: colours.user_bubble,
            Role.DICTATED: colours.user_bubble,
            Role.ASSISTANT: colours.assistant_bubble,
            Role.READING: colours.reading_bubble,
        }[role](palette)
        cell = QTextTableCellFormat()
        cell.setBackground(background)
        padding = self.fontMetrics().averageCharWidth() * 1.4
        cell.setLeftPadding(padding)
        cell.setRightPadding(padding)
        cell.setTopPadding(padding * 0.6)
        cell.setBottomPadding(padding * 0.7)
        return cell

    def _caption_format(self) -> QTextCharFormat:
        caption = QTextCharFormat()
        caption.setForeground(colours.muted_text(self.palette()))
        caption.setFontPointSize(max(6.0, self.font().pointSizeF() * 0.85))
        return caption

    def _notice_format(self, is_error: bool) -> QTextCharFormat:
        palette = self.palette()
        notice = QTextCharFormat()
        notice.setFontItalic(True)
        notice.setForeground(
            colours.error_colour(palette) if is_error else colours.muted_text(palette)
        )
        return notice

    def _spoken_format(self) -> QTextCharFormat:
        spoken = QTextCharFormat()
        spoken.setBackground(colours.spoken_sentence(self.palette()))
        spoken.setForeground(self.palette().color(colours.Role.Text))
        return spoken

    def _restyle(self) -> None:
        """The theme changed (light/dark): recolour everything already shown."""
        for bubble in self._bubbles:
            bubble.table.cellAt(0, 0).setFormat(self._cell_format(bubble.role))
            bubble.caption().setCharFormat(self._caption_format())
        for notice in self._notices:
            cursor = QTextCursor(notice.start.block())
            cursor.movePosition(Move.EndOfBlock, Anchor)
            cursor.setCharFormat(self._notice_format(notice.is_error))
        selections = self.extraSelections()
        for selection in selections:
            selection.format = self._spoken_format()
        self.setExtraSelections(selections)

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self._restyle()

    # ---- following the conversation ------------------------------------------------------

    def _at_end(self) -> bool:
        bar = self.verticalScrollBar()
        return bar.value() >= bar.maximum() - FOLLOW_SLACK

    def _follow(self) -> None:
        """Glide to the end once the new text is laid out (unless the user scrolled away)."""
        QTimer.singleShot(0, self, self._glide_to_end)

    def _jump_to_end(self) -> None:
        self._scroll.stop()
        self.verticalScrollBar().setValue(self.verticalScrollBar().maximum())

    def _glide_to_end(self) -> None:
        bar = self.verticalScrollBar()
        if bar.value() == bar.maximum():
            return
        self._scroll.stop()
        self._scroll.setStartValue(bar.value())
        self._scroll.setEndValue(bar.maximum())
        self._scroll.start()


def _utf16_length(text: str) -> int:
    """Qt counts positions in UTF-16 units: characters beyond U+FFFF (emoji) take two."""
    return len(text.encode("utf-16-le")) // 2


__all__ = ["ConversationView", "Role"]
