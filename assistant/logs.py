"""Logging for the whole app: every log record has the user's secrets masked before any handler
sees it, and the window keeps a small rotating log file, readable by the user only.

`protect(...)` registers secrets (the providers and `build_services` call it with every key they
are given); `configure(...)` sets up stderr and the log file and installs the masking.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import threading
from collections.abc import Callable
from io import TextIOWrapper
from logging.handlers import RotatingFileHandler
from pathlib import Path
from typing import Any, Final

MASK: Final = "***"
LOG_FILE_NAME: Final = "assistant.log"
LOG_FILE_BYTES: Final = 1_000_000  # then it rotates, keeping LOG_FILE_BACKUPS older files
LOG_FILE_BACKUPS: Final = 2
FORMAT: Final = "%(asctime)s %(levelname)s %(name)s: %(message)s"

# Credentials recognised by their shape, configured or not. Each pattern's first group is kept,
# the second masked: header values (in a debug line, a repr of headers, an HPACK table entry)
# and bearer tokens, including Volcano's "Bearer;token" form; and encoded HTTP/2 header blocks.
_SHAPES: Final = (
    re.compile(
        r"(?i)(\b(?:proxy-)?authorization|\bx-api-access-key|\bx-api-key|\bapi-key)"
        r"(['\"]?\s*[:=,]\s*b?['\"]?)([^'\"\r\n]+)"
    ),
    re.compile(r"(?i)(\bbearer)(\s*;\s*|\s+)([^\s'\",;)\]}]+)"),
    re.compile(
        r"(?i)(\b(?:access_token|api_key|apikey|access_key|token|secret|password))"
        r"(['\"]?\s*[:=]\s*['\"]?)([^\s'\",;)\]}]+)"
    ),
    # hpack's debug line shows a whole HTTP/2 header block, Huffman-coded but not hidden.
    re.compile(r"(?i)(encoded header block to)(\s+)(.+)"),
)


class SecretRedactor:
    """Masks registered secrets and credential-shaped text. Thread-safe: logging happens on
    worker threads too."""

    def __init__(self) -> None:
        self._secrets: tuple[str, ...] = ()
        self._lock = threading.Lock()

    def add(self, *secrets: str | None) -> None:
        with self._lock:
            known = set(self._secrets)
            known.update(s.strip() for s in secrets if s and s.strip())
            # Longest first: a secret containing another is masked whole.
            self._secrets = tuple(sorted(known, key=len, reverse=True))

    def clear(self) -> None:
        with self._lock:
            self._secrets = ()

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, MASK)
        for shape in _SHAPES:
            text = shape.sub(_keep_name, text)
        return text

    def redact_record(self, record: logging.LogRecord) -> None:
        """Replace the record's message, exception text and stack with masked text, once."""
        try:
            message = record.getMessage()
        except Exception:  # arguments that do not fit the format: log what there is
            message = f"{record.msg} {record.args!r}"
        record.msg, record.args = self.redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = _FORMATTER.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)


def _keep_name(match: re.Match[str]) -> str:
    return f"{match.group(1)}{match.group(2)}{MASK}"


_FORMATTER: Final = logging.Formatter()
REDACTOR: Final = SecretRedactor()


def protect(*secrets: str | None) -> None:
    """Never let these appear in a log record (None and blanks are ignored)."""
    REDACTOR.add(*secrets)
    install()


def redact(text: str) -> str:
    """`text` with every protected secret and credential-shaped value masked."""
    return REDACTOR.redact(text)


class RedactingFilter(logging.Filter):
    """A handler filter that masks secrets at the moment a record is written (for records that
    did not pass through the logging module's record factory)."""

    def filter(self, record: logging.LogRecord) -> bool:
        REDACTOR.redact_record(record)
        return True


_install_lock = threading.Lock()
_installed: Callable[..., logging.LogRecord] | None = None


