"""The main window over a real turn controller: the language each question was heard in shows with
it, a hint repeated turn after turn stays one line, and a flood of Talk taps (Space or the mouse)
starts one turn, not one per tap. The last test runs the real speech models on a German recording.

Run with `-s` to see the German transcript.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from PySide6.QtCore import Qt

from assistant.config import SttSettings
from assistant.core.events import TurnState
from assistant.core.protocols import Recording, Transcript
from assistant.core.turn import TOO_SHORT
from assistant.providers.stt.whisper_local import WhisperTranscriber
from assistant.ui.main_window import MainWindow
from assistant.ui.talk_button import SETTLE_SECONDS
from tests.providers.stt.test_whisper_local import read_clip
from tests.support.memory import MemoryInput, MemoryTranscriber
from tests.ui.harness import close_controllers, make_controller, until

pytestmark = pytest.mark.gui

GERMAN_CLIP = "pv_test_de.wav"
TAP_PCM = b"\x01\x00" * 1_600  # 0.1 s: what a microphone hears during a tap


@pytest.fixture(autouse=True)
async def _closing() -> AsyncIterator[None]:
    yield
    await close_controllers()


@dataclass
class GermanTranscriber(MemoryTranscriber):
    """What the local transcriber gives for a German question (the last test runs the real one)."""

    text: str = "Wie spät ist es in Berlin?"

    async def transcribe(self, recording: Recording) -> Transcript:
        await asyncio.sleep(0)
        return Transcript(self.text, "de")


async def shown(qtbot: Any, **controller: Any) -> MainWindow:
    window = MainWindow(make_controller(**controller))
    qtbot.addWidget(window)
    window.show()
    window.controller.start()
    await window.controller.wait_ready()
    return window


def words(window: MainWindow) -> str:
    return " ".join(window.conversation.toPlainText().split())


async def tap_space(qtbot: Any, window: MainWindow, times: int = 1) -> None:
    """Quick taps of Space, as an impatient hand gives them (~6 a second)."""
    for _ in range(times):
        qtbot.keyPress(window.conversation, Qt.Key.Key_Space)
        await asyncio.sleep(0.04)
        qtbot.keyRelease(window.conversation, Qt.Key.Key_Space)
        await asyncio.sleep(0.12)


# ---- the language ----------------------------------------------------------------------------


async def test_a_german_question_shows_that_it_was_heard_as_german(qtbot: Any) -> None:
    window = await shown(qtbot, transcriber=GermanTranscriber())
    qtbot.mousePress(window.talk, Qt.MouseButton.LeftButton)
    await until(lambda: window.controller.state is TurnState.LISTENING, what="listening")
    qtbot.mouseRelease(window.talk, Qt.MouseButton.LeftButton)
    await window.controller.wait()
    window.controller.send_text("And typed?")  # typed: no language was detected, none is named
    await window.controller.wait()
    shown_now = words(window)
    assert shown_now.startswith("You · Deutsch Wie spät ist es in Berlin? Assistant ")
    assert "You And typed? Assistant " in shown_now


async def test_a_bilingual_user_sees_english_named_too(qtbot: Any) -> None:
    window = await shown(qtbot)
    window.set_spoken_languages(("en", "de"))
    qtbot.mousePress(window.talk, Qt.MouseButton.LeftButton)
    await until(lambda: window.controller.state is TurnState.LISTENING, what="listening")
    qtbot.mouseRelease(window.talk, Qt.MouseButton.LeftButton)
    await window.controller.wait()
    assert words(window).startswith("You · English What is the weather like? Assistant ")


# ---- hints and taps --------------------------------------------------------------------------


async def test_a_flood_of_space_taps_is_one_turn_and_one_hint(qtbot: Any) -> None:
    microphone = MemoryInput(pcm=TAP_PCM)
    window = await shown(qtbot, microphone=microphone)
    await tap_space(qtbot, window, times=8)
    await window.controller.wait()
    assert microphone.starts == 1
    assert words(window) == TOO_SHORT
    for _ in range(2):  # taps far enough apart are turns of their own, each "very short" again
        await asyncio.sleep(SETTLE_SECONDS + 0.1)
        await tap_space(qtbot, window)
        await window.controller.wait()
    assert microphone.starts == 3
    assert words(window) == f"{TOO_SHORT} (3×)"  # one line, counting, not three
    assert window.controller.state is TurnState.READY


async def test_a_flood_of_taps_during_a_reply_cuts_it_off_once(qtbot: Any) -> None:
    microphone = MemoryInput(pcm=TAP_PCM)
    window = await shown(qtbot, microphone=microphone, time_scale=20.0)
    window.controller.send_text("Tell me about the weather.")
    await until(lambda: window.controller.state is TurnState.SPEAKING, what="speaking")
    for _ in range(6):
        qtbot.mouseClick(window.talk, Qt.MouseButton.LeftButton)
        await asyncio.sleep(0.15)
    await window.controller.wait()
    assert microphone.starts == 1  # the first tap interrupted; the others started nothing
    shown_now = words(window)
    assert shown_now.count("· interrupted") == 1 and shown_now.count(TOO_SHORT) == 1
    assert window.controller.state is TurnState.READY


# ---- the real speech models ------------------------------------------------------------------


@pytest.mark.slow
async def test_the_real_models_hear_german_and_the_window_says_deutsch(
    qtbot: Any, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    for variable in ("LC_ALL", "LC_MESSAGES", "LANGUAGE"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("LANG", "C.UTF-8")  # an English system: German must be detected
    transcriber = WhisperTranscriber(SttSettings(), models_dir=tmp_path_factory.mktemp("models"))
    try:
        clip = read_clip(GERMAN_CLIP)
        assert clip.sample_rate == 16_000
        window = MainWindow(
            make_controller(transcriber=transcriber, microphone=MemoryInput(pcm=clip.pcm))  # type: ignore[arg-type]
        )
        qtbot.addWidget(window)
        window.show()
        window.controller.start()
        await window.controller.wait_ready()
        await transcriber.languages_ready()
        qtbot.mousePress(window.talk, Qt.MouseButton.LeftButton)
        await until(lambda: window.controller.state is TurnState.LISTENING, what="listening")
        qtbot.mouseRelease(window.talk, Qt.MouseButton.LeftButton)
        await window.controller.wait()
        shown_now = words(window)
        print(f"\n{shown_now}")
        assert shown_now.startswith("You · Deutsch ")
        if folder := os.environ.get("ASSISTANT_SCREENSHOTS"):
            window.grab().save(os.path.join(folder, "german_question.png"))
    finally:
        transcriber.close()
