"""The conversation history while another program holds its file (issue 13, finding 7): the event
loop never waits for it, nothing said meanwhile is lost once the file is free, the user is told
once if it stays held, and closing at shutdown still writes everything."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from assistant.core.conversation import Conversation
from assistant.core.events import Notice, TurnState
from assistant.core.history import HistoryRecorder
from assistant.core.reply_speaker import ReplySpeaker
from assistant.core.turn import TurnController
from assistant.providers.history_sqlite import FILE_NAME, SqliteHistory
from tests.support.memory import (
    Counter,
    MemoryChat,
    MemoryInput,
    MemoryOutput,
    MemorySynthesizer,
    MemoryTranscriber,
)

# A write made on the loop while the file is held waits out SQLite's busy timeout (200 ms at
# least): held up less than this, the loop did not wait for the file. The design's frame (16 ms)
# is not asserted here: in a full `make test` on two shared cores the scheduler alone held this
# loop up 58 ms once (loop lag belongs in a benchmark; this test is about never waiting on a lock).
LOCK_WAIT = 0.1
REPLY = "It is sunny today. The high is twenty degrees. Enjoy your walk, and take some water!"

# Another program (a database browser, a backup tool) that takes the file's write lock and keeps
# it until told to let go on its standard input.
HOLDER = """
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=5)
db.execute("BEGIN EXCLUSIVE")
print("held", flush=True)
sys.stdin.readline()
db.execute("ROLLBACK")
db.close()
"""


class Holder:
    """A real process holding an exclusive lock on the history file until `release()`."""

    def __init__(self, path: Path) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", HOLDER, str(path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        assert self.process.stdout.readline().strip() == "held"

    def release(self) -> None:
        if self.process.poll() is None:
            assert self.process.stdin is not None
            self.process.stdin.write("\n")
            self.process.stdin.flush()
            self.process.wait(10)

    def close(self) -> None:
        self.release()
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                stream.close()


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "data" / FILE_NAME


@pytest.fixture
def hold(path: Path) -> Iterator[Callable[[], Holder]]:
    """`hold()`: another program takes the file's lock now; it lets go after the test at last."""
    holders: list[Holder] = []

    def start() -> Holder:
        if not path.exists():
            SqliteHistory(path).close()  # the file exists before the other program opens it
        holders.append(Holder(path))
        return holders[-1]

    try:
        yield start
    finally:
        for holder in holders:
            holder.close()


class LagMeter:
    """How late the event loop runs a callback that asks to run every 2 ms: the longest time the
    loop was held up by anything, a history write included."""

    def __init__(self) -> None:
        self.worst = 0.0
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> LagMeter:
        self._task = asyncio.create_task(self._tick())
        await asyncio.sleep(0)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        assert self._task is not None
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)

    async def _tick(self) -> None:
        while True:
            asked = time.perf_counter()
            await asyncio.sleep(0.002)
            self.worst = max(self.worst, time.perf_counter() - asked - 0.002)


def controller_with(store: SqliteHistory) -> TurnController:
    return TurnController(
        microphone=MemoryInput(),
        transcriber=MemoryTranscriber(),
        chat=MemoryChat(reply=REPLY, step=3, delay=0.005),  # 29 pieces, each written on its own
        speaker=ReplySpeaker(MemorySynthesizer(), MemoryOutput(0.0)),
        conversation=Conversation("Be brief.", 10_000),
        connections=Counter(),
        history=store,
    )


def notices_of(controller: TurnController) -> list[Notice]:
    notices: list[Notice] = []
    controller.events.connect(lambda e: notices.append(e) if isinstance(e, Notice) else None)
    return notices


async def test_a_file_held_by_another_program_does_not_hold_up_the_loop(
    path: Path, hold: Callable[[], Holder]
) -> None:
    store = SqliteHistory(path)
    holder = hold()  # while the assistant runs, a database browser opens the file, say
    controller = controller_with(store)
    notices = notices_of(controller)
    try:
        async with LagMeter() as lag:
            for question in ("Weather?", "And tomorrow?"):
                controller.send_text(question)
                await controller.wait()
                assert controller.state is TurnState.READY
        assert lag.worst < LOCK_WAIT, f"the loop was held up {lag.worst * 1000:.0f} ms"
        assert not store.settle(0.1)  # still waiting for the file
        await asyncio.to_thread(holder.release)
        assert await asyncio.to_thread(store.flush, 5.0)
        conversation = controller.history.conversation_id
        assert conversation is not None
        stored = [(m.role, m.text, m.state) for m in store.messages(conversation)]
        assert stored == [
            ("user", "Weather?", "complete"),
            ("assistant", REPLY, "complete"),
            ("user", "And tomorrow?", "complete"),
            ("assistant", REPLY, "complete"),
        ]
        await asyncio.sleep(0.05)
        assert notices == []  # held for less than LASTING_AFTER: nothing to tell
    finally:
        await controller.aclose()
        store.close()


