"""The assistant never hears itself: on the speakerphone rig (its own voice back into the
microphone 60 ms later at -6 dB), the Speaker's far-end tap and WebRTC AEC3 take the echo out of the
microphone, and the user talking over the reply still comes through.

Measured figures are printed (run with -s to see them)."""

from __future__ import annotations

import numpy as np
import pytest

from tests.support import echo
from tests.support.pulse import Speakerphone
from tests.support.speech import word_error_rate

pytestmark = [pytest.mark.audio, pytest.mark.timeout(180)]

# AEC3 measured 22-31 dB in rooms and ~30 dB on a pure delay (../shared/COMPONENTS.md); 15 dB on
# top of the rig's own 6 dB puts the residual echo ~21 dB under the user's voice, below what the
# voice detector takes for speech. A broken far-end path (wrong rate, wrong order, frames lost or
# late) gives 0-6 dB. The floor is 10 dB, not 15: on this shared 2-core machine one run in four
# measured 17-18 dB (the others 67-68 dB) when the capture thread fell behind and the canceller
# had to find the delay again; 10 dB still tells a working reference from a broken one.
ERLE_FLOOR_DB = 10.0


@pytest.fixture(scope="module")
def reply() -> tuple[bytes, int]:
    return echo.synthesize_reply()


def test_the_echo_of_the_reply_is_cancelled_and_the_user_still_heard(
    speakerphone: Speakerphone, reply: tuple[bytes, int]
) -> None:
    run = echo.run_echo(speakerphone, reply, noise_suppression_too=False)
    user = echo.find_user(run)
    frames = echo.echo_only_frames(run, user)
    erle = echo.erle_db(run, "AEC3", frames)
    converged = echo.erle_db(
        run, "AEC3", echo.echo_only_frames(run, user, skip_seconds=echo.CONVERGED_AFTER)
    )
    reference = echo.user_reference()
    heard_raw = echo.transcribe(echo.user_segment(run.raw, user))
    heard = echo.transcribe(echo.user_segment(run.outputs["AEC3"], user))
    wer_raw, wer = word_error_rate(reference, heard_raw), word_error_rate(reference, heard)
    print(
        f"\nERLE {erle:.1f} dB over {len(frames) / 100:.1f} s of the assistant alone "
        f"({converged:.1f} dB after its first {echo.CONVERGED_AFTER:.0f} s); far backlog at most "
        f"{run.far_backlog_max} frames\nuser's clip, correlation with the clean clip: raw "
        f"{user.correlation_raw:.2f}, after AEC3 {user.correlation['AEC3']:.2f}\n"
        f"Whisper raw ({wer_raw:.2f}): {heard_raw!r}\nWhisper after AEC3 ({wer:.2f}): {heard!r}"
    )
    assert len(frames) > 300, "too little of the reply was heard to measure the echo"
    assert erle >= ERLE_FLOOR_DB
    assert user.correlation["AEC3"] > 0.3, "the canceller took the user's voice out with the echo"
    # Whisper tiny.en on 5 s of double talk: 0.6-0.8 after AEC3, 0.9-1.2 raw (seen here); the
    # words that matter for a barge-in are the user's, and they must come out clearer, not perfect.
    assert wer < wer_raw, "the user's words were not clearer after the canceller"


def test_without_the_far_end_nothing_is_cancelled(
    speakerphone: Speakerphone, reply: tuple[bytes, int]
) -> None:
    """The control: the same scene with the tap fed nothing, so the test above measures the
    reference path and not some loss on the rig."""
    pcm, rate = reply
    short = (pcm[: rate * 2 * 4], rate)  # 4 s are enough to see it
    run = echo.run_echo(
        speakerphone, short, noise_suppression_too=False, with_user=False, tap=False
    )
    erle = echo.erle_db(run, "AEC3", echo.echo_only_frames(run, None))
    print(f"\nERLE without the far end: {erle:.1f} dB")
    assert erle < 6.0
    assert np.abs(run.raw).max() > 1000  # the echo did reach the microphone
