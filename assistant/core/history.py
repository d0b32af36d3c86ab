"""The conversation history kept on disk: each message stored the moment it happens (a reply while
it is being written, then marked complete or interrupted), the small interface a store implements,
the recorder the turn controller writes through (off the event loop), and exports to Markdown and
JSON.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Literal, Protocol, TypeVar

from assistant.core.conversation import Conversation
from assistant.core.errors import AssistantError

log = logging.getLogger(__name__)

Role = Literal["user", "assistant"]
# "writing": a reply still arriving (or cut off by a crash: the store reads it as interrupted).
MessageState = Literal["writing", "complete", "interrupted"]
TITLE_CHARS = 60
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class StoredMessage:
    id: int
    conversation_id: int
    role: Role
    text: str  # as it was shown
    state: MessageState
    created: float  # seconds since the epoch
    heard: str | None = None  # an interrupted reply: the part that was spoken before the cut


@dataclass(frozen=True, slots=True)
class ConversationInfo:
    id: int
    started: float
    updated: float
    title: str  # the first thing the user said, shortened
    message_count: int


class HistoryBusy(AssistantError):
    """Another program holds the history file: the same write may work in a moment."""

    retryable = True


class HistoryStore(Protocol):
    """Where the history lives. Every method raises AssistantError (with a message for the user)
    when the store cannot be read or written; HistoryBusy when another program holds it.

    The turn controller never calls the writing methods itself: it hands them to `submit`, which
    runs them on the store's own writer, so a store that is slow or held by another program never
    holds up the event loop. Called directly (tests, the History dialog), they write at once."""

    def new_conversation(self) -> int: ...

    def add_message(self, conversation_id: int, role: Role, text: str, state: MessageState) -> int:
        """Store a message now; returns its id."""
        ...

    def append_text(self, message_id: int, text: str) -> None:
        """More of a reply that is being written; stored at once, cheaply."""
        ...

    def finish_message(
        self, message_id: int, text: str, state: MessageState, heard: str | None = None
    ) -> None:
        """The whole text of a message, and how it ended: a reply's end, or a question restated."""
        ...

    def delete_message(self, message_id: int) -> None:
        """A reply taken back before anyone heard it (the user went on with their question)."""
        ...

    def submit(
        self, write: Callable[[], object], on_error: Callable[[AssistantError], None]
    ) -> None:
        """Run `write` (calls of the writing methods above) on the store's writer, after every
        write submitted before it, and return at once. A write that meets HistoryBusy is tried
        again until it works; `on_error` hears (on the writer's thread) of a write that failed
        for good, and once of a hold-up that lasts. Raises AssistantError if it cannot be queued
        (the store is closed, or too far behind)."""
        ...

    def settle(self, timeout: float) -> bool:
        """Wait up to `timeout` seconds until every write submitted so far is stored; at once
        (False) while the writer is held up by another program. True if all are stored."""
        ...

    def flush(self, timeout: float) -> bool:
        """Wait up to `timeout` seconds until every write submitted so far is stored, even while
        another program holds the file. True if all are stored."""
        ...

    def conversations(self) -> list[ConversationInfo]:
        """Newest first."""
        ...

    def messages(self, conversation_id: int) -> list[StoredMessage]: ...

    def delete_conversation(self, conversation_id: int) -> None: ...

    def delete_all(self) -> None: ...

    def close(self) -> None:
        """Store what was submitted (waiting a bounded time for a held file), then close."""
        ...


# How long a write may take before the words it carries are shown anyway. A commit takes well
# under a millisecond, so normally a piece is stored before it is shown (a crash then cannot
# lose what was seen); a store held by another program answers "busy" at once and is not waited
# for, and this bound keeps even a writer thread that is slow to be scheduled under one frame.
STORED_BEFORE_SHOWN_WAIT = 0.01


class _Conversation:
    """A conversation's id, known once the writer has created its row (None until then)."""

    __slots__ = ("id",)

    def __init__(self, conversation_id: int | None = None) -> None:
        self.id = conversation_id


