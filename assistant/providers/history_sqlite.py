"""The conversation history in one SQLite file (WAL) in the user's data folder, readable by the
user only. Each write is its own small transaction, so a crash (even SIGKILL) loses nothing that
was already shown: a reply is stored piece by piece while it is written, then joined up.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Final, cast

from assistant.core.errors import AssistantError
from assistant.core.history import ConversationInfo, MessageState, Role, StoredMessage, title_of

FILE_NAME: Final = "history.sqlite3"
_SCHEMA_VERSION: Final = 1
_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS conversations (
    id INTEGER PRIMARY KEY,
    started REAL NOT NULL,
    updated REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY,
    conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    role TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
    text TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('writing', 'complete', 'interrupted')),
    heard TEXT,
    created REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS messages_by_conversation ON messages (conversation_id, id);
-- The pieces of a reply being written: one small row per piece (rewriting the whole text on
-- every piece would cost the square of its length), joined into messages.text when it ends.
CREATE TABLE IF NOT EXISTS reply_pieces (
    message_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    text TEXT NOT NULL,
    PRIMARY KEY (message_id, seq)
);
"""


def default_history_path() -> Path:
    """E.g. ~/.local/share/voice-assistant/history.sqlite3 on Linux."""
    import platformdirs

    return Path(platformdirs.user_data_dir("voice-assistant", appauthor=False)) / FILE_NAME


