"""`make bundle` takes the debugging sections out of the bundle's libraries (nothing reads them at
run time), but only where that leaves what the loader reads untouched: a library built with debug
information loses it and still loads and runs; a file that patchelf rewrote (a wheel repaired by
auditwheel, here PyAV's) is left byte for byte as it was."""

from __future__ import annotations

import ctypes
import shutil
import subprocess
from pathlib import Path

import av

from tests.packaging.test_bundle import build_linux


def debug_sections(path: Path) -> list[str]:
    headers = subprocess.run(
        ["readelf", "--section-headers", "--wide", str(path)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [word for word in headers.split() if word.startswith(".debug_")]


def test_debug_information_is_removed_and_the_library_still_runs(tmp_path: Path) -> None:
    source = tmp_path / "answer.c"
    source.write_text("int answer(int x) { return 6 * x; }\n")
    library = tmp_path / "bundle" / "_internal" / "libanswer.so"
    library.parent.mkdir(parents=True)
    subprocess.run(
        ["gcc", "-g", "-O1", "-shared", "-fPIC", "-o", str(library), str(source)], check=True
    )
    size = library.stat().st_size
    assert debug_sections(library)

    saved = build_linux.strip_debug_info(tmp_path / "bundle")

    assert saved == size - library.stat().st_size > 0
    assert debug_sections(library) == []
    assert ctypes.CDLL(str(library)).answer(7) == 42
    assert sorted(p.name for p in library.parent.iterdir()) == ["libanswer.so"]


def test_a_library_patchelf_rewrote_is_left_alone(tmp_path: Path) -> None:
    extension = next(Path(av.__file__).parent.glob("error*.so"))
    copy = tmp_path / "bundle" / "_internal" / "av" / extension.name
    copy.parent.mkdir(parents=True)
    shutil.copyfile(extension, copy)
    assert debug_sections(copy)  # PyAV's wheel ships them

    saved = build_linux.strip_debug_info(tmp_path / "bundle")

    assert saved == 0
    assert copy.read_bytes() == extension.read_bytes()
    assert sorted(p.name for p in copy.parent.iterdir()) == [extension.name]
