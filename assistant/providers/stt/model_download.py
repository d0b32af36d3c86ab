"""Download Whisper models by size name (tiny.en, base, small...) from the Hugging Face hub or a
mirror of it, through the app-wide HTTP client: with progress, checksums, and an atomic move into
place, so that a half-finished or damaged download never looks like a model.

Why one file (over 450 lines): listing, fetching, checking and moving into place are one
transaction over one temporary folder, and its clean-up on every kind of failure is easiest to
check when all its steps are read together.
"""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
import glob
import hashlib
import json
import os
import re
import shutil
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import aclosing, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import quote, urlsplit

import httpx
from h2.exceptions import H2Error

from assistant.config.places import user_cache_dir
from assistant.core.endpoints import check_endpoint
from assistant.core.errors import EndpointError, ModelError, ModelMissing
from assistant.core.protocols import LoadProgress, ProgressListener
from assistant.providers.http import body_within, download_failure

MODEL_FILE = "model.bin"
# What faster-whisper itself fetches of a model repository; the rest (README, .gitattributes) is
# not needed to run it.
WANTED_FILES = (
    "config.json",
    "preprocessor_config.json",
    MODEL_FILE,
    "tokenizer.json",
    "vocabulary.*",
)
MAX_REDIRECTS = 5
MAX_LISTING_BYTES = 4_000_000  # a listing of a Whisper repository is a few kB
PROGRESS_EVERY = 0.1  # seconds: about ten updates a second are enough for a progress bar
STALE_PARTIAL_SECONDS = 3600.0  # a partial download nobody wrote to for this long was abandoned
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_COMMIT = re.compile(r"[0-9a-f]{40}")
_SHA256 = re.compile(r"[0-9a-f]{64}")
_PARTIAL = ".partial-"  # marks a folder being downloaded: models_dir/.<name>.partial-XXXX


def size_names() -> list[str]:
    """The Whisper size names faster-whisper knows (tiny.en, base, ..., large-v3, turbo).
    The first call imports faster-whisper, which takes a moment: call it off the event loop."""
    from faster_whisper.utils import available_models

    names: list[str] = available_models()
    return names


def repo_of(name: str) -> str:
    """The hub repository (e.g. "Systran/faster-whisper-base.en") holding Whisper model `name`."""
    from faster_whisper import utils

    table = getattr(utils, "_MODELS", None)  # private to faster-whisper, so it may change
    if not isinstance(table, dict):
        raise ModelError(
            "This version of faster-whisper does not say where its models are downloaded from, "
            "so models cannot be downloaded by name. Choose a folder with a Whisper model in "
            f"CTranslate2 format ({MODEL_FILE}) in Settings > Speech recognition."
        )
    repo = table.get(name)
    if not isinstance(repo, str):
        raise ModelError(
            f"'{name}' is not a Whisper model name. Use one of {', '.join(sorted(table))}, "
            f"or choose a folder with a Whisper model in CTranslate2 format ({MODEL_FILE})."
        )
    return repo


def default_models_dir() -> Path:
    """Where Whisper models downloaded by size name are kept."""
    return user_cache_dir() / "models"


def is_downloaded(name: str, models_dir: Path) -> bool:
    """Whether model `name` was downloaded into `models_dir` (a folder appears only when whole)."""
    return (models_dir / name / MODEL_FILE).is_file()


