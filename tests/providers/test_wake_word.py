"""The wake word, for real: pyopen-wakeword's bundled models hearing the Piper voice and real
speech, fed the way the listening worker feeds them (10 ms frames at 16 kHz)."""

from __future__ import annotations

import asyncio
import time

import pytest

from assistant.audio.files import read_audio
from assistant.audio.resample import resample
from assistant.config import PiperTtsSettings
from assistant.core.errors import ModelError
from assistant.core.listening import FRAME_BYTES, LISTEN_RATE, WakeWordDetector
from assistant.providers.tts.piper_local import PiperTts
from assistant.providers.wake_word import WAKE_PHRASES, OpenWakeWordDetector
from tests.support.speech import ENGLISH_CLIPS, SPEECH

WAKE = "Hey Jarvis, what time is it?"
NOT_WAKE = ["What time is it?", "Hey, what time is it?", "Hey Travis, is it raining?"]
OTHER_MODELS = [model for model in WAKE_PHRASES if model != "hey_jarvis"]
REAL_SPEECH = [*ENGLISH_CLIPS, "vk_sentencesWithSilences.wav"]  # 39 s of real voices in all


def silence(seconds: float) -> bytes:
    return bytes(2 * round(seconds * LISTEN_RATE))


@pytest.fixture(scope="module")
def piper() -> dict[str, bytes]:
    """Each phrase in the Piper voice at 16 kHz, after half a second of silence."""

    async def synthesize() -> dict[str, bytes]:
        voice = PiperTts(PiperTtsSettings())
        spoken = {}
        for text in [WAKE, *NOT_WAKE]:
            pcm = b"".join([chunk.pcm async for chunk in voice.synthesize(text)])
            spoken[text] = silence(0.5) + resample(pcm, voice.sample_rate, LISTEN_RATE)
        return spoken

    return asyncio.run(synthesize())


@pytest.fixture(scope="module")
def jarvis() -> OpenWakeWordDetector:
    return OpenWakeWordDetector("hey_jarvis")


@pytest.fixture(autouse=True)
def forget(jarvis: OpenWakeWordDetector) -> None:
    jarvis.reset()


def firings(detector: WakeWordDetector, audio: bytes) -> list[float]:
    """When (seconds into `audio`) the detector fired, fed 10 ms frames."""
    fired = []
    for start in range(0, len(audio) - FRAME_BYTES + 1, FRAME_BYTES):
        if detector.feed(audio[start : start + FRAME_BYTES]):
            fired.append((start + FRAME_BYTES) / 2 / LISTEN_RATE)
    return fired


def test_hey_jarvis_fires_once_as_it_is_said(
    jarvis: OpenWakeWordDetector, piper: dict[str, bytes]
) -> None:
    said = piper[WAKE]
    fired = firings(jarvis, said + silence(1.5))

    assert len(fired) == 1
    assert 0.5 < fired[0] < 0.5 + 1.5  # during or just after "hey jarvis", not at the end
    assert jarvis.phrase == "hey jarvis"


def test_it_fires_again_when_the_phrase_is_said_again(
    jarvis: OpenWakeWordDetector, piper: dict[str, bytes]
) -> None:
    said = piper[WAKE] + silence(1.0)
    assert len(firings(jarvis, said + said)) == 2


def test_after_a_reset_the_phrase_just_heard_does_not_fire_again(
    jarvis: OpenWakeWordDetector, piper: dict[str, bytes]
) -> None:
    said = piper[WAKE] + silence(1.5)
    fired = firings(jarvis, said)[0]
    cut = round(fired * LISTEN_RATE) * 2

    jarvis.reset()  # it fired: the turn starts here, and listening for the phrase again after it
    assert firings(jarvis, said[cut:]) == []
    assert len(firings(jarvis, said)) == 1  # still awake to the next time it is said


@pytest.mark.parametrize("text", NOT_WAKE)
def test_other_phrases_do_not_fire(
    jarvis: OpenWakeWordDetector, piper: dict[str, bytes], text: str
) -> None:
    assert firings(jarvis, piper[text] + silence(1.0)) == []


@pytest.mark.parametrize("model", OTHER_MODELS)
def test_hey_jarvis_does_not_wake_the_other_models(model: str, piper: dict[str, bytes]) -> None:
    assert firings(OpenWakeWordDetector(model), piper[WAKE] + silence(1.0)) == []


@pytest.mark.parametrize("name", REAL_SPEECH)
def test_real_speech_does_not_fire(jarvis: OpenWakeWordDetector, name: str) -> None:
    speech = read_audio(SPEECH / name, LISTEN_RATE)
    assert firings(jarvis, speech) == []
    assert jarvis.score < jarvis.threshold


def test_an_unknown_phrase_is_refused_with_the_choices() -> None:
    with pytest.raises(ModelError, match="hey_jarvis, okay_nabu"):
        OpenWakeWordDetector("hey_computer")


def test_cpu_per_second_of_audio(jarvis: OpenWakeWordDetector) -> None:
    """A measurement, printed with -s: CPU time (all threads) per second of audio, fed in 10 ms
    frames, on 20 s of real speech with pauses."""
    speech = read_audio(SPEECH / "vk_sentencesWithSilences.wav", LISTEN_RATE)
    seconds = len(speech) / 2 / LISTEN_RATE
    wall, cpu = time.perf_counter(), time.process_time()
    firings(jarvis, speech)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(
        f"\nwake word (hey_jarvis) on {seconds:.1f} s: {cpu / seconds * 100:.1f} % of one core "
        f"CPU, {wall / seconds * 100:.1f} % wall"
    )
    assert wall < seconds  # a sanity bound: it keeps up with real time
