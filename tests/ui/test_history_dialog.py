"""The History dialog as the app wires it (GuiSession over the real services and a real SQLite
history in the test's folder): it lists, previews, opens, exports and deletes conversations, and
says what went wrong when the history fails. The file and question dialogs need a person, so
their static calls are answered by the test."""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import shiboken6
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QMessageBox

from assistant.app import GuiSession, Services, build_services
from assistant.config import Secrets, Settings
from assistant.core.history import HistoryStore, MessageState
from assistant.providers.history_sqlite import FILE_NAME, SqliteHistory
from assistant.ui.history_dialog import JSON, MARKDOWN, HistoryDialog, export_target, when
from assistant.ui.main_window import MainWindow
from tests.ui.harness import until

pytestmark = pytest.mark.gui

Said = tuple[str, str] | tuple[str, str, MessageState]  # role, text (, how a reply ended)

PIANO: list[Said] = [
    ("user", "How do I start learning the piano?"),
    ("assistant", "Ten minutes a day, and simple scales first."),
]
BREAD: list[Said] = [
    ("user", "Why did my bread not rise?"),
    ("assistant", "The yeast may be old, or the kitchen too cold."),
    ("user", "How warm should it be?"),
    ("assistant", "About twenty-five degrees is ideal, but", "interrupted"),
]
HEARD = "About twenty-five degrees"  # of the reply cut off, what was spoken before the cut
FRENCH: list[Said] = [
    ("user", "Say good morning in French."),
    ("assistant", "Bonjour."),
]


def store_conversation(store: HistoryStore, said: list[Said]) -> int:
    conversation = store.new_conversation()
    for role, text, *how in said:
        state = how[0] if how else "complete"
        message = store.add_message(conversation, role, text, "writing")
        store.finish_message(message, text, state, heard=HEARD if how else None)
    return conversation


@dataclass
class App:
    session: GuiSession
    window: MainWindow
    store: HistoryStore
    ids: dict[str, int]  # piano, bread, french: stored in that order, so French is the newest

    async def open_history(self) -> HistoryDialog:
        self.session.open_history()
        return await shown_dialog(self.window)


async def shown_dialog(window: MainWindow) -> HistoryDialog:
    """The window's History dialog, once it is the active window (keys go to it)."""
    dialog = window.findChild(HistoryDialog)
    assert dialog is not None and dialog.isVisible()
    await until(dialog.isActiveWindow, what="the History dialog to become active")
    return dialog


def the_app(qtbot: Any, tmp_path: Path, history_path: Path) -> tuple[GuiSession, Services]:
    settings = Settings()
    services = build_services(settings, Secrets(), history_path=history_path)
    window = MainWindow(services.controller)
    session = GuiSession(settings, Secrets(), tmp_path / "config.toml", services, window)
    qtbot.addWidget(window)
    window.show()
    return session, services


@pytest.fixture
async def app(qtbot: Any, tmp_path: Path) -> AsyncIterator[App]:
    session, services = the_app(qtbot, tmp_path, tmp_path / "data" / FILE_NAME)
    assert services.history is not None
    ids = {
        name: store_conversation(services.history, said)
        for name, said in (("piano", PIANO), ("bread", BREAD), ("french", FRENCH))
    }
    window = session.window
    try:
        yield App(session, window, services.history, ids)
    finally:
        # pytest-qt closes the window (and deletes it later) before fixtures are torn down;
        # whether the deletion has happened by now depends on the loop's timing.
        if shiboken6.isValid(window):
            window.close()
        await services.aclose()


@pytest.fixture
def answers(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """What the 'person' answers to the question and file dialogs; each call is recorded."""
    given: dict[str, Any] = {"question": QMessageBox.StandardButton.No, "save_as": ("", "")}
    asked: list[str] = []
    given["asked"] = asked

    def question(parent: Any, title: str, text: str, *args: Any) -> QMessageBox.StandardButton:
        asked.append(text)
        answer: QMessageBox.StandardButton = given["question"]
        return answer

    def save_as(parent: Any, caption: str, suggested: str, filters: str) -> tuple[str, str]:
        asked.append(f"{caption} | {suggested} | {filters}")
        picked: tuple[str, str] = given["save_as"]
        return picked

    monkeypatch.setattr(QMessageBox, "question", staticmethod(question))
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(save_as))
    yield given