async def download_model(
    client: httpx.AsyncClient,
    name: str,
    models_dir: Path,
    *,
    hub_url: str,
    progress: ProgressListener | None = None,
) -> Path:
    """Download Whisper model `name` into `models_dir/<name>` and return that folder.

    Raises ModelMissing when the hub cannot be reached or has no such model, and ModelError when
    the download arrived damaged or could not be saved. Cancelling leaves nothing behind.
    """
    hub = _checked_hub(hub_url, name)
    if progress is not None:
        progress(LoadProgress(f"Downloading the speech model {name}…"))
    repo = await asyncio.to_thread(repo_of, name)  # may import faster-whisper: not on the loop
    with _disk_errors(name, models_dir):
        # Made here, not in a thread: a cancellation must find it to clean it up.
        partial = _new_partial_folder(name, models_dir)
    try:
        with _disk_errors(name, models_dir), _network_errors(name, hub):
            listing = await _list_files(client, hub, repo, name)
            meter = _Meter(name, sum(file.size for file in listing.files), progress)
            for file in listing.files:
                url = f"{hub}/{repo}/resolve/{listing.commit}/{quote(file.name)}"
                await _fetch(client, url, file, partial / file.name, meter, name)
            folder = _move_into_place(partial, models_dir / name)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    meter.finish()
    return folder


# --- what the hub holds ------------------------------------------------------------------------


@dataclass(frozen=True)
class _RemoteFile:
    name: str
    size: int
    sha256: str | None  # of the content, for files kept in Git LFS (model.bin)
    blob_id: str | None  # git's object id of the content, for files kept in git itself


@dataclass(frozen=True)
class _Listing:
    commit: str  # every file is fetched at this commit, so they all belong together
    files: list[_RemoteFile]


async def _list_files(client: httpx.AsyncClient, hub: str, repo: str, name: str) -> _Listing:
    url = f"{hub}/api/models/{repo}/revision/main?blobs=true"
    async with _followed(client, url, name, "the list of the model's files") as response:
        raw = await _read_at_most(response, MAX_LISTING_BYTES, name)
    try:
        payload = json.loads(raw)
    except ValueError:
        payload = None
    return _parse_listing(payload, name)


def _parse_listing(payload: Any, name: str) -> _Listing:
    def not_understood(why: str) -> ModelMissing:
        return _missing(
            name,
            f"the model hub's list of files was not understood: {why}; is [stt] hub_url "
            "a Hugging Face hub or a mirror of it?",
        )

    if not isinstance(payload, dict):
        raise not_understood("it is not a JSON object")
    commit, siblings = payload.get("sha"), payload.get("siblings")
    if not isinstance(commit, str) or not _COMMIT.fullmatch(commit):
        raise not_understood("it names no commit")
    if not isinstance(siblings, list):
        raise not_understood("it lists no files")
    files = [_remote_file(entry) for entry in siblings if _is_wanted(entry)]
    if any(file is None for file in files):
        raise not_understood("a file has no size or checksum")
    found = [file for file in files if file is not None]
    if not any(file.name == MODEL_FILE for file in found):
        raise _missing(name, f"the model hub's copy of it has no {MODEL_FILE}")
    return _Listing(commit, found)


def _is_wanted(entry: Any) -> bool:
    filename = entry.get("rfilename") if isinstance(entry, dict) else None
    if not isinstance(filename, str) or "/" in filename or "\\" in filename:
        return False  # only files at the top of the repository: nothing can land elsewhere
    return any(fnmatch.fnmatchcase(filename, pattern) for pattern in WANTED_FILES)


def _remote_file(entry: dict[str, Any]) -> _RemoteFile | None:
    size, lfs, blob_id = entry.get("size"), entry.get("lfs"), entry.get("blobId")
    if isinstance(lfs, dict):
        size, sha256 = lfs.get("size"), lfs.get("sha256")
        if not isinstance(sha256, str) or not _SHA256.fullmatch(sha256):
            return None
        blob_id = None  # the id of the LFS pointer, not of the content
    else:
        sha256 = None
        blob_id = blob_id if isinstance(blob_id, str) and _COMMIT.fullmatch(blob_id) else None
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        return None
    return _RemoteFile(entry["rfilename"], size, sha256, blob_id)


# --- fetching ----------------------------------------------------------------------------------


