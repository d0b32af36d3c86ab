"""The History dialog: earlier conversations, newest first, with a preview of the chosen one, to
open again in the window, export as Markdown or JSON, or delete (one, or all of them); a search
field keeps only the conversations that mention every word typed in it."""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import (
    QEvent,
    QModelIndex,
    QPersistentModelIndex,
    QRect,
    QSize,
    QStandardPaths,
    Qt,
)
from PySide6.QtGui import QFont, QFontMetrics, QKeySequence, QPainter, QShortcut, QShowEvent
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QSplitter,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from assistant.core.errors import AssistantError
from assistant.core.history import ConversationInfo, StoredMessage, to_json, to_markdown
from assistant.ui import colours
from assistant.ui.conversation_view import ConversationView

MARKDOWN = "Markdown (*.md)"
JSON = "JSON (*.json)"
_FORMAT_OF_SUFFIX = {".md": MARKDOWN, ".markdown": MARKDOWN, ".json": JSON}
_SUFFIX_OF_FORMAT = {MARKDOWN: ".md", JSON: ".json"}
_ID = Qt.ItemDataRole.UserRole


def _nothing_shown() -> int | None:
    return None


@dataclass
class HistoryActions:
    """What the dialog may ask of the app (app.py hands these over). Each raises an
    `AssistantError` whose message says what went wrong and what to do."""

    conversations: Callable[[], list[ConversationInfo]]  # newest first
    messages: Callable[[int], list[StoredMessage]]
    open_conversation: Callable[[int], None]  # shown in the window, and the model goes on with it
    delete_conversation: Callable[[int], None]
    delete_all: Callable[[], None]
    shown_conversation: Callable[[], int | None] = _nothing_shown  # the one the window shows


def when(seconds: float, now: float | None = None) -> str:
    """A time the way people say it: 'Today, 14:05', 'Yesterday, 09:12', '3 March, 18:30'."""
    moment = datetime.datetime.fromtimestamp(seconds)
    today = datetime.datetime.fromtimestamp(now) if now is not None else datetime.datetime.now()
    clock = moment.strftime("%H:%M")
    days = (today.date() - moment.date()).days
    if days == 0:
        return f"Today, {clock}"
    if days == 1:
        return f"Yesterday, {clock}"
    day = f"{moment.day} {moment.strftime('%B')}"
    return f"{day}, {clock}" if moment.year == today.year else f"{day} {moment.year}"


def export_target(chosen: Path, chosen_filter: str) -> tuple[Path, str]:
    """Where to write and in which format: the file's suffix decides (.md or .json); a name
    without a suffix gets the one of the format chosen in the file dialog."""
    known = _FORMAT_OF_SUFFIX.get(chosen.suffix.lower())
    if known is not None:
        return chosen, known
    kind = chosen_filter if chosen_filter in _SUFFIX_OF_FORMAT else MARKDOWN
    if not chosen.suffix:
        chosen = chosen.with_name(chosen.name + _SUFFIX_OF_FORMAT[kind])
    return chosen, kind


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