class ReplyRecord:
    """One reply as it is written: created with its first words, more as they come, finished
    once. The words wait in `_unsaved` until the store's writer takes them, so a writer held up
    by a locked file costs the turn nothing and one queued write carries all the words meanwhile.
    """

    def __init__(self, recorder: HistoryRecorder) -> None:
        self._recorder = recorder
        self._conversation = recorder.current
        self._written: list[str] = []
        # Shared with the writer's thread, under `_lock`:
        self._lock = threading.Lock()
        self._unsaved: list[str] = []
        self._queued = False  # a `_save` is submitted and has not finished
        self._id: int | None = None  # the writer's alone

    def add(self, delta: str) -> None:
        self._written.append(delta)
        if self._recorder.store is None:
            return
        with self._lock:
            self._unsaved.append(delta)
            queued, self._queued = self._queued, True
        if queued:  # the queued save takes this piece too
            self._recorder.settle()
        else:
            self._recorder.write(self._save)

    def finish(self) -> None:
        self._end("complete", None)

    def interrupt(self, heard: str) -> None:
        self._end("interrupted", heard)

    def withdraw(self) -> None:
        """Taken back before it was heard: whatever of it was stored goes."""

        def delete(store: HistoryStore) -> None:
            if self._id is not None:
                store.delete_message(self._id)
                self._id = None
            with self._lock:
                self._unsaved.clear()

        self._recorder.write(delete)

    def _end(self, state: MessageState, heard: str | None) -> None:
        text = "".join(self._written)
        self._recorder.write(lambda store: self._store_end(store, text, state, heard))

    # On the writer's thread.

    def _save(self, store: HistoryStore) -> None:
        """Store the pieces not stored yet, until none is left (more may come meanwhile)."""
        try:
            while True:
                with self._lock:
                    if not self._unsaved:
                        self._queued = False
                        return
                    count, text = len(self._unsaved), "".join(self._unsaved)
                if self._id is None:
                    conversation_id = self._recorder.created(store, self._conversation)
                    self._id = store.add_message(conversation_id, "assistant", text, "writing")
                else:
                    store.append_text(self._id, text)
                with self._lock:
                    del self._unsaved[:count]
        except HistoryBusy:
            raise  # tried again by the writer: still queued
        except BaseException:
            with self._lock:  # dropped: the next piece queues a save of all the words so far
                self._queued = False
            raise

    def _store_end(
        self, store: HistoryStore, text: str, state: MessageState, heard: str | None
    ) -> None:
        if self._id is None:
            if not text:  # nothing was written: nothing to keep
                return
            conversation_id = self._recorder.created(store, self._conversation)
            self._id = store.add_message(conversation_id, "assistant", text, "writing")
        store.finish_message(self._id, text, state, heard)
        with self._lock:
            self._unsaved.clear()


class UserRecord:
    """What the user said, as stored: restated when they went on with the same question."""

    def __init__(self, recorder: HistoryRecorder) -> None:
        self._recorder = recorder
        self.id: int | None = None  # the writer's alone: set by the write that adds it

    def restate(self, text: str) -> None:
        def rewrite(store: HistoryStore) -> None:
            if self.id is not None:  # None: its own write failed, and was told
                store.finish_message(self.id, text, "complete")

        self._recorder.write(rewrite)