@asynccontextmanager
async def _followed(
    client: httpx.AsyncClient, url: str, name: str, what: str
) -> AsyncIterator[httpx.Response]:
    """GET `url`, following the hub's redirects (to its CDN) ourselves: the app-wide client never
    does, and each new address must pass the endpoint policy first."""
    for _ in range(MAX_REDIRECTS + 1):
        async with client.stream("GET", url) as response:
            if response.status_code in _REDIRECTS:
                url = _next_address(response, name, what)
                continue
            _check_status(response, name, what)
            yield response
            return
    raise _missing(name, f"the model hub redirected {what} more than {MAX_REDIRECTS} times")


def _next_address(response: httpx.Response, name: str, what: str) -> str:
    location = response.headers.get("location", "").strip()
    if not location:
        raise _missing(name, f"the model hub redirected {what} without saying where to")
    target = response.url.join(location)
    shown = str(target.copy_with(query=None, fragment=None))  # the query holds a signature
    try:
        check_endpoint(shown, "download address")
    except EndpointError:
        raise _missing(
            name,
            f"the model hub sent {what} to '{shown}', which was refused: downloads must "
            "use https (plain http only on this computer)",
        ) from None
    return str(target)


def _check_status(response: httpx.Response, name: str, what: str) -> None:
    status = response.status_code
    if 200 <= status < 300:
        return
    host = response.url.host
    if status == 404:
        raise _missing(name, f"{host} answered 404 (not found) for {what}")
    if status in (401, 403):
        raise _missing(name, f"{host} refused access to {what} ({status})")
    if status == 429:
        raise _missing(name, f"{host} is busy (429 too many requests)")
    if status >= 500:
        raise _missing(name, f"{host} had a server error ({status})")
    raise _missing(name, f"{host} answered {status} for {what}")


async def _read_at_most(response: httpx.Response, limit: int, name: str) -> bytes:
    received = bytearray()
    async with aclosing(body_within(response, None)) as body:
        async for chunk in body:
            received += chunk
            if len(received) > limit:
                raise _missing(name, "the model hub's list of files is far too long")
    return bytes(received)


async def _fetch(
    client: httpx.AsyncClient,
    url: str,
    file: _RemoteFile,
    target: Path,
    meter: _Meter,
    name: str,
) -> None:
    check = _Checksum(file)
    received = 0
    async with _followed(client, url, name, file.name) as response:
        with target.open("wb") as out:
            async with aclosing(body_within(response, None)) as body:
                async for chunk in body:
                    received += len(chunk)
                    if received > file.size:  # never read past what the listing promised
                        raise _damaged(name, f"{file.name} is larger than the hub said")
                    out.write(chunk)
                    check.update(chunk)
                    meter.add(len(chunk))
            if received < file.size:
                raise _damaged(name, f"{file.name} arrived incomplete")
            await asyncio.to_thread(_flush_to_disk, out)
    if not check.matches():
        raise _damaged(name, f"the checksum of {file.name} does not match")


class _Checksum:
    """The hub's own checksum of a file: sha256 for LFS files, git's blob id for the others."""

    def __init__(self, file: _RemoteFile) -> None:
        self.expected = file.sha256 or file.blob_id
        if file.sha256 is not None:
            self.hash = hashlib.sha256()
        else:
            self.hash = hashlib.sha1(f"blob {file.size}\0".encode(), usedforsecurity=False)

    def update(self, chunk: bytes) -> None:
        if self.expected is not None:
            self.hash.update(chunk)

    def matches(self) -> bool:
        return self.expected is None or self.hash.hexdigest() == self.expected


class _Meter:
    """Turns bytes received into progress a person can read, about ten times a second."""

    def __init__(self, name: str, total: int, listener: ProgressListener | None) -> None:
        self.name = name
        self.total = total
        self.done = 0
        self.listener = listener
        self.said_at = time.monotonic()
        self._say()

    def add(self, count: int) -> None:
        self.done += count
        if time.monotonic() - self.said_at >= PROGRESS_EVERY:
            self._say()

    def finish(self) -> None:
        self.done = self.total
        self._say()

    def _say(self) -> None:
        self.said_at = time.monotonic()
        if self.listener is None:
            return
        fraction = self.done / self.total if self.total else 1.0
        text = (
            f"Downloading the speech model {self.name}: "
            f"{_megabytes(self.done)} of {_megabytes(self.total)} MB"
        )
        self.listener(LoadProgress(text, fraction))


