"""Short sounds that tell the user something without words: the wake word was heard.

Made here rather than shipped as files: two soft rising notes, each shaped by a raised-cosine
envelope (no click at either end), peaking 20 dB below full scale, so the cue is heard over a
quiet room but never startles. Played through the same speaker as replies, so the echo
canceller takes it out of the microphone like the assistant's voice.
"""

from __future__ import annotations

import logging
import math
from array import array

from assistant.core.errors import AssistantError
from assistant.core.protocols import AudioOutput

log = logging.getLogger(__name__)

CUE_RATE = 24_000
NOTES_HZ = (660.0, 880.0)  # E5 then A5: a rising fourth, "I'm listening"
NOTE_SECONDS = 0.09
PEAK = 10 ** (-20 / 20)  # -20 dBFS


def wake_cue(rate: int = CUE_RATE) -> bytes:
    """The wake cue as int16 mono PCM at `rate`."""
    length = round(NOTE_SECONDS * rate)
    samples = array("h")
    for frequency in NOTES_HZ:
        for n in range(length):
            envelope = 0.5 - 0.5 * math.cos(2 * math.pi * n / (length - 1))
            value = PEAK * envelope * math.sin(2 * math.pi * frequency * n / rate)
            samples.append(round(value * 32767))
    return samples.tobytes()


async def play_cue(output: AudioOutput, pcm: bytes, rate: int = CUE_RATE) -> None:
    """Play `pcm` to its end. A cue that cannot play is logged, not told: the reply that
    follows uses the same speaker and says what is wrong with it."""
    try:
        stream = await output.open(rate, lambda event: None)
        try:
            await stream.write(pcm, 0)
            stream.end_tag(0)
            await stream.drain()
        finally:
            await stream.close()
    except AssistantError as error:
        log.warning("the wake cue could not play: %s", error.message)


__all__ = ["CUE_RATE", "play_cue", "wake_cue"]