class SqliteHistory:
    """A `HistoryStore` in SQLite. Used from the event loop's thread; each call takes well under
    a millisecond (WAL, synchronous=NORMAL: a commit is a write to the OS, no disk flush, which
    survives the app being killed, though not a power cut)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self._db = _open(path)
        except (sqlite3.Error, OSError) as exc:
            raise _failure("opened", path, exc) from None
        try:
            self._recover()
        except sqlite3.Error as exc:
            self._db.close()
            raise _failure("opened", path, exc) from None

    # Writing.

    def new_conversation(self) -> int:
        now = time.time()
        with self._writing("saved"):
            cursor = self._db.execute(
                "INSERT INTO conversations (started, updated) VALUES (?, ?)", (now, now)
            )
        return _row_id(cursor)

    def add_message(self, conversation_id: int, role: Role, text: str, state: MessageState) -> int:
        now = time.time()
        with self._writing("saved"), self._transaction():
            cursor = self._db.execute(
                "INSERT INTO messages (conversation_id, role, text, state, created) "
                "VALUES (?, ?, ?, ?, ?)",
                (conversation_id, role, text, state, now),
            )
            self._db.execute(
                "UPDATE conversations SET updated = ? WHERE id = ?", (now, conversation_id)
            )
        return _row_id(cursor)

    def append_text(self, message_id: int, text: str) -> None:
        with self._writing("saved"):
            self._db.execute(
                "INSERT INTO reply_pieces (message_id, seq, text) VALUES (?, "
                "(SELECT COALESCE(MAX(seq), 0) + 1 FROM reply_pieces WHERE message_id = ?), ?)",
                (message_id, message_id, text),
            )

    def finish_message(
        self, message_id: int, text: str, state: MessageState, heard: str | None = None
    ) -> None:
        with self._writing("saved"), self._transaction():
            self._db.execute(
                "UPDATE messages SET text = ?, state = ?, heard = ? WHERE id = ?",
                (text, state, heard, message_id),
            )
            self._db.execute("DELETE FROM reply_pieces WHERE message_id = ?", (message_id,))
            self._db.execute(
                "UPDATE conversations SET updated = ? WHERE id = "
                "(SELECT conversation_id FROM messages WHERE id = ?)",
                (time.time(), message_id),
            )

    def delete_conversation(self, conversation_id: int) -> None:
        with self._writing("deleted"):
            self._db.execute("DELETE FROM conversations WHERE id = ?", (conversation_id,))

    def delete_all(self) -> None:
        with self._writing("deleted"), self._transaction():
            self._db.execute("DELETE FROM conversations")
        with self._writing("deleted"):
            self._db.execute("VACUUM")  # deleted text must not linger in free pages

    def close(self) -> None:
        with contextlib.suppress(sqlite3.Error):
            self._db.close()

    # Reading.

    def conversations(self) -> list[ConversationInfo]:
        with self._writing("read"):
            rows = self._db.execute(
                "SELECT c.id, c.started, c.updated, COUNT(m.id), "
                "(SELECT text FROM messages WHERE conversation_id = c.id AND role = 'user' "
                " ORDER BY id LIMIT 1) "
                "FROM conversations c JOIN messages m ON m.conversation_id = c.id "
                "GROUP BY c.id ORDER BY c.updated DESC, c.id DESC"
            ).fetchall()
        return [
            ConversationInfo(row[0], row[1], row[2], title_of(row[4] or ""), row[3]) for row in rows
        ]

    def messages(self, conversation_id: int) -> list[StoredMessage]:
        with self._writing("read"):
            rows = self._db.execute(
                "SELECT id, conversation_id, role, text, state, created, heard FROM messages "
                "WHERE conversation_id = ? ORDER BY id",
                (conversation_id,),
            ).fetchall()
            pieces = self._pieces([row[0] for row in rows if row[4] == "writing"])
        return [
            StoredMessage(
                id=row[0],
                conversation_id=row[1],
                role=cast(Role, row[2]),
                text=row[3] + pieces.get(row[0], ""),
                state=cast(MessageState, row[4]),
                created=row[5],
                heard=row[6],
            )
            for row in rows
        ]

    # Helpers.

    def _pieces(self, message_ids: list[int]) -> dict[int, str]:
        joined: dict[int, list[str]] = {}
        for message_id in message_ids:
            rows = self._db.execute(
                "SELECT text FROM reply_pieces WHERE message_id = ? ORDER BY seq", (message_id,)
            )
            joined[message_id] = [row[0] for row in rows]
        return {message_id: "".join(parts) for message_id, parts in joined.items()}

    def _recover(self) -> None:
        """Replies left 'writing' by a crash: joined up and marked interrupted. (A reply still
        being written by another running copy of the app is finished by it, overwriting this.)"""
        rows = self._db.execute("SELECT id, text FROM messages WHERE state = 'writing'").fetchall()
        if not rows:
            return
        pieces = self._pieces([row[0] for row in rows])
        with self._transaction():
            for message_id, text in rows:
                self._db.execute(
                    "UPDATE messages SET text = ?, state = 'interrupted' WHERE id = ?",
                    (text + pieces.get(message_id, ""), message_id),
                )
                self._db.execute("DELETE FROM reply_pieces WHERE message_id = ?", (message_id,))

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
            self._db.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                self._db.execute("ROLLBACK")
            raise

    @contextlib.contextmanager
    def _writing(self, done: str) -> Iterator[None]:
        try:
            yield
        except sqlite3.Error as exc:
            raise _failure(done, self.path, exc) from None


def _open(path: Path) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    # Created private before SQLite opens it; SQLite gives its -wal and -shm files the same mode.
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        if os.name == "posix":
            os.fchmod(descriptor, 0o600)
    finally:
        os.close(descriptor)
    # isolation_level=None: every statement commits at once unless inside BEGIN ... COMMIT.
    db = sqlite3.connect(path, isolation_level=None, timeout=2.0)
    try:
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA synchronous = NORMAL")
        db.execute("PRAGMA foreign_keys = ON")
        db.execute("PRAGMA secure_delete = ON")  # deleted conversations are overwritten
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version > _SCHEMA_VERSION:
            raise sqlite3.DatabaseError(f"made by a newer version (schema {version})")
        db.executescript(_SCHEMA)
        db.execute(f"PRAGMA user_version = {_SCHEMA_VERSION}")
    except BaseException:
        db.close()
        raise
    return db


def _row_id(cursor: sqlite3.Cursor) -> int:
    assert cursor.lastrowid is not None
    return cursor.lastrowid


def _failure(done: str, path: Path, exc: sqlite3.Error | OSError) -> AssistantError:
    reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    return AssistantError(
        f"The conversation history could not be {done} ({reason}; file {path}). Check that the "
        "disk has free space and the file is yours; the conversation goes on meanwhile."
    )


__all__ = ["FILE_NAME", "SqliteHistory", "default_history_path"]
