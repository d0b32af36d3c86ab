"""The conversation history in one SQLite file (WAL) in the user's data folder, readable by the
user only. Each write is its own small transaction, done on the store's own writer thread, so a
crash (even SIGKILL) loses nothing that was already shown (a reply is stored piece by piece while
it is written, then joined up) and another program holding the file never stalls the event loop.

Why one file (over 450 lines): the reads, the writer thread, the recovery at start-up and the
writers' lock files all depend on one schema and one rule of who may close a reply; apart, the
rule would have to be repeated.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import sqlite3
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Final, cast

from assistant.config.places import user_data_dir
from assistant.core.errors import AssistantError
from assistant.core.history import (
    ConversationInfo,
    HistoryBusy,
    MessageState,
    Role,
    StoredMessage,
    title_of,
)

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger(__name__)

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
    created REAL NOT NULL,
    writer TEXT  -- a reply being written: the claim of the store writing it (see _Claim)
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


# The writer: how many writes may wait for it, how long a held-up write may wait before the user is
# told once, how long `close` waits for a held file to be let go, how long a read waits for the
# writes submitted before it (a writer held by another program is not waited for at all).
MAX_QUEUED: Final = 1000
LASTING_AFTER: Final = 2.0
CLOSE_WAIT: Final = 5.0
READ_WAIT: Final = 1.0
_RETRY_FIRST, _RETRY_MOST = 0.01, 0.25  # seconds between tries of a held-up write, doubling
_TOKEN: Final = re.compile(r"[0-9a-f]{32}")


def default_history_path() -> Path:
    """E.g. ~/.local/share/voice-assistant/history.sqlite3 on Linux."""
    return user_data_dir() / FILE_NAME


class SqliteHistory:
    """A `HistoryStore` in SQLite. Called from one thread (the event loop's), which it never
    makes wait on another program: what the recorder submits is written by the store's own
    writer thread, on its own connection, which gives up at once on a locked file and tries
    again. Each write takes well under a millisecond (WAL, synchronous=NORMAL: a commit is a
    write to the OS, no disk flush, which survives the app being killed, though not a power cut).

    Every copy of the app that has the file open holds a claim (a locked file in
    `history.sqlite3.writers/`), and marks the replies it is writing with it, so that a copy
    starting later closes only the replies of copies that are gone (crashed), never one that is
    still being written."""

    def __init__(
        self,
        path: Path,
        *,
        lasting_after: float = LASTING_AFTER,
        close_wait: float = CLOSE_WAIT,
    ) -> None:
        self.path = path
        self._claims = path.with_name(path.name + ".writers")
        self._closed = False
        try:
            self._db = _open(path, timeout=2.0)
        except (sqlite3.Error, OSError) as exc:
            raise _failure("opened", path, exc) from None
        try:
            self._claim = _Claim(self._claims)
            self._recover_if_free()
            self._writer_db = _connect(path, timeout=0.0, any_thread=True)
        except (sqlite3.Error, OSError) as exc:
            self._db.close()
            with contextlib.suppress(AttributeError):
                self._claim.release()
            raise _failure("opened", path, exc) from None
        self._writer = _Writer(path, lasting_after, close_wait)

    # Writing (on the writer's thread when submitted, else at once).

    def new_conversation(self) -> int:
        now = time.time()
        db = self._connection()
        with self._writing("saved"):
            cursor = db.execute(
                "INSERT INTO conversations (started, updated) VALUES (?, ?)", (now, now)
            )
        return _row_id(cursor)

    def add_message(self, conversation_id: int, role: Role, text: str, state: MessageState) -> int:
        now = time.time()
        db = self._connection()
        writer = self._claim.token if state == "writing" else None
        with self._writing("saved"), _transaction(db):
            cursor = db.execute(
                "INSERT INTO messages (conversation_id, role, text, state, created, writer) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (conversation_id, role, text, state, now, writer),
            )
            db.execute("UPDATE conversations SET updated = ? WHERE id = ?", (now, conversation_id))
        return _row_id(cursor)

    def append_text(self, message_id: int, text: str) -> None:
        db = self._connection()
        with self._writing("saved"):
            db.execute(
                "INSERT INTO reply_pieces (message_id, seq, text) VALUES (?, "
                "(SELECT COALESCE(MAX(seq), 0) + 1 FROM reply_pieces WHERE message_id = ?), ?)",
                (message_id, message_id, text),
            )

    def finish_message(
        self, message_id: int, text: str, state: MessageState, heard: str | None = None
    ) -> None:
        db = self._connection()
        with self._writing("saved"), _transaction(db):
            db.execute(
                "UPDATE messages SET text = ?, state = ?, heard = ?, writer = NULL WHERE id = ?",
                (text, state, heard, message_id),
            )
            db.execute("DELETE FROM reply_pieces WHERE message_id = ?", (message_id,))
            db.execute(
                "UPDATE conversations SET updated = ? WHERE id = "
                "(SELECT conversation_id FROM messages WHERE id = ?)",
                (time.time(), message_id),
            )

    def delete_message(self, message_id: int) -> None:
        db = self._connection()
        with self._writing("saved"), _transaction(db):
            db.execute("DELETE FROM reply_pieces WHERE message_id = ?", (message_id,))
            db.execute("DELETE FROM messages WHERE id = ?", (message_id,))

    def submit(
        self, write: Callable[[], object], on_error: Callable[[AssistantError], None]
    ) -> None:
        if self._closed:
            raise _failure("saved", self.path, sqlite3.ProgrammingError("it was closed"))
        self._writer.submit(write, on_error)

    def settle(self, timeout: float) -> bool:
        return self._writer.settle(timeout, while_held=False)

    def flush(self, timeout: float) -> bool:
        return self._writer.settle(timeout, while_held=True)

    def delete_conversation(self, conversation_id: int) -> None:
        self._writer.settle(READ_WAIT, while_held=False)  # after what was said before
        with self._writing("deleted"):
            self._db.execute("DELETE FROM conversations WHERE id = ?", (conversation_id,))

    def delete_all(self) -> None:
        self._writer.settle(READ_WAIT, while_held=False)
        with self._writing("deleted"), _transaction(self._db):
            self._db.execute("DELETE FROM conversations")
        with self._writing("deleted"):
            self._db.execute("VACUUM")  # deleted text must not linger in free pages

    def close(self) -> None:
        """Write what was submitted (waiting up to `close_wait` for a file another program
        holds), then close. Closing twice does nothing."""
        if self._closed:
            return
        self._closed = True
        self._writer.close()
        for db in (self._writer_db, self._db):
            with contextlib.suppress(sqlite3.Error):
                db.close()
        self._claim.release()

    # Reading (after the writes submitted before, unless the writer is held up).

    def conversations(self) -> list[ConversationInfo]:
        self._writer.settle(READ_WAIT, while_held=False)
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
        self._writer.settle(READ_WAIT, while_held=False)
        with self._writing("read"):
            rows = self._db.execute(
                "SELECT id, conversation_id, role, text, state, created, heard FROM messages "
                "WHERE conversation_id = ? ORDER BY id",
                (conversation_id,),
            ).fetchall()
            pieces = _pieces(self._db, [row[0] for row in rows])
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

    def _connection(self) -> sqlite3.Connection:
        """The writer's connection on its thread (it never waits for a lock), else the caller's."""
        return self._writer_db if self._writer.is_current() else self._db

    def _recover_if_free(self) -> None:
        """Recovery, unless another program holds the file: then the replies wait for the next
        start (they read as interrupted meanwhile), and the history opens all the same."""
        self._db.execute("PRAGMA busy_timeout = 200")  # another copy's writes take far less
        try:
            self._recover()
        except sqlite3.Error as exc:
            if not _is_busy(exc):
                raise
            log.warning("history: cut-off replies left for the next start: %s", exc)
        finally:
            self._db.execute("PRAGMA busy_timeout = 2000")

    def _recover(self) -> None:
        """Replies whose writer is gone (the app crashed mid-reply): joined up and marked
        interrupted. A reply another running copy is still writing is left to it, and so are
        its pieces; any piece of a closed reply is joined to it, never left unreadable."""
        rows = self._db.execute(
            "SELECT id, text, state, writer FROM messages WHERE state = 'writing' "
            "OR id IN (SELECT DISTINCT message_id FROM reply_pieces)"
        ).fetchall()
        orphans = [row for row in rows if not _alive(self._claims, row[3])]
        if not orphans:
            _sweep_claims(self._claims, keep=self._claim.token)
            return
        pieces = _pieces(self._db, [row[0] for row in orphans])
        with _transaction(self._db):
            for message_id, text, state, _ in orphans:
                self._db.execute(
                    "UPDATE messages SET text = ?, state = ?, writer = NULL WHERE id = ?",
                    (
                        text + pieces.get(message_id, ""),
                        "interrupted" if state == "writing" else state,
                        message_id,
                    ),
                )
                self._db.execute("DELETE FROM reply_pieces WHERE message_id = ?", (message_id,))
        _sweep_claims(self._claims, keep=self._claim.token)

    @contextlib.contextmanager
    def _writing(self, done: str) -> Iterator[None]:
        try:
            yield
        except sqlite3.Error as exc:
            raise _failure(done, self.path, exc) from None


class _Writer:
    """The store's one writer thread and its queue of writes, done in the order submitted. A
    write that meets a locked file is tried again (the same write, so the order holds) until it
    works; `on_error` hears once when that lasts `lasting_after` seconds. `close` waits for the
    queue to empty, at most `close_wait` seconds of a held file, and logs what it had to drop."""

    def __init__(self, path: Path, lasting_after: float, close_wait: float) -> None:
        self._path = path
        self._lasting_after = lasting_after
        self._close_wait = close_wait
        self._changed = threading.Condition()
        self._jobs: deque[tuple[Callable[[], object], Callable[[AssistantError], None]]] = deque()
        self._running = False  # the first job is being done
        self._held_since: float | None = None  # the file has been held since (monotonic)
        self._held_told = False
        self._last_busy: HistoryBusy | None = None
        self._give_up_at: float | None = None  # closing: when to stop waiting for a held file
        self._thread = threading.Thread(target=self._run, name="history-writer", daemon=True)
        self._thread.start()

    def is_current(self) -> bool:
        return threading.get_ident() == self._thread.ident

    def submit(
        self, write: Callable[[], object], on_error: Callable[[AssistantError], None]
    ) -> None:
        with self._changed:
            if len(self._jobs) >= MAX_QUEUED:
                reason = self._last_busy.message if self._last_busy else "too many writes"
                raise AssistantError(
                    f"The conversation history fell too far behind, so the newest messages were "
                    f"not saved ({reason}) Close programs that may have the file open (a "
                    "database browser or a backup tool); the conversation goes on meanwhile."
                )
            self._jobs.append((write, on_error))
            self._changed.notify_all()

    def settle(self, timeout: float, while_held: bool) -> bool:
        """Wait up to `timeout` for the queue to empty; not while the file is held, unless
        `while_held`. True if it is empty."""
        if self.is_current():
            return not self._jobs
        deadline = time.monotonic() + timeout
        with self._changed:
            while self._jobs and (while_held or self._held_since is None):
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._changed.wait(left)
            return not self._jobs

    def close(self) -> None:
        with self._changed:
            self._give_up_at = time.monotonic() + self._close_wait
            self._changed.notify_all()
        self._thread.join(self._close_wait + 5.0)  # + the time a last write takes

    def _run(self) -> None:
        while True:
            with self._changed:
                while not self._jobs and self._give_up_at is None:
                    self._changed.wait()
                if not self._jobs:
                    return  # closed, and everything written
                write, on_error = self._jobs[0]
            if not self._do(write, on_error):
                self._drop_all()
                return
            with self._changed:
                self._jobs.popleft()
                self._changed.notify_all()

    def _do(self, write: Callable[[], object], on_error: Callable[[AssistantError], None]) -> bool:
        """One write, tried until it is done or has failed for good; False if the store is
        closing and the file is still held."""
        pause = _RETRY_FIRST
        while True:
            try:
                write()
            except HistoryBusy as busy:
                if not self._wait_after(busy, on_error, pause):
                    return False
                pause = min(pause * 2, _RETRY_MOST)
                continue
            except AssistantError as error:
                on_error(error)  # dropped: the recorder tells the user
            except Exception:  # a bug, not the disk: logged, and the writer goes on
                log.exception("a history write failed")
            self._free()
            return True

    def _wait_after(
        self, busy: HistoryBusy, on_error: Callable[[AssistantError], None], pause: float
    ) -> bool:
        now = time.monotonic()
        with self._changed:
            if self._held_since is None:
                self._held_since = now
                self._changed.notify_all()  # settle() stops waiting for a held writer
            self._last_busy = busy
            held_for, tell = now - self._held_since, not self._held_told
            if self._give_up_at is not None and now >= self._give_up_at:
                return False
        if tell and held_for >= self._lasting_after:
            self._held_told = True
            on_error(_held(self._path, held_for))
        with self._changed:
            self._changed.wait(pause)
        return True

    def _free(self) -> None:
        with self._changed:
            if self._held_since is not None:
                log.info("history: the file is free again; the waiting messages are saved")
            self._held_since, self._held_told = None, False
            self._changed.notify_all()

    def _drop_all(self) -> None:
        with self._changed:
            dropped = len(self._jobs)
            self._jobs.clear()
            self._changed.notify_all()
        reason = self._last_busy.message if self._last_busy else ""
        log.warning("history: %d writes not saved before closing: %s", dropped, reason)


class _Claim:
    """This store's claim on the replies it writes: a file locked for as long as the store is
    open (`flock` on POSIX; on Windows an open file cannot be deleted). The lock goes with the
    process, so a crash, even SIGKILL, lets go of it."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(mode=0o700, exist_ok=True)
        self.token = uuid.uuid4().hex
        self.path = folder / f"{self.token}.lock"
        self._descriptor: int | None = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
        if fcntl is not None:
            fcntl.flock(self._descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)

    def release(self) -> None:
        if self._descriptor is None:
            return
        os.close(self._descriptor)  # lets go of the lock
        self._descriptor = None
        with contextlib.suppress(OSError):
            self.path.unlink()


def _alive(folder: Path, token: str | None) -> bool:
    """Whether the store that claimed `token` is still open (in this process or another)."""
    if token is None or not _TOKEN.fullmatch(token):
        return False  # written by a version without claims, or nonsense: nobody to wait for
    path = folder / f"{token}.lock"
    if fcntl is None:  # Windows: the file of a running store is open, so it cannot be deleted
        try:
            path.unlink()
        except FileNotFoundError:
            return False
        except PermissionError:
            return True
        return False
    try:
        descriptor = os.open(path, os.O_RDWR)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(descriptor)  # and with it the lock just taken, if it was
    return False


def _sweep_claims(folder: Path, keep: str) -> None:
    """Claim files of stores that are gone (crashed): removed."""
    for path in folder.glob("*.lock"):
        token = path.stem
        if token != keep and _TOKEN.fullmatch(token) and not _alive(folder, token):
            with contextlib.suppress(OSError):
                path.unlink()


def _pieces(db: sqlite3.Connection, message_ids: list[int]) -> dict[int, str]:
    """The stored pieces of these messages, each message's joined in order (none: absent)."""
    joined: dict[int, list[str]] = {}
    for message_id in message_ids:
        rows = db.execute(
            "SELECT text FROM reply_pieces WHERE message_id = ? ORDER BY seq", (message_id,)
        ).fetchall()
        if rows:
            joined[message_id] = [row[0] for row in rows]
    return {message_id: "".join(parts) for message_id, parts in joined.items()}


@contextlib.contextmanager
def _transaction(db: sqlite3.Connection) -> Iterator[None]:
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
        db.execute("COMMIT")
    except BaseException:
        with contextlib.suppress(sqlite3.Error):
            db.execute("ROLLBACK")
        raise


def _open(path: Path, timeout: float) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    # Created private before SQLite opens it; SQLite gives its -wal and -shm files the same mode.
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        if os.name == "posix":
            os.fchmod(descriptor, 0o600)
    finally:
        os.close(descriptor)
    db = _connect(path, timeout)
    try:
        db.execute("PRAGMA journal_mode = WAL")
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version > _SCHEMA_VERSION:
            raise sqlite3.DatabaseError(f"made by a newer version (schema {version})")
        if version < _SCHEMA_VERSION or not _has_writer_column(db):
            # Only then does opening write (and wait for a program holding the file).
            db.executescript(_SCHEMA)
            _add_writer_column(db)
            db.execute(f"PRAGMA user_version = {_SCHEMA_VERSION}")
    except BaseException:
        db.close()
        raise
    return db


def _connect(path: Path, timeout: float, any_thread: bool = False) -> sqlite3.Connection:
    # isolation_level=None: every statement commits at once unless inside BEGIN ... COMMIT.
    db = sqlite3.connect(
        path, isolation_level=None, timeout=timeout, check_same_thread=not any_thread
    )
    try:
        db.execute("PRAGMA synchronous = NORMAL")
        db.execute("PRAGMA foreign_keys = ON")
        db.execute("PRAGMA secure_delete = ON")  # deleted conversations are overwritten
    except BaseException:
        db.close()
        raise
    return db


def _has_writer_column(db: sqlite3.Connection) -> bool:
    return "writer" in {row[1] for row in db.execute("PRAGMA table_info(messages)")}


def _add_writer_column(db: sqlite3.Connection) -> None:
    """A file made before claims existed gets the column (an older version still reads it)."""
    if not _has_writer_column(db):
        try:
            db.execute("ALTER TABLE messages ADD COLUMN writer TEXT")
        except sqlite3.OperationalError as exc:  # another copy added it just now
            if "duplicate column" not in str(exc):
                raise


def _row_id(cursor: sqlite3.Cursor) -> int:
    assert cursor.lastrowid is not None
    return cursor.lastrowid


def _is_busy(exc: sqlite3.Error) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    if isinstance(code, int):
        return code & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
    return "locked" in str(exc) or "busy" in str(exc)


def _failure(done: str, path: Path, exc: sqlite3.Error | OSError) -> AssistantError:
    reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    if isinstance(exc, sqlite3.Error) and _is_busy(exc):
        return HistoryBusy(
            f"The conversation history could not be {done} ({reason}; file {path}): another "
            "program is using the file. Close programs that may have it open (a database "
            "browser or a backup tool) and try again; the conversation goes on meanwhile."
        )
    return AssistantError(
        f"The conversation history could not be {done} ({reason}; file {path}). Check that the "
        "disk has free space and the file is yours; the conversation goes on meanwhile."
    )


def _held(path: Path, seconds: float) -> HistoryBusy:
    return HistoryBusy(
        f"The conversation history could not be saved for {seconds:.0f} s (database is locked; "
        f"file {path}): another program is using the file. What is said meanwhile is kept and "
        "saved once the file is free; close programs that may have it open (a database browser "
        "or a backup tool)."
    )


__all__ = ["FILE_NAME", "SqliteHistory", "default_history_path"]