def listed(dialog: HistoryDialog) -> list[str]:
    return [dialog.list.item(row).text() for row in range(dialog.list.count())]


def choose(dialog: HistoryDialog, conversation_id: int) -> None:
    ids = [
        dialog.list.item(row).data(Qt.ItemDataRole.UserRole) for row in range(dialog.list.count())
    ]
    dialog.list.setCurrentRow(ids.index(conversation_id))


# ---- listing and previewing ------------------------------------------------------------------


async def test_ctrl_h_lists_conversations_newest_first_and_previews_the_chosen_one(
    qtbot: Any, app: App
) -> None:
    qtbot.keyClick(app.window, Qt.Key.Key_H, Qt.KeyboardModifier.ControlModifier)
    dialog = await shown_dialog(app.window)
    today = when(app.store.conversations()[0].updated).split(",")[0]
    assert today == "Today"
    titles = [text.split("\n") for text in listed(dialog)]
    assert [title for title, _ in titles] == [
        "Say good morning in French.",
        "Why did my bread not rise?",
        "How do I start learning the piano?",
    ]
    assert [details.split(" · ", 1)[1] for _, details in titles] == [
        "2 messages",
        "4 messages",
        "2 messages",
    ]
    assert all(details.startswith("Today, ") for _, details in titles)
    # The newest is chosen and shown; the keyboard moves to the next.
    assert dialog.list.hasFocus()
    assert "Bonjour." in dialog.preview.toPlainText()
    qtbot.keyClick(dialog.list, Qt.Key.Key_Down)
    shown = dialog.preview.toPlainText()
    assert "Why did my bread not rise?" in shown and "Bonjour." not in shown
    assert shown.count("Assistant · interrupted") == 1
    assert "About twenty-five degrees is ideal, but" in shown


async def test_an_empty_history_says_so(qtbot: Any, tmp_path: Path) -> None:
    session, services = the_app(qtbot, tmp_path, tmp_path / FILE_NAME)
    try:
        session.open_history()
        dialog = session.window.findChild(HistoryDialog)
        assert dialog is not None
        assert dialog.empty.isVisibleTo(dialog) and not dialog.list.isVisibleTo(dialog)
        assert not dialog.open_button.isEnabled() and not dialog.delete_all_button.isEnabled()
    finally:
        await services.aclose()


# ---- opening ---------------------------------------------------------------------------------


async def test_open_shows_the_conversation_in_the_window_and_the_model_goes_on_with_it(
    qtbot: Any, app: App
) -> None:
    dialog = await app.open_history()
    choose(dialog, app.ids["bread"])
    qtbot.keyClick(dialog.list, Qt.Key.Key_Return)  # Enter opens the chosen conversation
    assert not dialog.isVisible()
    shown = app.window.conversation.toPlainText()
    assert "Why did my bread not rise?" in shown and "Bonjour." not in shown
    assert shown.count("Assistant · interrupted") == 1
    controller = app.window.controller
    assert controller.history.conversation_id == app.ids["bread"]
    sent = [(m.role, m.content) for m in controller.conversation.messages()][1:]
    assert sent == [
        ("user", "Why did my bread not rise?"),
        ("assistant", "The yeast may be old, or the kitchen too cold."),
        ("user", "How warm should it be?"),
        ("assistant", f"{HEARD} …[interrupted]"),  # what was heard before the cut
    ]
    again = await app.open_history()
    assert again is dialog
    bread = next(text for text in listed(again) if text.startswith("Why did my bread"))
    assert bread.endswith("· open in the window")
    qtbot.mouseClick(again.open_button, Qt.MouseButton.LeftButton)  # the chosen one: the newest
    assert controller.history.conversation_id == app.ids["french"]
    assert "Bonjour." in app.window.conversation.toPlainText()


