"""`python -m benchmarks [NAME ...]`: run the benchmark sections, print each table, and write
BENCHMARKS.md from the sections' latest results (a section not run this time keeps its last text).

A section is a module in this package with `TITLE` and `def run() -> str` returning Markdown.
"""

from __future__ import annotations

import importlib
import platform
import sys
import time
from pathlib import Path

SECTIONS = [
    "speech_out",
    "barge_in",
    "reply",
    "speech_in",
    "speech_in_live",
    "languages",
    "voice_activity",
    "hands_free",
    "conversation",
    "soak",
    "bundle",
]
ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"


def main(names: list[str]) -> int:
    RESULTS.mkdir(exist_ok=True)
    for name in names or SECTIONS:
        module = importlib.import_module(f"benchmarks.{name}")
        print(f"\n## {module.TITLE}\n", flush=True)
        started = time.monotonic()
        body = module.run()
        print(body, flush=True)
        stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
        footer = (
            f"\n_Measured {stamp} on {platform.node() or 'this machine'} "
            f"({platform.machine()}, Python {platform.python_version()}) in "
            f"{time.monotonic() - started:.0f} s. Repeat: `make bench ARGS={name}`._\n"
        )
        (RESULTS / f"{name}.md").write_text(f"## {module.TITLE}\n\n{body}\n{footer}")
    write_report()
    return 0


def write_report() -> None:
    parts = [
        "# Benchmarks\n",
        "Produced by `make bench` (all sections) or `make bench ARGS=NAME` (one). Machines here "
        "are shared and noisy: compare alternatives side by side within one run, and read "
        "medians and ratios, not single figures.\n",
    ]
    for name in SECTIONS:
        path = RESULTS / f"{name}.md"
        if path.exists():
            parts.append(path.read_text())
    (ROOT / "BENCHMARKS.md").write_text("\n".join(parts))


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
