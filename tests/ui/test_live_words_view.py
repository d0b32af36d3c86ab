"""The user's bubble fills while they speak (issue 17): committed words plain, tentative ones
muted, and the final transcript takes the same bubble over."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtGui import QTextCursor

from assistant.ui import colours
from assistant.ui.conversation_view import ConversationView

pytestmark = pytest.mark.gui


def view_of(qtbot: Any) -> ConversationView:
    view = ConversationView()
    qtbot.addWidget(view)
    view.resize(400, 300)
    view.show()
    return view


def shown(view: ConversationView) -> str:
    return " ".join(view.toPlainText().split())


def colour_at(view: ConversationView, text: str) -> str:
    """The colour of the first character of `text` in the view."""
    position = view.toPlainText().index(text)
    cursor = QTextCursor(view.document())
    cursor.setPosition(position + 1)
    return cursor.charFormat().foreground().color().name()


def test_the_words_fill_one_bubble_and_the_transcript_takes_it_over(qtbot: Any) -> None:
    view = view_of(qtbot)
    view.add_user("Hello?")
    view.add_reply_text("Hi.")
    view.end_reply()
    view.show_partial("", "And so")
    view.show_partial("And so", " my fellow")
    assert shown(view) == "You Hello? Assistant Hi. You And so my fellow"
    muted = colours.muted_text(view.palette()).name()
    assert colour_at(view, "my fellow") == muted  # tentative: muted
    assert colour_at(view, "And so") != muted  # committed: plain
    view.show_partial("And so my fellow Americans,", " ask not")
    view.add_user("And so, my fellow Americans, ask not.")
    assert shown(view) == "You Hello? Assistant Hi. You And so, my fellow Americans, ask not."
    assert colour_at(view, "ask not") != muted


def test_nothing_said_after_all_takes_the_bubble_away(qtbot: Any) -> None:
    view = view_of(qtbot)
    view.add_user("Hello?")
    view.show_partial("", "Thank")
    view.show_partial("", "")
    assert shown(view) == "You Hello?"
    view.add_user("What time is it?")
    assert shown(view) == "You Hello? You What time is it?"


def test_going_on_with_the_question_leaves_one_bubble(qtbot: Any) -> None:
    view = view_of(qtbot)
    view.add_user("And so my fellow Americans.")
    view.show_partial("ask not", " what")
    whole = "And so my fellow Americans, ask not what your country can do for you."
    view.restate_user(whole)
    assert shown(view) == f"You {whole}"


def test_dictation_fills_its_own_bubble(qtbot: Any) -> None:
    view = view_of(qtbot)
    view.show_partial("Dear", " Sir", dictation=True)
    view.add_dictation("Dear Sir,")
    assert shown(view) == "Dictated · copied to the clipboard Dear Sir,"
