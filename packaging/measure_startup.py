"""Start-up time of the app to a visible window: launch it on a private X screen (Xvfb), poll
`xwininfo` until the window titled "Voice Assistant" is viewable, stop it; several runs, median.

    python3 packaging/measure_startup.py                      # the installed app
    python3 packaging/measure_startup.py --runs 7 -- .venv/bin/python -m assistant

Each run gets a fresh HOME (so a first start, with the default settings). Needs Xvfb and x11-utils.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

TITLE = "Voice Assistant"
POLL_SECONDS = 0.01
LIMIT_SECONDS = 60.0


def free_display() -> str:
    for number in range(150, 250):
        if (
            not Path(f"/tmp/.X11-unix/X{number}").exists()
            and not Path(f"/tmp/.X{number}-lock").exists()
        ):
            return f":{number}"
    raise SystemExit("no free X display number between :150 and :249")


def is_viewable(display: str) -> bool:
    found = subprocess.run(
        ["xwininfo", "-display", display, "-name", TITLE],
        capture_output=True,
        text=True,
        check=False,
    )
    return found.returncode == 0 and "IsViewable" in found.stdout


def one_run(command: list[str], display: str) -> float:
    with tempfile.TemporaryDirectory(prefix="startup-home-") as home:
        runtime = Path(home) / "runtime"
        runtime.mkdir(mode=0o700)
        env = {
            **os.environ,
            "DISPLAY": display,
            "QT_QPA_PLATFORM": "xcb",
            "HOME": home,
            "XDG_CONFIG_HOME": f"{home}/config",
            "XDG_CACHE_HOME": f"{home}/cache",
            "XDG_STATE_HOME": f"{home}/state",
            "XDG_DATA_HOME": f"{home}/data",
            "XDG_RUNTIME_DIR": str(runtime),
        }
        log = Path(home) / "output.txt"
        with log.open("wb") as output:
            started = time.perf_counter()
            app = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT)
        try:
            while not is_viewable(display):
                if app.poll() is not None:
                    said = log.read_text(errors="replace")[-2000:]
                    raise SystemExit(
                        f"the app exited with {app.returncode} before its window showed; "
                        f"it said:\n{said}"
                    )
                if time.perf_counter() - started > LIMIT_SECONDS:
                    raise SystemExit(f"no window within {LIMIT_SECONDS:.0f} s")
                time.sleep(POLL_SECONDS)
            return time.perf_counter() - started
        finally:
            app.terminate()
            try:
                app.wait(10)
            except subprocess.TimeoutExpired:
                app.kill()
                app.wait(10)


def main() -> int:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--runs", type=int, default=5)
    options.add_argument("command", nargs="*", default=["/usr/bin/voice-assistant"])
    args = options.parse_args()
    display = free_display()
    # -noreset: by default Xvfb resets when its last client leaves, and a client that connects
    # during the reset fails (Qt then aborts); between two runs only xwininfo is connected.
    screen = subprocess.Popen(
        ["Xvfb", display, "-screen", "0", "1280x800x24", "-nolisten", "tcp", "-noreset"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while subprocess.run(
            ["xwininfo", "-root", "-display", display], capture_output=True
        ).returncode:
            if time.monotonic() > deadline or screen.poll() is not None:
                raise SystemExit("Xvfb did not start")
            time.sleep(0.05)
        times = []
        for run in range(1, args.runs + 1):
            times.append(one_run(args.command, display))
            print(f"run {run}: {times[-1]:.3f} s to a visible window", flush=True)
            time.sleep(1.0)  # let the previous run's process go before the next starts
        print(
            f"median of {len(times)}: {statistics.median(times):.3f} s "
            f"(min {min(times):.3f}, max {max(times):.3f}) for {' '.join(args.command)}"
        )
    finally:
        screen.terminate()
        screen.wait(10)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
