"""The conversation history in SQLite: every message stored as it happens, private to the user,
surviving a SIGKILL mid-reply without losing a word that was shown; reopened, exported, deleted."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import stat
import subprocess
import sys
import time
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from assistant.app import build_services
from assistant.config import Secrets
from assistant.core.conversation import Conversation
from assistant.core.errors import AssistantError
from assistant.core.events import (
    Event,
    Notice,
    ReplyDelta,
    SentenceStarted,
    TurnFinished,
    TurnState,
)
from assistant.core.history import (
    ConversationInfo,
    HistoryRecorder,
    StoredMessage,
    to_json,
    to_markdown,
)
from assistant.core.reply_speaker import ReplySpeaker
from assistant.core.turn import TurnController
from assistant.providers.history_sqlite import FILE_NAME, SqliteHistory, default_history_path
from tests.reliability.harness import settings_for, short_audio
from tests.support.chat_server import ChatServer
from tests.support.loopback import TlsFiles
from tests.support.memory import (
    Counter,
    MemoryChat,
    MemoryInput,
    MemoryOutput,
    MemorySynthesizer,
    MemoryTranscriber,
)
from tests.support.pulse import VirtualSoundCard
from tests.support.tts_servers import OpenAiSpeechServer

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def store(tmp_path: Path) -> Any:
    history = SqliteHistory(tmp_path / "data" / FILE_NAME)
    yield history
    history.close()


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# The store.


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")
def test_the_file_is_private_and_in_wal_mode(store: SqliteHistory) -> None:
    conversation = store.new_conversation()
    store.add_message(conversation, "user", "Hello", "complete")
    files = sorted(f for f in store.path.parent.iterdir() if f.is_file())
    assert {f.name for f in files} == {FILE_NAME, f"{FILE_NAME}-wal", f"{FILE_NAME}-shm"}
    assert all(mode(f) == 0o600 for f in files), [(f.name, oct(mode(f))) for f in files]
    assert mode(store.path.parent) == 0o700
    # This copy's claim on the replies it writes: a private folder with one private lock file.
    claims = store.path.parent / f"{FILE_NAME}.writers"
    assert mode(claims) == 0o700 and [mode(f) for f in claims.iterdir()] == [0o600]
    with sqlite3.connect(store.path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")
def test_a_file_left_readable_by_others_is_made_private(tmp_path: Path) -> None:
    path = tmp_path / FILE_NAME
    path.touch(mode=0o644)
    path.chmod(0o644)
    SqliteHistory(path).close()
    assert mode(path) == 0o600


def test_a_reply_is_stored_piece_by_piece_then_joined(store: SqliteHistory) -> None:
    conversation = store.new_conversation()
    store.add_message(conversation, "user", "Tell me a story.", "complete")
    reply = store.add_message(conversation, "assistant", "Once", "writing")
    for piece in (" upon", " a", " time."):
        store.append_text(reply, piece)
    writing = store.messages(conversation)[-1]
    assert (writing.text, writing.state) == ("Once upon a time.", "writing")
    store.finish_message(reply, "Once upon a time.", "complete")
    done = store.messages(conversation)[-1]
    assert (done.text, done.state, done.heard) == ("Once upon a time.", "complete", None)
    with sqlite3.connect(store.path) as db:
        assert db.execute("SELECT COUNT(*) FROM reply_pieces").fetchone()[0] == 0


def test_a_reply_left_half_written_is_recovered_as_interrupted(tmp_path: Path) -> None:
    path = tmp_path / FILE_NAME
    first = SqliteHistory(path)
    conversation = first.new_conversation()
    reply = first.add_message(conversation, "assistant", "Half", "writing")
    first.append_text(reply, " a reply")
    first.close()  # as if the app died here
    again = SqliteHistory(path)
    [message] = again.messages(conversation)
    assert (message.text, message.state) == ("Half a reply", "interrupted")
    again.close()


def test_conversations_are_listed_newest_first_with_a_title(store: SqliteHistory) -> None:
    older = store.new_conversation()
    store.add_message(older, "user", "What is the capital of France?", "complete")
    newer = store.new_conversation()
    long_question = "Please explain, in as much detail as you can manage, " * 3
    store.add_message(newer, "user", long_question, "complete")
    store.add_message(newer, "assistant", "Certainly.", "complete")
    empty = store.new_conversation()  # nothing said: not listed
    listed = store.conversations()
    assert [c.id for c in listed] == [newer, older]
    assert empty not in [c.id for c in listed]
    assert listed[0].message_count == 2 and len(listed[0].title) <= 60
    assert listed[0].title.startswith("Please explain") and listed[0].title.endswith("…")
    assert listed[1].title == "What is the capital of France?"


def test_conversations_can_be_deleted_one_or_all(store: SqliteHistory) -> None:
    keep, drop = store.new_conversation(), store.new_conversation()
    store.add_message(keep, "user", "Keep me", "complete")
    secret = store.add_message(drop, "user", "A very private sentence", "complete")
    store.append_text(secret, " and its piece")
    store.delete_conversation(drop)
    assert [c.id for c in store.conversations()] == [keep]
    assert store.messages(drop) == []
    store.delete_all()
    assert store.conversations() == []
    assert b"A very private sentence" not in store.path.read_bytes()


def test_a_store_that_cannot_be_opened_says_so(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the folder should be")
    with pytest.raises(AssistantError, match="could not be opened") as caught:
        SqliteHistory(blocker / FILE_NAME)
    assert "goes on" in caught.value.message


def test_a_history_from_a_newer_version_is_not_touched(tmp_path: Path) -> None:
    path = tmp_path / FILE_NAME
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA user_version = 99")
    with pytest.raises(AssistantError, match="newer version"):
        SqliteHistory(path)


def test_the_default_place_is_the_per_user_data_folder(tmp_path: Path) -> None:
    found = subprocess.run(
        [sys.executable, "-c", "from assistant.providers.history_sqlite import "
         "default_history_path as p; print(p())"],
        env={**os.environ, "XDG_DATA_HOME": str(tmp_path)},
        capture_output=True, text=True, check=True, cwd=ROOT,
    ).stdout.strip()  # fmt: skip
    assert found == str(tmp_path / "voice-assistant" / FILE_NAME)
    assert default_history_path().name == FILE_NAME


# Exports.


def sample() -> tuple[ConversationInfo, list[StoredMessage]]:
    info = ConversationInfo(7, 1_700_000_000.0, 1_700_000_100.0, "Weather?", 3)
    messages = [
        StoredMessage(1, 7, "user", "Weather?", "complete", 1_700_000_000.0),
        StoredMessage(
            2, 7, "assistant", "Sunny. Then rain.", "interrupted", 1_700_000_001.0, heard="Sunny."
        ),  # fmt: skip
        StoredMessage(3, 7, "user", "Thanks — «merci»", "complete", 1_700_000_050.0),
    ]
    return info, messages


def test_markdown_export_shows_who_said_what_and_what_was_cut_off() -> None:
    text = to_markdown(*sample())
    assert text.startswith("# Weather?\n")
    assert "**You**" in text and "**Assistant**" in text
    assert "Sunny. Then rain." in text and "_Interrupted; heard up to: Sunny._" in text
    assert "Thanks — «merci»" in text


def test_json_export_round_trips() -> None:
    info, messages = sample()
    loaded = json.loads(to_json(info, messages))
    assert loaded["conversation"]["id"] == 7
    assert [m["text"] for m in loaded["messages"]] == [m.text for m in messages]
    assert loaded["messages"][1]["state"] == "interrupted"
    assert loaded["messages"][1]["heard"] == "Sunny."


# Through the turn controller (in-memory devices: the logic, quickly).


def controller_with(store: Any, chat: MemoryChat | None = None, time_scale: float = 0.0) -> Any:
    return TurnController(
        microphone=MemoryInput(),
        transcriber=MemoryTranscriber(),
        chat=chat or MemoryChat(),
        speaker=ReplySpeaker(MemorySynthesizer(), MemoryOutput(time_scale)),
        conversation=Conversation("Be brief.", 10_000),
        connections=Counter(),
        history=store,
    )


async def test_each_turn_is_stored_as_it_happens(store: SqliteHistory) -> None:
    chat = MemoryChat(reply="It is sunny. Enjoy!", step=3, delay=0.01)
    controller = controller_with(store, chat)
    seen: list[str] = []

    def check_stored_before_shown(event: Event) -> None:
        # When a piece is shown, the store already has it.
        if isinstance(event, ReplyDelta):
            seen.append(event.text)
            conversation = controller.history.conversation_id
            assert store.messages(conversation)[-1].text == "".join(seen)

    controller.events.connect(check_stored_before_shown)
    controller.send_text("Weather?")
    await controller.wait()
    conversation = controller.history.conversation_id
    stored = [(m.role, m.text, m.state) for m in store.messages(conversation)]
    assert stored == [("user", "Weather?", "complete"), ("assistant", chat.reply, "complete")]
    await controller.aclose()


async def test_a_barge_in_keeps_what_was_shown_and_what_was_heard(store: SqliteHistory) -> None:
    chat = MemoryChat(reply="First part. Second part. Third part.", step=4, delay=0.02)
    controller = controller_with(store, chat, time_scale=1.0)
    started: list[SentenceStarted] = []
    controller.events.connect(
        lambda e: started.append(e) if isinstance(e, SentenceStarted) else None
    )
    controller.send_text("Go on.")
    for _ in range(300):
        if controller.state is TurnState.SPEAKING and started:
            break
        await asyncio.sleep(0.01)
    finished: list[TurnFinished] = []
    controller.events.connect(lambda e: finished.append(e) if isinstance(e, TurnFinished) else None)
    controller.stop()  # the turn task ends on its own after this: wait for its last word
    for _ in range(200):
        if finished:
            break
        await asyncio.sleep(0.01)
    assert finished and finished[0].interrupted
    message = store.messages(controller.history.conversation_id)[-1]
    assert message.state == "interrupted"
    assert message.heard is not None and message.heard.startswith("First part.")
    assert chat.reply.startswith(message.text) and len(message.text) >= len(message.heard)
    await controller.aclose()


async def test_a_failing_store_warns_once_and_the_turns_go_on(tmp_path: Path) -> None:
    store = SqliteHistory(tmp_path / FILE_NAME)
    controller = controller_with(store)
    notices: list[Notice] = []
    controller.events.connect(lambda e: notices.append(e) if isinstance(e, Notice) else None)
    with sqlite3.connect(store.path) as other:  # another program damaged the file, say
        other.execute("DROP TABLE reply_pieces")
        other.execute("DROP TABLE messages")
    for _ in range(2):
        controller.send_text("Still there?")
        await controller.wait()
        assert controller.state is TurnState.READY
    assert controller.history.flush(5.0)
    for _ in range(50):  # the writer's report reaches the loop's thread
        if notices:
            break
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.05)
    assert len(notices) == 1 and "could not be saved" in notices[0].message
    assert "no such table" in notices[0].message and "Traceback" not in notices[0].message
    assert not notices[0].is_error  # a warning: the answer itself worked
    await controller.aclose()
    store.close()


async def test_a_stored_conversation_is_reopened_for_the_model(store: SqliteHistory) -> None:
    first = controller_with(store, MemoryChat(reply="Paris.", step=10))
    first.send_text("Capital of France?")
    await first.wait()
    reply = store.add_message(first.history.conversation_id, "assistant", "Also Ly", "writing")
    store.finish_message(reply, "Also Lyon is big.", "interrupted", heard="Also")
    await first.aclose()

    chat = MemoryChat(reply="Berlin.", step=10)
    second = controller_with(store, chat)
    shown = second.resume_conversation()
    assert [m.text for m in shown] == ["Capital of France?", "Paris.", "Also Lyon is big."]
    second.send_text("And Germany?")
    await second.wait()
    sent = [(m.role, m.content) for m in chat.received[0]]
    assert sent[1:] == [
        ("user", "Capital of France?"),
        ("assistant", "Paris.\n\nAlso …[interrupted]"),
        ("user", "And Germany?"),
    ]
    assert len(store.conversations()) == 1  # the same conversation goes on
    await second.aclose()


def test_a_recorder_without_a_store_does_nothing() -> None:
    recorder = HistoryRecorder(None)
    recorder.user("hi")
    record = recorder.reply()
    record.add("hello")
    record.finish()
    assert recorder.resume(None, Conversation("", 1000)) == []


# The real app: build_services wires the store; a SIGKILL mid-reply loses nothing shown.


async def test_build_services_keeps_going_without_a_history(tls: TlsFiles, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    settings = settings_for(
        "https://127.0.0.1:1", "openai", "https://127.0.0.1:1", str(tls.ca_file)
    )
    services = build_services(settings, Secrets(), history_path=blocker / "history.sqlite3")
    assert services.history is None and services.controller.history.store is None
    await services.aclose()


@pytest.mark.audio
@pytest.mark.timeout(60)
async def test_killing_the_app_mid_reply_loses_nothing_that_was_shown(
    virtual_sound_card: VirtualSoundCard, loopback: Any, tls: TlsFiles, tmp_path: Path
) -> None:
    reply = "The first words arrive. Then more of them follow. And the end never comes."
    chat = ChatServer(reply, token_chars=3, delay_each=0.01, pause_after=12)
    speech = OpenAiSpeechServer(audio_for=short_audio, api_key=None)
    chat_url, voice_url = loopback(chat.handler).url, loopback(speech.handler).url
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path / "data"), "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "tests.reliability.crash_child", chat_url, voice_url,
               str(tls.ca_file), "Tell me a story."]  # fmt: skip
    child = await asyncio.to_thread(
        partial(subprocess.Popen, command, env=env, cwd=ROOT, text=True,
                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    )  # fmt: skip
    shown: list[str] = []
    try:
        assert child.stdout is not None
        deadline = time.monotonic() + 30
        while len(shown) < 12 and time.monotonic() < deadline:  # the server pauses after 12
            line = await asyncio.to_thread(child.stdout.readline)
            if not line:
                break
            shown.append(json.loads(line))
        assert len(shown) == 12, (shown, child.stderr.read() if child.poll() is not None else "")
        child.send_signal(signal.SIGKILL)  # no clean-up of any kind
        await asyncio.to_thread(child.wait, 10)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(10)
        chat.resume()
        if child.stdout is not None:
            child.stdout.close()
        if child.stderr is not None:
            child.stderr.close()
    assert child.returncode == -signal.SIGKILL

    path = tmp_path / "data" / "voice-assistant" / FILE_NAME
    if os.name == "posix":
        assert mode(path) == 0o600
    reopened = SqliteHistory(path)  # as the app does when it starts again
    try:
        [conversation] = reopened.conversations()
        messages = reopened.messages(conversation.id)
        assert [(m.role, m.state) for m in messages] == [
            ("user", "complete"),
            ("assistant", "interrupted"),
        ]
        assert messages[0].text == "Tell me a story."
        assert messages[1].text == "".join(shown)  # every word that was shown, none lost
        assert reply.startswith(messages[1].text)
    finally:
        reopened.close()


async def read_shown(child: subprocess.Popen[str], count: int) -> list[str]:
    """The next `count` pieces the child showed (fewer if it ended), within 30 s."""
    assert child.stdout is not None
    shown: list[str] = []
    deadline = time.monotonic() + 30
    while len(shown) < count and time.monotonic() < deadline:
        line = await asyncio.to_thread(child.stdout.readline)
        if not line:
            break
        shown.append(json.loads(line))
    return shown


@pytest.mark.audio
@pytest.mark.timeout(60)
async def test_a_second_copy_started_mid_reply_leaves_it_to_its_writer(
    virtual_sound_card: VirtualSoundCard, loopback: Any, tls: TlsFiles, tmp_path: Path
) -> None:
    """Issue 13, finding 6: a second copy of the app starting while the first is mid-reply used to
    mark that reply finished, so what the first showed afterwards was stored where nothing reads
    it, and lost for good when the first then crashed."""
    reply = "The first words arrive. Then more of them follow, slowly. And the end never comes."
    chat = ChatServer(reply, token_chars=3, delay_each=0.05, pause_after=6)
    speech = OpenAiSpeechServer(audio_for=short_audio, api_key=None)
    chat_url, voice_url = loopback(chat.handler).url, loopback(speech.handler).url
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path / "data"), "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "tests.reliability.crash_child", chat_url, voice_url,
               str(tls.ca_file), "Tell me a story."]  # fmt: skip
    child = await asyncio.to_thread(
        partial(subprocess.Popen, command, env=env, cwd=ROOT, text=True,
                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    )  # fmt: skip
    path = tmp_path / "data" / "voice-assistant" / FILE_NAME
    second: SqliteHistory | None = None
    try:
        shown = await read_shown(child, 6)  # the server holds the rest back
        assert len(shown) == 6, child.stderr.read() if child.poll() is not None else ""
        second = SqliteHistory(path)  # another copy of the app starts now
        [conversation] = second.conversations()
        writing = second.messages(conversation.id)[-1]
        assert (writing.text, writing.state) == ("".join(shown), "writing")  # left to its writer

        chat.resume()
        shown += await read_shown(child, 6)  # the first copy goes on writing
        assert len(shown) == 12, child.stderr.read() if child.poll() is not None else ""
        assert second.messages(conversation.id)[-1].text.startswith("".join(shown))
        child.send_signal(signal.SIGKILL)  # and then crashes
        await asyncio.to_thread(child.wait, 10)
        shown += await read_shown(child, 1000)  # whatever it showed before it died
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(10)
        chat.resume()
        for stream in (child.stdout, child.stderr):
            if stream is not None:
                stream.close()
        if second is not None:
            second.close()
    assert child.returncode == -signal.SIGKILL

    third = SqliteHistory(path)  # the next start: the first copy is gone, its reply is closed
    try:
        [conversation] = third.conversations()
        user, assistant = third.messages(conversation.id)
        assert (user.text, assistant.state) == ("Tell me a story.", "interrupted")
        # Every word shown is there (a piece stored but not yet printed when it died may be too).
        assert assistant.text.startswith("".join(shown)) and reply.startswith(assistant.text)
        with sqlite3.connect(path) as db:
            assert db.execute("SELECT COUNT(*) FROM reply_pieces").fetchone()[0] == 0
        claims = path.with_name(f"{FILE_NAME}.writers")
        assert len(list(claims.iterdir())) == 1  # the dead copy's claim is swept; this one's stays
    finally:
        third.close()
