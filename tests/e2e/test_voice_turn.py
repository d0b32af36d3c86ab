"""A whole voice turn through the real app: a real recording goes into the virtual microphone while
the Talk button is held in the window, the real Whisper model transcribes it, the loopback chat
server streams a reply, the loopback speech server synthesizes each sentence, and what comes out
of the virtual sound card is compared with what the speech server sent."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soxr
from PySide6.QtCore import Qt

from assistant.app import build_services
from assistant.config import Secrets, Settings
from assistant.core.events import Event, InputLevel, TurnFinished, TurnState
from assistant.ui.main_window import MainWindow
from tests.support.chat_server import ChatServer
from tests.support.pulse import RECORD_RATE, VirtualSoundCard, align
from tests.support.speech import SPEECH, references, word_error_rate
from tests.support.tts_servers import OpenAiSpeechServer

pytestmark = [pytest.mark.e2e, pytest.mark.audio, pytest.mark.gui, pytest.mark.timeout(180)]

CLIP = "fw_stereo_diarization_left.wav"
REPLY = "A wizard who vanishes is hard to argue with. Perhaps write him a letter? He may answer."
API_KEY = "sk-e2e-test-key"


def settings_for(chat_url: str, speech_url: str, ca_file: str) -> Settings:
    settings = Settings()
    settings.llm.base_url = chat_url + "/v1"
    settings.llm.model = "test-model"
    settings.tts.provider = "openai"
    settings.tts.openai.base_url = speech_url + "/v1"
    settings.network.ca_file = ca_file
    return settings


async def until(condition: Any, seconds: float, what: str) -> None:
    for _ in range(int(seconds / 0.02)):
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"timed out after {seconds} s waiting for {what}")


async def test_a_voice_turn_from_the_talk_button_to_the_sound_card(
    virtual_sound_card: VirtualSoundCard, loopback: Any, tls: Any, qtbot: Any, tmp_path: Path
) -> None:
    chat = ChatServer(reply=REPLY, token_chars=3, delay_each=0.01)
    speech = OpenAiSpeechServer(api_key=API_KEY, ttfb=0.05, realtime_factor=10.0)
    chat_server, speech_server = loopback(chat.handler), loopback(speech.handler)
    services = build_services(
        settings_for(chat_server.url, speech_server.url, str(tls.ca_file)),
        Secrets(llm_api_key=None, openai_api_key=API_KEY),
        history_path=tmp_path / "history.sqlite3",
    )
    controller = services.controller
    events: list[Event] = []
    controller.events.connect(events.append)
    window = MainWindow(controller)
    qtbot.addWidget(window)
    window.show()

    largest_lag = 0.0

    async def watch_the_loop() -> None:  # the Qt/asyncio loop must never freeze during a turn
        nonlocal largest_lag
        loop = asyncio.get_running_loop()
        while True:
            before = loop.time()
            await asyncio.sleep(0.01)
            largest_lag = max(largest_lag, loop.time() - before - 0.01)

    try:
        controller.start()
        await controller.wait_ready()
        assert controller.state is TurnState.READY, events
        watcher = asyncio.create_task(watch_the_loop())

        qtbot.mousePress(window.talk, Qt.MouseButton.LeftButton)
        await until(lambda: any(isinstance(e, InputLevel) for e in events), 10, "the microphone")
        await virtual_sound_card.play_file(SPEECH / CLIP).finished(timeout=30)
        await asyncio.sleep(0.3)  # the end of the clip reaches the recording
        recorder = virtual_sound_card.start_recording()
        qtbot.mouseRelease(window.talk, Qt.MouseButton.LeftButton)

        await until(lambda: any(isinstance(e, TurnFinished) for e in events), 90, "the reply")
        await asyncio.sleep(0.3)
        heard = recorder.stop()
        watcher.cancel()

        # What the user said reached the model, recognised by the real Whisper model.
        said = chat.received[0][-1]
        assert said["role"] == "user"
        assert word_error_rate(references()[CLIP], said["content"]) <= 0.2, said["content"]
        assert chat.bodies[0]["stream"] is True

        # What the sound card played is what the speech server sent, sentence after sentence.
        inputs = [json.loads(r.body)["input"] for r in speech.requests]
        assert len(inputs) == 3
        inputs.sort(key=REPLY.index)
        sent = np.frombuffer(b"".join(speech.audio(text) for text in inputs), dtype="<i2")
        expected = soxr.resample(sent.astype(np.float32), speech.sample_rate, RECORD_RATE)
        offset, likeness = align(expected, heard)
        assert offset >= 0 and likeness > 0.9, (offset, likeness)

        finished = next(e for e in events if isinstance(e, TurnFinished))
        assert finished.reply_text == REPLY and not finished.interrupted
        timeline = finished.timeline
        assert [s.text.strip() for s in timeline.sentences] == inputs
        assert speech_server.connections == 1  # warmed on press, reused for every sentence
        assert timeline.connections_opened == 2  # one to the chat server, one to the voice
        assert all(s.underruns == 0 for s in timeline.sentences)
        assert controller.state is TurnState.READY
        assert "A wizard who vanishes" in window.conversation.toPlainText()
        print(f"\nlargest event-loop lag during the turn: {largest_lag * 1000:.1f} ms")
        print(json.dumps(timeline.to_dict(), indent=1))
        # Whisper, PortAudio and synthesis run off the loop: a generous bound that only a
        # blocking call on the loop (a transcription takes ~300 ms here) would break.
        assert largest_lag < 0.25
    finally:
        window.close()
        await services.aclose()
