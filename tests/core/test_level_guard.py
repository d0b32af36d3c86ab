"""The level guard never touches speech (every real clip and the Piper voice pass bit for bit),
and holds full-scale noise, or an MP3 played as samples, to the level of speech at once."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import av
import numpy as np
import pytest

from assistant.audio.files import read_audio
from assistant.config import PiperTtsSettings
from assistant.core.level_guard import LevelGuard
from assistant.providers.tts.piper_local import PiperTts

SPEECH = Path(__file__).parents[1] / "data" / "speech"
CLIPS = sorted(path for path in SPEECH.iterdir() if path.suffix in {".wav", ".flac"})
RATE = 24_000
PIPER_TEXTS = [
    "Hello! How can I help you today?",
    "WOW! That is AMAZING!!! Stop right there!",
    "One, two, three, four, five. Ahhhh! Ooooh!",
    "Sssssh! Shhhh. She sells sea shells by the sea shore. Psst! Fizz, hiss, whistle.",
]


def guarded(pcm: bytes, rate: int, chunk: int = 4802) -> bytes:
    guard = LevelGuard(rate)
    return b"".join(guard.process(pcm[i : i + chunk]) for i in range(0, len(pcm), chunk))


def rms(pcm: bytes) -> float:
    x = np.frombuffer(pcm, dtype=np.int16).astype(np.float64) / 32768
    return float(np.sqrt(np.mean(x * x)))


def noise(seconds: float, rate: int = RATE) -> bytes:
    rng = np.random.default_rng(7)
    return rng.integers(-32768, 32767, round(seconds * rate), dtype=np.int16).tobytes()


@pytest.mark.parametrize("path", CLIPS, ids=[path.name for path in CLIPS])
@pytest.mark.parametrize("rate", [16_000, 22_050, 24_000])
def test_real_speech_passes_bit_for_bit(path: Path, rate: int) -> None:
    pcm = read_audio(path, rate, max_seconds=600)
    assert guarded(pcm, rate) == pcm


def test_the_piper_voice_passes_bit_for_bit() -> None:
    async def synthesize() -> tuple[bytes, int]:
        voice = PiperTts(PiperTtsSettings())
        pieces = [chunk.pcm for text in PIPER_TEXTS async for chunk in voice.synthesize(text)]
        return b"".join(pieces), voice.sample_rate

    pcm, rate = asyncio.run(synthesize())
    assert len(pcm) > rate * 2 * 5
    assert guarded(pcm, rate, chunk=1000) == pcm


def test_full_scale_noise_is_held_to_the_level_of_speech_from_its_first_block() -> None:
    burst = noise(1.0)
    out = guarded(burst, RATE)
    assert rms(burst) > 0.55  # -4.8 dBFS
    assert rms(out) < 0.37
    first_block = out[: 2 * RATE // 100]
    assert rms(first_block) < 0.37  # no attack time: the burst never reaches the ears


def test_an_mp3_played_as_samples_is_held_down() -> None:
    buffer = io.BytesIO()
    speech = np.frombuffer(read_audio(CLIPS[0], RATE), dtype=np.int16)
    with av.open(buffer, "w", format="mp3") as container:
        stream = container.add_stream("libmp3lame", rate=RATE, layout="mono")
        frame = av.AudioFrame.from_ndarray(speech[None, :], format="s16", layout="mono")
        frame.sample_rate = RATE
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            container.mux(packet)
    mp3 = buffer.getvalue()
    mp3 = mp3[: len(mp3) // 2 * 2]
    assert rms(mp3) > 0.5
    assert rms(guarded(mp3, RATE)) < 0.37


def test_speech_after_a_burst_comes_back_whole_within_a_tenth_of_a_second() -> None:
    speech = read_audio(CLIPS[0], RATE)
    out = guarded(noise(0.5) + bytes(RATE // 5) + speech, RATE)
    assert out[-len(speech) :] == speech
