"""Turn the PyInstaller bundle into what Linux users install: a .deb (the bundle under /opt, a
launcher on the PATH, the menu entry and icons in the standard places) and a plain tarball.

The .deb's Depends are found, not guessed: every shared library that a file of the bundle links
(ELF NEEDED entries, read with readelf) and that the bundle does not carry is looked up on this
machine (ldconfig), then its owning package (dpkg-query -S) and that package's shlibs version.

Run with the build environment's Python (packaging/build.sh does).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tarfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESOURCES = ROOT / "resources"
PACKAGE = "voice-assistant"
INSTALL_DIR = Path("opt") / PACKAGE
ICON_SIZES = (16, 22, 24, 32, 48, 64, 128, 256, 512)
LICENCE_LIST = "THIRD-PARTY-LICENSES.txt"  # written into the bundle by the spec
MAINTAINER = os.environ.get(
    "DEB_MAINTAINER", "Voice Assistant maintainers <maintainers@voice-assistant.invalid>"
)
SUMMARY = "desktop voice assistant: hold to talk, hear the answer"
DESCRIPTION = """\
Hold the Talk button, speak, let go: your words are transcribed on this computer
(Whisper), a language model of your choice answers, and the answer is spoken
sentence by sentence while the rest is still being written. Speech recognition
and an offline voice (Piper) are included and work without a network."""
DEB_COMPRESSION = os.environ.get("DEB_COMPRESSION", "zstd:9")
# libasound2-plugins routes PortAudio's ALSA output to PulseAudio or PipeWire; a CJK font shows
# the Simplified Chinese window (and Chinese replies) in characters rather than boxes.
RECOMMENDS = "libasound2-plugins, fonts-noto-cjk | fonts-wqy-microhei"
LAUNCHER = f"""\
#!/bin/sh
# Starts the Voice Assistant installed under /{INSTALL_DIR}.
exec /{INSTALL_DIR}/{PACKAGE} "$@"
"""
_NEEDED = re.compile(r"\(NEEDED\)\s+Shared library: \[(.+?)\]")


class BuildError(Exception):
    """The bundle cannot be packaged as it is; the message says why."""


# --- versions ---------------------------------------------------------------------------------


def app_version() -> str:
    return metadata.version(PACKAGE)


def debian_version(version: str) -> str:
    """PEP 440 pre-releases sort before the release in Debian only with a tilde (1.0~rc1)."""
    return re.sub(r"(?<=\d)\.?(a|b|rc|dev)(?=\d)", r"~\1", version)


def debian_architecture() -> str:
    return _run(["dpkg", "--print-architecture"]).strip()


# --- what the bundle links that it does not carry -------------------------------------------


def elf_files(bundle: Path) -> Iterator[Path]:
    for path in sorted(bundle.rglob("*")):
        if path.is_file() and not path.is_symlink():
            with path.open("rb") as file:
                if file.read(4) == b"\x7fELF":
                    yield path


def strip_debug_info(bundle: Path) -> int:
    """Take the debugging sections (DWARF) out of the libraries in the bundle's `_internal`: nothing
    reads them at run time, and the Python the bundle was built with carries 26 MB of them. A file
    is replaced only when `strip --strip-debug` left what the loader reads (the program headers and
    the dynamic section) exactly as it was: in files that patchelf rewrote (auditwheel's, such as
    CTranslate2's and PyAV's extensions) strip moves segments, so those are left alone, and so is
    the executable, whose appended archive strip would drop. Returns the bytes saved."""
    saved = 0
    for path in elf_files(bundle / "_internal"):
        if ".debug_" not in _run(["readelf", "--section-headers", "--wide", str(path)]):
            continue
        stripped = path.with_name(f".{path.name}.stripped")
        _run(["strip", "--strip-debug", "-o", str(stripped), str(path)])
        if _loaded_layout(stripped) == _loaded_layout(path):
            saved += path.stat().st_size - stripped.stat().st_size
            shutil.copymode(path, stripped)
            os.replace(stripped, path)
        else:
            stripped.unlink()
    return saved


def _loaded_layout(path: Path) -> tuple[str, str]:
    return (
        _run(["readelf", "--program-headers", "--wide", str(path)]),
        _run(["readelf", "--dynamic", "--wide", str(path)]),
    )


def needed_libraries(path: Path) -> list[str]:
    return _NEEDED.findall(_run(["readelf", "--dynamic", "--wide", str(path)]))


def missing_libraries(bundle: Path) -> dict[str, list[str]]:
    """Sonames the bundle's files link but the bundle does not contain, and who links each."""
    carried = {path.name for path in bundle.rglob("*.so*")}
    missing: dict[str, list[str]] = {}
    for path in elf_files(bundle):
        for soname in needed_libraries(path):
            if soname not in carried:
                missing.setdefault(soname, []).append(str(path.relative_to(bundle)))
    return missing