# ---- exporting -------------------------------------------------------------------------------


async def test_export_writes_markdown_or_json_as_the_file_name_says(
    qtbot: Any, app: App, answers: dict[str, Any], tmp_path: Path
) -> None:
    dialog = await app.open_history()
    choose(dialog, app.ids["bread"])
    answers["save_as"] = (str(tmp_path / "bread.md"), JSON)  # the suffix wins over the filter
    qtbot.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
    assert "Why did my bread not rise.md" in answers["asked"][-1]  # the suggested name
    markdown = (tmp_path / "bread.md").read_text(encoding="utf-8")
    assert markdown.startswith("# Why did my bread not rise?\n")
    assert "**You**" in markdown and "**Assistant**" in markdown
    assert "The yeast may be old, or the kitchen too cold." in markdown
    assert f"_Interrupted; heard up to: {HEARD}_" in markdown
    assert dialog.message.text() == f"Saved as {tmp_path / 'bread.md'}."

    answers["save_as"] = (str(tmp_path / "bread"), JSON)  # no suffix: the filter's
    qtbot.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
    exported = json.loads((tmp_path / "bread.json").read_text(encoding="utf-8"))
    assert exported["conversation"]["id"] == app.ids["bread"]
    assert exported["conversation"]["message_count"] == 4
    assert [(m["role"], m["text"], m["state"]) for m in exported["messages"]] == [
        (role, text, how[0] if how else "complete") for role, text, *how in BREAD
    ]

    answers["save_as"] = ("", "")  # cancelled: nothing written, nothing said
    qtbot.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
    assert sorted(name for name in os.listdir(tmp_path) if name.startswith("bread")) == [
        "bread.json",
        "bread.md",
    ]


async def test_an_export_that_cannot_be_written_says_why(
    qtbot: Any, app: App, answers: dict[str, Any], tmp_path: Path
) -> None:
    dialog = await app.open_history()
    target = tmp_path / "no such folder" / "notes.md"
    answers["save_as"] = (str(target), MARKDOWN)
    qtbot.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
    assert dialog.message.isVisibleTo(dialog)
    assert dialog.message.text() == (
        f"The conversation could not be saved as {target} (No such file or directory). "
        "Choose another folder or name."
    )
    assert dialog.message.accessibleName() == "Problem"


def test_the_export_format_follows_the_suffix_then_the_filter() -> None:
    assert export_target(Path("a.md"), JSON) == (Path("a.md"), MARKDOWN)
    assert export_target(Path("a.JSON"), MARKDOWN) == (Path("a.JSON"), JSON)
    assert export_target(Path("a"), JSON) == (Path("a.json"), JSON)
    assert export_target(Path("a"), "") == (Path("a.md"), MARKDOWN)
    assert export_target(Path("a.txt"), MARKDOWN) == (Path("a.txt"), MARKDOWN)


# ---- deleting --------------------------------------------------------------------------------


async def test_delete_asks_first_and_deleting_the_open_conversation_starts_afresh(
    qtbot: Any, app: App, answers: dict[str, Any]
) -> None:
    app.window.open_conversation(app.ids["bread"])
    assert "Why did my bread not rise?" in app.window.conversation.toPlainText()
    dialog = await app.open_history()
    choose(dialog, app.ids["bread"])
    qtbot.mouseClick(dialog.delete_button, Qt.MouseButton.LeftButton)
    assert (
        "Delete the conversation “Why did my bread not rise?” (4 messages)" in answers["asked"][-1]
    )
    assert len(app.store.conversations()) == 3  # the answer was No

    answers["question"] = QMessageBox.StandardButton.Yes
    dialog.list.setFocus()  # where the user was, choosing
    qtbot.keyClick(dialog.list, Qt.Key.Key_Delete)  # the Delete key asks the same
    assert len(answers["asked"]) == 2
    assert [c.id for c in app.store.conversations()] == [app.ids["french"], app.ids["piano"]]
    assert [text.split("\n")[0] for text in listed(dialog)] == [
        "Say good morning in French.",
        "How do I start learning the piano?",
    ]
    chosen = dialog.chosen()
    assert chosen is not None and chosen.id == app.ids["piano"]
    # The window shows a fresh conversation: nothing of the deleted one is sent again.
    assert app.window.conversation.toPlainText().strip() == ""
    assert app.window.controller.conversation.turns == ()
    assert app.window.controller.history.conversation_id is None


