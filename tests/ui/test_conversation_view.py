"""The conversation view: bubbles, streaming text, the highlighted sentence, following the end."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtGui import QColor, QPalette

from assistant.core.history import MessageState, Role, StoredMessage
from assistant.ui.conversation_view import ConversationView

pytestmark = pytest.mark.gui


def view_of(qtbot: Any) -> ConversationView:
    view = ConversationView()
    qtbot.addWidget(view)
    view.resize(400, 300)
    view.show()
    return view


def stream(view: ConversationView, text: str, step: int = 3) -> None:
    for start in range(0, len(text), step):
        view.add_reply_text(text[start : start + step])


def test_each_side_gets_its_own_bubble_in_order(qtbot: Any) -> None:
    view = view_of(qtbot)
    view.add_user("Hello?")
    stream(view, "Hi there. How can I help?")
    view.end_reply()
    view.add_user("Tell me a joke.")
    stream(view, "No.")
    shown = " ".join(view.toPlainText().split())
    assert (
        shown == "You Hello? Assistant Hi there. How can I help? You Tell me a joke. Assistant No."
    )


def test_a_question_restated_replaces_its_bubble_and_the_reply_not_heard_yet(
    qtbot: Any,
) -> None:
    view = view_of(qtbot)
    view.add_user("Hello?")
    stream(view, "Hi.")
    view.end_reply()
    view.add_user("What is the weather")
    stream(view, "Well, ")
    view.add_notice("Still waiting for the language model…", is_error=False)
    view.restate_user("What is the weather in Paris?")  # the user went on
    stream(view, "Rain.")
    shown = " ".join(view.toPlainText().split())
    assert shown == "You Hello? Assistant Hi. You What is the weather in Paris? Assistant Rain."


def test_a_restated_question_with_nothing_after_it_is_replaced_in_place(qtbot: Any) -> None:
    view = view_of(qtbot)
    view.add_user("And so, my fellow Americans,")
    view.restate_user("And so, my fellow Americans, ask not.")
    assert " ".join(view.toPlainText().split()) == "You And so, my fellow Americans, ask not."


def test_the_spoken_sentence_is_found_after_emoji_and_repeats(qtbot: Any) -> None:
    view = view_of(qtbot)
    stream(view, "Yes 😀 indeed. Yes 😀 indeed. And\nthen more.")
    view.highlight_sentence("Yes 😀 indeed. ")
    first = view.spoken_position()
    view.highlight_sentence("Yes 😀 indeed. ")
    second = view.spoken_position()
    assert view.spoken_text() == "Yes 😀 indeed."
    assert first is not None and second is not None
    assert second > first  # the second time, the second occurrence
    view.highlight_sentence("And\nthen more.")
    assert view.spoken_text().replace("\u2029", "\n") == "And\nthen more."
    view.end_reply()
    assert view.spoken_text() == ""


def test_a_sentence_not_in_the_reply_highlights_nothing(qtbot: Any) -> None:
    view = view_of(qtbot)
    stream(view, "Only this.")
    view.highlight_sentence("Something else.")
    assert view.spoken_text() == ""


def test_a_cut_off_reply_says_so_once(qtbot: Any) -> None:
    view = view_of(qtbot)
    stream(view, "I was saying")
    view.end_reply(interrupted=True)
    view.end_reply(interrupted=True)  # told again by the turn's own end
    assert view.toPlainText().count("Assistant · interrupted") == 1


def test_notices_and_errors_appear_between_bubbles(qtbot: Any) -> None:
    view = view_of(qtbot)
    view.add_user("Hi")
    view.add_notice("The chat service failed. Try again.", is_error=True)
    assert view.toPlainText().rstrip().endswith("The chat service failed. Try again.")


def test_a_long_conversation_follows_the_end_unless_the_user_scrolled_up(qtbot: Any) -> None:
    view = view_of(qtbot)
    bar = view.verticalScrollBar()
    for number in range(30):
        view.add_user(f"Question {number}")
        stream(view, f"Answer number {number}. " * 3)
        view.end_reply()
    qtbot.waitUntil(lambda: bar.maximum() > 0 and bar.value() == bar.maximum(), timeout=3000)
    bar.setValue(0)  # the user reads an older part
    stream(view, "More text arrives.")
    qtbot.wait(300)
    assert bar.value() == 0
    bar.setValue(bar.maximum())
    view.add_user("And now?")
    qtbot.waitUntil(lambda: bar.value() == bar.maximum(), timeout=3000)


def test_a_dark_theme_recolours_what_is_shown(qtbot: Any) -> None:
    view = view_of(qtbot)
    view.add_user("Hi")

    def bubble_colour() -> QColor:
        table = view._bubbles[0].table
        return table.cellAt(0, 0).format().background().color()

    assert bubble_colour().lightnessF() > 0.6
    dark = QPalette(view.palette())
    dark.setColor(QPalette.ColorRole.Base, QColor("#1e1e1e"))
    dark.setColor(QPalette.ColorRole.Text, QColor("#e0e0e0"))
    view.setPalette(dark)
    assert bubble_colour().lightnessF() < 0.4


def stored(role: Role, text: str, state: MessageState = "complete") -> StoredMessage:
    return StoredMessage(id=0, conversation_id=1, role=role, text=text, state=state, created=0.0)


def test_a_stored_conversation_is_shown_as_bubbles_and_scrolled_to_its_end(qtbot: Any) -> None:
    view = view_of(qtbot)
    messages = []
    for number in range(40):
        messages.append(stored("user", f"Question {number}?"))
        messages.append(stored("assistant", f"Answer number {number}. " * 4))
    messages.append(stored("user", "Last question?"))
    messages.append(stored("assistant", "I was about to say", "interrupted"))
    view.show_messages(messages)
    shown = view.toPlainText()
    assert shown.count("You\n") == 41 and shown.count("Assistant") == 41
    assert shown.count("Assistant · interrupted") == 1
    assert shown.rstrip().endswith("Assistant · interrupted\nI was about to say")
    bar = view.verticalScrollBar()
    qtbot.waitUntil(lambda: bar.maximum() > 0 and bar.value() == bar.maximum(), timeout=3000)
    qtbot.wait(200)  # laid out in full by now: still at the very end
    assert bar.value() == bar.maximum()
    # The reply that was cut off is over: what streams next is a new bubble.
    stream(view, "A new reply.")
    assert view.toPlainText().rstrip().endswith("Assistant\nA new reply.")


# ---- the language the user spoke ------------------------------------------------------------


def shown_words(view: ConversationView) -> str:
    return " ".join(view.toPlainText().split())


def test_a_language_other_than_english_is_named_in_its_own_words(qtbot: Any) -> None:
    view = view_of(qtbot)
    view.add_user("What time is it?", "en")  # an English-only user: no tag, as before
    view.add_user("Wie spät ist es?", "de")
    view.add_user("现在几点了？", "zh")
    view.add_user("Typed, so nobody detected a language.")
    assert shown_words(view) == (
        "You What time is it? You · Deutsch Wie spät ist es? You · 中文 现在几点了？ "
        "You Typed, so nobody detected a language."
    )


def test_once_another_language_was_heard_english_is_named_too(qtbot: Any) -> None:
    view = view_of(qtbot)
    view.add_user("Wie spät ist es?", "de")
    view.add_user("And in English?", "en")
    assert shown_words(view) == "You · Deutsch Wie spät ist es? You · English And in English?"


def test_a_user_who_speaks_two_languages_sees_english_named_from_the_start(qtbot: Any) -> None:
    view = view_of(qtbot)
    view.set_spoken_languages(("de", "en"))
    view.add_user("Good morning.", "en")
    view.add_dictation("Guten Morgen.", "de")
    assert shown_words(view) == (
        "You · English Good morning. Dictated · copied to the clipboard · Deutsch Guten Morgen."
    )


def test_a_restated_question_takes_the_language_it_was_heard_in_last(qtbot: Any) -> None:
    view = view_of(qtbot)
    view.add_user("Wie", "en")  # too short to tell: taken for English
    view.restate_user("Wie spät ist es in Berlin?", "de")
    assert shown_words(view) == "You · Deutsch Wie spät ist es in Berlin?"
    view.restate_user("Wie spät ist es in Berlin, bitte?")  # asked again: known already
    assert shown_words(view) == "You · Deutsch Wie spät ist es in Berlin, bitte?"


# ---- notices that repeat --------------------------------------------------------------------


TAPPED = "That was very short. Hold the Talk button while you speak, then let go."


def test_a_notice_repeated_right_after_itself_counts_up_on_its_line(qtbot: Any) -> None:
    view = view_of(qtbot)
    view.add_user("Hi")
    for _ in range(3):
        view.add_notice(TAPPED, is_error=False)
    assert shown_words(view) == f"You Hi {TAPPED} (3×)"
    assert view.toPlainText().count(TAPPED) == 1  # one line


def test_a_notice_after_something_else_is_a_line_of_its_own(qtbot: Any) -> None:
    view = view_of(qtbot)
    view.add_notice(TAPPED, is_error=False)
    view.add_notice("The chat service failed. Try again.", is_error=True)
    view.add_notice(TAPPED, is_error=False)  # not right after the same one
    view.add_user("Hi")
    view.add_notice(TAPPED, is_error=False)  # a bubble came between
    view.add_notice(TAPPED, is_error=True)  # the same words, but now as an error
    assert shown_words(view) == (
        f"{TAPPED} The chat service failed. Try again. {TAPPED} You Hi {TAPPED} {TAPPED}"
    )


def test_a_counted_notice_keeps_its_colours_in_a_new_theme(qtbot: Any) -> None:
    view = view_of(qtbot)
    view.add_notice("The chat service failed. Try again.", is_error=True)
    view.add_notice("The chat service failed. Try again.", is_error=True)
    dark = QPalette(view.palette())
    dark.setColor(QPalette.ColorRole.Base, QColor("#1e1e1e"))
    dark.setColor(QPalette.ColorRole.Text, QColor("#e0e0e0"))
    view.setPalette(dark)
    notice = view.document().lastBlock()
    assert notice.text() == "The chat service failed. Try again. (2×)"
    colour = notice.begin().fragment().charFormat().foreground().color()
    assert colour.redF() > colour.blueF()  # still the error colour, not the muted grey
