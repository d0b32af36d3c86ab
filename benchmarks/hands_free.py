"""Hands-free: how much of the assistant's own voice the echo canceller takes out of the microphone.

On the speakerphone rig (tests/support/pulse.py: the app's output back into the microphone,
attenuated and delayed, mixed with a "user" sink), Piper speaks a 17 s reply through the real
Speaker, whose far-end tap feeds WebRTC AEC3; a PyAudio capture loop cancels each 10 ms frame as it
arrives. Halfway through, a real clip of the user talks over it. Per echo delay and variant (AEC3
alone, AEC3 + noise suppression): ERLE over the stretches where only the assistant speaks, how
well the user's clip survives the double talk (correlation with the clean clip, Whisper tiny.en's
word error rate), and the canceller's CPU per frame.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from assistant.core.listening import FRAME_SECONDS
from tests.support import echo
from tests.support.environment import environment
from tests.support.pulse import VirtualSoundCard
from tests.support.speech import word_error_rate

TITLE = "Hands-free: echo cancellation on the speakerphone rig (ERLE, double talk, CPU)"

DELAYS_MS = (60, 120)  # the echo's delay on the rig: a laptop's speakers and a room's reflections
ECHO_GAIN_DB = -6.0
TARGET_ERLE_DB = 15.0


@dataclass(frozen=True)
class EchoRow:
    delay_ms: int
    variant: str
    erle_db: float  # from the reply's first sample (convergence included)
    erle_converged_db: float  # after its first CONVERGED_AFTER seconds
    user_correlation: float  # the user's clip in double talk vs the clean clip
    raw_correlation: float  # the same, straight off the microphone
    wer: float  # Whisper tiny.en on the user's clip after the canceller
    raw_wer: float
    us_per_frame: float  # mean CPU time per 10 ms frame (far frames queued + near processed)
    p99_us_per_frame: float

    @property
    def core_percent(self) -> float:
        return self.us_per_frame / 1e6 / FRAME_SECONDS * 100


def measure_echo(delays_ms: tuple[int, ...] = DELAYS_MS) -> list[EchoRow]:
    """ERLE, double talk and CPU per frame, one row per echo delay and canceller variant."""
    reply = echo.synthesize_reply()
    reference = echo.user_reference()
    rows: list[EchoRow] = []
    with tempfile.TemporaryDirectory(prefix="bench-hands-free-") as folder:
        card = VirtualSoundCard(Path(folder))
        card.start()
        try:
            with environment(card.env):
                for delay in delays_ms:
                    phone = card.speakerphone(echo_delay_ms=delay, echo_gain_db=ECHO_GAIN_DB)
                    try:
                        run = echo.run_echo(phone, reply)
                    finally:
                        phone.close()
                    rows += _rows(run, delay, reference)
        finally:
            card.stop()
    return rows


def _rows(run: echo.EchoRun, delay_ms: int, reference: str) -> list[EchoRow]:
    user = echo.find_user(run)
    frames = echo.echo_only_frames(run, user)
    converged = echo.echo_only_frames(run, user, skip_seconds=echo.CONVERGED_AFTER)
    raw_wer = word_error_rate(reference, echo.transcribe(echo.user_segment(run.raw, user)))
    rows = []
    for name, output in run.outputs.items():
        heard = echo.transcribe(echo.user_segment(output, user))
        seconds = run.frame_seconds[name]
        rows.append(
            EchoRow(
                delay_ms,
                name,
                echo.erle_db(run, name, frames),
                echo.erle_db(run, name, converged),
                user.correlation[name],
                user.correlation_raw,
                word_error_rate(reference, heard),
                raw_wer,
                float(seconds.mean() * 1e6),
                float(np.percentile(seconds, 99) * 1e6),
            )
        )
    return rows


def run() -> str:
    rows = measure_echo()
    lines = [
        f"Echo at {ECHO_GAIN_DB:.0f} dB; goal: ERLE ≥ {TARGET_ERLE_DB:.0f} dB with the user's "
        "words intact. Correlation and WER: the user's clip during double talk (raw: straight "
        "off the microphone).\n",
        "| echo delay | canceller | ERLE | ERLE after 2 s | user corr. (raw) | WER (raw) "
        "| CPU per 10 ms frame (p99) | % of a core |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        lines.append(
            f"| {row.delay_ms} ms | {row.variant} | {row.erle_db:.1f} dB | "
            f"{row.erle_converged_db:.1f} dB | {row.user_correlation:.2f} "
            f"({row.raw_correlation:.2f}) | {row.wer:.2f} ({row.raw_wer:.2f}) | "
            f"{row.us_per_frame:.0f} µs ({row.p99_us_per_frame:.0f} µs) | "
            f"{row.core_percent:.1f} % |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    print(run())