def install() -> None:
    """Mask secrets in every record as it is made, whichever handler writes it later (stderr,
    the log file, a test's capture). Idempotent."""
    global _installed
    with _install_lock:
        if _installed is not None and logging.getLogRecordFactory() is _installed:
            return
        make = logging.getLogRecordFactory()

        def redacting_factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            record = make(*args, **kwargs)
            REDACTOR.redact_record(record)
            return record

        logging.setLogRecordFactory(redacting_factory)
        _installed = redacting_factory


def default_log_file() -> Path:
    """The window's log file, e.g. ~/.local/state/voice-assistant/log/assistant.log on Linux."""
    import platformdirs

    return Path(platformdirs.user_log_dir("voice-assistant", appauthor=False)) / LOG_FILE_NAME


class PrivateRotatingFileHandler(RotatingFileHandler):
    """A rotating log file created readable and writable by its owner only (0600 on POSIX)."""

    def _open(self) -> TextIOWrapper:
        descriptor = os.open(self.baseFilename, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        if os.name == "posix":
            os.fchmod(descriptor, 0o600)  # a file left by an older version may be wider open
        return open(descriptor, "a", encoding=self.encoding, errors=self.errors)


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to its own copy of the stderr descriptor: the audio code points descriptor 2 at
    /dev/null while PortAudio scans the devices (to hide ALSA's noise), and the app's own lines
    written meanwhile, from the event loop, must not vanish with it."""

    def __init__(self) -> None:
        try:
            sys.stderr.flush()
            # The handler owns this file and closes it in close().
            stream = open(os.dup(sys.stderr.fileno()), "w", encoding="utf-8", errors="replace")  # noqa: SIM115
        except (OSError, ValueError, AttributeError):  # no real descriptor (a test's capture)
            stream = None
        self._own = stream is not None
        super().__init__(stream or sys.stderr)

    def close(self) -> None:
        super().close()
        if self._own:
            self.stream.close()


def configure(
    verbosity: int = 0, *, log_file: Path | None = None, quiet_stderr: bool = False
) -> None:
    """Log warnings (`verbosity` 1: what happens, 2: every library's debug lines) to stderr, and,
    if given, INFO and up (DEBUG at verbosity 2) to a small rotating `log_file`.

    `quiet_stderr`: at verbosity 0, nothing is logged to stderr. For a command that tells the
    user every outcome in its own words (the CLI's result, notices and errors), a log line would
    only say the same thing a second time, with a time stamp and a module name around it.
    """
    install()
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_assistant", False):
            root.removeHandler(handler)
            handler.close()
    stderr_level = {0: logging.WARNING, 1: logging.INFO}.get(verbosity, logging.DEBUG)
    levels = [logging.WARNING]
    if sys.stderr is not None and not (quiet_stderr and verbosity == 0):  # None: a Windows GUI
        _add(root, _StderrHandler(), stderr_level)
        levels.append(stderr_level)
    if log_file is not None:
        file_level = logging.DEBUG if verbosity >= 2 else logging.INFO
        try:
            log_file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            handler = PrivateRotatingFileHandler(
                log_file, maxBytes=LOG_FILE_BYTES, backupCount=LOG_FILE_BACKUPS, encoding="utf-8"
            )
        except OSError as exc:
            logging.getLogger(__name__).warning(
                "The log file %s could not be opened (%s); logging to stderr only.",
                log_file,
                exc.strerror or exc,
            )
        else:
            _add(root, handler, file_level)
            levels.append(file_level)
    root.setLevel(min(levels))


def _add(root: logging.Logger, handler: logging.Handler, level: int) -> None:
    handler.setLevel(level)
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.addFilter(RedactingFilter())
    handler._assistant = True  # type: ignore[attr-defined]  # ours, replaced on reconfigure
    root.addHandler(handler)


__all__ = [
    "MASK",
    "REDACTOR",
    "PrivateRotatingFileHandler",
    "RedactingFilter",
    "SecretRedactor",
    "configure",
    "default_log_file",
    "install",
    "protect",
    "redact",
]
