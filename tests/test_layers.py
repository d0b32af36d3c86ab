"""The layer rule of docs/architecture.md, checked on every module under assistant/.

Each module is parsed (never imported) and every import in it is read, including those inside
functions and under `if TYPE_CHECKING:`, since a lazy import is still a dependency:

- core/ imports the standard library, numpy and itself: no Qt, no httpx, no PortAudio, no model
  runtime, and nothing else of the assistant;
- ui/ imports the standard library, Qt (PySide6, qasync), core, config and itself: never an adapter
  (audio/, providers/) nor a vendor's library;
- config and logs import, of the assistant, only core;
- audio/ and providers/ (the adapters) import neither the GUI, the entry points, the turn
  controller, nor each other;
- a vendor file in providers/ imports no other vendor file, only the shared helpers listed below.

The last tests plant each kind of violation in a made-up module, so the rule is shown to fail.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "assistant"

# Modules of providers/ that are not a vendor's own file: vendor files may import these (and
# nothing else of providers/). A new helper goes here with the reason it is shared.
PROVIDER_HELPERS: dict[str, str] = {
    "assistant.providers.http": "the one HTTP client, and its errors, retries and key checks",
    "assistant.providers.tts._common": "what the network voices share (deadlines, warm-up)",
    "assistant.providers.tts.audio_body": "what a speech server really sent, for every voice",
    "assistant.providers.llm.chat_chunks": "one chunk of an OpenAI-compatible chat stream",
    "assistant.providers.llm.sse": "the server-sent events parser of streamed chat",
    "assistant.providers.llm.presets": "where each known chat service listens (data only)",
    "assistant.providers.llm.chat_errors": "the chat service's own words for its failures",
    "assistant.providers.llm.model_list": "the models an OpenAI-compatible server lists",
    "assistant.providers.stt.model_download": "fetching Whisper models, for every Whisper user",
    "assistant.providers.whisper_models": "the Whisper models shipped in packages, checked",
    "assistant.providers.tts.voice_router": "each piece to a voice for its language, any vendor",
    "assistant.providers.stt.whisper_live": "the live decoding of the local Whisper transcriber",
}

CORE_MAY_IMPORT = frozenset({"numpy"})  # besides the standard library and core itself
UI_MAY_IMPORT = frozenset({"PySide6", "qasync"})  # besides the standard library
UI_MAY_IMPORT_OF_OURS = ("assistant.core", "assistant.config", "assistant.ui")
SETTINGS_AND_LOGS = ("assistant.config", "assistant.logs")
ADAPTERS = ("assistant.audio", "assistant.providers")
# What only the entry points may import: the GUI, the wiring, the command line, the controller.
NOT_FOR_ADAPTERS = (
    "assistant.ui",
    "assistant.app",
    "assistant.__main__",
    "assistant.cli",
    "assistant.converse",
    "assistant.selftest",
    "assistant.core.turn",
)


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def all_modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def imports_of(source: str, module: str, is_package: bool = False) -> Iterator[tuple[int, str]]:
    """(line, dotted name) of everything `source` imports, wherever the import statement is.

    `from a.b import c` yields `a.b.c`, which is the module a.b.c when there is one, and otherwise
    a name inside a.b: both fall under the rules of a.b.
    """
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                anchor = ".".join(parts[: len(parts) - node.level + 1])
                base = f"{anchor}.{base}" if base else anchor
            for alias in node.names:
                yield node.lineno, f"{base}.{alias.name}" if alias.name != "*" else base


def within(name: str, *packages: str) -> bool:
    return any(name == package or name.startswith(f"{package}.") for package in packages)


def is_standard(name: str) -> bool:
    return name.split(".")[0] in sys.stdlib_module_names


def vendor_files(modules: dict[str, Path]) -> set[str]:
    return {
        name
        for name, path in modules.items()
        if within(name, "assistant.providers")
        and path.name != "__init__.py"
        and not within(name, *PROVIDER_HELPERS)
    }


def broken_rule(module: str, imported: str, vendors: set[str]) -> str | None:
    """Why `module` may not import `imported`, or None when it may."""
    ours = within(imported, "assistant")
    if within(module, "assistant.core"):
        if ours and not within(imported, "assistant.core"):
            return "core imports nothing of the assistant outside core"
        if not ours and not is_standard(imported) and imported.split(".")[0] not in CORE_MAY_IMPORT:
            return "core imports only the standard library and numpy"
    if within(module, "assistant.ui"):
        if ours and not within(imported, *UI_MAY_IMPORT_OF_OURS):
            return "ui imports only core, config and ui (never audio/, providers/ or the wiring)"
        if not ours and not is_standard(imported) and imported.split(".")[0] not in UI_MAY_IMPORT:
            return "ui imports only the standard library and Qt (a widget never calls a vendor)"
    for layer in SETTINGS_AND_LOGS:
        if within(module, layer) and ours and not within(imported, layer, "assistant.core"):
            return "config and logs import, of the assistant, only core"
    if within(module, *ADAPTERS):
        if within(imported, *NOT_FOR_ADAPTERS):
            return "adapters never import the GUI, the entry points or the turn controller"
        other = "assistant.providers" if within(module, "assistant.audio") else "assistant.audio"
        if within(imported, other):
            return "audio/ and providers/ do not import each other"
    if within(module, "assistant.providers") and within(imported, *(vendors - {module})):
        return "a vendor file is imported by no other provider (shared code goes in a helper)"
    return None


def violations(modules: dict[str, Path], sources: dict[str, str]) -> list[str]:
    vendors = vendor_files(modules)
    found = []
    for module, source in sources.items():
        is_package = modules[module].name == "__init__.py"
        for line, imported in imports_of(source, module, is_package):
            reason = broken_rule(module, imported, vendors)
            if reason is not None:
                found.append(f"{modules[module]}:{line}: imports {imported}: {reason}")
    return found


def test_every_module_keeps_to_its_layer() -> None:
    modules = all_modules()
    # The walk really reads the tree: the layers it checks are all there.
    for layer in ("assistant.core.turn", "assistant.ui", "assistant.audio", "assistant.config"):
        assert any(within(name, layer) for name in modules), f"{layer} was not found"
    sources = {name: path.read_text(encoding="utf-8") for name, path in modules.items()}
    assert violations(modules, sources) == []


def test_each_listed_helper_exists_and_is_no_vendor() -> None:
    modules = all_modules()
    for helper in PROVIDER_HELPERS:
        assert helper in modules, f"{helper} is listed as a helper but does not exist"
    assert "assistant.providers.tts.volcano_v1" in vendor_files(modules)
    assert "assistant.providers.tts._common" not in vendor_files(modules)


# --- the rule fails on a planted violation ---------------------------------------------------

PLANTED = [
    ("assistant.core.planted", "import PySide6.QtCore", "standard library and numpy"),
    ("assistant.core.planted", "def f():\n    import httpx\n", "standard library and numpy"),
    ("assistant.core.planted", "from pyaudio import PyAudio", "standard library and numpy"),
    ("assistant.core.planted", "import faster_whisper", "standard library and numpy"),
    ("assistant.core.planted", "import ctranslate2", "standard library and numpy"),
    ("assistant.core.planted", "from piper import PiperVoice", "standard library and numpy"),
    ("assistant.core.planted", "from assistant.audio.speaker import Speaker", "outside core"),
    ("assistant.core.planted", "from assistant import config", "outside core"),
    ("assistant.core.planted", "from ..providers import http", "outside core"),
    (
        "assistant.core.planted",
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from assistant.ui import tasks\n",
        "outside core",
    ),
    ("assistant.ui.planted", "from assistant.providers.tts import piper_local", "never audio/"),
    ("assistant.ui.planted", "import assistant.audio.devices", "never audio/"),
    ("assistant.ui.planted", "import httpx", "a widget never calls a vendor"),
    ("assistant.config.planted", "from assistant.providers.http import client", "only core"),
    ("assistant.providers.planted", "from assistant.ui.tasks import spawn", "never import the GUI"),
    ("assistant.providers.planted", "from assistant.core.turn import TurnController", "controller"),
    ("assistant.providers.planted", "from assistant.audio.resample import to_mono", "each other"),
    ("assistant.audio.planted", "from assistant.providers import wake_word", "each other"),
    (
        "assistant.providers.tts.volcano_v1",
        "from assistant.providers.tts.volcano_v3 import VolcanoV3Tts",
        "a vendor file is imported by no other provider",
    ),
    (
        "assistant.providers.tts._common",
        "def f():\n    from . import openai_speech\n",
        "a vendor file is imported by no other provider",
    ),
]


@pytest.mark.parametrize(("module", "source", "reason"), PLANTED)
def test_a_planted_import_is_caught(module: str, source: str, reason: str) -> None:
    modules = {**all_modules(), module: PACKAGE / "planted.py"}
    found = violations(modules, {module: source})
    assert len(found) == 1, found
    assert reason in found[0]


ALLOWED = [
    ("assistant.core.planted", "import asyncio\nimport numpy as np\nfrom . import errors\n"),
    (
        "assistant.ui.planted",
        "from PySide6.QtCore import Qt\nfrom assistant.config import Settings",
    ),
    ("assistant.config.planted", "from assistant.core.errors import ConfigError\nimport keyring"),
    ("assistant.providers.tts.volcano_v1", "from assistant.providers.http import scrub"),
    ("assistant.providers.tts.volcano_v1", "from assistant.providers.tts._common import origin_of"),
    ("assistant.audio.planted", "import pyaudio\nfrom assistant.core.hands_free import Utterance"),
]


@pytest.mark.parametrize(("module", "source"), ALLOWED)
def test_an_allowed_import_passes(module: str, source: str) -> None:
    modules = {**all_modules(), module: PACKAGE / "planted.py"}
    assert violations(modules, {module: source}) == []