def _megabytes(count: int) -> str:
    return f"{count / 1e6:.0f}"


# --- the folder --------------------------------------------------------------------------------


def _flush_to_disk(out: BinaryIO) -> None:
    out.flush()
    os.fsync(out.fileno())  # before the move into place: a crash must not leave a hollow model


def _new_partial_folder(name: str, models_dir: Path) -> Path:
    """An empty hidden folder beside where the model will be, to download into."""
    models_dir.mkdir(parents=True, exist_ok=True)
    _remove_abandoned_partials(name, models_dir)
    return Path(tempfile.mkdtemp(dir=models_dir, prefix=f".{name}{_PARTIAL}"))


def _move_into_place(partial: Path, folder: Path) -> Path:
    if folder.exists():
        if is_downloaded(folder.name, folder.parent):
            shutil.rmtree(partial)  # another download finished first: keep that one
            return folder
        _remove(folder)  # what is there is not a model (a folder emptied by hand, say)
    os.replace(partial, folder)  # atomic: the model appears whole or not at all
    return folder


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink()


def _remove_abandoned_partials(name: str, models_dir: Path) -> None:
    """Partial downloads of `name` that a crash or a killed app left behind."""
    now = time.time()
    for partial in models_dir.glob(f".{glob.escape(name)}{_PARTIAL}*"):
        with contextlib.suppress(OSError):
            newest = max([partial.stat().st_mtime] + [p.stat().st_mtime for p in partial.iterdir()])
            if now - newest > STALE_PARTIAL_SECONDS:
                shutil.rmtree(partial, ignore_errors=True)


# --- errors in the user's words ----------------------------------------------------------------


def _checked_hub(hub_url: str, name: str) -> str:
    try:
        return check_endpoint(hub_url, "[stt] hub_url")
    except EndpointError as exc:
        raise ModelMissing(
            f"The speech model '{name}' is not on this computer and cannot be downloaded: "
            f"{exc.message}",
            model=name,
        ) from None


def _missing(name: str, reason: str) -> ModelMissing:
    return ModelMissing(
        f"The speech model '{name}' is not on this computer and could not be downloaded "
        f"({reason}). Check the internet connection and try again, or choose a folder with a "
        f"Whisper model in CTranslate2 format ({MODEL_FILE}) in Settings > Speech recognition.",
        model=name,
    )


def _damaged(name: str, reason: str) -> ModelError:
    return ModelError(
        f"The download of the speech model '{name}' was damaged ({reason}), so it was thrown "
        "away. Try again."
    )


@contextlib.contextmanager
def _network_errors(name: str, hub: str) -> Iterator[None]:
    """httpx's exceptions, said as what they mean to the user."""
    host = urlsplit(hub).hostname or hub
    try:
        yield
    except (httpx.HTTPError, H2Error) as exc:
        failure = download_failure(exc, f"the model hub {host}")
        if failure is None:
            raise
        reason, broke_off = failure
        raise (_damaged if broke_off else _missing)(name, reason) from exc


@contextlib.contextmanager
def _disk_errors(name: str, models_dir: Path) -> Iterator[None]:
    try:
        yield
    except OSError as exc:
        raise ModelError(
            f"The speech model '{name}' could not be saved in {models_dir} "
            f"({exc.strerror or exc}). Free some disk space, or make that folder writable, and "
            "try again."
        ) from exc


__all__ = [
    "MODEL_FILE",
    "default_models_dir",
    "download_model",
    "is_downloaded",
    "repo_of",
    "size_names",
]