async def test_deleting_another_conversation_leaves_the_window_alone(
    qtbot: Any, app: App, answers: dict[str, Any]
) -> None:
    app.window.open_conversation()  # the latest: French
    answers["question"] = QMessageBox.StandardButton.Yes
    dialog = await app.open_history()
    choose(dialog, app.ids["piano"])
    qtbot.mouseClick(dialog.delete_button, Qt.MouseButton.LeftButton)
    assert [c.id for c in app.store.conversations()] == [app.ids["french"], app.ids["bread"]]
    assert "Bonjour." in app.window.conversation.toPlainText()
    assert app.window.controller.history.conversation_id == app.ids["french"]


async def test_delete_all_asks_first_then_empties_the_history_and_the_window(
    qtbot: Any, app: App, answers: dict[str, Any]
) -> None:
    app.window.open_conversation()
    dialog = await app.open_history()
    qtbot.mouseClick(dialog.delete_all_button, Qt.MouseButton.LeftButton)
    assert answers["asked"][-1] == "Delete all 3 conversations? They cannot be brought back."
    assert len(app.store.conversations()) == 3
    answers["question"] = QMessageBox.StandardButton.Yes
    qtbot.mouseClick(dialog.delete_all_button, Qt.MouseButton.LeftButton)
    assert app.store.conversations() == []
    assert dialog.empty.isVisibleTo(dialog)
    assert not dialog.delete_all_button.isEnabled()
    assert app.window.conversation.toPlainText().strip() == ""
    assert app.window.controller.conversation.turns == ()


# ---- a history that fails --------------------------------------------------------------------


async def test_a_history_that_could_not_be_opened_says_so(qtbot: Any, tmp_path: Path) -> None:
    blocker = tmp_path / "not a folder"
    blocker.write_text("")
    session, services = the_app(qtbot, tmp_path, blocker / FILE_NAME)
    assert services.history is None  # the assistant runs without one
    try:
        session.open_history()
        dialog = session.window.findChild(HistoryDialog)
        assert dialog is not None
        assert dialog.message.isVisibleTo(dialog)
        assert dialog.message.text().startswith(
            "The conversation history could not be opened when the assistant started"
        )
        assert not dialog.empty.isVisibleTo(dialog)  # not "no conversations yet": unknown
        assert not dialog.open_button.isEnabled()
    finally:
        await services.aclose()


async def test_a_history_locked_by_another_program_says_so_and_keeps_everything(
    qtbot: Any, app: App, answers: dict[str, Any]
) -> None:
    assert isinstance(app.store, SqliteHistory)
    answers["question"] = QMessageBox.StandardButton.Yes
    dialog = await app.open_history()
    other = sqlite3.connect(app.store.path, isolation_level=None)
    try:
        other.execute("BEGIN EXCLUSIVE")  # another program writing; it gives up after 2 s
        qtbot.mouseClick(dialog.delete_button, Qt.MouseButton.LeftButton)
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert dialog.message.text().startswith(
        "The conversation history could not be deleted (database is locked; file "
    )
    assert "Traceback" not in dialog.message.text()
    assert len(listed(dialog)) == 3 and len(app.store.conversations()) == 3
    # It works again once the other program is done; the problem is no longer shown.
    qtbot.mouseClick(dialog.delete_button, Qt.MouseButton.LeftButton)
    assert len(listed(dialog)) == 2
    assert not dialog.message.isVisibleTo(dialog)