async def test_a_file_that_stays_held_is_told_once_and_the_turns_go_on(
    path: Path, hold: Callable[[], Holder]
) -> None:
    store = SqliteHistory(path, lasting_after=0.3, close_wait=0.2)
    hold()
    controller = controller_with(store)
    notices = notices_of(controller)
    try:
        async with LagMeter() as lag:
            for question in ("Weather?", "And tomorrow?", "And Sunday?"):
                controller.send_text(question)
                await controller.wait()
                assert controller.state is TurnState.READY
                await asyncio.sleep(0.2)
        assert lag.worst < LOCK_WAIT, f"the loop was held up {lag.worst * 1000:.0f} ms"
        assert len(notices) == 1, [n.message for n in notices]
        message = notices[0].message
        assert message.startswith("The conversation history could not be saved for ")
        assert "another program is using the file" in message and str(path) in message
        assert "Traceback" not in message and not notices[0].is_error
    finally:
        await controller.aclose()
        started = time.monotonic()
        store.close()  # never let go: gives up after close_wait, what waited is logged
        assert time.monotonic() - started < 2.0


def test_close_at_shutdown_writes_everything_once_the_file_is_free(
    path: Path, hold: Callable[[], Holder]
) -> None:
    store = SqliteHistory(path, close_wait=5.0)
    holder = hold()
    recorder = HistoryRecorder(store)
    recorder.user("Tell me a story.")
    reply = recorder.reply()
    words = [f" word{index}" for index in range(200)]
    for word in words:
        reply.add(word)
    reply.interrupt(heard="".join(words[:50]))
    assert not store.settle(0.05)  # nothing could be written yet
    threading.Timer(0.5, holder.release).start()  # the other program is done in a moment
    started = time.monotonic()
    store.close()
    assert 0.4 < time.monotonic() - started < 5.0

    reopened = SqliteHistory(path)
    try:
        [conversation] = reopened.conversations()
        user, assistant = reopened.messages(conversation.id)
        assert user.text == "Tell me a story."
        assert (assistant.text, assistant.state) == ("".join(words), "interrupted")
        assert assistant.heard == "".join(words[:50])
    finally:
        reopened.close()


def test_close_writes_everything_submitted_just_before(path: Path) -> None:
    store = SqliteHistory(path)
    recorder = HistoryRecorder(store)
    for turn in range(50):
        recorder.user(f"Question {turn}")
        reply = recorder.reply()
        for word in ("An", " answer", f" {turn}."):
            reply.add(word)
        reply.finish()
    store.close()  # at once: nothing waited for beforehand

    reopened = SqliteHistory(path)
    try:
        [conversation] = reopened.conversations()
        texts = [m.text for m in reopened.messages(conversation.id)]
        assert texts == [t for n in range(50) for t in (f"Question {n}", f"An answer {n}.")]
    finally:
        reopened.close()


def test_the_history_opens_while_another_program_holds_the_file(
    path: Path, hold: Callable[[], Holder]
) -> None:
    """Opening only reads a file that is up to date (and leaves cut-off replies of a crashed copy
    for the next start if it cannot write), so the assistant starts with its history anyway."""
    first = SqliteHistory(path)
    conversation = first.new_conversation()
    first.add_message(conversation, "user", "Hello", "complete")
    first.add_message(conversation, "assistant", "Cut off by a cr", "writing")
    first._claim.release()  # as if it had crashed: its claim is gone, its reply still open
    hold()
    started = time.monotonic()
    again = SqliteHistory(path)
    try:
        assert time.monotonic() - started < 1.0  # no wait for the lock
        user, assistant = again.messages(conversation)
        assert (assistant.text, assistant.state) == (
            "Cut off by a cr",
            "writing",
        )  # read as cut off
    finally:
        again.close()
        first.close()