def system_library_paths(machine: int) -> dict[str, str]:
    """soname -> path from the dynamic linker's cache, for ELF `machine` (no 32-bit look-alikes)."""
    paths: dict[str, str] = {}
    for line in _run(["ldconfig", "-p"]).splitlines()[1:]:
        match = re.match(r"\s*(\S+) \(.*?\) => (\S+)", line)
        if match and match.group(1) not in paths and elf_machine(Path(match.group(2))) == machine:
            paths[match.group(1)] = match.group(2)
    return paths


def elf_machine(path: Path) -> int | None:
    """The e_machine field of an ELF header (62 for x86-64), or None if `path` is not ELF."""
    try:
        with path.open("rb") as file:
            header = file.read(20)
    except OSError:
        return None
    if len(header) < 20 or header[:4] != b"\x7fELF":
        return None
    return int.from_bytes(header[18:20], "little" if header[5] == 1 else "big")


@dataclass(frozen=True)
class Dependency:
    package: str
    minimum: str | None  # a Debian version, from the package's shlibs file

    def __str__(self) -> str:
        return f"{self.package} (>= {self.minimum})" if self.minimum else self.package


def debian_dependencies(missing: dict[str, list[str]], machine: int) -> list[Dependency]:
    """The packages that provide `missing`; raises BuildError naming any that none provides."""
    paths = system_library_paths(machine)
    found: dict[str, Dependency] = {}
    unresolved = []
    for soname, users in sorted(missing.items()):
        path = paths.get(soname)
        package = _owner(path) if path else None
        if package is None:
            unresolved.append(f"{soname} (needed by {', '.join(users[:3])})")
            continue
        dependency = Dependency(package, _shlibs_minimum(package, soname))
        found[package] = _stricter(found.get(package), dependency)
    if unresolved:
        raise BuildError(
            "No installed Debian package provides these libraries, so the .deb cannot depend on "
            "them:\n  " + "\n  ".join(unresolved) + "\nInstall the packages that provide them "
            "(scripts/setup.sh lists the build machine's packages), or stop bundling what needs "
            "them (packaging/voice-assistant.spec)."
        )
    return sorted(found.values(), key=lambda d: d.package)


def _owner(path: str) -> str | None:
    real = os.path.realpath(path)
    for candidate in dict.fromkeys([path, real, *_usr_variants(path), *_usr_variants(real)]):
        result = subprocess.run(
            ["dpkg-query", "-S", candidate], capture_output=True, text=True, timeout=30, check=False
        )
        if result.returncode == 0:
            return result.stdout.split(":", 1)[0].split(",")[0].strip()
    return None


def _usr_variants(path: str) -> list[str]:
    return [path[4:]] if path.startswith("/usr/") else ["/usr" + path]


