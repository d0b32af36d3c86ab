"""The multilingual base inside the installed app: the bundle carries it joined (the spec joins it
at build time), and `multilingual_base` uses that copy as it is, checked against its pins, instead
of joining another 145 MB into the user's model folder. A damaged copy is refused, naming
the fix."""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.core.errors import ModelError
from assistant.providers.whisper_models import (
    BASE,
    BUNDLED_BASE_FOLDER,
    base_sources,
    bundled_base_folder,
    join_base,
    multilingual_base,
)


@pytest.fixture
def bundle(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A bundle's _internal folder holding the joined base, as PyInstaller's bootloader announces
    it (sys._MEIPASS); the two packages stay installed, as they are not in a real bundle's way."""
    internal = tmp_path / "_internal"
    join_base(base_sources(), internal / BUNDLED_BASE_FOLDER)
    monkeypatch.setattr(sys, "_MEIPASS", str(internal), raising=False)
    yield internal
    shutil.rmtree(tmp_path, ignore_errors=True)  # 145 MB: pytest would keep it for three runs


def test_outside_a_bundle_there_is_no_bundled_base() -> None:
    assert not hasattr(sys, "_MEIPASS")
    assert bundled_base_folder() is None


def test_the_installed_app_uses_the_base_it_carries(bundle: Path, tmp_path: Path) -> None:
    models = tmp_path / "cache" / "models"

    folder = multilingual_base(models)

    assert folder == bundle / "resources" / "models" / "whisper-base"
    assert not (models / BASE.name).exists(), "the base was joined again into the user's folder"
    stamp = json.loads((models / ".verified" / "base.json").read_text())
    assert stamp["folder"] == str(folder.resolve())
    assert sorted(stamp["files"]) == sorted(f.name for f in BASE.files)


def test_a_damaged_base_in_the_bundle_is_refused_with_the_fix(bundle: Path, tmp_path: Path) -> None:
    model = bundle / BUNDLED_BASE_FOLDER / "model.bin"
    with model.open("r+b") as file:  # same size: only the checksum can tell
        file.seek(50_000_000)
        byte = file.read(1)
        file.seek(50_000_000)
        file.write(bytes([byte[0] ^ 0xFF]))

    with pytest.raises(ModelError) as damaged:
        multilingual_base(tmp_path / "models", recheck=True)

    message = damaged.value.message
    assert str(model.parent) in message and "does not match its checksum" in message
    assert "Reinstall the assistant" in message