# --- search: the conversations that mention every word typed, in their titles or messages ---


def shown(dialog: HistoryDialog) -> list[int]:
    """The ids of the conversations the list shows now (a search hides the others)."""
    return [
        dialog.list.item(row).data(Qt.ItemDataRole.UserRole)
        for row in range(dialog.list.count())
        if not dialog.list.isRowHidden(row)
    ]


async def test_search_keeps_the_conversations_that_mention_every_word(qtbot: Any, app: App) -> None:
    dialog = await app.open_history()
    qtbot.keyClick(dialog, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert dialog.search.hasFocus()
    qtbot.keyClicks(dialog.search, "YEAST")  # only in a reply, in another case
    assert shown(dialog) == [app.ids["bread"]]
    assert dialog.chosen() is not None and dialog.chosen().id == app.ids["bread"]  # type: ignore[union-attr]
    assert "The yeast may be old" in dialog.preview.toPlainText()
    dialog.search.setText("scales piano")  # every word, in any order
    assert shown(dialog) == [app.ids["piano"]]
    dialog.search.setText("piano yeast")
    assert shown(dialog) == [] and not dialog.list.isVisibleTo(dialog)
    assert dialog.empty.isVisibleTo(dialog)
    assert dialog.empty.text() == "No conversation mentions “piano yeast”."
    assert dialog.preview.toPlainText() == "" and not dialog.open_button.isEnabled()
    dialog.search.clear()
    assert shown(dialog) == [app.ids["french"], app.ids["bread"], app.ids["piano"]]
    assert not dialog.empty.isVisibleTo(dialog)


async def test_enter_in_the_search_opens_the_first_match(qtbot: Any, app: App) -> None:
    dialog = await app.open_history()
    dialog.search.setFocus()
    qtbot.keyClicks(dialog.search, "bonjour")
    qtbot.keyClick(dialog.search, Qt.Key.Key_Return)
    await until(lambda: not dialog.isVisible(), what="the dialog to close")
    assert "Bonjour." in app.window.conversation.toPlainText()


async def test_a_search_stays_while_conversations_are_deleted(
    qtbot: Any, app: App, answers: dict[str, Any]
) -> None:
    dialog = await app.open_history()
    dialog.search.setText("how")  # piano ("How do I…") and bread ("How warm…")
    assert shown(dialog) == [app.ids["bread"], app.ids["piano"]]
    answers["question"] = QMessageBox.StandardButton.Yes
    choose(dialog, app.ids["bread"])
    dialog.delete_chosen()
    assert shown(dialog) == [app.ids["piano"]]
    assert dialog.chosen() is not None and dialog.chosen().id == app.ids["piano"]  # type: ignore[union-attr]


async def test_searching_a_long_history_is_quick(qtbot: Any, tmp_path: Path) -> None:
    """Measured, not asserted tightly: the first search reads every conversation once from
    SQLite; the next ones only scan memory. `pytest -s` prints the figures."""
    import time

    session, services = the_app(qtbot, tmp_path, tmp_path / "data" / FILE_NAME)
    assert services.history is not None
    for number in range(300):
        store_conversation(services.history, [*BREAD, ("user", f"Question number {number}")])
    try:
        session.open_history()
        dialog = await shown_dialog(session.window)
        started = time.perf_counter()
        dialog.search.setText("number 123")
        first = time.perf_counter() - started
        assert len(shown(dialog)) == 1
        started = time.perf_counter()
        dialog.search.setText("number 12")  # 12, 112, 120-129 and 212
        again = time.perf_counter() - started
        assert len(shown(dialog)) == 13
        print(
            f"\nsearch, 300 conversations: first {first * 1000:.0f} ms, next {again * 1000:.1f} ms"
        )
        assert first < 5.0 and again < 1.0
    finally:
        session.window.close()
        await services.aclose()