def _shlibs_minimum(package: str, soname: str) -> str | None:
    """The minimum version the package's shlibs file asks of dependents, e.g. libc6 (>= 2.36)."""
    match = re.match(r"(.+)\.so\.(.+)$", soname)
    if not match:
        return None
    name, soversion = match.groups()
    result = subprocess.run(
        ["dpkg-query", "--control-show", package, "shlibs"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    for line in result.stdout.splitlines():
        fields = line.split(None, 2)
        if fields[:2] == [name, soversion] and len(fields) == 3:
            version = re.search(r"\(>=\s*([^)]+)\)", fields[2])
            return version.group(1).strip() if version else None
    return None


def _stricter(old: Dependency | None, new: Dependency) -> Dependency:
    if old is None or old.minimum is None:
        return new
    if new.minimum is None:
        return old
    newer = subprocess.run(["dpkg", "--compare-versions", new.minimum, "gt", old.minimum])
    return new if newer.returncode == 0 else old


# --- the .deb ---------------------------------------------------------------------------------


def stage_deb(bundle: Path, staging: Path, version: str, depends: Iterable[Dependency]) -> Path:
    """Lay out the package's files and its control file under `staging`."""
    if staging.exists():
        shutil.rmtree(staging)
    shutil.copytree(bundle, staging / INSTALL_DIR, symlinks=True)
    _write(staging / "usr/bin" / PACKAGE, LAUNCHER, mode=0o755)
    applications = staging / "usr/share/applications"
    applications.mkdir(parents=True)
    shutil.copy2(RESOURCES / f"{PACKAGE}.desktop", applications)
    icons = staging / "usr/share/icons/hicolor"
    for size in ICON_SIZES:
        folder = icons / f"{size}x{size}/apps"
        folder.mkdir(parents=True)
        shutil.copy2(RESOURCES / "icons" / f"{PACKAGE}-{size}.png", folder / f"{PACKAGE}.png")
    (icons / "scalable/apps").mkdir(parents=True)
    shutil.copy2(RESOURCES / f"{PACKAGE}.svg", icons / "scalable/apps")
    doc = staging / "usr/share/doc" / PACKAGE
    _write(doc / "copyright", _copyright())
    (doc / LICENCE_LIST).symlink_to(f"/{INSTALL_DIR}/_internal/{LICENCE_LIST}")
    _normalize_modes(staging)
    control = staging / "DEBIAN" / "control"
    _write(control, _control(version, depends, _installed_kib(staging)))
    return staging


def _control(version: str, depends: Iterable[Dependency], installed_kib: int) -> str:
    long_description = "\n".join(f" {line}" if line else " ." for line in DESCRIPTION.splitlines())
    return (
        f"Package: {PACKAGE}\n"
        f"Version: {debian_version(version)}\n"
        f"Architecture: {debian_architecture()}\n"
        f"Maintainer: {MAINTAINER}\n"
        f"Installed-Size: {installed_kib}\n"
        f"Depends: {', '.join(str(d) for d in depends)}\n"
        f"Recommends: {RECOMMENDS}\n"
        "Section: sound\n"
        "Priority: optional\n"
        f"Description: {SUMMARY}\n"
        f"{long_description}\n"
    )


def _copyright() -> str:
    return (
        "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n"
        "Upstream-Name: voice-assistant\n"
        "\n"
        "Files: *\n"
        "License: GPL-3.0-or-later\n"
        " On Debian systems the full text is in /usr/share/common-licenses/GPL-3.\n"
        f" The program in /{INSTALL_DIR} bundles third-party software (Python, Qt, Whisper and\n"
        " Piper models, and more); each part's licence is listed in\n"
        f" /usr/share/doc/{PACKAGE}/{LICENCE_LIST}.\n"
    )


def _normalize_modes(root: Path) -> None:
    """Owner-writable, world-readable; executables stay executable (the umask must not matter)."""
    for path in [root, *root.rglob("*")]:
        if path.is_symlink():
            continue
        executable = path.is_dir() or path.stat().st_mode & 0o111
        path.chmod(0o755 if executable else 0o644)


def _installed_kib(root: Path) -> int:
    total = sum(p.lstat().st_size for p in root.rglob("*") if p.is_file() or p.is_symlink())
    return (total + 1023) // 1024


def build_deb(staging: Path, output: Path, compression: str = DEB_COMPRESSION) -> Path:
    """`compression` as dpkg-deb takes it: "zstd:9" (the default: seconds, and every dpkg new
    enough for the libc6 it depends on reads it) or "xz:6" (10% smaller, minutes to make)."""
    kind, _, level = compression.partition(":")
    output.unlink(missing_ok=True)
    _run(
        ["dpkg-deb", "--root-owner-group", f"-Z{kind}", *([f"-z{level}"] if level else [])]
        + ["--threads-max=0", "--build", str(staging), str(output)]
    )
    return output


# --- the tarball ------------------------------------------------------------------------------


def build_tarball(bundle: Path, output: Path, version: str, depends: list[Dependency]) -> Path:
    """The bundle as `voice-assistant-VERSION/`, with a README naming what the system must have."""
    top = f"{PACKAGE}-{version}"
    readme = _tarball_readme(depends).encode()

    def as_root(info: tarfile.TarInfo) -> tarfile.TarInfo:
        info.uid = info.gid = 0
        info.uname = info.gname = "root"
        return info

    output.unlink(missing_ok=True)
    with tarfile.open(output, "w:gz", compresslevel=6) as tar:
        tar.add(bundle, arcname=top, filter=as_root)
        info = as_root(tarfile.TarInfo(f"{top}/README.txt"))
        info.size, info.mtime, info.mode = len(readme), int(time.time()), 0o644
        tar.addfile(info, _Bytes(readme))
    return output


def _tarball_readme(depends: list[Dependency]) -> str:
    packages = " ".join(d.package for d in depends)
    return (
        "Voice Assistant for Linux (x86-64)\n"
        "\n"
        "Start it with ./voice-assistant; check it with ./voice-assistant --self-test.\n"
        "It carries its own Python, Qt and models, but uses these system libraries (Debian and\n"
        f"Ubuntu package names):\n\n  sudo apt-get install {packages}\n\n"
        "For a menu entry, copy _internal/resources/voice-assistant.desktop to\n"
        "~/.local/share/applications/ (set Exec= to this folder's voice-assistant) and\n"
        "_internal/resources/voice-assistant.svg to ~/.local/share/icons/hicolor/scalable/apps/.\n"
        f"Licences: _internal/LICENSE.txt and _internal/{LICENCE_LIST}.\n"
    )


class _Bytes:
    def __init__(self, data: bytes) -> None:
        self._data, self._offset = data, 0

    def read(self, size: int = -1) -> bytes:
        end = len(self._data) if size < 0 else self._offset + size
        chunk, self._offset = self._data[self._offset : end], min(end, len(self._data))
        return chunk


# --- helpers and the command ------------------------------------------------------------------


def _run(command: list[str]) -> str:
    try:
        return subprocess.run(
            command, capture_output=True, text=True, check=True, timeout=1800
        ).stdout
    except FileNotFoundError:
        raise BuildError(f"{command[0]} is not installed (Debian: binutils, dpkg)") from None
    except subprocess.CalledProcessError as error:
        raise BuildError(f"{' '.join(command[:3])} failed:\n{error.stderr.strip()}") from None


def _write(path: Path, text: str, mode: int = 0o644) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(mode)


def _size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.lstat().st_size for p in path.rglob("*") if p.is_file() or p.is_symlink())


def main(argv: list[str] | None = None) -> int:
    options = argparse.ArgumentParser(description=__doc__)
    options.add_argument("--bundle", type=Path, required=True, help="PyInstaller's output folder")
    options.add_argument("--dist", type=Path, default=ROOT / "dist", help="where the files go")
    options.add_argument("--staging", type=Path, default=ROOT / "build" / "deb")
    options.add_argument(
        "--started",
        type=Path,
        help="a file made when the build began: the artefacts get its time, so that a source "
        "edited during the build is still newer than them (tests reuse dist/ by that rule)",
    )
    args = options.parse_args(argv)
    try:
        version = app_version()
        machine = elf_machine(args.bundle / PACKAGE)
        if machine is None:
            raise BuildError(f"{args.bundle / PACKAGE} is not an executable of this system")
        debug_bytes = strip_debug_info(args.bundle)
        depends = debian_dependencies(missing_libraries(args.bundle), machine)
        args.dist.mkdir(parents=True, exist_ok=True)
        arch = debian_architecture()
        seconds: dict[str, float] = {}
        started = time.perf_counter()
        staging = stage_deb(args.bundle, args.staging / PACKAGE, version, depends)
        deb = build_deb(staging, args.dist / f"{PACKAGE}_{debian_version(version)}_{arch}.deb")
        seconds["deb"] = time.perf_counter() - started
        started = time.perf_counter()
        tarball = build_tarball(
            args.bundle,
            args.dist / f"{PACKAGE}-{version}-linux-{platform.machine()}.tar.gz",
            version,
            depends,
        )
        seconds["tarball"] = time.perf_counter() - started
        if args.started is not None:
            began = args.started.stat().st_mtime_ns
            for artefact in (deb, tarball):
                os.utime(artefact, ns=(began, began))
    except BuildError as error:
        print(f"build_linux: {error}", file=sys.stderr)
        return 1
    summary = {
        "version": version,
        "depends": [str(d) for d in depends],
        "bundle_bytes": _size(args.bundle),
        "debug_info_bytes_removed": debug_bytes,
        "deb": str(deb),
        "deb_bytes": _size(deb),
        "tarball": str(tarball),
        "tarball_bytes": _size(tarball),
        "seconds": {stage: round(took, 1) for stage, took in seconds.items()},
    }
    print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