class _TitleAndDetails(QStyledItemDelegate):
    """A conversation in the list: its title in bold, below it when and how long, muted."""

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        item = QStyleOptionViewItem(option)
        self.initStyleOption(item, index)
        # From the model: the option's text has its line break replaced by U+2028.
        title, _, details = str(index.data(Qt.ItemDataRole.DisplayRole) or "").partition("\n")
        item.text = ""  # the style draws the background and selection; the text is drawn here
        style = item.widget.style() if item.widget is not None else QApplication.style()
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, item, painter, item.widget)
        selected = bool(item.state & QStyle.StateFlag.State_Selected)
        palette = item.palette
        text = palette.color(colours.Role.HighlightedText if selected else colours.Role.Text)
        area = item.rect.adjusted(self._padding(item), 6, -self._padding(item), -6)
        bold = QFont(item.font)
        bold.setBold(True)
        line = item.fontMetrics.height()
        painter.save()
        painter.setFont(bold)
        painter.setPen(text)
        top = QRect(area.left(), area.top(), area.width(), line)
        painter.drawText(top, Qt.AlignmentFlag.AlignLeft, self._elided(bold, title, area.width()))
        painter.setFont(item.font)
        painter.setPen(text if selected else colours.muted_text(palette))
        below = top.translated(0, line + 2)
        painter.drawText(below, Qt.AlignmentFlag.AlignLeft, details)
        painter.restore()

    def sizeHint(
        self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> QSize:
        size = super().sizeHint(option, index)
        return QSize(size.width(), option.fontMetrics.height() * 2 + 14)

    @staticmethod
    def _padding(item: QStyleOptionViewItem) -> int:
        return item.fontMetrics.averageCharWidth()

    @staticmethod
    def _elided(font: QFont, text: str, width: int) -> str:
        return QFontMetrics(font).elidedText(text, Qt.TextElideMode.ElideRight, width)


class HistoryDialog(QDialog):
    def __init__(self, actions: HistoryActions, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("History"))
        self.setAccessibleName(self.tr("History"))
        self.history_actions = actions
        self._infos: list[ConversationInfo] = []
        # Each conversation's title and messages, casefolded, read once the user searches: the
        # store has no search of its own, and a history is small enough to scan in memory.
        self._texts: dict[int, str] = {}
        self._problem = False  # whether the message line shows an error
        self._build()
        self._connect()
        self.resize(820, 520)

    # ---- building ------------------------------------------------------------------------

    def _build(self) -> None:
        self.search = QLineEdit()
        self.search.setPlaceholderText(self.tr("Search the conversations (Ctrl+F)"))
        self.search.setAccessibleName(self.tr("Search the conversations"))
        self.search.setClearButtonEnabled(True)
        self.list = QListWidget()
        self.list.setAccessibleName(self.tr("Conversations, newest first"))
        self.list.setItemDelegate(_TitleAndDetails(self.list))
        self.list.setUniformItemSizes(True)
        self.empty = QLabel(
            self.tr("No conversations yet. What you say to the assistant is kept here.")
        )
        self.empty.setWordWrap(True)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.preview = ConversationView()
        self.preview.setAccessibleName(self.tr("The chosen conversation"))
        self.preview.setPlaceholderText(self.tr("Choose a conversation to see it here."))
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setTextFormat(Qt.TextFormat.PlainText)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message.hide()
        self.open_button = self._button("&Open", "Open the chosen conversation and go on with it")
        self.open_button.setDefault(True)  # Enter in the list opens the chosen conversation
        self.export_button = self._button("&Export…", "Save the chosen conversation as a file")
        self.delete_button = self._button("&Delete…", "Delete the chosen conversation")
        self.delete_all_button = self._button("Delete &all…", "Delete every conversation")
        self.close_button = self._button("Close", "Close the history")
        self.close_button.setAutoDefault(False)

        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.search)
        left_layout.addWidget(self.list, 1)
        left_layout.addWidget(self.empty, 1)
        split = QSplitter()
        split.setChildrenCollapsible(False)
        split.addWidget(left)
        split.addWidget(self.preview)
        split.setStretchFactor(0, 2)
        split.setStretchFactor(1, 3)
        buttons = QHBoxLayout()
        for button in (self.open_button, self.export_button, self.delete_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(self.delete_all_button)
        buttons.addWidget(self.close_button)
        layout = QVBoxLayout(self)
        layout.addWidget(split, 1)
        layout.addWidget(self.message)
        layout.addLayout(buttons)
        order = [
            self.search,
            self.list,
            self.preview,
            self.open_button,
            self.export_button,
            self.delete_button,
            self.delete_all_button,
            self.close_button,
        ]
        for first, second in zip(order, order[1:], strict=False):
            QWidget.setTabOrder(first, second)

    @staticmethod
    def _button(text: str, description: str) -> QPushButton:
        button = QPushButton(text)
        button.setAccessibleName(text.replace("&", "").rstrip("…"))
        button.setToolTip(description)
        button.setAutoDefault(False)
        return button

    def _connect(self) -> None:
        self.list.currentRowChanged.connect(self._show_preview)
        self.list.itemDoubleClicked.connect(lambda item: self.open_chosen())
        self.open_button.clicked.connect(self.open_chosen)
        self.export_button.clicked.connect(self.export_chosen)
        self.delete_button.clicked.connect(self.delete_chosen)
        self.delete_all_button.clicked.connect(self.delete_everything)
        self.close_button.clicked.connect(self.reject)
        delete = QShortcut(QKeySequence(QKeySequence.StandardKey.Delete), self.list)
        delete.setContext(Qt.ShortcutContext.WidgetShortcut)
        delete.activated.connect(self.delete_chosen)
        self.search.textChanged.connect(lambda text: self._keep_matching())
        find = QShortcut(QKeySequence(QKeySequence.StandardKey.Find), self)
        find.activated.connect(self.search.setFocus)
        find.activated.connect(self.search.selectAll)

    # ---- what is shown -------------------------------------------------------------------

    def refresh(self, row: int = 0) -> None:
        """Read the conversations again and choose the one at `row` (or the last one)."""
        self._say("")
        self._texts = {}  # conversations may have changed since they were read
        try:
            self._infos = self.history_actions.conversations()
        except AssistantError as error:
            self._infos = []
            self._say(error.message, is_error=True)
        shown = self._shown_conversation()
        self.list.blockSignals(True)
        self.list.clear()
        for info in self._infos:
            self.list.addItem(self._item(info, info.id == shown))
        self.list.blockSignals(False)
        if self._infos:
            self.list.setCurrentRow(min(row, len(self._infos) - 1))
        self._keep_matching()
        self._show_preview(self.list.currentRow())

    # ---- search --------------------------------------------------------------------------

    def _keep_matching(self) -> None:
        """Show only the conversations whose title or messages hold every word of the search
        (in any case, in any order); the chosen one stays chosen if it still matches."""
        words = self.search.text().casefold().split()
        shown = 0
        for row, info in enumerate(self._infos):
            matches = all(word in self._text_of(info) for word in words) if words else True
            self.list.setRowHidden(row, not matches)
            shown += matches
        if self.list.currentRow() < 0 or self.list.isRowHidden(self.list.currentRow()):
            first = next((r for r in range(len(self._infos)) if not self.list.isRowHidden(r)), -1)
            self.list.setCurrentRow(first)  # the preview follows (or clears, with no match)
        self.list.setVisible(shown > 0)
        if self._infos and not shown:
            self.empty.setText(
                self.tr("No conversation mentions “{}”.").format(self.search.text().strip())
            )
        else:
            self.empty.setText(
                self.tr("No conversations yet. What you say to the assistant is kept here.")
            )
        self.empty.setVisible(not shown and not self._problem)

    def _text_of(self, info: ConversationInfo) -> str:
        """What a search looks in, read from the store the first time it is needed."""
        known = self._texts.get(info.id)
        if known is not None:
            return known
        try:
            messages = self.history_actions.messages(info.id)
        except AssistantError as error:
            self._say(error.message, is_error=True)
            return info.title.casefold()  # its title at least; read again at the next refresh
        text = "\n".join([info.title, *(message.text for message in messages)]).casefold()
        self._texts[info.id] = text
        return text

    def chosen(self) -> ConversationInfo | None:
        row = self.list.currentRow()
        return self._infos[row] if 0 <= row < len(self._infos) else None

    def _item(self, info: ConversationInfo, is_shown: bool) -> QListWidgetItem:
        details = f"{when(info.updated)} · {_plural(info.message_count, 'message')}"
        if is_shown:
            details += " · open in the window"
        item = QListWidgetItem(f"{info.title or 'Untitled'}\n{details}")
        item.setData(_ID, info.id)
        item.setToolTip(info.title)
        return item

    def _show_preview(self, row: int) -> None:
        self.preview.clear()
        info = self.chosen()
        for button in (self.open_button, self.export_button, self.delete_button):
            button.setEnabled(info is not None)
        self.delete_all_button.setEnabled(bool(self._infos))
        if info is None:
            return
        try:
            messages = self.history_actions.messages(info.id)
        except AssistantError as error:
            self._say(error.message, is_error=True)
            return
        if self._problem:
            self._say("")  # the store answers again
        self.preview.show_messages(messages)

    def _shown_conversation(self) -> int | None:
        try:
            return self.history_actions.shown_conversation()
        except AssistantError:
            return None

    # ---- what the user does --------------------------------------------------------------

    def open_chosen(self) -> None:
        info = self.chosen()
        if info is None:
            return
        try:
            self.history_actions.open_conversation(info.id)
        except AssistantError as error:
            self._say(error.message, is_error=True)
            return
        self.accept()

    def export_chosen(self) -> None:
        info = self.chosen()
        if info is None:
            return
        picked, chosen_filter = QFileDialog.getSaveFileName(
            self,
            self.tr("Export the conversation"),
            str(self._suggested_file(info)),
            f"{MARKDOWN};;{JSON}",
        )
        if not picked:
            return  # the user changed their mind
        target, kind = export_target(Path(picked), chosen_filter)
        try:
            messages = self.history_actions.messages(info.id)
        except AssistantError as error:
            self._say(error.message, is_error=True)
            return
        text = to_json(info, messages) if kind == JSON else to_markdown(info, messages)
        try:
            target.write_text(text + "\n", encoding="utf-8")
        except OSError as error:
            reason = error.strerror or type(error).__name__
            self._say(
                f"The conversation could not be saved as {target} ({reason}). "
                "Choose another folder or name.",
                is_error=True,
            )
            return
        self._say(f"Saved as {target}.")

    def delete_chosen(self) -> None:
        info = self.chosen()
        if info is None:
            return
        question = (
            f"Delete the conversation “{info.title or 'Untitled'}” "
            f"({_plural(info.message_count, 'message')})? It cannot be brought back."
        )
        if not self._confirm("Delete the conversation", question):
            return
        row = self.list.currentRow()
        try:
            self.history_actions.delete_conversation(info.id)
        except AssistantError as error:
            self._say(error.message, is_error=True)
            return
        self.refresh(row)

    def delete_everything(self) -> None:
        if not self._infos:
            return
        question = (
            f"Delete all {_plural(len(self._infos), 'conversation')}? They cannot be brought back."
        )
        if not self._confirm("Delete all conversations", question):
            return
        try:
            self.history_actions.delete_all()
        except AssistantError as error:
            self._say(error.message, is_error=True)
            return
        self.refresh()

    def _confirm(self, title: str, question: str) -> bool:
        Button = QMessageBox.StandardButton
        answer = QMessageBox.question(self, title, question, Button.Yes | Button.No, Button.No)
        return answer == Button.Yes

    @staticmethod
    def _suggested_file(info: ConversationInfo) -> Path:
        folder = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
        name = re.sub(r"[^\w\- ]+", "", info.title).strip()[:50].strip() or "Conversation"
        return Path(folder or Path.home()) / f"{name}.md"

    # ---- the message line ----------------------------------------------------------------

    def _say(self, text: str, *, is_error: bool = False) -> None:
        """A line under the list: what went wrong (in the error colour) or what was done."""
        self._problem = is_error and bool(text)
        self.message.setText(text)
        self.message.setAccessibleName(self.tr("Problem") if self._problem else self.tr("Done"))
        self.message.setVisible(bool(text))
        self._colour_message()

    def _colour_message(self) -> None:
        palette = self.message.palette()
        colour = (
            colours.error_colour(self.palette())
            if self._problem
            else colours.muted_text(self.palette())
        )
        palette.setColor(colours.Role.WindowText, colour)
        self.message.setPalette(palette)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        (self.list if self._infos else self.close_button).setFocus()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self._colour_message()


__all__ = ["JSON", "MARKDOWN", "HistoryActions", "HistoryDialog", "export_target", "when"]
