"""The wake word behind the voice detector (core/wake_gate.py), with the real models: it fires
on "hey jarvis" after a long silence as the model alone does, and the model rests in silence."""

from __future__ import annotations

import numpy as np
import pytest

from assistant.core.listening import LISTEN_RATE
from assistant.core.wake_gate import VoiceGatedWakeWord
from assistant.providers.vad_silero import SileroVoiceDetector
from assistant.providers.wake_word import OpenWakeWordDetector
from tests.providers.test_wake_word import NOT_WAKE, WAKE, firings, piper, silence

__all__ = ["piper"]  # the fixture, used here


def hiss(seconds: float, dbfs: float = -50.0) -> bytes:
    """A quiet room: white noise at `dbfs`."""
    samples = np.random.default_rng(7).normal(0.0, 32768 * 10 ** (dbfs / 20), int(seconds * 16000))
    return np.clip(samples, -32768, 32767).astype(np.int16).tobytes()


@pytest.fixture
def gated() -> VoiceGatedWakeWord:
    return VoiceGatedWakeWord(OpenWakeWordDetector("hey_jarvis"), SileroVoiceDetector())


def test_hey_jarvis_after_a_long_quiet_fires_once_as_it_is_said(
    gated: VoiceGatedWakeWord, piper: dict[str, bytes]
) -> None:
    quiet = hiss(20.0)
    fired = firings(gated, quiet + piper[WAKE] + silence(1.5))
    said_at = len(quiet) / 2 / LISTEN_RATE + 0.5  # the clip has half a second of silence first
    assert len(fired) == 1
    assert said_at < fired[0] < said_at + 1.5


def test_in_a_quiet_room_the_wake_word_model_rests(gated: VoiceGatedWakeWord) -> None:
    firings(gated, hiss(30.0))
    assert gated.frames_judged == 0
    assert not gated.awake


def test_it_wakes_for_speech_and_rests_again_after_it(
    gated: VoiceGatedWakeWord, piper: dict[str, bytes]
) -> None:
    question = piper[NOT_WAKE[0]]  # "What time is it?": speech, not the phrase
    assert firings(gated, hiss(5.0) + question) == []
    assert gated.awake and gated.frames_judged > 0
    judged = gated.frames_judged
    firings(gated, hiss(5.0))
    assert not gated.awake
    assert gated.frames_judged - judged <= 160  # the hang (1.5 s) and a little, then rest


@pytest.mark.parametrize("text", NOT_WAKE)
def test_other_phrases_still_do_not_fire(
    gated: VoiceGatedWakeWord, piper: dict[str, bytes], text: str
) -> None:
    assert firings(gated, hiss(3.0) + piper[text] + silence(1.0)) == []