class HistoryRecorder:
    """Writes what the turn controller says and hears to a store, if there is one, through the
    store's writer: no write waits on the disk (or on another program holding the file) on the
    event loop. A failing store never stops a turn: the first failure is reported (`on_error`, on
    the event loop's thread), later ones logged, until a write works again."""

    def __init__(
        self,
        store: HistoryStore | None,
        on_error: Callable[[AssistantError], None] = lambda error: None,
    ) -> None:
        self.store = store
        self.current = _Conversation()  # its row is made with its first message
        self._on_error = on_error
        self._failing = False
        self._failing_lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None  # where `on_error` is called

    @property
    def conversation_id(self) -> int | None:
        """The conversation being written to, once stored (None before its first message)."""
        return self.current.id

    def user(self, text: str) -> UserRecord:
        record = UserRecord(self)
        conversation = self.current

        def add(store: HistoryStore) -> None:
            record.id = store.add_message(
                self.created(store, conversation), "user", text, "complete"
            )

        self.write(add)
        return record

    def reply(self) -> ReplyRecord:
        return ReplyRecord(self)

    def new_conversation(self) -> None:
        self.current = _Conversation()

    def resume(
        self, conversation_id: int | None, conversation: Conversation
    ) -> list[StoredMessage]:
        """Continue conversation `conversation_id` (None: the latest): `conversation` is refilled
        with its messages, which are returned (for the window to show). An empty list if there is
        none."""
        if self.store is None:
            return []
        store = self.store
        if conversation_id is None:
            listed = self.attempt(store.conversations) or []
            if not listed:
                return []
            conversation_id = listed[0].id
        chosen = conversation_id
        messages = self.attempt(lambda: store.messages(chosen))
        if messages is None:
            return []
        conversation.clear()
        for message in messages:
            if message.role == "user":
                conversation.add_user(message.text)
            elif message.state == "complete":
                conversation.add_assistant(message.text)
            else:
                spoken = message.heard if message.heard is not None else message.text
                conversation.add_assistant(spoken, interrupted=True)
        self.current = _Conversation(chosen)
        return messages

    def flush(self, timeout: float) -> bool:
        """Wait up to `timeout` seconds for every write so far (off the event loop, or where a
        wait is fine: it waits for another program too); True if all are stored."""
        return self.store is None or self.store.flush(timeout)

    def write(self, work: Callable[[HistoryStore], object]) -> None:
        """`work(store)` on the store's writer, in order; waits (briefly) only for a writer that
        is not held up, so that what is shown next is normally stored first."""
        store = self.store
        if store is None:
            return
        if self._loop is None:
            with contextlib.suppress(RuntimeError):
                self._loop = asyncio.get_running_loop()
        try:
            store.submit(lambda: self._succeeded(work(store)), self._failed)
        except AssistantError as error:
            self._failed(error)
            return
        self.settle()

    def settle(self) -> None:
        if self.store is not None:
            self.store.settle(STORED_BEFORE_SHOWN_WAIT)

    def created(self, store: HistoryStore, conversation: _Conversation) -> int:
        """On the writer: `conversation`'s id, its row made now if it has none yet."""
        if conversation.id is None:
            conversation.id = store.new_conversation()
        return conversation.id

    def attempt(self, work: Callable[[], T]) -> T | None:
        """`work()` now (a read), or None if the store failed (reported once until it works)."""
        try:
            result = work()
        except AssistantError as error:
            self._failed(error)
            return None
        self._succeeded(result)
        return result

    def _succeeded(self, result: object) -> None:
        with self._failing_lock:
            recovered, self._failing = self._failing, False
        if recovered:
            log.info("history saved again")

    def _failed(self, error: AssistantError) -> None:
        """Report the first failure of a run of them; log the others. Any thread."""
        with self._failing_lock:
            first, self._failing = not self._failing, True
        if not first:
            log.warning("history still not saved: %s", error.message)
            return
        log.warning("history not saved: %s", error.message)
        loop = self._loop
        if loop is None or _running_loop() is loop:
            self._on_error(error)
        else:  # from the writer's thread: the notice belongs to the loop's
            with contextlib.suppress(RuntimeError):  # the loop is closed: the app is gone
                loop.call_soon_threadsafe(self._on_error, error)


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


# Exports, for the window's "Export…" (the caller writes the file).


def to_markdown(info: ConversationInfo, messages: Sequence[StoredMessage]) -> str:
    """The conversation as Markdown: a heading, then each message under the speaker's name."""
    lines = [f"# {info.title or 'Conversation'}", "", f"_Started {_when(info.started)}_", ""]
    for message in messages:
        speaker = "You" if message.role == "user" else "Assistant"
        lines += [f"**{speaker}** ({_when(message.created)}):", "", message.text.strip() or "…"]
        if message.role == "assistant" and message.state != "complete":
            if message.heard is not None and message.heard != message.text.strip():
                lines += ["", f"_Interrupted; heard up to: {message.heard or '(nothing)'}_"]
            else:
                lines += ["", "_Interrupted._"]
        lines.append("")
    return "\n".join(lines)


def to_json(info: ConversationInfo, messages: Sequence[StoredMessage]) -> str:
    """The conversation and its messages as JSON (UTF-8 text, times in seconds since the epoch)."""
    payload = {
        "conversation": asdict(info),
        "messages": [
            {**asdict(m), "state": "interrupted" if m.state == "writing" else m.state}
            for m in messages
        ],
    }
    return json.dumps(payload, ensure_ascii=False, indent=2)


def title_of(first_user_text: str) -> str:
    text = " ".join(first_user_text.split())
    return text if len(text) <= TITLE_CHARS else text[: TITLE_CHARS - 1].rstrip() + "…"


def _when(seconds: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(seconds))


__all__ = [
    "ConversationInfo",
    "HistoryBusy",
    "HistoryRecorder",
    "HistoryStore",
    "MessageState",
    "ReplyRecord",
    "Role",
    "StoredMessage",
    "UserRecord",
    "title_of",
    "to_json",
    "to_markdown",
]
