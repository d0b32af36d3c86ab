"""The conversation history kept on disk: each message stored the moment it happens (a reply while
it is being written, then marked complete or interrupted), the small interface a store implements,
the recorder the turn controller writes through, and exports to Markdown and JSON.
"""

from __future__ import annotations

import json
import logging
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


class HistoryStore(Protocol):
    """Where the history lives. Every method raises AssistantError (with a message for the user)
    when the store cannot be read or written."""

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
        """The whole text of a reply, and how it ended."""
        ...

    def conversations(self) -> list[ConversationInfo]:
        """Newest first."""
        ...

    def messages(self, conversation_id: int) -> list[StoredMessage]: ...

    def delete_conversation(self, conversation_id: int) -> None: ...

    def delete_all(self) -> None: ...

    def close(self) -> None: ...


class ReplyRecord:
    """One reply as it is written: created with its first words, finished once."""

    def __init__(self, recorder: HistoryRecorder) -> None:
        self._recorder = recorder
        self._id: int | None = None
        self._written: list[str] = []

    def add(self, delta: str) -> None:
        self._written.append(delta)
        store, recorder = self._recorder.store, self._recorder
        if store is None:
            return
        if self._id is None:  # the first words (or the store failed before: all words so far)
            conversation_id = recorder.conversation()
            if conversation_id is not None:
                text = "".join(self._written)
                self._id = recorder.attempt(
                    lambda: store.add_message(conversation_id, "assistant", text, "writing")
                )
        else:
            message_id = self._id
            recorder.attempt(lambda: store.append_text(message_id, delta))

    def finish(self) -> None:
        self._end("complete", None)

    def interrupt(self, heard: str) -> None:
        self._end("interrupted", heard)

    def _end(self, state: MessageState, heard: str | None) -> None:
        store, message_id = self._recorder.store, self._id
        if store is not None and message_id is not None:
            text = "".join(self._written)
            self._recorder.attempt(lambda: store.finish_message(message_id, text, state, heard))


class HistoryRecorder:
    """Writes what the turn controller says and hears to a store, if there is one. A failing
    store never stops a turn: the first failure is reported (`on_error`), later ones logged."""

    def __init__(
        self,
        store: HistoryStore | None,
        on_error: Callable[[AssistantError], None] = lambda error: None,
    ) -> None:
        self.store = store
        self.conversation_id: int | None = None  # made with the first message
        self._on_error = on_error
        self._failing = False

    def user(self, text: str) -> None:
        store = self.store
        conversation_id = self.conversation()
        if store is not None and conversation_id is not None:
            self.attempt(lambda: store.add_message(conversation_id, "user", text, "complete"))

    def reply(self) -> ReplyRecord:
        return ReplyRecord(self)

    def new_conversation(self) -> None:
        self.conversation_id = None

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
        self.conversation_id = chosen
        return messages

    def conversation(self) -> int | None:
        if self.conversation_id is None and self.store is not None:
            self.conversation_id = self.attempt(self.store.new_conversation)
        return self.conversation_id

    def attempt(self, work: Callable[[], T]) -> T | None:
        """`work()`, or None if the store failed (reported once until it works again)."""
        try:
            result = work()
        except AssistantError as error:
            if self._failing:
                log.warning("history still not saved: %s", error.message)
            else:
                self._failing = True
                log.warning("history not saved: %s", error.message)
                self._on_error(error)
            return None
        self._failing = False
        return result


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
    "HistoryRecorder",
    "HistoryStore",
    "MessageState",
    "ReplyRecord",
    "Role",
    "StoredMessage",
    "title_of",
    "to_json",
    "to_markdown",
]
